/**
 * The counter entity of effect's cluster guide: one in-memory count per entity id, hosted by
 * whichever runner holds the id's shard. Each instance prints one JSON line when it starts and
 * when it stops, with the runner and shard, so a run shows where every counter lives over time.
 */
import { Effect, Ref, Schema } from "effect"
import { Entity } from "effect/cluster"
import { Rpc } from "effect/rpc"

export const Increment = Rpc.make("Increment", {
  payload: { amount: Schema.Int },
  success: Schema.Int
})

export const GetCount = Rpc.make("GetCount", { success: Schema.Int })

export const Counter = Entity.make("Counter", [Increment, GetCount])

/** One line of the entities' own log. */
const note = (event: "start" | "stop", address: Entity.CurrentAddress["Service"], runner: string) =>
  Effect.sync(() => {
    process.stdout.write(
      `${JSON.stringify({ event, entity: address.entityId, shard: String(address.shardId), runner, at: Date.now() })}\n`
    )
  })

export const CounterEntityLayer = Counter.toLayer(
  Effect.gen(function*() {
    const address = yield* Entity.CurrentAddress
    const runner = `${(yield* Entity.CurrentRunnerAddress).host}:${(yield* Entity.CurrentRunnerAddress).port}`
    yield* note("start", address, runner)
    yield* Effect.addFinalizer(() => note("stop", address, runner))
    const count = yield* Ref.make(0)
    return Counter.of({
      Increment: ({ payload }) => Ref.updateAndGet(count, (current) => current + payload.amount),
      GetCount: () => Rpc.fork(Ref.get(count))
    })
  }),
  { maxIdleTime: "5 minutes" }
)

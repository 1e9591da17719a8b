/**
 * Sends increments to counters `counter-0` .. `counter-<N-1>` in turn, for ever, printing one
 * JSON line per call (ok with the new count, or the error), so a run shows calls pausing while
 * a dead runner's shards move and resuming after:
 *
 *   ZK_SERVERS=127.0.0.1:2181 pnpm --filter @effect-zk/examples cluster:client
 */
import { NodeRuntime } from "@effect/platform-node"
import { ZkCluster } from "@effect-zk/cluster"
import { Duration, Effect } from "effect"
import { Counter } from "./Counter.ts"

const counters = Number(process.env["COUNTERS"] ?? "12")

const print = (line: Record<string, unknown>) => Effect.sync(() => process.stdout.write(`${JSON.stringify({ ...line, at: Date.now() })}\n`))

const program = Effect.gen(function*() {
  const clientFor = yield* Counter.client
  for (let i = 0; ; i = (i + 1) % counters) {
    const entity = `counter-${i}`
    yield* clientFor(entity).Increment({ amount: 1 }).pipe(
      Effect.timeout("2 seconds"),
      Effect.matchEffect({
        onSuccess: (count) => print({ event: "ok", entity, count }),
        onFailure: (error) => Effect.andThen(print({ event: "error", entity, error: String(error) }), Effect.sleep("100 millis"))
      })
    )
  }
})

const cluster = ZkCluster.layer({
  servers: process.env["ZK_SERVERS"] ?? "127.0.0.1:2181",
  basePath: process.env["CLUSTER_PATH"] ?? "/effect-cluster/counters",
  sessionTimeout: Duration.millis(Number(process.env["ZK_SESSION_TIMEOUT_MS"] ?? "9000")),
  clientOnly: true
})

program.pipe(Effect.provide(cluster), NodeRuntime.runMain)

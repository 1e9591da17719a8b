/** Leader: three contenders; when the leader's session closes, another takes over. */
import { Leader } from "@effect-zk/recipes"
import { Console, Deferred, Effect, Fiber } from "effect"
import { as, connect, runExample } from "./server.ts"

runExample((servers) =>
  Effect.gen(function*() {
    const sessions = yield* Effect.all([0, 1, 2].map(() => connect(servers)))
    const firstLeader = yield* Deferred.make<number>()
    const fibers = yield* Effect.forEach(sessions, (zk, i) =>
      Effect.forkChild(Leader.run("/election/app", (l) =>
        Console.log(`node-${i} leads (token ${l.fencingToken})`).pipe(
          Effect.andThen(Deferred.succeed(firstLeader, i)),
          Effect.andThen(Effect.never)
        ), { id: `node-${i}` }).pipe(as(zk), Effect.ignore)))
    const leader = yield* Deferred.await(firstLeader)
    const latch = yield* Leader.latch("/election/app", { id: "observer" }).pipe(as(sessions[(leader + 1) % 3]!))
    yield* Console.log(`participants: ${(yield* latch.participants).map((p) => p.id).join(", ")}`)
    yield* Console.log(`closing node-${leader}'s session`)
    yield* sessions[leader]!.close
    yield* Effect.sleep("500 millis")
    yield* Effect.forEach(fibers, Fiber.interrupt)
  }))

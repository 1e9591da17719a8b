/** Membership: members join and leave; the member list follows. */
import { Membership } from "@effect-zk/recipes"
import { Console, Effect, Fiber, Stream } from "effect"
import { as, connect, runExample } from "./server.ts"

runExample((servers) =>
  Effect.gen(function*() {
    const zk = yield* connect(servers)
    const watcher = yield* Effect.forkChild(Membership.members("/groups/workers").pipe(
      Stream.take(4),
      Stream.runForEach((ms) => Console.log(`members: [${ms.map((m) => m.id).join(", ")}]`)),
      as(zk)
    ))
    yield* Effect.scoped(Effect.gen(function*() {
      yield* Membership.join("/groups/workers", { id: "w1", data: "10.0.0.1:8080" })
      yield* Effect.sleep("100 millis")
      yield* Membership.join("/groups/workers", { id: "w2" })
      yield* Effect.sleep("100 millis")
    }).pipe(as(zk)))
    yield* Fiber.join(watcher)
  }))

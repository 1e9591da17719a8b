/** Lock: three sessions take turns; each section shows its fencing token and guards a write with it. */
import { Op } from "@effect-zk/core"
import { Lock } from "@effect-zk/recipes"
import { Console, Effect } from "effect"
import { as, connect, runExample } from "./server.ts"

runExample((servers) =>
  Effect.gen(function*() {
    const sessions = yield* Effect.all([0, 1, 2].map(() => connect(servers)))
    yield* sessions[0]!.create("/orders", "0")
    yield* Effect.forEach(sessions, (zk, i) =>
      Lock.withLock("/locks/orders", (lease) =>
        Effect.gen(function*() {
          yield* Console.log(`session ${i} holds the lock, fencing token ${lease.fencingToken}`)
          // Written only while our lock node exists: a stale holder's write fails with NoNode.
          yield* lease.guard([Op.set("/orders", `written by ${i}`)])
          yield* Effect.sleep("50 millis")
        }), { timeout: "10 seconds" }).pipe(as(zk)), { concurrency: "unbounded" })
    yield* Console.log(`nodes left under /locks/orders: ${yield* sessions[0]!.getAllChildrenNumber("/locks/orders")}`)
  }))

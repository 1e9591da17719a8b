/** SharedCounter: three sessions increment one 64-bit counter concurrently; nothing is lost. */
import { SharedCounter } from "@effect-zk/recipes"
import { Console, Effect } from "effect"
import { as, connect, runExample } from "./server.ts"

runExample((servers) =>
  Effect.gen(function*() {
    const sessions = yield* Effect.all([0, 1, 2].map(() => connect(servers)))
    const counters = yield* Effect.forEach(sessions, (zk) => SharedCounter.make("/counters/jobs").pipe(as(zk)))
    yield* Effect.forEach(counters, (c) => Effect.forEach([1, 2, 3, 4, 5], () => c.increment(1)), { concurrency: "unbounded" })
    yield* Console.log(`counter: ${yield* counters[0]!.get} (15 increments)`)
    yield* Console.log(`compareAndSet(15, 100): ${yield* counters[1]!.compareAndSet(15n, 100n)}, now ${yield* counters[2]!.get}`)
  }))

/** DistributedQueue: two producers, two consumers; every item is taken exactly once. */
import { DistributedQueue } from "@effect-zk/recipes"
import { Console, Effect, Stream } from "effect"
import { as, connect, runExample } from "./server.ts"

runExample((servers) =>
  Effect.gen(function*() {
    const sessions = yield* Effect.all([0, 1].map(() => connect(servers)))
    const queues = yield* Effect.forEach(sessions, (zk) => DistributedQueue.make("/queues/jobs").pipe(as(zk)))
    yield* Effect.forEach(queues, (q, p) => Effect.forEach([1, 2, 3], (i) => q.offer(`job ${p}.${i}`)))
    yield* Effect.forEach(queues, (q, c) =>
      q.take.pipe(Stream.take(3), Stream.runForEach((item) => Console.log(`consumer ${c} took ${new TextDecoder().decode(item)}`))), { concurrency: "unbounded" })
  }))

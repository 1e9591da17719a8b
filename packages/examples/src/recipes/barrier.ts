/** Barrier and DoubleBarrier: workers wait until a coordinator lifts the gate; three enter and leave together. */
import { Barrier, DoubleBarrier } from "@effect-zk/recipes"
import { Console, Effect, Fiber } from "effect"
import { as, connect, runExample } from "./server.ts"

runExample((servers) =>
  Effect.gen(function*() {
    const zk = yield* connect(servers)
    yield* Barrier.set("/barriers/deploy").pipe(as(zk))
    const worker = yield* Effect.forkChild(Barrier.wait("/barriers/deploy", { timeout: "10 seconds" }).pipe(as(zk), Effect.andThen(Console.log("worker passed the barrier"))))
    yield* Console.log("coordinator lifts the barrier")
    yield* Barrier.remove("/barriers/deploy").pipe(as(zk))
    yield* Fiber.join(worker)
    const sessions = yield* Effect.all([0, 1, 2].map(() => connect(servers)))
    yield* Effect.forEach(sessions, (s, i) =>
      DoubleBarrier.with("/barriers/batch", { count: 3 }, Console.log(`participant ${i} runs with the other two`)).pipe(as(s)), { concurrency: "unbounded" })
    yield* Console.log("all three left together")
  }))

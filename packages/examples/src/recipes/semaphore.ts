/** Semaphore: six tasks, at most two at a time (the layout Curator's InterProcessSemaphoreV2 shares). */
import { Semaphore } from "@effect-zk/recipes"
import { Console, Effect } from "effect"
import { as, connect, runExample } from "./server.ts"

runExample((servers) =>
  Effect.gen(function*() {
    const zk = yield* connect(servers)
    let inside = 0
    yield* Effect.forEach([1, 2, 3, 4, 5, 6], (task) =>
      Semaphore.withPermit("/sem/db", { max: 2 }, Effect.gen(function*() {
        inside++
        yield* Console.log(`task ${task} has a permit (${inside} inside)`)
        yield* Effect.sleep("100 millis")
        inside--
      })).pipe(as(zk)), { concurrency: "unbounded" })
  }))

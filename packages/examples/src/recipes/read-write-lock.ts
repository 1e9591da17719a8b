/** ReadWriteLock: readers share the lock; a writer waits for them and holds it alone. */
import { ReadWriteLock } from "@effect-zk/recipes"
import { Console, Effect } from "effect"
import { as, connect, runExample } from "./server.ts"

runExample((servers) =>
  Effect.gen(function*() {
    const zk = yield* connect(servers)
    const read = (n: number) => ReadWriteLock.withRead("/locks/catalog", Effect.andThen(Console.log(`reader ${n} in`), Effect.sleep("100 millis")))
    const write = ReadWriteLock.withWrite("/locks/catalog", Console.log("writer in, alone"))
    yield* Effect.all([read(1), read(2), write, read(3)], { concurrency: "unbounded" }).pipe(as(zk))
  }))

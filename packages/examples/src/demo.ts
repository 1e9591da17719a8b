/**
 * The README's tour: start a real ZooKeeper on a free port, look at it, stop it.
 *
 *   pnpm demo:run        (from the repository root)
 */
import { Cause, Console, Effect, Exit, Option } from "effect"
import { FourLetterWord, ZooKeeperServer } from "@effect-zk/server"

const program = Effect.gen(function*() {
  const startedAt = Date.now()
  // A free port, a temporary run directory; closing the scope stops the JVM and removes both.
  const server = yield* ZooKeeperServer.scoped()
  yield* Console.log(`ZooKeeper is serving at ${yield* server.address} (started in ${Date.now() - startedAt} ms)`)
  yield* Console.log(`  pid      ${Option.match(yield* server.pid, { onNone: () => "not running", onSome: String })}`)
  yield* Console.log(`  run dir  ${server.runDir}`)

  const stats = yield* FourLetterWord.srvr(server.port)
  yield* Option.match(stats, {
    onNone: () => Console.log("srvr: not serving requests (yet)"),
    onSome: (s) =>
      Console.log(
        [
          "srvr says:",
          `  mode         ${s.mode}`,
          `  version      ${s.version.split(",")[0]}`,
          `  znodes       ${s.nodeCount}`,
          `  connections  ${s.connections}`,
          `  latency      ${s.latency.min}/${s.latency.avg}/${s.latency.max} ms (min/avg/max)`,
          `  last zxid    0x${s.zxid.toString(16)}`
        ].join("\n")
      )
  })
  yield* Console.log("stopping…")
}).pipe(Effect.scoped)

const exit = await Effect.runPromiseExit(program)
if (Exit.isFailure(exit)) {
  console.error(Cause.pretty(exit.cause))
  process.exitCode = 1
} else {
  console.log("stopped the JVM and removed its run directory")
}

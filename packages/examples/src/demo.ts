/**
 * The README's tour: a throw-away ZooKeeper server, then the client doing what a coordination
 * client is for.
 *
 *   npm run demo        (from the repository root)
 */
import { ZooKeeper, type ZooKeeperService, CreateMode } from "@effect-zk/core"
import { NodeZooKeeper } from "@effect-zk/node"
import { FourLetterWord, ZooKeeperServer } from "@effect-zk/server"
import { Cause, Console, Context, Effect, Exit, Fiber, Layer, Option, References, type Scope, Stream } from "effect"

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const step = (title: string) => Console.log(`\n== ${title}`)

/** A session for the rest of the current scope. */
const connect = (servers: string): Effect.Effect<ZooKeeperService, unknown, Scope.Scope> =>
  Effect.map(Layer.build(NodeZooKeeper.layer({ servers, sessionTimeout: "10 seconds" })), (ctx) => Context.get(ctx, ZooKeeper))

const program = Effect.gen(function*() {
  yield* step("a real ZooKeeper server, started with @effect-zk/server")
  const startedAt = Date.now()
  const server = yield* ZooKeeperServer.scoped()
  const address = yield* server.address
  const stats = yield* FourLetterWord.srvr(server.port)
  yield* Console.log(`serving at ${address} after ${Date.now() - startedAt} ms`)
  if (Option.isSome(stats)) yield* Console.log(`srvr: mode ${stats.value.mode}, ${stats.value.version.split(/[-,]/)[0]}`)

  yield* step("a session")
  const zk = yield* connect(address)
  const id = yield* zk.clientId
  yield* Console.log(`state ${yield* zk.state}, session ${id.hex}, timeout ${yield* zk.sessionTimeout} ms`)

  yield* step("create and read")
  yield* Console.log(`created ${yield* zk.create("/demo", "hello")}`)
  const node = yield* zk.get("/demo")
  yield* Console.log(`/demo = "${text(node.data)}" (version ${node.stat.version}, ${node.stat.dataLength} bytes)`)
  const missing = yield* zk.get("/nope").pipe(Effect.flip)
  yield* Console.log(`get /nope fails with a typed error: ${missing._tag}: ${missing.message}`)

  yield* step("a watch fired by another session's change")
  const other = yield* connect(address)
  const { watch } = yield* zk.getW("/demo")
  const fired = yield* Effect.forkChild(Stream.runHead(watch))
  yield* Console.log(`watching /demo (pending watches: ${yield* zk.pendingWatches}); the other session sets it`)
  yield* other.set("/demo", "changed")
  const event = yield* Fiber.join(fired)
  yield* Console.log(`event: ${JSON.stringify(Option.getOrNull(event))}; now "${text((yield* zk.get("/demo")).data)}"`)

  yield* step("an ephemeral node lives as long as its session")
  yield* Effect.scoped(
    Effect.gen(function*() {
      const worker = yield* connect(address)
      const path = yield* worker.create("/demo/worker-", "", { mode: CreateMode.EphemeralSequential })
      yield* Console.log(`worker session created ${path}; children: ${(yield* zk.children("/demo")).children.join(", ")}`)
      yield* Console.log("closing the worker session")
    })
  )
  const after = (yield* zk.children("/demo")).children
  yield* Console.log(`children after it closed: ${after.length === 0 ? "(none)" : after.join(", ")}`)

  yield* step("closing")
}).pipe(
  Effect.scoped,
  // Sessions log their state changes through Effect's logger; the tour prints its own story.
  Effect.provideService(References.MinimumLogLevel, "Warn")
)

const exit = await Effect.runPromiseExit(program)
if (Exit.isFailure(exit)) {
  console.error(Cause.pretty(exit.cause))
  process.exitCode = 1
} else {
  console.log("sessions closed, JVM stopped, run directory removed")
}

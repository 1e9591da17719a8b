/**
 * The RunnerStorage contract against effect's in-memory storage and against ours on a real
 * server, then what only ours promises: a runner whose session is gone or cut off stops
 * vouching for its shards before anyone else can take them, the resilient storage goes on over
 * a new session, and nothing is left behind.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { ZkError, ZooKeeper, type ZooKeeperService } from "@effect-zk/core"
import { FaultProxy, NodeZooKeeper, Testing } from "@effect-zk/node"
import { ZooKeeperServer } from "@effect-zk/server"
import { Context, Effect, Exit, Layer, Option, References } from "effect"
import { RunnerStorage } from "effect/cluster"
import { ZkRunnerStorage } from "../src/index.ts"
import { address, runner, runnerStorageContract, shards } from "./helpers/contract.ts"

const BASE = "/cluster"
const SESSION_TIMEOUT = "2 seconds"

/** One runner's storage over a session of its own to `servers`, and that session. */
const openZk = (servers: string) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      Layer.provideMerge(ZkRunnerStorage.layer({ basePath: BASE }), NodeZooKeeper.layer({ servers, sessionTimeout: SESSION_TIMEOUT }))
    )
    return { storage: Context.get(context, RunnerStorage.RunnerStorage), zk: Context.get(context, ZooKeeper) }
  }).pipe(Effect.provideService(References.MinimumLogLevel, "Error"))

describe("RunnerStorage.layerMemory", () => {
  runnerStorageContract(it, {
    cluster: Effect.map(RunnerStorage.makeMemory, (storage) => Effect.succeed(storage)),
    exclusive: false
  })
})

layer(ZooKeeperServer.layer({ minSessionTimeout: "1 second" }), { timeout: "60 seconds", excludeTestServices: true })("ZkRunnerStorage", (it) => {
  const sandbox = Effect.flatMap(ZooKeeperServer.ZooKeeperServer, (server) => Effect.flatMap(server.address, (a) => Testing.sandbox(a)))

  runnerStorageContract(it, {
    cluster: Effect.map(sandbox, ({ servers }) => Effect.map(openZk(servers), (r) => r.storage)),
    exclusive: true
  })

  it.effect("refresh fails loudly once the session is gone, and the shards are free for others", () =>
    Effect.gen(function*() {
      const { servers } = yield* sandbox
      const a = yield* openZk(servers)
      const b = yield* openZk(servers)
      yield* a.storage.register(runner(6001), true)
      assert.strictEqual((yield* a.storage.acquire(address(6001), shards(1, 2))).length, 2)
      yield* Testing.expireSession(a.zk, servers)
      yield* Testing.eventually(Effect.map(a.zk.state, (s) => s === "Expired"), { what: "the runner to see its session expire" })
      const refreshed = yield* Effect.exit(a.storage.refresh(address(6001), shards(1, 2)))
      assert.isTrue(Exit.isFailure(refreshed))
      const error = yield* Effect.flip(a.storage.refresh(address(6001), []))
      assert.strictEqual(error._tag, "PersistenceError")
      assert.instanceOf(error.cause, ZkRunnerStorage.ShardLocksLapsed)
      // Releasing after the session ended succeeds: its locks went with it.
      yield* a.storage.releaseAll(address(6001))
      assert.strictEqual((yield* b.storage.acquire(address(6002), shards(1, 2))).length, 2)
      assert.deepStrictEqual((yield* b.storage.getRunners).map(([r]) => r.address.port), [])
    }))

  it.effect("the resilient storage goes on over a new session: the runner registers again and gets back only free shards", () =>
    Effect.gen(function*() {
      const { servers } = yield* sandbox
      // Every session the storage opens, so the test can expire the first one.
      const sessions: Array<ZooKeeperService> = []
      const session = NodeZooKeeper.layer({ servers, sessionTimeout: SESSION_TIMEOUT }).pipe(
        Layer.tap((context) => Effect.sync(() => sessions.push(Context.get(context, ZooKeeper))))
      )
      const storage = yield* ZkRunnerStorage.makeResilient({ basePath: BASE }, session).pipe(
        Effect.provideService(References.MinimumLogLevel, "Error")
      )
      const other = yield* openZk(servers)
      const before = yield* storage.register(runner(6101), true)
      assert.strictEqual((yield* storage.acquire(address(6101), shards(1, 2))).length, 2)

      yield* Testing.expireSession(sessions[0]!, servers)
      // The storage stops vouching for the dead session's shards (the sharding then stops the
      // runner's entities), and the shards are free for others at once.
      yield* Testing.eventually(
        Effect.map(Effect.exit(storage.refresh(address(6101), shards(1, 2))), (exit) => Exit.isFailure(exit) || exit.value.length === 0),
        { what: "the storage to stop vouching for the expired session's shards" }
      )
      assert.strictEqual((yield* other.storage.acquire(address(6102), shards(2))).length, 1)

      // A new session: the sharding's probe succeeds; the runner's node went with the old session,
      // so the sharding registers it again, under a new MachineId, and acquires anew.
      yield* Testing.eventually(Effect.map(Effect.exit(storage.refresh(address(6101), [])), Exit.isSuccess), {
        what: "the storage to answer over a new session"
      })
      assert.isAtLeast(sessions.length, 2)
      assert.deepStrictEqual(yield* storage.getRunners, [])
      assert.isAbove(yield* storage.register(runner(6101), true), before)
      assert.deepStrictEqual((yield* storage.acquire(address(6101), shards(1, 2))).map(String), shards(1).map(String))
      assert.deepStrictEqual((yield* storage.refresh(address(6101), shards(1, 2))).map(String), shards(1).map(String))
      assert.deepStrictEqual((yield* other.storage.getRunners).map(([r]) => r.address.port), [6101])
      const lock = yield* other.zk.exists(`${BASE}/shards/${encodeURIComponent(String(shards(1)[0]))}`)
      assert.strictEqual(Option.getOrThrow(lock).ephemeralOwner, (yield* sessions.at(-1)!.clientId).sessionId)
    }))

  it.effect("the resilient storage fails as a plain session does when its first session cannot be opened", () =>
    Effect.gen(function*() {
      // Nothing listens on port 1: every connect is refused at once.
      const session = NodeZooKeeper.layer({ servers: "127.0.0.1:1", connectTimeout: "300 millis" })
      const plain = yield* Effect.flip(Layer.build(session))
      const resilient = yield* Effect.flip(ZkRunnerStorage.makeResilient({ basePath: BASE }, session))
      assert.isTrue(ZkError.isZkError(resilient))
      assert.strictEqual(resilient._tag, plain._tag)
    }).pipe(Effect.provideService(References.MinimumLogLevel, "None")))

  it.effect("a cut-off runner stops vouching for its shards before another runner can take them", () =>
    Effect.gen(function*() {
      const server = yield* ZooKeeperServer.ZooKeeperServer
      const { servers, chroot } = yield* sandbox
      const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
      const a = yield* openZk(`${proxy.address}${chroot}`)
      const b = yield* openZk(servers)
      assert.strictEqual((yield* a.storage.acquire(address(7001), shards(1, 2, 3))).length, 3)
      yield* proxy.setMode("blackhole")
      // Poll until the cut-off runner refuses; at that moment the shards must still be taken.
      yield* Testing.eventually(Effect.map(Effect.exit(a.storage.refresh(address(7001), shards(1, 2, 3))), Exit.isFailure))
      assert.deepStrictEqual(yield* b.storage.acquire(address(7002), shards(1, 2, 3)), [])
      yield* Testing.eventually(Effect.map(b.storage.acquire(address(7002), shards(1, 2, 3)), (won) => won.length === 3), {
        timeout: "10 seconds"
      })
    }))

  it.effect("a short disconnection keeps the shards; past the grace the runner gives them up", () =>
    Effect.gen(function*() {
      const server = yield* ZooKeeperServer.ZooKeeperServer
      const { chroot } = yield* sandbox
      const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
      const a = yield* openZk(`${proxy.address}${chroot}`)
      assert.strictEqual((yield* a.storage.acquire(address(9001), shards(1, 2))).length, 2)
      assert.strictEqual((yield* a.storage.refresh(address(9001), shards(1, 2))).length, 2)
      yield* proxy.setRefuse(true)
      yield* proxy.cut
      yield* Testing.eventually(Effect.map(a.zk.state, (s) => s !== "Connected"))
      // Within the grace (a third of the 2 s session timeout) the last confirmation still holds.
      assert.strictEqual((yield* a.storage.refresh(address(9001), shards(1, 2))).length, 2)
      assert.isTrue(Exit.isFailure(yield* Effect.exit(a.storage.acquire(address(9001), shards(3)))))
      yield* Testing.eventually(Effect.map(Effect.exit(a.storage.refresh(address(9001), shards(1, 2))), Exit.isFailure))
      const error = yield* Effect.flip(a.storage.refresh(address(9001), shards(1, 2)))
      assert.instanceOf(error.cause, ZkRunnerStorage.ShardLocksLapsed)
      yield* proxy.setRefuse(false)
      yield* Testing.eventually(Effect.map(a.zk.state, (s) => s === "Connected"))
      assert.strictEqual((yield* a.storage.refresh(address(9001), shards(1, 2))).length, 2)
    }))

  it.effect("after unregister and releaseAll nothing is left under the base path but its two folders", () =>
    Effect.gen(function*() {
      const { servers } = yield* sandbox
      const a = yield* openZk(servers)
      yield* a.storage.register(runner(8001), true)
      yield* a.storage.acquire(address(8001), shards(1, 2, 3))
      yield* a.storage.releaseAll(address(8001))
      yield* a.storage.unregister(address(8001))
      assert.deepStrictEqual((yield* a.zk.children(`${BASE}/runners`)).children, [])
      assert.deepStrictEqual((yield* a.zk.children(`${BASE}/shards`)).children, [])
    }))

  it.effect("a bad base path is a typed error before anything is sent", () =>
    Effect.gen(function*() {
      const { servers } = yield* sandbox
      const { zk } = yield* openZk(servers)
      const storage = yield* Effect.provideService(ZkRunnerStorage.make({ basePath: "no-slash" }), ZooKeeper, zk)
      const error = yield* Effect.flip(storage.getRunners)
      assert.strictEqual(error._tag, "PersistenceError")
      assert.strictEqual((error.cause as { _tag?: string })._tag, "BadArguments")
    }))
})

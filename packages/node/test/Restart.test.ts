/**
 * gozk's TestWatchOnReconnection and TestWatchOnSessionExpiration against a real server that is
 * stopped and started again on the same port and data: a session outlives a short restart with
 * its watches, and a long outage ends it with every watch failing.
 */
import { Testing } from "@effect-zk/node"
import { assert, layer } from "@effect/vitest"
import { CreateMode } from "@effect-zk/core"
import { ZooKeeperServer } from "@effect-zk/server"
import { Effect, Option, Stream } from "effect"
import { connectTo, sandbox } from "./utils/TestZooKeeper.ts"

layer(ZooKeeperServer.layer({ minSessionTimeout: "1 second" }), { timeout: "90 seconds", excludeTestServices: true })("server restart", (it) => {
  it.effect("TestWatchOnReconnection, stronger: the session and its watches survive a server restart, and fire", () =>
    Effect.gen(function*() {
      const server = yield* ZooKeeperServer.ZooKeeperServer
      const servers = yield* sandbox
      // Long enough for a JVM restart on a busy machine.
      const zk = yield* connectTo(servers, { sessionTimeout: "30 seconds" })
      yield* zk.create("/eph", "", { mode: CreateMode.Ephemeral })
      yield* zk.create("/data", "1")
      const children = yield* zk.childrenW("/")
      const data = yield* zk.getW("/data")
      const created = yield* zk.existsW("/later")
      const before = (yield* zk.clientId).sessionId

      yield* server.stop
      yield* Testing.eventually(Effect.map(zk.state, (s) => s === "Disconnected"))
      yield* server.start
      yield* Testing.eventually(Effect.map(zk.state, (s) => s === "Connected"), { timeout: "30 seconds" })
      assert.strictEqual((yield* zk.clientId).sessionId, before)
      assert.strictEqual(yield* zk.pendingWatches, 3) // re-armed, nothing changed meanwhile

      const other = yield* connectTo(servers)
      assert.isTrue(Option.isSome(yield* other.exists("/eph")))
      yield* other.create("/later")
      yield* other.set("/data", "2")
      assert.deepStrictEqual(yield* Stream.runCollect(children.watch), [{ type: "NodeChildrenChanged", path: "/" }])
      assert.deepStrictEqual(yield* Stream.runCollect(created.watch), [{ type: "NodeCreated", path: "/later" }])
      assert.deepStrictEqual(yield* Stream.runCollect(data.watch), [{ type: "NodeDataChanged", path: "/data" }])
      assert.strictEqual(yield* zk.pendingWatches, 0)
    }))

  it.effect("TestWatchOnSessionExpiration: an outage longer than the session timeout fails the watch with SessionExpired", () =>
    Effect.gen(function*() {
      const server = yield* ZooKeeperServer.ZooKeeperServer
      const servers = yield* sandbox
      const zk = yield* connectTo(servers, { sessionTimeout: "2 seconds" })
      yield* zk.create("/eph", "", { mode: CreateMode.Ephemeral })
      const { watch } = yield* zk.existsW("/test")
      const before = (yield* zk.clientId).sessionId

      yield* server.stop
      yield* Testing.eventually(Effect.map(zk.state, (s) => s === "Expired"), { timeout: "10 seconds" })
      assert.strictEqual((yield* Effect.flip(Stream.runCollect(watch)))._tag, "SessionExpired")
      assert.strictEqual(yield* zk.pendingWatches, 0)
      assert.strictEqual((yield* Effect.flip(zk.exists("/test")))._tag, "SessionExpired")

      // The server comes back: the expired handle stays expired, and the server ends the
      // session it reloaded, ephemeral included.
      yield* server.start
      const other = yield* connectTo(servers)
      yield* Testing.eventually(Effect.map(other.exists("/eph"), Option.isNone), { timeout: "15 seconds" })
      assert.strictEqual(yield* zk.state, "Expired")
      assert.strictEqual((yield* zk.clientId).sessionId, before)
      assert.strictEqual((yield* Effect.flip(zk.create("/test")))._tag, "SessionExpired")
    }))
})

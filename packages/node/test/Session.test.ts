/**
 * Session behaviour against a real server: expiry, timeouts, closing while requests are held
 * back, and reconnecting after a dropped connection.
 */
import { assert, layer } from "@effect/vitest"
import { Acl, ClientId, CreateMode, Perms, ZooKeeper } from "@effect-zk/core"
import { FaultProxy, NodeZooKeeper, Testing } from "@effect-zk/node"
import { ZooKeeperServer } from "@effect-zk/server"
import { ConfigProvider, Context, Effect, Fiber, Layer, Option, Redacted, Stream } from "effect"
import { chrootOf, connectTo, sandbox } from "./utils/TestZooKeeper.ts"

/** A sandboxed connect string that goes through a fault proxy. */
const proxied = Effect.gen(function*() {
  const servers = yield* sandbox
  const server = yield* ZooKeeperServer.ZooKeeperServer
  const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
  return { proxy, servers: `${proxy.address}${chrootOf(servers)}`, direct: servers }
})

layer(ZooKeeperServer.layer({ minSessionTimeout: "1 second" }), { timeout: "60 seconds", excludeTestServices: true })("session", (it) => {
  it.effect("expiry reported by the server ends the session: Expired, then SessionExpired", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const zk = yield* connectTo(servers)
      const { watch } = yield* zk.existsW("/never")
      const events = yield* Effect.forkChild(Stream.runCollect(zk.sessionEvents))
      yield* Testing.expireSession(zk, servers)
      yield* Testing.eventually(Effect.map(zk.state, (s) => s === "Expired"))
      const error = yield* Effect.flip(zk.get("/"))
      assert.strictEqual(error._tag, "SessionExpired")
      assert.strictEqual((yield* Effect.flip(Stream.runCollect(watch)))._tag, "SessionExpired")
      assert.strictEqual(yield* zk.pendingWatches, 0)
      const states = (yield* Fiber.join(events)).map((e) => e.state)
      assert.strictEqual(states.at(-1), "Expired")
      assert.notInclude(states, "Closed")
    }))

  it.effect("re-attaching to an expired session fails the layer build with SessionExpired", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const stale = yield* Effect.scoped(Effect.flatMap(connectTo(servers), (zk) => zk.clientId))
      const error = yield* Effect.flip(connectTo(servers, { session: stale }))
      assert.strictEqual(error instanceof Error && "_tag" in error ? error._tag : String(error), "SessionExpired")
      const forged = new ClientId({ sessionId: 0x123456789abcdefn, password: new Uint8Array(16) })
      const unknown = yield* Effect.flip(connectTo(servers, { session: forged }))
      assert.strictEqual(unknown instanceof Error && "_tag" in unknown ? unknown._tag : String(unknown), "SessionExpired")
    }))

  it.effect("requestTimeout: an operation with no reply in time fails with OperationTimeout", () =>
    Effect.gen(function*() {
      const { proxy, servers } = yield* proxied
      const zk = yield* connectTo(servers, { requestTimeout: "300 millis", sessionTimeout: "10 seconds" })
      yield* zk.create("/t", "x")
      yield* proxy.setMode("pause")
      const started = Date.now()
      const error = yield* Effect.flip(zk.get("/t"))
      assert.strictEqual(error._tag, "OperationTimeout")
      assert.isAtLeast(Date.now() - started, 250)
      yield* proxy.setMode("pass")
      // The late reply is matched and dropped; the session keeps working.
      assert.strictEqual(new TextDecoder().decode((yield* zk.get("/t")).data), "x")
    }))

  it.effect("close waits for a request held back by a stalled network, then everything fails with Closing", () =>
    Effect.gen(function*() {
      const { proxy, servers } = yield* proxied
      const zk = yield* connectTo(servers)
      yield* zk.create("/held", "v")
      yield* proxy.setMode("pause")
      const held = yield* Effect.forkChild(zk.get("/held"))
      yield* Testing.eventually(Effect.map(proxy.held, (bytes) => bytes > 0), { what: "the get to reach the paused proxy" })
      // Started at once: from here on the session is closing, and new requests are refused.
      const closing = yield* Effect.forkChild(zk.close, { startImmediately: true })
      assert.strictEqual((yield* Effect.flip(zk.exists("/held")))._tag, "Closing")
      assert.isUndefined(closing.pollUnsafe(), "close must wait for the outstanding request")
      yield* proxy.setMode("pass")
      yield* Fiber.join(closing)
      assert.strictEqual(new TextDecoder().decode((yield* Fiber.join(held)).data), "v")
      assert.strictEqual(yield* zk.state, "Closed")
      for (const op of [zk.get("/held"), zk.create("/x"), zk.delete("/held"), zk.children("/")]) {
        assert.strictEqual((yield* Effect.flip(op))._tag, "Closing")
      }
    }))

  it.effect("closing with the server gone does not hang", () =>
    Effect.gen(function*() {
      const { proxy, servers } = yield* proxied
      const zk = yield* connectTo(servers)
      yield* proxy.setRefuse(true)
      yield* proxy.cut
      yield* Testing.eventually(Effect.map(zk.state, (s) => s !== "Connected"))
      yield* zk.close.pipe(Effect.timeout("5 seconds"))
      assert.strictEqual(yield* zk.state, "Closed")
    }))

  it.effect("a stalled network is detected by the read timeout; the session survives the reconnect", () =>
    Effect.gen(function*() {
      const { proxy, servers } = yield* proxied
      const zk = yield* connectTo(servers, { sessionTimeout: "3 seconds" })
      yield* zk.create("/alive", "", { mode: CreateMode.Ephemeral })
      const before = (yield* zk.clientId).sessionId
      // Started at once, so the subscription exists before the network stalls.
      const states = yield* Effect.forkChild(
        zk.sessionEvents.pipe(Stream.map((e) => e.state), Stream.takeUntil((s) => s === "Connected"), Stream.runCollect),
        { startImmediately: true }
      )
      // Held bytes, no FIN: only the read timeout (2/3 of the session timeout) can notice.
      yield* proxy.setMode("pause")
      yield* Testing.eventually(Effect.map(zk.state, (s) => s !== "Connected"), { timeout: "3 seconds" })
      yield* proxy.setMode("pass")
      assert.deepStrictEqual(yield* Fiber.join(states), ["Disconnected", "Connected"])
      assert.strictEqual((yield* zk.clientId).sessionId, before)
      assert.isTrue(Option.isSome(yield* zk.exists("/alive")))
    }))

  it.effect("auth is re-sent after a reconnect", () =>
    Effect.gen(function*() {
      const { proxy, servers, direct } = yield* proxied
      const owner = yield* connectTo(direct, { auth: [{ scheme: "digest", credential: Redacted.make("joe:passwd") }] })
      yield* owner.create("/secret", "s", { acl: Acl.auth(Perms.All) })
      const zk = yield* connectTo(servers)
      yield* zk.addAuth("digest", Redacted.make("joe:passwd"))
      assert.strictEqual(new TextDecoder().decode((yield* zk.get("/secret")).data), "s")
      const before = (yield* zk.clientId).sessionId
      yield* proxy.cut
      yield* Testing.eventually(Effect.map(zk.state, (s) => s === "Connected"))
      yield* Testing.eventually(Effect.map(proxy.connections, (n) => n === 1))
      assert.strictEqual((yield* zk.clientId).sessionId, before)
      assert.strictEqual(new TextDecoder().decode((yield* zk.get("/secret")).data), "s")
    }))

  it.effect("a watch survives a reconnect and fires for a change made while disconnected", () =>
    Effect.gen(function*() {
      const { proxy, servers, direct } = yield* proxied
      const zk = yield* connectTo(servers)
      const other = yield* connectTo(direct)
      yield* zk.create("/w", "1")
      yield* zk.create("/p")
      const data = yield* zk.getW("/w")
      const created = yield* zk.existsW("/later")
      const children = yield* zk.childrenW("/p")
      const unchanged = yield* zk.getW("/p")
      yield* proxy.setRefuse(true)
      yield* proxy.cut
      yield* Testing.eventually(Effect.map(zk.state, (s) => s === "Disconnected"))
      yield* other.set("/w", "2")
      yield* other.create("/later")
      yield* other.create("/p/c")
      yield* proxy.setRefuse(false)
      yield* Testing.eventually(Effect.map(zk.state, (s) => s === "Connected"))
      assert.deepStrictEqual(yield* Stream.runCollect(data.watch), [{ type: "NodeDataChanged", path: "/w" }])
      assert.deepStrictEqual(yield* Stream.runCollect(created.watch), [{ type: "NodeCreated", path: "/later" }])
      assert.deepStrictEqual(yield* Stream.runCollect(children.watch), [{ type: "NodeChildrenChanged", path: "/p" }])
      // Re-armed, not fired: /p's data did not change.
      assert.strictEqual(yield* zk.pendingWatches, 1)
      yield* other.set("/p", "x")
      assert.deepStrictEqual(yield* Stream.runCollect(unchanged.watch), [{ type: "NodeDataChanged", path: "/p" }])
    }))

  it.effect("interrupting a watch stream forgets the watch", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const zk = yield* connectTo(servers)
      const { watch } = yield* zk.existsW("/quiet")
      assert.strictEqual(yield* zk.pendingWatches, 1)
      const result = yield* Stream.runHead(watch).pipe(Effect.timeoutOption("50 millis"))
      assert.isTrue(Option.isNone(result))
      assert.strictEqual(yield* zk.pendingWatches, 0)
    }))

  it.effect("hosts that refuse are skipped: the next host in the connect string is tried", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const [address, chroot] = [servers.slice(0, servers.indexOf("/")), chrootOf(servers)]
      const { proxy } = yield* proxied
      yield* proxy.setRefuse(true)
      const zk = yield* connectTo(`${proxy.address},127.0.0.1:1,${address}${chroot}`)
      assert.strictEqual(yield* zk.state, "Connected")
      assert.strictEqual(yield* zk.create("/reached"), "/reached")
    }))

  it.effect("layerConfig reads ZK_SERVERS and friends from Config", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const context = yield* Layer.build(
        NodeZooKeeper.layerConfig().pipe(
          Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ ZK_SERVERS: servers, ZK_SESSION_TIMEOUT: "4 seconds" })))
        )
      )
      const zk = Context.get(context, ZooKeeper)
      assert.strictEqual(yield* zk.state, "Connected")
      assert.strictEqual(yield* zk.sessionTimeout, 4000)
      assert.strictEqual(yield* zk.create("/from-config"), "/from-config")
    }))
})

/**
 * SASL DIGEST-MD5 through the session, against a real server with a JAAS `Server` section.
 */
import { assert, layer } from "@effect/vitest"
import { CreateMode } from "@effect-zk/core"
import { FaultProxy, Testing } from "@effect-zk/node"
import { ZooKeeperServer } from "@effect-zk/server"
import { Effect, Redacted } from "effect"
import { connectTo } from "./utils/TestZooKeeper.ts"

layer(ZooKeeperServer.layer({ sasl: { users: { alice: "secret" } } }), { timeout: "60 seconds", excludeTestServices: true })(
  "sasl",
  (it) => {
    it.effect("a DIGEST-MD5 login gives the session sasl:alice, also after a reconnect", () =>
      Effect.gen(function*() {
        const server = yield* ZooKeeperServer.ZooKeeperServer
        const servers = yield* server.address
        const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
        const zk = yield* connectTo(proxy.address, { sasl: { username: "alice", password: Redacted.make("secret") } })
        assert.deepInclude(yield* zk.whoAmI(), { scheme: "sasl", id: "alice" })
        const path = yield* zk.create("/alice-only-", "x", {
          mode: CreateMode.PersistentSequential,
          acl: [{ perms: 31, id: { scheme: "sasl", id: "alice" } }]
        })
        const stranger = yield* connectTo(servers)
        assert.strictEqual((yield* Effect.flip(stranger.get(path)))._tag, "NoAuth")
        assert.strictEqual(new TextDecoder().decode((yield* zk.get(path)).data), "x")
        // The identity belongs to the connection: a new one logs in again.
        yield* proxy.cut
        yield* Testing.eventually(Effect.map(proxy.connections, (n) => n === 1))
        yield* Testing.eventually(Effect.map(zk.state, (s) => s === "Connected"))
        assert.deepInclude(yield* zk.whoAmI(), { scheme: "sasl", id: "alice" })
        assert.strictEqual(new TextDecoder().decode((yield* zk.get(path)).data), "x")
      }))

    it.effect("a wrong password ends the layer build with AuthFailed, and never shows the password", () =>
      Effect.gen(function*() {
        const server = yield* ZooKeeperServer.ZooKeeperServer
        const error = yield* Effect.flip(connectTo(yield* server.address, {
          sasl: { username: "alice", password: Redacted.make("wrong-password-123") }
        }))
        const text = `${String(error)} ${error instanceof Error ? error.message : ""} ${JSON.stringify(error)}`
        assert.isTrue(error instanceof Error && "_tag" in error && error._tag === "AuthFailed", text)
        assert.notInclude(text, "wrong-password-123")
      }))
  }
)

/**
 * Read-only mode against a real 3-member ensemble started with `readonlymode.enabled`: a client
 * that accepts read-only servers reads from a member cut off from the quorum, and moves to a
 * read-write member when the quorum returns.
 *
 * ZooKeeper 3.8 lets a read-only server serve only *local* sessions: it refuses to resume a
 * global session ("Refusing global session reconnection in RO mode") and answers a new
 * session's handshake with NotReadOnly unless `localSessionsEnabled=true`. So the client here
 * starts while the quorum is down, as Java's `canBeReadOnly` clients do, and gets a fresh
 * global session from the first read-write server it reaches.
 */
import { Testing } from "@effect-zk/node"
import { assert, it } from "@effect/vitest"
import { ZooKeeperEnsemble } from "@effect-zk/server"
import { Effect, Option } from "effect"
import { connectTo } from "./utils/TestZooKeeper.ts"

it.live("ConnectedReadOnly on a minority member: reads work, writes fail with NotReadOnly, then back to read-write", () =>
  Effect.gen(function*() {
    const ensemble = yield* ZooKeeperEnsemble.scoped({
      size: 3,
      jvmFlags: ["-Dreadonlymode.enabled=true"],
      extraConfig: { localSessionsEnabled: true }
    })
    const writer = yield* connectTo(ensemble.connectString)
    yield* writer.create("/ro", "before")
    yield* writer.close
    // Keep only member 0: it loses the quorum and turns read-only.
    yield* ensemble.stop(1)
    yield* ensemble.stop(2)
    const only = `127.0.0.1:${ensemble.members[0]!.port}`
    const zk = yield* connectTo(ensemble.connectString, { canBeReadOnly: true, connectTimeout: "60 seconds" })
    assert.strictEqual(yield* zk.state, "ConnectedReadOnly")
    assert.strictEqual(new TextDecoder().decode((yield* zk.get("/ro")).data), "before")
    const error = yield* Effect.flip(zk.create("/denied"))
    assert.strictEqual(error._tag, "NotReadOnly")
    assert.strictEqual(error.message, `zookeeper: create "/denied": state-changing request passed to read-only server`)
    // A client that does not accept read-only servers is refused by one.
    const strict = yield* Effect.flip(connectTo(only, { connectTimeout: "3 seconds" }))
    assert.isTrue(strict instanceof Error && "_tag" in strict && strict._tag === "ConnectionLoss")

    yield* ensemble.start(1)
    yield* ensemble.start(2)
    yield* ensemble.awaitQuorum("60 seconds")
    yield* Testing.eventually(Effect.map(zk.state, (s) => s === "Connected"), { timeout: "60 seconds" })
    yield* zk.create("/after", "rw")
    assert.isTrue(Option.isSome(yield* zk.exists("/after")))
  }), { timeout: 180_000 })

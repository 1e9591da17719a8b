/**
 * Failover against a real 3-node ensemble: the member a session is on dies, the leader dies, the
 * quorum is lost and comes back. The session must survive each within its timeout, with its
 * ephemeral nodes and its watches.
 */
import { assert, layer } from "@effect/vitest"
import { CreateMode, type ZooKeeperService } from "@effect-zk/core"
import { FaultProxy, Testing } from "@effect-zk/node"
import { FourLetterWord, ZooKeeperEnsemble } from "@effect-zk/server"
import { Effect, Fiber, Option, Stream } from "effect"
import { connectTo, holdsFor, record, stateIs } from "./utils/TestZooKeeper.ts"

/** A fresh chroot on the ensemble, removed after the test: its path, to append to any of its connect strings. */
const sandbox = (ensemble: ZooKeeperEnsemble.Ensemble) => Effect.map(Testing.sandbox(ensemble.connectString), (s) => s.chroot)

/** Indices of the members whose `cons` lists this session. */
const membersOf = (ensemble: ZooKeeperEnsemble.Ensemble, zk: ZooKeeperService) =>
  Effect.gen(function*() {
    const hex = (yield* zk.clientId).hex
    const found = yield* Effect.forEach(ensemble.members, (member, i) =>
      FourLetterWord.cons(member.port).pipe(
        Effect.map((connections) => connections.some((c) => Option.getOrUndefined(c.sessionId) === hex) ? [i] : []),
        Effect.orElseSucceed((): Array<number> => [])
      ), { concurrency: "unbounded" })
    return found.flat()
  })

/** Starts the given members again when the test ends, whatever happened, for the next test. */
const restartOnExit = (ensemble: ZooKeeperEnsemble.Ensemble, indices: ReadonlyArray<number>) =>
  Effect.addFinalizer(() =>
    Effect.forEach(indices, (i) => Effect.ignore(ensemble.start(i)), { concurrency: "unbounded", discard: true }).pipe(
      Effect.andThen(Effect.ignore(ensemble.awaitQuorum("60 seconds")))
    )
  )


layer(
  ZooKeeperEnsemble.layer({ size: 3, minSessionTimeout: "1 second", maxSessionTimeout: "30 seconds" }),
  { timeout: "120 seconds", excludeTestServices: true }
)("ensemble failover", (it) => {
  it.effect("the member the session is on dies: same session on another member, ephemeral kept, a watch fires for a change made meanwhile", () =>
    Effect.gen(function*() {
      const ensemble = yield* ZooKeeperEnsemble.ZooKeeperEnsemble
      const chroot = yield* sandbox(ensemble)
      // One proxy per member, so the client can be held off while another session makes changes.
      const proxies = yield* Effect.forEach(ensemble.members, (member) => FaultProxy.make({ host: "127.0.0.1", port: member.port }))
      const zk = yield* connectTo(`${proxies.map((p) => p.address).join(",")}${chroot}`, { sessionTimeout: "10 seconds" })
      yield* zk.create("/eph", "", { mode: CreateMode.Ephemeral })
      yield* zk.create("/data", "1")
      const data = yield* zk.getW("/data")
      const created = yield* zk.existsW("/later")
      const before = (yield* zk.clientId).sessionId
      const [on] = yield* membersOf(ensemble, zk)
      assert.isDefined(on)
      const victim = on!
      const events = yield* record(zk)

      yield* restartOnExit(ensemble, [victim])
      yield* Effect.forEach(proxies, (p) => p.setRefuse(true))
      yield* ensemble.stop(victim)
      yield* Testing.eventually(stateIs(zk, "Disconnected"))
      // Made while the client is between members, by a session on the survivors.
      const survivors = ensemble.members.filter((_, i) => i !== victim).map((m) => `127.0.0.1:${m.port}`).join(",")
      const other = yield* connectTo(`${survivors}${chroot}`)
      yield* other.set("/data", "2")
      yield* other.create("/later")
      yield* Effect.forEach(proxies, (p) => p.setRefuse(false))
      yield* Testing.eventually(stateIs(zk, "Connected"), { timeout: "10 seconds" })

      assert.deepStrictEqual(events.map((e) => e.state), ["Disconnected", "Connected"])
      assert.notStrictEqual(events[1]!.server, proxies[victim]!.address)
      assert.strictEqual((yield* zk.clientId).sessionId, before)
      assert.notInclude(yield* membersOf(ensemble, zk), victim)
      assert.isTrue(Option.isSome(yield* other.exists("/eph")))
      assert.deepStrictEqual(yield* Stream.runCollect(data.watch), [{ type: "NodeDataChanged", path: "/data" }])
      assert.deepStrictEqual(yield* Stream.runCollect(created.watch), [{ type: "NodeCreated", path: "/later" }])
      assert.strictEqual(yield* zk.pendingWatches, 0)
    }))

  it.effect("the leader dies: clients are dropped while a new leader is elected; the session resumes with its ephemeral and watch", () =>
    Effect.gen(function*() {
      const ensemble = yield* ZooKeeperEnsemble.ZooKeeperEnsemble
      const chroot = yield* sandbox(ensemble)
      const zk = yield* connectTo(`${ensemble.connectString}${chroot}`, { sessionTimeout: "10 seconds" })
      yield* zk.create("/eph", "", { mode: CreateMode.Ephemeral })
      const created = yield* zk.existsW("/after-election")
      const before = (yield* zk.clientId).sessionId
      const leader = Option.getOrThrow(yield* ensemble.leader)
      const events = yield* record(zk)

      yield* restartOnExit(ensemble, [leader])
      const stoppedAt = Date.now()
      yield* ensemble.stop(leader)
      yield* Testing.eventually(stateIs(zk, "Disconnected"))
      yield* Testing.eventually(stateIs(zk, "Connected"), { timeout: "10 seconds" })
      const connectedAfter = events.find((e) => e.state === "Connected")!.at - stoppedAt

      assert.deepStrictEqual(events.map((e) => e.state), ["Disconnected", "Connected"])
      assert.isBelow(connectedAfter, 10_000) // within the session timeout
      assert.strictEqual((yield* zk.clientId).sessionId, before)
      const newLeader = yield* ensemble.leader
      assert.isTrue(Option.isSome(newLeader) && newLeader.value !== leader)
      // Writes go through the new leader; the watch set before the election fires.
      yield* zk.create("/after-election")
      assert.deepStrictEqual(yield* Stream.runCollect(created.watch), [{ type: "NodeCreated", path: "/after-election" }])
      assert.isTrue(Option.isSome(yield* zk.exists("/eph")))
    }))

  it.effect("quorum lost (2 of 3 down): no connection, requests wait; quorum back: the same session, the waiting request done", () =>
    Effect.gen(function*() {
      const ensemble = yield* ZooKeeperEnsemble.ZooKeeperEnsemble
      const chroot = yield* sandbox(ensemble)
      const zk = yield* connectTo(`${ensemble.connectString}${chroot}`, { sessionTimeout: "30 seconds" })
      yield* zk.create("/eph", "", { mode: CreateMode.Ephemeral })
      const before = (yield* zk.clientId).sessionId
      const [on] = yield* membersOf(ensemble, zk)
      assert.isDefined(on)
      // The session's own member and one more: the last one cannot serve alone.
      const down = [on!, (on! + 1) % 3]
      const events = yield* record(zk)

      yield* restartOnExit(ensemble, down)
      yield* Effect.forEach(down, (i) => ensemble.stop(i), { concurrency: "unbounded", discard: true })
      // A surviving leader notices the lost quorum only after syncLimit ticks and serves (and may
      // take the session back) until then; the test starts once it has stepped down.
      const survivor = ensemble.members.find((_, i) => !down.includes(i))!
      yield* Testing.eventually(FourLetterWord.srvr(survivor.port).pipe(Effect.map(Option.isNone), Effect.orElseSucceed(() => false)), { timeout: "30 seconds" })
      yield* Testing.eventually(stateIs(zk, "Disconnected"))
      const waiting = yield* Effect.forkChild(zk.create("/during", "x"), { startImmediately: true })
      // The survivor accepts connections and closes them while it has no quorum.
      yield* holdsFor(Effect.map(zk.state, (s) => s === "Disconnected"), "2 seconds", "no session without a quorum")
      assert.isUndefined(waiting.pollUnsafe(), "a request cannot complete without a quorum")

      yield* Effect.forEach(down, (i) => ensemble.start(i), { concurrency: "unbounded", discard: true })
      yield* Testing.eventually(stateIs(zk, "Connected"), { timeout: "25 seconds" })
      assert.strictEqual(yield* Fiber.join(waiting), "/during")
      assert.strictEqual((yield* zk.clientId).sessionId, before)
      // While the quorum re-forms, a member can accept the session and then drop it again for an
      // election, so there may be more than one round; what matters is where it ends.
      const states = events.map((e) => e.state)
      assert.strictEqual(states[0], "Disconnected")
      assert.strictEqual(states.at(-1), "Connected")
      assert.notInclude(states, "Expired")
      assert.isTrue(Option.isSome(yield* zk.exists("/eph")))
    }))
})

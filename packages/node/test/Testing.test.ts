/**
 * The test kit users get from @effect-zk/node: a chroot per test that is removed afterwards, and
 * the one `eventually` poll, both also under `it.effect`'s TestClock.
 */
import { assert, layer } from "@effect/vitest"
import { ZooKeeper } from "@effect-zk/core"
import { NodeZooKeeper, Testing } from "@effect-zk/node"
import { ZooKeeperServer } from "@effect-zk/server"
import { Clock, Context, Effect, Layer, Option, Schedule } from "effect"
import { connectTo } from "./utils/TestZooKeeper.ts"

layer(ZooKeeperServer.layer(), { timeout: "60 seconds", excludeTestServices: true })("Testing", (it) => {
  it.effect("sandbox: a chroot of its own, deleted with everything under it when the scope closes", () =>
    Effect.gen(function*() {
      const address = yield* (yield* ZooKeeperServer.ZooKeeperServer).address
      const root = yield* connectTo(address)
      const { servers, chroot } = yield* Effect.scoped(Effect.gen(function*() {
        const box = yield* Testing.sandbox(address, { prefix: "kit" })
        assert.match(box.chroot, /^\/kit-[0-9a-f-]{36}$/)
        assert.strictEqual(box.servers, `${address}${box.chroot}`)
        const zk = yield* connectTo(box.servers)
        yield* zk.create("/a")
        yield* zk.create("/a/b", "deep")
        yield* zk.create("/a/b/c")
        yield* Effect.forEach(Array.from({ length: 30 }), (_, i) => zk.create(`/a/n${i}`), { discard: true })
        assert.strictEqual(new TextDecoder().decode((yield* root.get(`${box.chroot}/a/b`)).data), "deep")
        return box
      }))
      assert.isTrue(Option.isNone(yield* root.exists(chroot)), `${chroot} is gone`)
      assert.notStrictEqual(servers, address)
    }))

  it.effect("sandbox: two sandboxes never see each other's nodes", () =>
    Effect.gen(function*() {
      const address = yield* (yield* ZooKeeperServer.ZooKeeperServer).address
      const [one, two] = yield* Effect.all([Testing.sandbox(address), Testing.sandbox(address)])
      assert.notStrictEqual(one.chroot, two.chroot)
      const a = yield* connectTo(one.servers)
      const b = yield* connectTo(two.servers)
      yield* a.create("/shared-name", "a")
      assert.isTrue(Option.isNone(yield* b.exists("/shared-name")))
    }))

  it.effect("eventually: succeeds once the condition holds, checking on its schedule", () =>
    Effect.gen(function*() {
      let checks = 0
      yield* Testing.eventually(Effect.sync(() => ++checks === 4), { schedule: Schedule.spaced("1 millis") })
      assert.strictEqual(checks, 4)
    }))

  it.effect("eventually: a deadline that passes is an EventuallyTimeout saying what was awaited", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Testing.eventually(Effect.succeed(false), { timeout: "150 millis", what: "the leader to change" })
      )
      assert.strictEqual(error._tag, "EventuallyTimeout")
      assert.strictEqual(error.timeoutMillis, 150)
      assert.isAtLeast(error.checks, 2)
      assert.match(error.message, /^the leader to change: still false after \d+ checks in 150ms$/)
    }))

  it.effect("eventually: a schedule that ends first fails the same way; an error of the condition fails at once", () =>
    Effect.gen(function*() {
      const ended = yield* Effect.flip(Testing.eventually(Effect.succeed(false), { schedule: Schedule.recurs(2) }))
      assert.strictEqual(ended._tag, "EventuallyTimeout")
      assert.strictEqual(ended.checks, 3)
      let checks = 0
      const failed = yield* Effect.flip(
        Testing.eventually(Effect.suspend(() => (++checks === 2 ? Effect.fail("boom" as const) : Effect.succeed(false))))
      )
      assert.strictEqual(failed, "boom")
      assert.strictEqual(checks, 2)
    }))
})

// No excludeTestServices: the tests below run on the TestClock, and the kit keeps real time.
layer(ZooKeeperServer.layer(), { timeout: "60 seconds" })("Testing under the TestClock", (it) => {
  it.effect("eventually waits in real time, and the condition still sees the test's clock", () =>
    Effect.gen(function*() {
      const started = Date.now()
      let seen = -1
      yield* Testing.eventually(
        Effect.map(Clock.currentTimeMillis, (now) => {
          seen = now
          return Date.now() - started >= 100
        })
      )
      assert.isAtLeast(Date.now() - started, 100)
      assert.strictEqual(seen, 0, "the condition ran on the TestClock")
    }))

  it.effect("sandbox and a session in it work", () =>
    Effect.gen(function*() {
      const { servers } = yield* Testing.sandbox(yield* (yield* ZooKeeperServer.ZooKeeperServer).address)
      const zk = Context.get(yield* Layer.build(NodeZooKeeper.layer({ servers })), ZooKeeper)
      assert.strictEqual(yield* zk.create("/here"), "/here")
    }))
})

/**
 * Interop with the anchors on the same paths: our Lock with Curator's InterProcessMutex and
 * with kazoo's Lock, our Leader with Curator's LeaderLatch, our Semaphore with Curator's
 * InterProcessSemaphoreV2. Mutual exclusion is checked without clocks: every holder, ours and
 * theirs, creates the same ephemeral "occupant" node inside its section, which fails with
 * NodeExists if two sections overlap.
 */
import { assert, layer } from "@effect/vitest"
import type { ZooKeeperService } from "@effect-zk/core"
import { ZooKeeperServer } from "@effect-zk/server"
import { Effect, Exit, Fiber, Option, Ref, Scope, Stream } from "effect"
import { Leader, Lock, Semaphore } from "../src/index.ts"
import { curator, kazoo } from "./helpers/anchors.ts"
import { connectTo, eventually, leftover, occupy, sandbox, using } from "./helpers/sessions.ts"

/** `rounds` sections of ours under `withLock`; the number of overlaps seen. */
const ourSections = (zk: ZooKeeperService, run: (section: Effect.Effect<boolean, unknown>) => Effect.Effect<boolean, unknown>, rounds: number) =>
  Effect.map(Effect.forEach(Array.from({ length: rounds }), () => run(occupy(zk, "/occupant", 10))), (xs) => xs.filter((x) => !x).length)

layer(ZooKeeperServer.layer({ minSessionTimeout: "1 second" }), { timeout: "120 seconds", excludeTestServices: true })("interop", (it) => {
  it.effect("our Lock and Curator's InterProcessMutex exclude each other on one path", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const jvm = yield* curator(servers)
      const zks = yield* Effect.all([0, 1].map(() => connectTo(servers)))
      yield* jvm.send("mutex /locks/shared 15 10 /occupant")
      yield* jvm.send("mutex /locks/shared 15 10 /occupant")
      const ours = yield* Effect.all(zks.map((zk) => ourSections(zk, (s) => Lock.withLock("/locks/shared", s).pipe(using(zk)), 15)), { concurrency: "unbounded" })
      const theirs = [yield* jvm.next(/^mutex-done (\d+) (\d+)$/), yield* jvm.next(/^mutex-done (\d+) (\d+)$/)]
      assert.deepStrictEqual(ours, [0, 0])
      assert.deepStrictEqual(theirs.map((m) => m[2]), ["0", "0"])
      assert.strictEqual(yield* leftover(zks[0]!, "/locks/shared"), 0)
    }))

  it.effect("our Lock and kazoo's Lock exclude each other: ours in kazoo's layout, and kazoo counting Curator-style names", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const py = yield* kazoo(servers)
      const zk = yield* connectTo(servers)
      // kazoo's own layout on both sides.
      yield* py.send("lock /locks/k1 15 10 /occupant -")
      const a = yield* ourSections(zk, (s) => Lock.withLock("/locks/k1", s, { layout: "kazoo" }).pipe(using(zk)), 15)
      const ka = yield* py.next(/^lock-done (\d+) (\d+)$/)
      // Our default (Curator-style) names; kazoo told to count them as contenders.
      yield* py.send("lock /locks/k2 15 10 /occupant -lock-")
      const b = yield* ourSections(zk, (s) => Lock.withLock("/locks/k2", s).pipe(using(zk)), 15)
      const kb = yield* py.next(/^lock-done (\d+) (\d+)$/)
      assert.deepStrictEqual([a, b, ka[2], kb[2]], [0, 0, "0", "0"])
      assert.strictEqual(yield* leftover(zk, "/locks/k1"), 0)
      assert.strictEqual(yield* leftover(zk, "/locks/k2"), 0)
    }))

  it.effect("our Leader and Curator's LeaderLatch on one path: exactly one leader, and both agree who", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const jvm = yield* curator(servers)
      const zk = yield* connectTo(servers)
      yield* jvm.send("latch-start /election jvm")
      yield* jvm.next(/^latch-started jvm$/)
      yield* jvm.next(/^latch-leader jvm$/)
      const leading = yield* Ref.make(false)
      const scope = yield* Scope.make()
      const latch = yield* Leader.latch("/election", { id: "ours" }).pipe(using(zk), Scope.provide(scope))
      const running = yield* Effect.forkChild(Leader.run("/election", Effect.andThen(Ref.set(leading, true), Effect.never), { id: "runner" }).pipe(using(zk)))
      yield* eventually(Effect.map(latch.participants, (ps) => ps.length === 3))
      assert.deepStrictEqual((yield* latch.participants).map((p) => p.id), ["jvm", "ours", "runner"])
      assert.deepStrictEqual(Option.map(yield* latch.leader, (p) => p.id), Option.some("jvm"))
      assert.isFalse(Option.getOrThrow(yield* Stream.runHead(latch.isLeader)))
      assert.isFalse(yield* Ref.get(leading))
      // The JVM leaves: our latch leads, and Curator's view agrees.
      yield* jvm.send("latch-start /election jvm2")
      yield* jvm.next(/^latch-started jvm2$/)
      yield* jvm.send("latch-close jvm")
      yield* Stream.runHead(Stream.filter(latch.isLeader, (b) => b))
      yield* jvm.send("latch-leader-id jvm2")
      assert.strictEqual((yield* jvm.next(/^latch-sees (.*)$/))[1], "ours")
      assert.isFalse(yield* Ref.get(leading))
      // Ours leaves: the runner leads, and the JVM's latch follows.
      yield* Scope.close(scope, Exit.void)
      yield* eventually(Ref.get(leading))
      yield* jvm.send("latch-leader-id jvm2")
      assert.strictEqual((yield* jvm.next(/^latch-sees (.*)$/))[1], "runner")
      yield* Fiber.interrupt(running)
      yield* jvm.next(/^latch-leader jvm2$/)
    }))

  it.effect("our Semaphore and Curator's InterProcessSemaphoreV2 share permits: never more than max holders", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const jvm = yield* curator(servers)
      const zks = yield* Effect.all([0, 1, 2].map(() => connectTo(servers)))
      yield* jvm.send("sem /sem/shared 2 10 15 /gauge")
      yield* jvm.send("sem /sem/shared 2 10 15 /gauge")
      const violations = yield* Ref.make(0)
      const section = (zk: ZooKeeperService) =>
        Effect.gen(function*() {
          const mine = yield* zk.create("/gauge/g-", undefined, { mode: "EphemeralSequential" })
          if ((yield* zk.children("/gauge")).children.length > 2) yield* Ref.update(violations, (n) => n + 1)
          yield* Effect.sleep("15 millis")
          yield* zk.delete(mine)
        })
      yield* zks[0]!.create("/gauge")
      yield* Effect.forEach(zks, (zk) =>
        Effect.forEach(Array.from({ length: 10 }), () => Semaphore.withPermit("/sem/shared", { max: 2 }, section(zk)).pipe(using(zk))), { concurrency: "unbounded" })
      const theirs = [yield* jvm.next(/^sem-done (\d+) (\d+)$/), yield* jvm.next(/^sem-done (\d+) (\d+)$/)]
      assert.strictEqual(yield* Ref.get(violations), 0)
      assert.deepStrictEqual(theirs.map((m) => m[2]), ["0", "0"])
      assert.strictEqual(yield* leftover(zks[0]!, "/sem/shared/leases"), 0)
    }))
})

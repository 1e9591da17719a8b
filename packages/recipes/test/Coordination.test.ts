/**
 * Semaphore, read/write lock, barriers, shared counter and queue against a real server, with
 * several sessions contending.
 */
import { assert, layer } from "@effect/vitest"
import { ZooKeeperServer } from "@effect-zk/server"
import { Deferred, Effect, Fiber, Option, Ref, Stream } from "effect"
import { Barrier, DistributedQueue, DoubleBarrier, ReadWriteLock, Semaphore, SharedCounter } from "../src/index.ts"
import { connectTo, eventually, sandbox, using, leftover } from "./helpers/sessions.ts"

const text = (b: Uint8Array) => new TextDecoder().decode(b)

/** Tracks how many are inside at once and the most ever seen. */
const gauge = Effect.map(Ref.make({ now: 0, max: 0 }), (ref) => ({
  max: Effect.map(Ref.get(ref), (g) => g.max),
  inside: <A, E, R>(body: Effect.Effect<A, E, R>) =>
    Effect.acquireUseRelease(
      Ref.update(ref, (g) => ({ now: g.now + 1, max: Math.max(g.max, g.now + 1) })),
      () => body,
      () => Ref.update(ref, (g) => ({ ...g, now: g.now - 1 }))
    )
}))

layer(ZooKeeperServer.layer({ minSessionTimeout: "1 second" }), { timeout: "60 seconds", excludeTestServices: true })("coordination", (it) => {
  it.effect("semaphore: never more than max leases at once, all used, nothing left", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const g = yield* gauge
      const sessions = yield* Effect.all([0, 1, 2, 3, 4].map(() => connectTo(servers)))
      yield* Effect.forEach(sessions, (zk) =>
        Effect.forEach([0, 1, 2], () => Semaphore.withPermit("/sem", { max: 2 }, g.inside(Effect.sleep("20 millis"))).pipe(using(zk))), { concurrency: "unbounded" })
      assert.strictEqual(yield* g.max, 2)
      assert.strictEqual(yield* leftover(sessions[0]!, "/sem/leases"), 0)
      assert.strictEqual(yield* leftover(sessions[0]!, "/sem/locks"), 0)
      const error = yield* Effect.flip(Semaphore.withPermit("/sem", { max: 0 }, Effect.void).pipe(using(sessions[0]!)))
      assert.strictEqual(error._tag, "BadArguments")
    }))

  it.effect("read/write lock: readers share, a writer is alone, a queued writer holds back later readers", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const zks = yield* Effect.all([0, 1, 2, 3].map(() => connectTo(servers)))
      const readers = yield* gauge
      const writers = yield* gauge
      const both = yield* gauge
      const read = (i: number) => ReadWriteLock.withRead("/rw", readers.inside(both.inside(Effect.sleep("30 millis")))).pipe(using(zks[i]!))
      const write = (i: number) => ReadWriteLock.withWrite("/rw", writers.inside(both.inside(Effect.sleep("15 millis")))).pipe(using(zks[i]!))
      yield* Effect.all([read(0), read(1), write(2), read(3), write(0), read(1)], { concurrency: "unbounded" })
      assert.strictEqual(yield* writers.max, 1)
      assert.isAtLeast(yield* readers.max, 2)
      // A writer never overlaps a reader: the writers' sections are exclusive among everyone.
      const reading = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const holder = yield* Effect.forkChild(
        ReadWriteLock.withRead("/rw", Effect.andThen(Deferred.succeed(reading, undefined), Deferred.await(release))).pipe(using(zks[0]!))
      )
      yield* Deferred.await(reading)
      const writer = yield* Effect.forkChild(ReadWriteLock.withWrite("/rw", Effect.void).pipe(using(zks[1]!)))
      yield* eventually(Effect.map(zks[0]!.getAllChildrenNumber("/rw"), (n) => n === 2))
      const late = yield* Effect.flip(ReadWriteLock.withRead("/rw", Effect.void, { timeout: "200 millis" }).pipe(using(zks[2]!)))
      assert.strictEqual(late._tag, "LockTimeout")
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      yield* Fiber.join(writer)
      assert.strictEqual(yield* leftover(zks[0]!, "/rw"), 0)
    }))

  it.effect("barrier: waiters pass once it is removed; wait times out with BarrierTimeout while it stands", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const a = yield* connectTo(servers)
      const b = yield* connectTo(servers)
      yield* Barrier.set("/gate/b").pipe(using(a))
      yield* Barrier.set("/gate/b").pipe(using(a))
      const timedOut = yield* Effect.flip(Barrier.wait("/gate/b", { timeout: "100 millis" }).pipe(using(b)))
      assert.strictEqual(timedOut._tag, "BarrierTimeout")
      const waiting = yield* Effect.forkChild(Barrier.wait("/gate/b").pipe(using(b)))
      yield* eventually(Effect.map(a.exists("/gate/b"), Option.isSome))
      assert.isUndefined(waiting.pollUnsafe())
      yield* Barrier.remove("/gate/b").pipe(using(a))
      yield* Fiber.join(waiting)
      yield* Barrier.wait("/gate/b").pipe(using(b))
    }))

  it.effect("double barrier: nobody enters before all three are in; everybody leaves together; nothing left", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const zks = yield* Effect.all([0, 1, 2].map(() => connectTo(servers)))
      const entered = yield* Ref.make<ReadonlyArray<number>>([])
      const left = yield* Ref.make<ReadonlyArray<number>>([])
      const participant = (i: number) =>
        Effect.andThen(
          DoubleBarrier.with("/db", { count: 3 }, Effect.andThen(Ref.update(entered, (xs) => [...xs, i]), Effect.sleep(`${10 * i} millis`))),
          Ref.update(left, (xs) => [...xs, i])
        ).pipe(using(zks[i]!))
      const first = yield* Effect.forkChild(Effect.all([participant(0), participant(1)], { concurrency: "unbounded" }))
      yield* eventually(Effect.map(leftover(zks[0]!, "/db"), (n) => n === 2))
      assert.deepStrictEqual(yield* Ref.get(entered), [])
      // Alone at another barrier (here it would count as one of the three): timed out, node gone.
      const timedOut = yield* Effect.flip(DoubleBarrier.with("/db2", { count: 2, timeout: "50 millis" }, Effect.void).pipe(using(zks[2]!)))
      assert.strictEqual(timedOut._tag, "BarrierTimeout")
      assert.strictEqual(yield* leftover(zks[2]!, "/db2"), 0)
      yield* participant(2)
      yield* Fiber.join(first)
      assert.strictEqual((yield* Ref.get(entered)).length, 3)
      assert.strictEqual((yield* Ref.get(left)).length, 3)
      assert.strictEqual(yield* leftover(zks[0]!, "/db"), 0)
    }))

  it.effect("shared counter: concurrent increments from three sessions all count; compareAndSet; 8-byte big-endian; changes", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const zks = yield* Effect.all([0, 1, 2].map(() => connectTo(servers)))
      const counters = yield* Effect.forEach(zks, (zk) => SharedCounter.make("/counters/c").pipe(using(zk)))
      const seen = yield* Effect.forkChild(Stream.runCollect(Stream.take(Stream.filter(counters[0]!.changes, (v) => v === 30n || v === 0n), 2)))
      yield* Effect.forEach(counters, (c) => Effect.forEach([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], () => c.increment(1)), { concurrency: "unbounded" })
      assert.strictEqual(yield* counters[1]!.get, 30n)
      assert.deepStrictEqual(yield* Fiber.join(seen), [0n, 30n])
      assert.isFalse(yield* counters[2]!.compareAndSet(29n, 100n))
      assert.isTrue(yield* counters[2]!.compareAndSet(30n, 2n ** 62n))
      // 2^62 + 2^62 wraps around to -2^63, as a Java long does.
      assert.strictEqual(yield* counters[0]!.increment(2n ** 62n), -(2n ** 63n))
      const raw = (yield* zks[0]!.get("/counters/c")).data
      assert.deepStrictEqual([...raw], [0x80, 0, 0, 0, 0, 0, 0, 0])
      assert.strictEqual(SharedCounter.decode(new Uint8Array([0xff, 0xff, 0xff, 0xfe])), -2n)
    }))

  it.effect("queue: items from three producers are each taken by exactly one of three consumers, in order per producer", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const zks = yield* Effect.all([0, 1, 2].map(() => connectTo(servers)))
      const queues = yield* Effect.forEach(zks, (zk) => DistributedQueue.make("/queues/q").pipe(using(zk)))
      yield* Effect.forEach(queues, (q, p) => Effect.forEach([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], (i) => q.offer(`${p}:${i}`)), { concurrency: "unbounded" })
      assert.strictEqual(yield* queues[0]!.size, 30)
      const taken = yield* Ref.make<ReadonlyArray<{ readonly c: number; readonly item: string }>>([])
      const consumers = yield* Effect.forEach(queues, (q, c) =>
        Effect.forkChild(Stream.runForEach(q.take, (b) => Ref.update(taken, (xs) => [...xs, { c, item: text(b) }]))))
      yield* eventually(Effect.map(Ref.get(taken), (xs) => xs.length === 30))
      yield* queues[1]!.offer("late")
      yield* eventually(Effect.map(Ref.get(taken), (xs) => xs.length === 31))
      yield* Effect.forEach(consumers, Fiber.interrupt)
      const items = (yield* Ref.get(taken)).map((x) => x.item)
      assert.strictEqual(new Set(items).size, 31)
      for (const p of [0, 1, 2]) {
        const mine = items.filter((x) => x.startsWith(`${p}:`))
        assert.deepStrictEqual(mine, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `${p}:${i}`))
      }
      assert.strictEqual(yield* leftover(zks[0]!, "/queues/q"), 0)
    }))
})

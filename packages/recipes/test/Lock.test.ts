/**
 * Lock against a real server: mutual exclusion among sessions, fencing tokens, one watch per
 * waiter, nothing left behind by timed-out, interrupted or finished contenders, and work
 * interrupted with LockLost when the holder is cut off.
 */
import { assert, layer } from "@effect/vitest"
import { Op } from "@effect-zk/core"
import { FaultProxy, Testing } from "@effect-zk/node"
import { FourLetterWord, ZooKeeperServer } from "@effect-zk/server"
import { Deferred, Effect, Exit, Fiber, Option, Tracer } from "effect"
import { type LapsePolicy, Lock, type LockLost } from "../src/index.ts"
import { chrootOf, connectTo, eventually, overlaps, sandbox, sectionLog, tokensIncrease, using, leftover } from "./helpers/sessions.ts"

/**
 * A holder's session through a fault proxy (so a test can cut it off) and a direct session to
 * observe with, on a fresh sandbox where `/orders` exists.
 */
const proxiedHolder = (sessionTimeout: `${number} seconds`) =>
  Effect.gen(function*() {
    const servers = yield* sandbox
    const server = yield* ZooKeeperServer.ZooKeeperServer
    const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
    const holder = yield* connectTo(`${proxy.address}${chrootOf(servers)}`, { sessionTimeout })
    const observer = yield* connectTo(servers)
    yield* observer.create("/orders", "0")
    return { servers, proxy, holder, observer }
  })

layer(ZooKeeperServer.layer({ minSessionTimeout: "1 second" }), { timeout: "60 seconds", excludeTestServices: true })("Lock", (it) => {
  it.effect("sessions take turns: no two sections overlap and fencing tokens strictly increase", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const log = sectionLog()
      const contender = (i: number) =>
        Effect.gen(function*() {
          const zk = yield* connectTo(servers)
          for (let round = 0; round < 4; round++) {
            yield* Lock.withLock("/locks/a", (lease) => log.section(`s${i}`, lease.fencingToken, Effect.sleep("5 millis"))).pipe(using(zk))
          }
        })
      yield* Effect.all([0, 1, 2, 3, 4].map(contender), { concurrency: "unbounded" })
      assert.strictEqual(log.sections.length, 20)
      assert.deepStrictEqual(overlaps(log.sections), [])
      assert.isTrue(tokensIncrease(log.sections))
      const zk = yield* connectTo(servers)
      assert.strictEqual(yield* leftover(zk, "/locks/a"), 0)
    }))

  it.effect("each waiter watches only its predecessor: one watch per queued node, none on the parent", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const server = yield* ZooKeeperServer.ZooKeeperServer
      const holder = yield* connectTo(servers)
      const lease = yield* Lock.acquire("/locks/w").pipe(using(holder))
      const waiters = yield* Effect.all([0, 1, 2, 3].map(() => connectTo(servers)))
      // Forked one after another from this fiber: a fiber forked inside a concurrent `all` would end with it.
      const fibers = yield* Effect.forEach(waiters, (zk) =>
        Effect.forkChild(Effect.scoped(Lock.acquire("/locks/w").pipe(using(zk), Effect.andThen(Effect.never)))))
      const chroot = chrootOf(servers)
      const watchedPaths = FourLetterWord.wchc(server.port).pipe(
        Effect.map((m) => [...m.values()].flat().filter((p) => p.startsWith(`${chroot}/locks/w`)))
      )
      yield* eventually(Effect.map(watchedPaths, (paths) => paths.length === 4))
      const paths = yield* watchedPaths
      // Four distinct nodes, each watched once (the holder's and three waiters'); the parent not at all.
      assert.strictEqual(new Set(paths).size, 4)
      assert.notInclude(paths, `${chroot}/locks/w`)
      assert.include(paths, `${chroot}${lease.node}`)
      yield* Effect.forEach(fibers, Fiber.interrupt)
      const zk = yield* connectTo(servers)
      assert.strictEqual(yield* zk.getAllChildrenNumber("/locks/w"), 1)
    }))

  it.effect("a timed-out waiter fails with LockTimeout and an interrupted one leaves no node", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const holder = yield* connectTo(servers)
      const other = yield* connectTo(servers)
      const held = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const holding = yield* Effect.forkChild(
        Lock.withLock("/locks/t", Effect.andThen(Deferred.succeed(held, undefined), Deferred.await(release))).pipe(using(holder))
      )
      yield* Deferred.await(held)
      const error = yield* Effect.flip(Lock.withLock("/locks/t", Effect.void, { timeout: "200 millis" }).pipe(using(other)))
      assert.strictEqual(error._tag, "LockTimeout")
      assert.strictEqual(yield* other.getAllChildrenNumber("/locks/t"), 1)
      const waiting = yield* Effect.forkChild(Lock.withLock("/locks/t", Effect.void).pipe(using(other)))
      yield* eventually(Effect.map(other.getAllChildrenNumber("/locks/t"), (n) => n === 2))
      yield* Fiber.interrupt(waiting)
      assert.strictEqual(yield* other.getAllChildrenNumber("/locks/t"), 1)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holding)
      assert.strictEqual(yield* leftover(other, "/locks/t"), 0)
    }))

  it.effect("a cut-off holder's work is interrupted with LockLost; guard refuses once the node is gone", () =>
    Effect.gen(function*() {
      const { proxy, holder, observer: zk } = yield* proxiedHolder("2 seconds")
      const started = yield* Deferred.make<bigint>()
      const interrupted = yield* Deferred.make<void>()
      const work = yield* Effect.forkChild(
        Lock.withLock("/locks/l", (lease) =>
          Effect.andThen(Deferred.succeed(started, lease.fencingToken), Effect.never).pipe(
            Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
          )).pipe(using(holder))
      )
      const firstToken = yield* Deferred.await(started)
      yield* proxy.setMode("blackhole")
      const exit = yield* Fiber.await(work)
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
      assert.strictEqual(error?._tag === "Fail" ? error.error._tag : "none", "LockLost")
      assert.isTrue(yield* Deferred.isDone(interrupted))
      // Another session gets the lock once the cut-off session expires, with a greater token.
      const lease = yield* Effect.scoped(Effect.map(Lock.acquire("/locks/l").pipe(using(zk)), (l) => l))
      assert.isTrue(lease.fencingToken > firstToken)
      const result = yield* Effect.flip(lease.guard([Op.set("/orders", "1")]))
      assert.strictEqual(result._tag, "NoNode")
      assert.strictEqual((yield* zk.get("/orders")).data.length, 1)
      assert.isTrue(Option.isNone(yield* zk.exists(lease.node)))
    }))

  it.effect("lapse policy { grace }: the lease lapses with GraceExpired once the connection has been down for the grace", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const server = yield* ZooKeeperServer.ZooKeeperServer
      /** Holds the lock at `path` through a fault proxy; `lapsed` completes with the LockLost. */
      const holder = (path: string, lapse: LapsePolicy, sessionTimeout: `${number} seconds`) =>
        Effect.gen(function*() {
          const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
          const zk = yield* connectTo(`${proxy.address}${chrootOf(servers)}`, { sessionTimeout })
          const lapsed = yield* Deferred.make<LockLost>()
          const held = yield* Deferred.make<void>()
          const fiber = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
            const lease = yield* Lock.acquire(path, { lapse }).pipe(using(zk))
            yield* Deferred.succeed(held, undefined)
            yield* Deferred.succeed(lapsed, yield* Effect.flip(lease.lost))
          })))
          // Held means acquire has returned, not just that our node exists: a fault between the
          // two would fail the acquire rather than lapse a lease.
          yield* Deferred.await(held)
          return { proxy, zk, lapsed, fiber }
        })
      // Grace: lapses once the connection has been down for the grace period.
      const a = yield* holder("/locks/g", { grace: "300 millis" }, "2 seconds")
      yield* a.proxy.setMode("blackhole")
      assert.strictEqual((yield* Deferred.await(a.lapsed)).reason, "GraceExpired")
      yield* a.proxy.setMode("pass")
      yield* a.proxy.cut
      yield* Fiber.join(a.fiber)
    }))

  it.effect("lapse policy \"expired\": the lease outlives a dropped connection, and its work is interrupted with LockLost once the session expires", () =>
    Effect.gen(function*() {
      const { servers, proxy, holder: zk, observer } = yield* proxiedHolder("4 seconds")
      /** Work under the lock at `path` that runs until interrupted; `fiber` ends with the lock's outcome. */
      const hold = (path: string, lapse: LapsePolicy) =>
        Effect.gen(function*() {
          const held = yield* Deferred.make<Lock.Lease>()
          const interrupted = yield* Deferred.make<void>()
          const fiber = yield* Effect.forkChild(Lock.withLock(path, (lease) =>
            Effect.andThen(Deferred.succeed(held, lease), Effect.never).pipe(
              Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
            ), { lapse }).pipe(using(zk)))
          return { lease: yield* Deferred.await(held), interrupted, fiber }
        })
      const kept = yield* hold("/locks/e", "expired")
      // A lease of the default policy on the same session: its loss shows the drop reached the
      // session's lapse watchers, which dispatch each state to every lease of the session.
      const control = yield* hold("/locks/d", "disconnected")
      yield* proxy.cut
      const controlLost = yield* Effect.flip(Fiber.join(control.fiber))
      assert.strictEqual(controlLost._tag === "LockLost" ? controlLost.reason : controlLost._tag, "Disconnected")
      yield* eventually(Effect.map(zk.state, (state) => state === "Connected"))
      assert.isUndefined(kept.fiber.pollUnsafe())
      assert.isFalse(yield* Deferred.isDone(kept.interrupted))
      // Still the holder: its node exists and guarded writes go through.
      yield* kept.lease.guard([Op.set("/orders", "1")])
      assert.strictEqual(new TextDecoder().decode((yield* observer.get("/orders")).data), "1")
      yield* Testing.expireSession(zk, servers)
      const lost = yield* Effect.flip(Fiber.join(kept.fiber))
      assert.strictEqual(lost._tag === "LockLost" ? lost.reason : lost._tag, "SessionEnded")
      assert.isTrue(yield* Deferred.isDone(kept.interrupted))
      assert.isTrue(Option.isNone(yield* observer.exists(kept.lease.node)))
    }))

  it.effect("guard applies writes atomically with the check while held; kazoo layout names nodes kazoo's way", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const zk = yield* connectTo(servers)
      yield* zk.create("/orders", "0")
      yield* Effect.scoped(Effect.gen(function*() {
        const lease = yield* Lock.acquire("/locks/k", { layout: "kazoo", data: "me" }).pipe(using(zk))
        assert.match(lease.node, /^\/locks\/k\/[0-9a-f]{32}__lock__\d{10}$/)
        yield* lease.guard([Op.set("/orders", "42")])
        assert.strictEqual(new TextDecoder().decode((yield* zk.get("/orders")).data), "42")
        assert.strictEqual(new TextDecoder().decode((yield* zk.get(lease.node)).data), "me")
        const curator = yield* Lock.acquire("/locks/c").pipe(using(zk))
        assert.match(curator.node, /^\/locks\/c\/_c_[0-9a-f-]{36}-lock-\d{10}$/)
      }))
      assert.strictEqual(yield* leftover(zk, "/locks/k"), 0)
      assert.strictEqual(yield* leftover(zk, "/locks/c"), 0)
    }))

  it.effect("an uncontended acquire sends its listing right behind its create: three requests, two waits", () =>
    Effect.gen(function*() {
      // Each request's span starts when it is sent and ends at its reply.
      const events: Array<string> = []
      const tracer = Tracer.make({
        ...Tracer.nativeTracer,
        span(options) {
          const span = Tracer.nativeTracer.span.call(Tracer.nativeTracer, options)
          const end = span.end.bind(span)
          events.push(`send ${options.name}`)
          span.end = (time, exit) => {
            events.push(`reply ${options.name}`)
            end(time, exit)
          }
          return span
        }
      })
      const servers = yield* sandbox
      const zk = yield* connectTo(servers, { tracing: true })
      const cycle = Effect.scoped(Lock.acquire("/locks/p").pipe(using(zk))).pipe(Effect.provideService(Tracer.Tracer, tracer))
      // The first acquire creates the lock's parents: its early listing fails and it lists again.
      yield* cycle
      assert.include(events, "send zookeeper.children")
      events.length = 0
      yield* cycle
      assert.deepStrictEqual(events, [
        "send zookeeper.create2",
        "send zookeeper.children",
        "reply zookeeper.create2",
        "reply zookeeper.children",
        "send zookeeper.delete",
        "reply zookeeper.delete"
      ])
      assert.strictEqual(yield* leftover(zk, "/locks/p"), 0)
    }))

  it.effect("a waiter whose listing, sent with its create, shows a holder waits for the holder's release", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const [a, b] = yield* Effect.all([connectTo(servers), connectTo(servers)])
      const held = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const log = sectionLog()
      const holder = yield* Effect.forkChild(
        Lock.withLock("/locks/q", (lease) =>
          log.section("a", lease.fencingToken, Effect.andThen(Deferred.succeed(held, undefined), Deferred.await(release)))).pipe(using(a))
      )
      yield* Deferred.await(held)
      const waiter = yield* Effect.forkChild(Lock.withLock("/locks/q", (lease) => log.section("b", lease.fencingToken, Effect.void)).pipe(using(b)))
      yield* eventually(Effect.map(b.children("/locks/q"), ({ children }) => children.length === 2))
      assert.deepStrictEqual(log.sections.map((s) => s.who), ["a"], "the waiter must not enter while the holder is inside")
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      yield* Fiber.join(waiter)
      assert.deepStrictEqual(log.sections.map((s) => s.who), ["a", "b"])
      assert.isTrue(tokensIncrease(log.sections))
      assert.strictEqual(yield* leftover(b, "/locks/q"), 0)
    }))

  it.effect("bad input fails with BadArguments before anything is sent", () =>
    Effect.gen(function*() {
      const zk = yield* connectTo(yield* sandbox)
      const e1 = yield* Effect.flip(Lock.withLock("locks/x", Effect.void).pipe(using(zk)))
      const e2 = yield* Effect.flip(Lock.withLock("/locks/x", Effect.void, { timeout: -5 }).pipe(using(zk)))
      assert.deepStrictEqual([e1._tag, e2._tag], ["BadArguments", "BadArguments"])
      assert.isTrue(Option.isNone(yield* zk.exists("/locks")))
    }))
})

/**
 * Lock and leader election on a real 3-node ensemble under faults. Contenders are sessions in
 * this process (kept alive across expiry by Recipes.resilient) plus Curator (JVM) on one lock
 * path and kazoo (Python) on another. Meanwhile a follower and then the leader are stopped and
 * restarted, a session is partitioned by a fault proxy until it expires, and another session is
 * expired from outside. Every section of ours is logged with start, end (or the moment it was
 * interrupted because its guarantee lapsed) and fencing token; every party, ours and the
 * anchors', also claims a shared ephemeral "occupant" node in its section, which fails if two
 * sections overlap.
 */
import { assert, layer } from "@effect/vitest"
import { ZooKeeper, type ZooKeeperService } from "@effect-zk/core"
import { FaultProxy, NodeZooKeeper, Testing } from "@effect-zk/node"
import { FourLetterWord, ZooKeeperEnsemble } from "@effect-zk/server"
import { Deferred, Effect, Fiber, Option, References } from "effect"
import { Leader, Lock, Recipes } from "../src/index.ts"
import type { Layout } from "../src/index.ts"
import { curator, kazoo } from "./helpers/anchors.ts"
import { connectTo, eventually, leftover, newChroot, occupy, overlaps, type Section, sectionLog, tokensIncrease, using } from "./helpers/sessions.ts"

const SESSION_TIMEOUT_MS = 2000
/** Curator's session timeout in the helper (the largest of all contenders). */
const ANCHOR_SESSION_TIMEOUT_MS = 4000
/** Room for clients to find a serving member again after an election, on a shared machine. */
const RECONNECT_MS = 3000

/** The longest time from one section's end (or lapse) to the next section's start. */
const longestGap = (sections: ReadonlyArray<Section>): number => {
  const sorted = [...sections].sort((a, b) => a.start - b.start)
  let gap = 0
  for (let i = 1; i < sorted.length; i++) gap = Math.max(gap, sorted[i]!.start - Math.min(sorted[i - 1]!.end, sorted[i - 1]!.lapsedAt ?? Infinity))
  return gap
}

layer(
  ZooKeeperEnsemble.layer({ size: 3, minSessionTimeout: "1 second", maxSessionTimeout: "30 seconds" }),
  { timeout: "180 seconds", excludeTestServices: true }
)("recipes under faults", (it) => {
  it.effect("no overlapping sections, increasing tokens, prompt new holders, nothing left behind", () =>
    Effect.gen(function*() {
      const ensemble = yield* ZooKeeperEnsemble.ZooKeeperEnsemble
      const chroot = yield* newChroot(ensemble.connectString)
      const servers = `${ensemble.connectString}${chroot}`
      const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: ensemble.members[0]!.port })
      const proxied = `${proxy.address}${chroot}`
      const jvm = yield* curator(servers)
      const py = yield* kazoo(servers)
      const locks = { curatorPath: sectionLog(), kazooPath: sectionLog() }
      const terms = sectionLog()
      const stop = yield* Deferred.make<void>()
      const sessions = new Map<string, ZooKeeperService>()
      let violations = 0
      const faults: Array<string> = []

      const session = (connect: string) => NodeZooKeeper.layer({ servers: connect, sessionTimeout: `${SESSION_TIMEOUT_MS} millis` })
      const lockContender = (who: string, connect: string, path: string, layout: Layout, log: ReturnType<typeof sectionLog>) =>
        Recipes.resilient(
          Effect.gen(function*() {
            const zk = yield* ZooKeeper
            sessions.set(who, zk)
            while (!(yield* Deferred.isDone(stop))) {
              const alone = yield* Lock.withLock(path, (lease) => log.section(who, lease.fencingToken, occupy(zk, `${path}-occupant`, 15), lease.lost), { layout })
                .pipe(Effect.catchTag("LockLost", () => Effect.succeed(true)))
              if (!alone) violations++
            }
          }),
          session(connect)
        )
      const leaderContender = (who: string, connect: string) =>
        Recipes.resilient(
          Effect.gen(function*() {
            sessions.set(who, yield* ZooKeeper)
            return yield* Leader.run("/election", (l) => terms.section(who, l.fencingToken, Effect.never), { id: who })
          }),
          session(connect)
        )

      yield* jvm.send("mutex /locks/c 100000 15 /locks/c-occupant")
      yield* py.send("lock /locks/k 100000 15 /locks/k-occupant -")
      const workers = yield* Effect.forEach([
        lockContender("A-proxied", proxied, "/locks/c", "curator", locks.curatorPath),
        lockContender("B", servers, "/locks/c", "curator", locks.curatorPath),
        lockContender("C", servers, "/locks/k", "kazoo", locks.kazooPath),
        leaderContender("L1-proxied", proxied),
        leaderContender("L2", servers),
        leaderContender("L3", servers)
      ], (w) => Effect.forkChild(w))

      /** Waits until both locks saw `n` more sections of ours and the election has a term. */
      const progress = (n: number) =>
        Effect.gen(function*() {
          const c = locks.curatorPath.sections.length
          const k = locks.kazooPath.sections.length
          yield* eventually(Effect.sync(() =>
            locks.curatorPath.sections.length >= c + n && locks.kazooPath.sections.length >= k + n &&
            terms.sections.some((t) => t.end === Infinity)), "30 seconds")
        })
      const fault = (what: string) => Effect.sync(() => void faults.push(what))

      const restart = (i: number) => Effect.forkChild(Effect.andThen(ensemble.start(i), ensemble.awaitQuorum("60 seconds")))
      yield* Effect.addFinalizer(() => Effect.forEach([0, 1, 2], (i) => Effect.ignore(ensemble.start(i)), { discard: true }))

      yield* progress(5)
      // A follower (not the proxied member 0 when possible) goes down; it restarts while the
      // next fault runs.
      const leader = Option.getOrThrow(yield* ensemble.leader)
      const follower = [1, 2, 0].find((i) => i !== leader)!
      yield* ensemble.stop(follower)
      yield* fault(`stopped follower ${follower}`)
      yield* progress(3)
      const followerBack = yield* restart(follower)
      // The proxied sessions are cut off until one expires, then reach the ensemble again.
      yield* proxy.setMode("blackhole")
      yield* fault("partitioned the proxied sessions until expiry")
      yield* eventually(Effect.map(sessions.get("A-proxied")!.state, (s) => s === "Expired"), "20 seconds")
      yield* proxy.setMode("pass")
      yield* proxy.cut
      yield* progress(3)
      yield* Fiber.join(followerBack)
      // The leader goes down: a new election while everyone reconnects.
      const electionStart = performance.now()
      yield* ensemble.stop(leader)
      yield* fault(`stopped leader ${leader}`)
      yield* ensemble.awaitQuorum("60 seconds")
      const electionMs = performance.now() - electionStart
      yield* progress(3)
      const leaderBack = yield* restart(leader)
      // Sessions expired from outside, as the ensemble would expire them: a lock holder's and
      // the current leader's.
      const leading = terms.sections.find((t) => t.end === Infinity)!.who
      yield* Testing.expireSession(sessions.get("B")!, servers)
      yield* Testing.expireSession(sessions.get(leading)!, servers)
      yield* fault(`expired sessions B and ${leading} (the leader)`)
      yield* progress(5)
      yield* Fiber.join(leaderBack)

      yield* Deferred.succeed(stop, undefined)
      yield* jvm.send("stop")
      yield* py.send("stop")
      const jvmDone = yield* jvm.next(/^mutex-done (\d+) (\d+)$/, 60_000)
      const pyDone = yield* py.next(/^lock-done (\d+) (\d+)$/, 60_000)
      yield* Effect.forEach(workers.slice(0, 3), Fiber.join)
      yield* Effect.forEach(workers.slice(3), Fiber.interrupt)

      const report = {
        faults,
        sections: {
          curatorPath: { ours: locks.curatorPath.sections.length, curator: Number(jvmDone[1]) },
          kazooPath: { ours: locks.kazooPath.sections.length, kazoo: Number(pyDone[1]) },
          leaderTerms: terms.sections.length
        },
        overlaps: [overlaps(locks.curatorPath.sections).length, overlaps(locks.kazooPath.sections).length, overlaps(terms.sections).length],
        occupantViolations: { ours: violations, curator: Number(jvmDone[2]), kazoo: Number(pyDone[2]) },
        electionMs: Math.round(electionMs),
        longestGapMs: {
          curatorPath: Math.round(longestGap(locks.curatorPath.sections)),
          kazooPath: Math.round(longestGap(locks.kazooPath.sections)),
          leader: Math.round(longestGap(terms.sections))
        }
      }
      yield* Effect.logError(`fault test report ${JSON.stringify(report)}`).pipe(Effect.provideService(References.MinimumLogLevel, "Error"))
      assert.deepStrictEqual(report.overlaps, [0, 0, 0])
      assert.deepStrictEqual(report.occupantViolations, { ours: 0, curator: 0, kazoo: 0 })
      assert.isTrue(tokensIncrease(locks.curatorPath.sections), "tokens increase on the Curator-shared path")
      assert.isTrue(tokensIncrease(locks.kazooPath.sections), "tokens increase on the kazoo-shared path")
      assert.isTrue(tokensIncrease(terms.sections), "leader tokens increase")
      assert.isAbove(report.sections.curatorPath.curator, 0)
      assert.isAbove(report.sections.kazooPath.kazoo, 0)
      assert.isAtLeast(report.sections.leaderTerms, 3)
      // A new holder within session timeout plus election time (as measured: from stopping the
      // leader until the ensemble served again), plus room for reconnecting on a busy machine.
      const election = electionMs + RECONNECT_MS
      assert.isBelow(report.longestGapMs.curatorPath, ANCHOR_SESSION_TIMEOUT_MS + election)
      assert.isBelow(report.longestGapMs.kazooPath, ANCHOR_SESSION_TIMEOUT_MS + election)
      assert.isBelow(report.longestGapMs.leader, SESSION_TIMEOUT_MS + election)
      const zk = yield* connectTo(servers)
      assert.strictEqual(yield* leftover(zk, "/locks/c"), 0)
      assert.strictEqual(yield* leftover(zk, "/locks/k"), 0)
      yield* eventually(Effect.map(leftover(zk, "/election"), (n) => n === 0))
    }).pipe(Effect.provideService(References.MinimumLogLevel, "Error")), 150_000)

  it.effect("a release wakes one waiter: across the ensemble each queued node is watched by one session, the parent by none", () =>
    Effect.gen(function*() {
      const ensemble = yield* ZooKeeperEnsemble.ZooKeeperEnsemble
      const chroot = yield* newChroot(ensemble.connectString)
      const servers = `${ensemble.connectString}${chroot}`
      const zks = yield* Effect.all([0, 1, 2, 3, 4].map(() => connectTo(servers)))
      const holder = yield* Lock.acquire("/locks/w").pipe(using(zks[0]!))
      for (const zk of zks.slice(1)) yield* Effect.forkChild(Effect.scoped(Effect.andThen(Lock.acquire("/locks/w").pipe(using(zk)), Effect.never)))
      const watched = Effect.map(
        Effect.forEach(ensemble.members, (m) => FourLetterWord.wchc(m.port)),
        (maps) => maps.flatMap((m) => [...m.values()].flat()).filter((p) => p.startsWith(`${chroot}/locks/w`))
      )
      yield* eventually(Effect.map(watched, (ps) => ps.length === 4))
      const paths = yield* watched
      assert.strictEqual(new Set(paths).size, 4, "each node is watched once")
      assert.notInclude(paths, `${chroot}/locks/w`)
      assert.strictEqual(paths.filter((p) => p === `${chroot}${holder.node}`).length, 1, "the holder's release fires one watch")
    }))
})

/**
 * The short soak: the same code as `pnpm soak` (soak/soak.ts), with 20 sessions for
 * ~10 s against a 3-node ensemble while a member is stopped and started. Every invariant of the
 * full soak must hold here too.
 */
import { assert, layer } from "@effect/vitest"
import { ZooKeeperEnsemble } from "@effect-zk/server"
import { Effect } from "effect"
import { formatReport, runSoak } from "../soak/soak.ts"

layer(
  ZooKeeperEnsemble.layer({ size: 3, startTimeout: "120 seconds", extraConfig: { forceSync: "no" } }),
  { timeout: "180 seconds", excludeTestServices: true }
)("soak (short)", (it) => {
  it.effect("20 sessions for 10 s, members stopped and started: writes, reads, watches, resources all check out", () =>
    Effect.gen(function*() {
      const ensemble = yield* ZooKeeperEnsemble.ZooKeeperEnsemble
      const report = yield* runSoak(ensemble, {
        sessions: 20,
        durationMs: 10_000,
        chaosEveryMs: 3_000,
        opPauseMs: 100,
        settleMs: 30_000,
        seed: 7,
        log: () => {}
      })
      const summary = formatReport(report)
      for (const invariant of report.invariants) assert.isTrue(invariant.ok, `${invariant.name}: ${invariant.detail}\n${summary}`)
      assert.isTrue(report.ok, summary)
      // The figures the invariants rest on are not vacuous.
      assert.isAtLeast(report.faults.stops, 1, summary)
      assert.isAbove(report.writes.acked, 50, summary)
      assert.isAbove(report.reads.checked, 50, summary)
      assert.isAbove(report.watches.events, 5, summary)
      assert.strictEqual(report.writes.keys, 20 * 5, summary)
      // The leak checks see what they count: each session's socket, and at least one fiber per
      // session while it works (an idle connected session keeps no fiber; timers share one).
      assert.isAtLeast(report.sockets.during - report.sockets.before, 20, summary)
      assert.isAtLeast(report.fibers.during - report.fibers.before, 20, summary)
    }))
})

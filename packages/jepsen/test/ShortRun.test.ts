/**
 * A short Jepsen run as part of the suite: a real 3-member ensemble, all three workloads at once
 * under each kind of fault for a few seconds (leader killed, leader paused with SIGSTOP, a
 * client partitioned both ways and one way, a session expired). Every history must pass its
 * checkers, and every phase must actually have injected faults. `npm run jepsen` runs the same
 * thing for as long as asked.
 */
import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Run from "../src/Run.ts"

it.live("every workload's history is valid under every nemesis", () =>
  Effect.gen(function*() {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "jepsen-short-"))
    const lines: Array<string> = []
    const rows = yield* Run.run({
      phaseSeconds: 8,
      seed: 20261206,
      workloads: ["register", "queue", "lock"],
      nemeses: ["kill-leader", "pause-leader", "partition", "partition-oneway", "expire"],
      lanes: { register: 3, queue: 2, lock: 2 },
      outDir,
      log: (line) => lines.push(line)
    })
    const table = Run.formatTable(rows)
    assert.lengthOf(rows, 15, table)
    for (const row of rows) {
      assert.strictEqual(row.verdict, "valid", `${row.workload} under ${row.nemesis}:\n${row.violations.join("\n")}\n${lines.join("\n")}`)
      assert.isAbove(row.ops, 0, table)
      assert.isAbove(row.faults, 0, `${row.nemesis} injected nothing:\n${lines.join("\n")}`)
      assert.deepStrictEqual(row.hung, [], "every lane finished its last operation and closed its session")
    }
    // Nothing is written for valid histories.
    assert.deepStrictEqual(fs.readdirSync(outDir), [])
    fs.rmSync(outDir, { recursive: true })
  }), { timeout: 240_000 })

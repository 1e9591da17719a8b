/**
 * `npm run jepsen -- --time SECONDS --seed N [--workload register,queue,lock]
 *   [--nemesis none,kill,kill-leader,pause-leader,partition,partition-oneway,expire]
 *   [--broken resend-creates] [--out DIR]`
 *
 * `--time` is the whole run's length, split evenly over the nemeses (each phase runs every
 * chosen workload at once). Prints one line per phase as it goes, then a table per workload and
 * nemesis. Exits 1 when a history is not valid (with `--broken` a violation is the expected
 * outcome, and the exit code is 0 when one was found).
 *
 * @since 0.1.0
 */
import { NodeRuntime } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import type { WorkloadName } from "./Checker.ts"
import * as Nemesis from "./Nemesis.ts"
import { formatTable, run } from "./Run.ts"

const WORKLOADS: ReadonlyArray<WorkloadName> = ["register", "queue", "lock"]

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i < 0 ? undefined : args[i + 1]
}
const list = <A extends string>(name: string, all: ReadonlyArray<A>): ReadonlyArray<A> => {
  const raw = flag(name)
  if (raw === undefined || raw === "all") return all
  const chosen = raw.split(",").map((s) => s.trim())
  const unknown = chosen.filter((s) => !all.some((a) => a === s))
  if (unknown.length > 0) {
    console.error(`unknown --${name} ${unknown.join(",")}; choose from ${all.join(",")}`)
    process.exit(2)
  }
  return all.filter((a) => chosen.includes(a))
}

const time = Number(flag("time") ?? "70")
const seed = Number(flag("seed") ?? String(Date.now() % 100000))
const broken = flag("broken")
if (!Number.isFinite(time) || time <= 0 || !Number.isInteger(seed) || (broken !== undefined && broken !== "resend-creates")) {
  console.error("usage: jepsen --time SECONDS --seed N [--workload ...] [--nemesis ...] [--broken resend-creates] [--out DIR]")
  process.exit(2)
}
const workloads = list("workload", WORKLOADS)
const nemeses = list("nemesis", Nemesis.ALL)
const phaseSeconds = Math.max(10, Math.round(time / nemeses.length))

console.log(`jepsen: seed ${seed}, ${nemeses.length} phase(s) of ${phaseSeconds} s, workloads ${workloads.join(",")}${broken === undefined ? "" : `, broken client: ${broken}`}`)
const program = Effect.gen(function*() {
  const rows = yield* run({
    phaseSeconds,
    seed,
    workloads,
    nemeses,
    broken: broken === "resend-creates" ? broken : undefined,
    outDir: flag("out") ?? "jepsen-out",
    log: (line) => console.log(line)
  })
  console.log(`\n${formatTable(rows)}`)
  const invalid = rows.filter((r) => r.verdict === "invalid")
  for (const r of rows) for (const f of r.files) console.log(`${r.workload}/${r.nemesis}: ${f}`)
  for (const r of rows) for (const h of r.hung) console.log(`${r.workload}/${r.nemesis}: HUNG ${h}`)
  console.log(`seed ${seed}`)
  const failed = broken === undefined ? rows.some((r) => r.verdict !== "valid" || r.hung.length > 0) : invalid.length === 0
  if (failed) process.exitCode = 1
})
NodeRuntime.runMain(program)

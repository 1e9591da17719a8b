/**
 * Start-up benchmark (a script, not a test): how long a standalone server takes from spawn to
 * serving requests, and how long a 3-member ensemble takes to form a quorum. Median of 5 each
 * (BENCH_RUNS overrides).
 *
 *   cd packages/server && pnpm bench
 *
 * Spawn → serving is the time `start` takes on a freshly created run directory: the port check,
 * spawning java, and polling until `srvr` reports a Mode (not merely `ruok` → imok). Formation is
 * measured around `ZooKeeperEnsemble.scoped`, so it also includes writing three run directories
 * (a few ms). Teardown is never counted.
 */
import { type Duration, Effect } from "effect"
import { ZooKeeperEnsemble, ZooKeeperServer } from "@effect-zk/server"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"

const RUNS = Number(process.env["BENCH_RUNS"] ?? 5)

const summary = (label: string, samples: ReadonlyArray<number>): string => {
  const sorted = [...samples].sort((a, b) => a - b)
  const mid = sorted.length / 2
  const median = sorted.length % 2 === 1
    ? (sorted[Math.floor(mid)] ?? Number.NaN)
    : ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2
  const ms = (n: number) => `${Math.round(n)} ms`
  return [
    label.padEnd(34),
    `median ${ms(median).padStart(7)}`,
    `min ${ms(sorted[0] ?? Number.NaN).padStart(7)}`,
    `max ${ms(sorted[sorted.length - 1] ?? Number.NaN).padStart(7)}`,
    `(${samples.map(ms).join(", ")})`
  ].join("  ")
}

const tempDir = Effect.acquireRelease(
  Effect.promise(() => fs.mkdtemp(path.join(os.tmpdir(), "effect-zk-bench-"))),
  (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
)

const repeat = (measure: Effect.Effect<number, unknown>) =>
  Effect.gen(function*() {
    const samples: Array<number> = []
    for (let i = 0; i < RUNS; i++) samples.push(yield* measure)
    return samples
  })

const spawnToServing = Effect.scoped(Effect.gen(function*() {
  const dir = yield* tempDir
  const server = yield* Effect.acquireRelease(
    ZooKeeperServer.create({ port: 0, runDir: path.join(dir, "run"), startTimeout: "120 seconds" }),
    (s) => Effect.orDie(s.destroy)
  )
  const t0 = performance.now()
  yield* server.start
  return performance.now() - t0
}))

const formation = (tickTime: Duration.Input) =>
  Effect.scoped(Effect.gen(function*() {
    const t0 = performance.now()
    yield* ZooKeeperEnsemble.scoped({ size: 3, tickTime, startTimeout: "120 seconds" })
    return performance.now() - t0
  }))

const program = Effect.gen(function*() {
  const load = os.loadavg().map((l) => l.toFixed(2)).join(" ")
  console.log(`effect-zk server start-up: ${RUNS} runs each, ${os.cpus().length} CPUs, load average ${load}`)
  console.log(summary("standalone: spawn → serving", yield* repeat(spawnToServing)))
  console.log(summary("3-member ensemble, tickTime 2000", yield* repeat(formation("2 seconds"))))
  console.log(summary("3-member ensemble, tickTime 500", yield* repeat(formation("500 millis"))))
})

Effect.runPromiseExit(program).then((exit) => {
  if (exit._tag === "Failure") {
    console.error(String(exit.cause))
    process.exitCode = 1
  }
})

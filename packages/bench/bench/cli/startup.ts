/**
 * `zk` against `zkCli.sh`, as an operator feels them: a whole command from the shell prompt to
 * the exit, JVM or Node start-up included. A script, never a test.
 *
 *   node --conditions=@effect-zk/source bench/cli/startup.ts            # 10 runs each, 10,000-node tree
 *   node --conditions=@effect-zk/source bench/cli/startup.ts --runs 5 --nodes 2000
 *
 * Needs the built `zk` (`pnpm --filter @effect-zk/cli run build`, which bundles dist/zk.js) and
 * Debian's zkCli.sh. Both tools run against the same fresh local server in the same run, interleaved (zk, zkCli, zk, zkCli, ...), after one
 * untimed warm-up each (zk's first run fills Node's compile cache; the JVM's page cache warms).
 *
 * 1. `get`: `zk get /bench/value` against `zkCli.sh -server ... get /bench/value`.
 * 2. A 10,000-node subtree: `zk export` (data, ACL and mode of every node) against the same walk
 *    in one zkCli session, fed on stdin: `ls -R`, then `get` and `getAcl` of every node.
 *
 * Prints medians (and min/max) of wall and CPU time and writes the raw figures to bench-results/cli-<date>.json.
 */
import { Op } from "@effect-zk/core"
import { NodeZooKeeper } from "@effect-zk/node"
import { ZooKeeperServer } from "@effect-zk/server"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const repoRoot = path.resolve(here, "..", "..", "..", "..")
const zkBin = path.join(repoRoot, "packages", "cli", "dist", "zk.js")
const zkCli = process.env["ZKCLI"] ?? "/usr/share/zookeeper/bin/zkCli.sh"

const flag = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`)
  const value = at < 0 ? Number.NaN : Number(process.argv[at + 1])
  return Number.isInteger(value) && value > 0 ? value : fallback
}
const RUNS = flag("runs", 10)
const NODES = flag("nodes", 10_000)

/** One run: wall time, and the CPU time (user + system) of the process and its children. */
interface Run {
  readonly wallMs: number
  readonly cpuMs: number
}

const seconds = (text: string): number => {
  const m = /^(\d+)m([\d.]+)s$/.exec(text)
  return m === null ? Number.NaN : Number(m[1]) * 60 + Number(m[2])
}

/**
 * Runs a command to completion (output discarded) through bash, whose `times` reports the CPU
 * the command used: on a loaded machine wall time mostly measures the scheduler, CPU time
 * does not. Fails loudly if the command fails.
 */
const timed = (command: string, args: ReadonlyArray<string>, input?: string): Run => {
  const start = performance.now()
  const result = spawnSync("bash", ["-c", "\"$@\" > /dev/null || exit $?; times", "bash", command, ...args], {
    input,
    stdio: ["pipe", "pipe", "pipe"],
    maxBuffer: 1 << 30,
    env: { ...process.env, NO_COLOR: "1" }
  })
  const wallMs = performance.now() - start
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.status}: ${result.stderr.toString().slice(0, 500)}`)
  const [user = "", sys = ""] = (result.stdout.toString().trim().split("\n")[1] ?? "").split(/\s+/)
  return { wallMs, cpuMs: (seconds(user) + seconds(sys)) * 1000 }
}

const stats = (xs: ReadonlyArray<number>) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! }
}

const program = Effect.scoped(Effect.gen(function*() {
  if (!fs.existsSync(zkBin)) throw new Error(`${zkBin} is missing: run pnpm --filter @effect-zk/cli run build first`)
  if (!fs.existsSync(zkCli)) throw new Error(`${zkCli} is missing: apt-get install zookeeper`)
  const server = yield* ZooKeeperServer.scoped()
  const address = yield* server.address
  const zk = yield* NodeZooKeeper.make({ servers: address, logLevel: "None" })
  yield* zk.create("/bench", "")
  yield* zk.create("/bench/value", "a value of a few bytes")
  // The tree: sqrt(NODES) groups of sqrt(NODES) leaves, 32 bytes each.
  const width = Math.round(Math.sqrt(NODES))
  const ops: Array<Op.Op> = [Op.create("/bench/tree")]
  for (let g = 0; g < width; g++) {
    ops.push(Op.create(`/bench/tree/g${g}`))
    for (let l = 0; l < width && ops.length < NODES; l++) ops.push(Op.create(`/bench/tree/g${g}/n${l}`, "x".repeat(32)))
  }
  for (let i = 0; i < ops.length; i += 1000) yield* zk.multi(ops.slice(i, i + 1000))
  const treePaths = ops.map((op) => op.path)
  const walkScript = ["ls -R /bench/tree", ...treePaths.flatMap((p) => [`get ${p}`, `getAcl ${p}`]), "quit", ""].join("\n")

  const zkGet = () => timed(process.execPath, [zkBin, "-s", address, "get", "/bench/value"])
  const cliGet = () => timed(zkCli, ["-server", address, "get", "/bench/value"])
  const zkExport = () => timed(process.execPath, [zkBin, "-s", address, "export", "/bench/tree"])
  const cliWalk = () => timed(zkCli, ["-server", address], walkScript)

  zkGet()
  cliGet()
  const get = { zk: [] as Array<Run>, zkCli: [] as Array<Run> }
  for (let i = 0; i < RUNS; i++) {
    get.zk.push(zkGet())
    get.zkCli.push(cliGet())
  }
  const exportRuns = Math.max(1, Math.min(RUNS, 3))
  const walk = { zk: [] as Array<Run>, zkCli: [] as Array<Run> }
  for (let i = 0; i < exportRuns; i++) {
    walk.zk.push(zkExport())
    walk.zkCli.push(cliWalk())
  }
  const cell = (runs: ReadonlyArray<Run>, pick: (r: Run) => number) => {
    const x = stats(runs.map(pick))
    return `${x.median.toFixed(0)} (${x.min.toFixed(0)}–${x.max.toFixed(0)})`
  }
  const ratio = (a: ReadonlyArray<Run>, b: ReadonlyArray<Run>, pick: (r: Run) => number) =>
    `${(stats(b.map(pick)).median / stats(a.map(pick)).median).toFixed(1)}×`
  const wall = (r: Run) => r.wallMs
  const cpu = (r: Run) => r.cpuMs
  const row = (name: string, a: ReadonlyArray<Run>, b: ReadonlyArray<Run>, runs: number) =>
    `| ${name} | ${runs} | ${cell(a, wall)} | ${cell(b, wall)} | ${ratio(a, b, wall)} | ${cell(a, cpu)} | ${cell(b, cpu)} | ${ratio(a, b, cpu)} |`
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}, Node ${process.version}`
  const table = [
    `zk vs zkCli.sh, ${new Date().toISOString()}, ${machine}`,
    "",
    "| workload | runs | zk wall ms, median (min–max) | zkCli.sh wall ms | zkCli / zk | zk CPU ms | zkCli.sh CPU ms | zkCli / zk |",
    "|---|---|---|---|---|---|---|---|",
    row("start-up + one get", get.zk, get.zkCli, RUNS),
    row(`walk of ${ops.length} nodes (zk export / zkCli ls -R + get + getAcl)`, walk.zk, walk.zkCli, exportRuns)
  ].join("\n")
  console.log(table)
  const resultsDir = path.join(repoRoot, "bench-results")
  fs.mkdirSync(resultsDir, { recursive: true })
  const file = path.join(resultsDir, `cli-${new Date().toISOString().replace(/[:.]/g, "-")}.json`)
  fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine, nodes: ops.length, get, walk }, null, 2))
  console.log(`\nraw figures: ${path.relative(repoRoot, file)}`)
}))

Effect.runPromise(program).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})

/**
 * The cache benchmark: effect-zk's TreeCache, Curator's CuratorCache (JVM) and kazoo's
 * TreeCache (Debian's python3) over the same tree of 100,000 nodes of 100 bytes, in one run on
 * one fresh local server. A script, never a test:
 *
 *   node --conditions=@effect-zk/source packages/bench/bench/caches/main.ts [--nodes 100000] [--changes 200] [--only effect-zk|Curator|kazoo]
 *
 * Each client runs in a process of its own (so the heap it holds is its own): time from start
 * to initialized, heap held by the cache after full collections (kazoo: resident growth), and
 * the time from a set by a second session to the cache showing it (p50, p90; for effect-zk also
 * the floor of the same changes, a bare watch and one get). Prints a table
 * and writes bench-results/caches-<date>.json at the repository root.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Op, ZooKeeper } from "@effect-zk/core"
import { NodeZooKeeper } from "@effect-zk/node"
import { ZooKeeperServer } from "@effect-zk/server"
import { Context, Effect, Layer } from "effect"
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { childPath, DATA_BYTES, PARENTS, parentPath } from "./common.ts"

const here = path.dirname(fileURLToPath(import.meta.url))
const repoRoot = path.resolve(here, "..", "..", "..", "..")
const ROOT = "/bench-cache"

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? fallback : Number(process.argv[i + 1])
}
const total = arg("nodes", 100_000)
const changes = arg("changes", 200)
const perParent = Math.ceil(total / PARENTS)

const JARS = ["curator-client", "curator-framework", "curator-recipes", "guava", "zookeeper", "zookeeper-jute", "slf4j-api", "slf4j-nop"]
const classpath = JARS.map((j) => `/usr/share/java/${j}.jar`).join(":")

interface Result {
  readonly client: string
  readonly nodes: number
  /** Null when the cache never held the whole tree. */
  readonly loadMs: number | null
  readonly heapBytes: number
  readonly p50: number
  readonly p90: number
  /** Changes the cache did not report within 10 s. */
  readonly missed?: number
  /** effect-zk only: the same changes seen by a bare recursive watch and one get (see effect-zk.ts). */
  readonly floorP50?: number
  readonly floorP90?: number
  /** Median of the per-change difference cache minus floor: what the cache adds. */
  readonly overFloorP50?: number
}

/** Runs a child and parses the JSON line it prints last. */
const run = (command: string, args: ReadonlyArray<string>): Promise<Result> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()))
    child.on("exit", (code) => {
      const line = out.trim().split("\n").at(-1) ?? ""
      try {
        if (code !== 0) throw new Error(`exit ${code}`)
        // Java prints NaN for a figure it could not measure.
        resolve(JSON.parse(line.replace(/\bNaN\b/g, "null")))
      } catch (e) {
        reject(new Error(`${command} failed (${String(e)}): ${out}`))
      }
    })
  })

/** Creates the tree in transactions of 1,000 creates. */
const populate = (servers: string) =>
  Effect.scoped(Effect.gen(function*() {
    const zk = Context.get(yield* Layer.build(NodeZooKeeper.layer({ servers, sessionTimeout: "30 seconds" })), ZooKeeper)
    const data = "d".repeat(DATA_BYTES)
    yield* zk.create(ROOT, "")
    yield* zk.multi(Array.from({ length: PARENTS }, (_, p) => Op.create(parentPath(ROOT, p), "")))
    const ops = []
    for (let p = 0; p < PARENTS; p++) for (let c = 0; c < perParent; c++) ops.push(Op.create(childPath(ROOT, p, c), data))
    const batches = []
    for (let i = 0; i < ops.length; i += 1000) batches.push(ops.slice(i, i + 1000))
    yield* Effect.forEach(batches, (b) => zk.multi(b), { concurrency: 8, discard: true })
    return yield* zk.getAllChildrenNumber(ROOT)
  }))

const fmt = (r: Result) =>
  `| ${r.client.padEnd(22)} | ${String(r.nodes).padStart(7)} | ${r.loadMs === null ? "never complete" : `${(r.loadMs / 1000).toFixed(2).padStart(8)} s`} | ` +
  `${(r.heapBytes / 1048576).toFixed(1).padStart(7)} MiB | ${(r.heapBytes / r.nodes).toFixed(0).padStart(6)} B | ` +
  `${r.p50.toFixed(2).padStart(7)} ms | ${r.p90.toFixed(2).padStart(7)} ms | ${r.missed ?? 0} |`

const program = Effect.scoped(Effect.gen(function*() {
  const runDir = fs.existsSync("/dev/shm") ? path.join("/dev/shm", `effect-zk-cache-bench-${process.pid}`) : undefined
  const server = yield* ZooKeeperServer.scoped(runDir === undefined ? {} : { runDir })
  const servers = yield* server.address
  const started = Date.now()
  const count = yield* populate(servers)
  console.log(`${count} nodes under ${ROOT} (${PARENTS} parents, ${DATA_BYTES}-byte data) in ${((Date.now() - started) / 1000).toFixed(1)} s; load ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`)

  const javaDir = fs.mkdtempSync(path.join(os.tmpdir(), "cache-bench-"))
  execFileSync("javac", ["-d", javaDir, "-cp", classpath, path.join(here, "CuratorCacheBench.java")])
  const results: Array<Result> = []
  const clients: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
    [process.execPath, ["--conditions=@effect-zk/source", "--expose-gc", "--disable-warning=ExperimentalWarning", path.join(here, "effect-zk.ts"), servers, ROOT, String(changes), String(perParent)]],
    ["java", ["-Xmx2g", "-cp", `${classpath}:${javaDir}`, "CuratorCacheBench", servers, ROOT, String(changes), String(PARENTS), String(perParent), String(count + 1)]],
    ["/usr/bin/python3", [path.join(here, "kazoo_tree_cache.py"), servers, ROOT, String(changes), String(PARENTS), String(perParent)]]
  ]
  const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] ?? "" : ""
  for (const [command, args] of clients.filter(([c, a]) => `${c} ${a.join(" ")}`.includes(only))) {
    const result = yield* Effect.promise(() => run(command, args))
    console.log(`${result.client}: ${JSON.stringify(result)}`)
    results.push(result)
  }
  fs.rmSync(javaDir, { recursive: true, force: true })
  console.log("\n| cache                  |   nodes | to initialized | heap held | per node | change p50 | change p90 | missed |")
  console.log("|---|---|---|---|---|---|---|---|")
  for (const r of results) console.log(fmt(r))
  for (const r of results) {
    if (r.floorP50 === undefined || r.floorP90 === undefined) continue
    console.log(`\nfloor for ${r.client}'s changes (bare recursive watch + one get, same sets): p50 ${r.floorP50.toFixed(2)} ms, p90 ${r.floorP90.toFixed(2)} ms; ` +
      `the cache adds ${(r.overFloorP50 ?? Number.NaN).toFixed(2)} ms (median per change)`)
  }
  console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`)
  const out = path.join(repoRoot, "bench-results", `caches-${new Date().toISOString().replace(/[:]/g, "-").replace(/\..*$/, "")}.json`)
  fs.mkdirSync(path.dirname(out), { recursive: true })
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), nodes: count, changes, loadavg: os.loadavg(), results }, null, 2))
  console.log(`\nwritten to ${out}`)
}))

// runMain interrupts on SIGINT/SIGTERM, so the server's scope closes and its JVM stops.
NodeRuntime.runMain(program)

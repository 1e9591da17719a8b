/**
 * `pnpm bench`: effect-zk against node-zookeeper-client and the native `zookeeper` binding, on one
 * fresh local ZooKeeper server (dataDir on tmpfs when /dev/shm exists). A script, never a test.
 *
 *   pnpm bench                                    # every workload, 3 interleaved rounds
 *   pnpm bench --quick                            # scaled-down counts: a smoke run (~1 min)
 *   pnpm bench --only get-pipe,set-pipe --rounds 5
 *   pnpm bench --clients effect-zk,effect-zk-workers,node-zookeeper-client
 *   pnpm bench --only get-pipe --rounds 1 --cpu-prof=effect-zk   # .cpuprofile of each timed part
 *   pnpm bench --baseline 865a1dc                 # that commit as client effect-zk@865a1dc, in the same rounds
 *
 * The parent starts the server once, prepares each workload's data once, then runs every client on
 * the workload in interleaved rounds (A B C A B C ...), each run in a child process of its own
 * (child.ts) so that its CPU time (over the timed part) and peak RSS are the client's own. It
 * prints medians with ratios to the floor client (floor.ts) and to node-zookeeper-client, and
 * writes every raw figure to bench-results/bench-<date>.json at the repository root.
 */
import { NodeRuntime } from "@effect/platform-node"
import { ZooKeeper, type ZooKeeperService } from "@effect-zk/core"
import { NodeZooKeeper } from "@effect-zk/node"
import { FourLetterWord, ZooKeeperServer } from "@effect-zk/server"
import { Context, Effect, Layer, Option, References, type Scope } from "effect"
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { type BaselineBuild, baselineEnv, baselineSourceRoots, prepareBaseline } from "./baseline.ts"
import { type NativeBuild, ensureNativeAddon } from "./native-build.ts"
import { aggregate, evaluateTargets, renderMemoryTable, renderTable, renderTargets } from "./report.ts"
import {
  allClients,
  childName,
  type ClientName,
  defaultClients,
  getBytes,
  isKnownClient,
  isWorkloadName,
  memoryWorkloads,
  paths,
  pattern,
  resultPrefix,
  type RunResult,
  type RunSpec,
  setBytes,
  sizesOf,
  type WorkloadName,
  workloadNames
} from "./spec.ts"
import { writeStripped } from "./strip.ts"

const benchDir = path.dirname(fileURLToPath(import.meta.url))
const packageDir = path.dirname(benchDir)
const repoRoot = path.resolve(packageDir, "..", "..")
const resultsDir = path.join(repoRoot, "bench-results")

interface Options {
  readonly rounds: number
  readonly quick: boolean
  readonly workloads: ReadonlyArray<WorkloadName>
  readonly clients: ReadonlyArray<ClientName>
  /** Clients whose children run with --cpu-prof. */
  readonly cpuProf: ReadonlyArray<ClientName>
  /** A commit to build and run as one more client (baseline.ts). */
  readonly baseline: string | undefined
}

const usage = `usage: pnpm bench [--rounds N] [--quick] [--only WORKLOAD,...] [--clients CLIENT,...] [--cpu-prof[=CLIENT,...]] [--baseline GIT-REV]
  workloads: ${workloadNames.join(", ")}
  clients:   ${allClients.join(", ")} (default: ${defaultClients.join(", ")})`

const list = <A extends string>(value: string, valid: (s: string) => s is A, what: string): Array<A> =>
  value.split(",").filter((s) => s.length > 0).map((s) => {
    if (!valid(s)) throw new Error(`unknown ${what} "${s}"\n${usage}`)
    return s
  })

const parseArgs = (argv: ReadonlyArray<string>): Options => {
  let rounds = 3
  let quick = false
  let workloads: ReadonlyArray<WorkloadName> = workloadNames
  let clients: ReadonlyArray<ClientName> = defaultClients
  let cpuProf: ReadonlyArray<ClientName> | "selected" = []
  let baseline: string | undefined
  const args = argv.flatMap((a) => (a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a]))
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    const value = () => {
      const v = args[++i]
      if (v === undefined) throw new Error(`${arg} needs a value\n${usage}`)
      return v
    }
    switch (arg) {
      case "--":
        break
      case "--rounds":
        rounds = Number(value())
        if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer\n${usage}`)
        break
      case "--quick":
        quick = true
        break
      case "--only":
        workloads = list(value(), isWorkloadName, "workload")
        break
      case "--clients":
        clients = list(value(), isKnownClient, "client")
        break
      case "--baseline":
        baseline = value()
        break
      case "--cpu-prof": {
        const next = args[i + 1]
        cpuProf = next !== undefined && !next.startsWith("--") ? list(value(), isKnownClient, "client") : "selected"
        break
      }
      case "--help":
      case "-h":
        console.log(usage)
        process.exit(0)
        break
      default:
        throw new Error(`unknown option ${arg}\n${usage}`)
    }
  }
  return { rounds, quick, workloads, clients, cpuProf: cpuProf === "selected" ? clients : cpuProf, baseline }
}

/** Runs one child and returns its result; the child is killed if the run is interrupted. */
const runChild = (
  spec: RunSpec,
  hooksUrl: string,
  profileDir: string | undefined,
  extraEnv: Record<string, string>,
  signal: AbortSignal
): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [
      "--conditions=@effect-zk/source",
      "--disable-warning=ExperimentalWarning",
      // The memory workloads read the heap after a forced GC; exposing gc costs nothing else.
      "--expose-gc",
      `--import=${hooksUrl}`,
      path.join(benchDir, "child.ts"),
      JSON.stringify(spec)
    ], {
      stdio: ["ignore", "pipe", "inherit"],
      signal,
      env: {
        ...process.env,
        ...extraEnv,
        ...(profileDir === undefined ? {} : { BENCH_CPU_PROFILE: path.join(profileDir, `${spec.workload}.${spec.client}.r${spec.round}.cpuprofile`) })
      }
    })
    let out = ""
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => (out += chunk))
    child.on("error", reject)
    child.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith(resultPrefix))
      if (code !== 0 || line === undefined) return reject(new Error(`${spec.client} ${spec.workload} r${spec.round}: exit ${code}`))
      try {
        resolve(JSON.parse(line.slice(resultPrefix.length)))
      } catch (error) {
        reject(error)
      }
    })
  })

const connect = (servers: string): Effect.Effect<ZooKeeperService, unknown, Scope.Scope> =>
  Effect.map(Layer.build(NodeZooKeeper.layer({ servers })), (ctx) => Context.get(ctx, ZooKeeper))

/** 0 .. n-1; a plain loop, since `Array.from({ length }, f)` costs about 0.5 us per element. */
const range = (n: number): Array<number> => {
  const out = new Array<number>(n)
  for (let i = 0; i < n; i++) out[i] = i
  return out
}

const put = (zk: ZooKeeperService, node: string, data: Uint8Array) =>
  zk.create(node, data).pipe(Effect.catchTag("NodeExists", () => zk.set(node, data)), Effect.asVoid)

/** The nodes every workload expects, and the server's JIT warmed up before anything is timed. */
const prepareServer = (zk: ZooKeeperService, quick: boolean) =>
  Effect.gen(function*() {
    yield* put(zk, paths.root, new Uint8Array(0))
    yield* put(zk, paths.getNode, pattern(getBytes, 1))
    yield* put(zk, paths.setNode, pattern(setBytes, 0))
    yield* put(zk, paths.watchNode, pattern(16, 0))
    yield* put(zk, paths.createRoot, new Uint8Array(0))
    const scale = quick ? 0.2 : 1
    yield* Effect.forEach(range(30_000 * scale), () => zk.get(paths.getNode), { concurrency: 256, discard: true })
    yield* Effect.forEach(range(5_000 * scale), () => zk.set(paths.setNode, pattern(setBytes, 0)), { concurrency: 256, discard: true })
    const warm = `${paths.createRoot}/server-warmup`
    yield* put(zk, warm, new Uint8Array(0))
    yield* Effect.forEach(range(5_000 * scale), (i) => zk.create(`${warm}/n${i}`), { concurrency: 256, discard: true })
    yield* Effect.forEach(range(5_000 * scale), (i) => zk.delete(`${warm}/n${i}`), { concurrency: 256, discard: true })
    yield* zk.delete(warm)
  })

/** A node with exactly `n` children named `childName(0 .. n-1)` (children-big, watch-many). */
const prepareChildren = (zk: ZooKeeperService, parent: string, n: number) =>
  Effect.gen(function*() {
    yield* put(zk, parent, new Uint8Array(0))
    const wanted = range(n).map(childName)
    const want = new Set(wanted)
    const { children } = yield* zk.children(parent)
    const have = new Set(children)
    yield* Effect.forEach(children.filter((c) => !want.has(c)), (c) => zk.delete(`${parent}/${c}`), { concurrency: 256, discard: true })
    yield* Effect.forEach(wanted.filter((c) => !have.has(c)), (c) => zk.create(`${parent}/${c}`), { concurrency: 256, discard: true })
  })

const packageVersion = (name: string): string => {
  try {
    const json: unknown = JSON.parse(fs.readFileSync(path.join(packageDir, "node_modules", name, "package.json"), "utf8"))
    return typeof json === "object" && json !== null && "version" in json && typeof json.version === "string" ? json.version : "?"
  } catch {
    return "?"
  }
}

const gitHead = (): string => {
  const r = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repoRoot, encoding: "utf8" })
  return r.status === 0 ? r.stdout.trim() : "?"
}

const tmpfsRunDir = (): string | undefined => {
  try {
    fs.accessSync("/dev/shm", fs.constants.W_OK)
    return path.join("/dev/shm", `effect-zk-bench-${process.pid}`)
  } catch {
    return undefined
  }
}

const stamp = (d: Date): string => d.toISOString().replace(/[:]/g, "-").replace(/\..*$/, "")

const program = (requested: Options) =>
  Effect.gen(function*() {
    const startedAt = new Date()
    const loadStart = os.loadavg()
    yield* Effect.sync(() => fs.mkdirSync(resultsDir, { recursive: true }))

    let old: BaselineBuild | undefined
    if (requested.baseline !== undefined) {
      const rev = requested.baseline
      old = yield* Effect.try(() => prepareBaseline(repoRoot, rev, path.join(resultsDir, "baseline-build.log")))
      console.log(`${old.client}: ${old.sha} in ${old.dir}${old.seconds > 0 ? ` (exported and installed in ${old.seconds.toFixed(1)} s)` : ""}`)
    }
    const baselineClient = old?.client
    // The old build runs right after the current effect-zk in every round.
    const options: Options = baselineClient === undefined ? requested : {
      ...requested,
      clients: requested.clients.flatMap((c) => (c === "effect-zk" ? [c, baselineClient] : [c])).concat(
        requested.clients.includes("effect-zk") ? [] : [baselineClient]
      )
    }

    let nativeBuild: NativeBuild | undefined
    if (options.clients.includes("zookeeper")) {
      nativeBuild = yield* Effect.try(() => ensureNativeAddon(path.join(resultsDir, "native-build.log")))
      if (nativeBuild.seconds > 0) console.log(`built the native zookeeper addon in ${nativeBuild.seconds.toFixed(1)} s`)
    }

    const cacheDir = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "effect-zk-bench-"))),
      (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
    )
    const hooksUrl = writeStripped(
      [
        benchDir,
        path.join(repoRoot, "packages", "core", "src"),
        path.join(repoRoot, "packages", "node", "src"),
        ...(old === undefined ? [] : baselineSourceRoots(old))
      ],
      cacheDir
    )
    const profileDir = options.cpuProf.length === 0 ? undefined : path.join(resultsDir, `profiles-${stamp(startedAt)}`)

    const runDir = tmpfsRunDir()
    const server = yield* ZooKeeperServer.scoped(runDir === undefined ? {} : { runDir })
    const servers = yield* server.address
    const stats = yield* FourLetterWord.srvr(server.port)
    const serverVersion = Option.match(stats, { onNone: () => "?", onSome: (s) => s.version.split(/[-,]/)[0] ?? "?" })
    console.log(
      `ZooKeeper ${serverVersion} at ${servers}, dataDir ${runDir === undefined ? "in a temporary directory (no /dev/shm)" : "on tmpfs"}; ` +
        `node ${process.version}; ${os.availableParallelism()} CPUs; load ${loadStart.map((l) => l.toFixed(2)).join(" ")}`
    )
    console.log(
      `${options.quick ? "QUICK (scaled-down) " : ""}${options.rounds} round(s) of ${options.clients.join(", ")} on ${options.workloads.join(", ")}`
    )
    if (profileDir !== undefined) {
      yield* Effect.sync(() => fs.mkdirSync(profileDir, { recursive: true }))
      console.log(`CPU profiles of the timed parts of ${options.cpuProf.join(", ")} go to ${profileDir} (profiling skews the figures)`)
    }

    const admin = yield* connect(servers)
    yield* prepareServer(admin, options.quick)

    const results: Array<RunResult> = []
    const failures: Array<{ client: ClientName; workload: WorkloadName; round: number; error: string }> = []
    const total = options.workloads.length * options.rounds * options.clients.length
    let n = 0
    for (const workload of options.workloads) {
      const sizes = sizesOf(workload, options.quick)
      if (workload === "children-big") yield* prepareChildren(admin, paths.bigNode, sizes.children)
      if (workload === "watch-many") yield* prepareChildren(admin, paths.manyNode, sizes.count)
      for (let round = 1; round <= options.rounds; round++) {
        for (const client of options.clients) {
          n++
          const spec: RunSpec = { client, workload, round, servers, sizes }
          const profile = options.cpuProf.includes(client) ? profileDir : undefined
          const label = `[${String(n).padStart(String(total).length)}/${total}] ${workload.padEnd(13)} r${round} ${client.padEnd(21)}`
          const outcome = yield* Effect.result(Effect.tryPromise({
            try: (signal) => runChild(spec, hooksUrl, profile, old !== undefined && client === old.client ? baselineEnv(old) : {}, signal),
            catch: (error) => (error instanceof Error ? error.message : String(error))
          }))
          if (outcome._tag === "Success") {
            const r = outcome.success
            results.push(r)
            const lat = r.latencyUs === undefined ? "" : `  p50 ${Math.round(r.latencyUs.p50)} us p99 ${Math.round(r.latencyUs.p99)} us`
            const warm = r.warmup === undefined ? "" : `  warm-up ${r.warmup.ops.toLocaleString("en-US")}${r.warmup.steady ? "" : " (not steady)"}`
            const held = r.memory === undefined ? "" : `  heap ${r.memory.heapPerItemBytes.toLocaleString("en-US")} B/item`
            console.log(
              `${label} ${r.opsPerSec.toLocaleString("en-US").padStart(8)} ops/s ${r.cpuUsPerOp.toFixed(2).padStart(8)} us/op  RSS ${
                r.maxRssMiB.toFixed(1).padStart(6)
              } MiB${lat}${warm}${held}`
            )
          } else {
            failures.push({ client, workload, round, error: outcome.failure })
            console.log(`${label} FAILED: ${outcome.failure}`)
          }
        }
      }
    }

    const aggs = aggregate(results, options.clients, options.workloads)
    const targets = evaluateTargets(aggs)
    console.log(
      `\nMedians of ${options.rounds} round(s). CPU = user+sys of the client process over the timed part; "x floor" = ratio to the floor ` +
        `client of the same run, "x nzc" = ratio to node-zookeeper-client; warm-up = untimed requests until the CPU per request stopped ` +
        `falling ("+": some round never settled before the maximum).\n`
    )
    const timed = options.workloads.filter((w) => !memoryWorkloads.includes(w))
    const held = options.workloads.filter((w) => memoryWorkloads.includes(w))
    if (timed.length > 0) console.log(renderTable(aggs, timed))
    if (held.length > 0) console.log(`\nHeld at scale (heap after GC per watch or per idle session; RSS of the process after):\n\n${renderMemoryTable(aggs, held)}`)
    if (targets.length > 0) console.log(`\nTargets (effect-zk, on the medians):\n${renderTargets(targets)}`)

    const finishedAt = new Date()
    const file = path.join(resultsDir, `bench-${stamp(startedAt)}${options.quick ? "-quick" : ""}.json`)
    const report = {
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationSec: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
      options: { ...options, profileDir },
      machine: {
        node: process.version,
        platform: `${os.platform()} ${os.release()} ${os.arch()}`,
        cpus: os.availableParallelism(),
        cpuModel: os.cpus()[0]?.model ?? "?",
        totalMemGiB: Math.round(os.totalmem() / 2 ** 30),
        loadavgStart: loadStart,
        loadavgEnd: os.loadavg()
      },
      server: { version: serverVersion, dataDirOnTmpfs: runDir !== undefined },
      versions: {
        "effect-zk": `${packageVersion("@effect-zk/core")} (git ${gitHead()}, working tree as it was)`,
        ...(old === undefined ? {} : { [old.client]: `git ${old.sha}` }),
        effect: packageVersion("effect"),
        "node-zookeeper-client": packageVersion("node-zookeeper-client"),
        zookeeper: packageVersion("zookeeper")
      },
      nativeBuildSeconds: nativeBuild?.seconds,
      sizes: Object.fromEntries(options.workloads.map((w) => [w, sizesOf(w, options.quick)])),
      medians: aggs,
      targets,
      failures,
      runs: results
    }
    yield* Effect.sync(() => fs.writeFileSync(file, `${JSON.stringify(report, null, 1)}\n`))
    console.log(`\nEvery raw figure: ${path.relative(repoRoot, file)} (in ${repoRoot})`)
    if (failures.length > 0) return yield* Effect.fail(new Error(`${failures.length} run(s) failed: ${failures.map((f) => `${f.client} ${f.workload} r${f.round}`).join(", ")}`))
  })

const main = Effect.suspend(() => program(parseArgs(process.argv.slice(2)))).pipe(
  Effect.scoped,
  // The parent's own session would log its state changes between the progress lines.
  Effect.provideService(References.MinimumLogLevel, "Warn")
)

NodeRuntime.runMain(main)

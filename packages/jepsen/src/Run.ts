/**
 * A whole run: a 3-member ensemble on 127.0.0.1, then one phase per nemesis in which every
 * chosen workload runs concurrently (each on its own paths, with its own lanes and history)
 * while that nemesis injects faults; after each phase the faults are healed, the queue drained
 * and every history checked. A violating history is written next to an HTML timeline.
 *
 * @since 0.1.0
 */
import { ZooKeeper, type ZooKeeperService } from "@effect-zk/core"
import { FaultProxy, NodeZooKeeper } from "@effect-zk/node"
import { ZooKeeperEnsemble } from "@effect-zk/server"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as References from "effect/References"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Checker from "./Checker.ts"
import * as Client from "./Client.ts"
import * as History from "./History.ts"
import * as Nemesis from "./Nemesis.ts"
import * as Timeline from "./Timeline.ts"
import * as Workloads from "./Workloads.ts"

/**
 * What to run.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunOptions {
  /** Length of each nemesis phase. */
  readonly phaseSeconds: number
  readonly seed: number
  readonly workloads: ReadonlyArray<Checker.WorkloadName>
  readonly nemeses: ReadonlyArray<Nemesis.NemesisName>
  readonly broken?: Workloads.Broken | undefined
  /** Where violating histories and their timelines go. */
  readonly outDir: string
  /** Lanes per workload. Default: register 4, queue 3, lock 3. */
  readonly lanes?: Partial<Record<Checker.WorkloadName, number>> | undefined
  readonly log?: ((line: string) => void) | undefined
}

/**
 * One row of the result table: a workload under a nemesis.
 *
 * @since 0.1.0
 * @category models
 */
export interface Row {
  readonly workload: Checker.WorkloadName
  readonly nemesis: Nemesis.NemesisName
  readonly seconds: number
  readonly ops: number
  readonly indeterminate: number
  readonly faults: number
  readonly verdict: Checker.Report["verdict"]
  readonly checkerMs: number
  readonly violations: ReadonlyArray<string>
  /** The HTML timeline and the history, written when the verdict is not `valid`. */
  readonly files: ReadonlyArray<string>
  /** Lanes that had not finished well after the phase ended, with what they were doing. */
  readonly hung: ReadonlyArray<string>
}

const DEFAULT_LANES: Record<Checker.WorkloadName, number> = { register: 4, queue: 3, lock: 3 }
const SETTINGS: Client.SessionSettings = { sessionTimeoutMs: 4000, requestTimeoutMs: 4000 }
/** Every operation has a 4 s request timeout; a lane still busy this long after the end is stuck. */
const HUNG_AFTER_MS = 45_000

/**
 * A seeded generator (mulberry32): the nemesis's and the workloads' choices follow the seed.
 * Timing still varies between runs, so a seed reproduces the plan, not the exact history.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeRandom = (seed: number): Workloads.Random => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const admin = (servers: string) =>
  Effect.map(Layer.build(NodeZooKeeper.layer({ servers, sessionTimeout: 10_000, connectTimeout: 30_000 })), (c) => Context.get(c, ZooKeeper))

const mkdirs = (zk: ZooKeeperService, paths: ReadonlyArray<string>) =>
  Effect.forEach(paths, (p) => Effect.catchTag(Effect.asVoid(zk.create(p)), "NodeExists", () => Effect.void), { discard: true })

/** A workload's lanes and the function each runs. */
interface Running {
  readonly workload: Checker.WorkloadName
  readonly recorder: History.Recorder
  readonly lanes: ReadonlyArray<Client.Lane>
  readonly step: (lane: Client.Lane) => (zk: ZooKeeperService) => Effect.Effect<void, never, Scope.Scope>
  readonly base: string
}

const stepFor = (workload: Checker.WorkloadName, ctx: Workloads.Context) => {
  const counter = { n: 0 }
  switch (workload) {
    case "register":
      return Workloads.registerStep(ctx, counter, new Set())
    case "queue":
      return Workloads.queueStep(ctx, counter)
    case "lock":
      return Workloads.lockStep(ctx)
  }
}

/** Writes a history that is not valid, with its timeline; returns the files' paths. */
const writeViolation = (
  options: RunOptions,
  nemesis: Nemesis.NemesisName,
  workload: Checker.WorkloadName,
  history: ReadonlyArray<History.Operation>,
  report: Checker.Report
): Effect.Effect<ReadonlyArray<string>> =>
  Effect.sync(() => {
    fs.mkdirSync(options.outDir, { recursive: true })
    const stem = path.join(options.outDir, `seed${options.seed}-${nemesis}-${workload}`)
    fs.writeFileSync(`${stem}.history.json`, History.toJson(history))
    fs.writeFileSync(`${stem}.html`, Timeline.render(history, {
      title: `${workload} under ${nemesis}${options.broken === undefined ? "" : ` (broken client: ${options.broken})`}`,
      seed: options.seed,
      violations: report.violations,
      minimal: report.minimal
    }))
    return [`${stem}.html`, `${stem}.history.json`]
  })

/** One nemesis phase: returns its rows. */
const phase = (
  options: RunOptions,
  ensemble: ZooKeeperEnsemble.Ensemble,
  zk: ZooKeeperService,
  index: number,
  nemesis: Nemesis.NemesisName
) =>
  Effect.scoped(Effect.gen(function*() {
    const log = options.log ?? (() => {})
    const random = makeRandom(options.seed * 1000 + index)
    const root = `/jepsen-${index}-${nemesis}`
    const started = process.hrtime.bigint()
    const until = started + BigInt(Math.round(options.phaseSeconds * 1e9))
    let nextProcess = 0
    const running: Array<Running> = []
    for (const workload of options.workloads) {
      const base = `${root}/${workload}`
      yield* mkdirs(zk, [root, base, `${base}/queue`])
      const recorder = History.makeRecorder()
      const lanes = yield* Effect.forEach(Array.from({ length: options.lanes?.[workload] ?? DEFAULT_LANES[workload] }), () =>
        Effect.map(
          Effect.forEach(ensemble.members, (m) => FaultProxy.make({ host: "127.0.0.1", port: m.port })),
          (proxies): Client.Lane => ({ process: nextProcess++, recorder, proxies, zk: undefined, session: "", doing: "starting" })
        ))
      const ctx: Workloads.Context = { base, random, started, broken: options.broken }
      running.push({ workload, recorder, lanes, step: stepFor(workload, ctx), base })
    }
    log(`phase ${index} (${nemesis}): ${options.phaseSeconds} s, workloads ${options.workloads.join(", ")}`)
    const nemesisLog: Nemesis.Log = { faults: 0, lines: [] }
    const allLanes = running.flatMap((r) => r.lanes)
    // Detached, so that a lane that never finishes (a hung operation or session close: a client
    // bug) is reported below instead of hanging the run.
    const fibers = yield* Effect.forEach([
      ...running.flatMap((r) => r.lanes.map((lane) => Client.loop(lane, SETTINGS, until, r.step(lane)))),
      Nemesis.run(nemesis, ensemble, allLanes, random, until, nemesisLog)
    ], (effect) => Effect.forkDetach(effect))
    const finished = yield* Effect.timeoutOption(Fiber.awaitAll(fibers), Math.round(options.phaseSeconds * 1000) + HUNG_AFTER_MS)
    yield* Nemesis.heal(ensemble, allLanes)
    const hung: Array<string> = Option.isSome(finished) ? [] : yield* Effect.forEach(allLanes.filter((lane) => lane.doing !== "done"), (lane) =>
      Effect.map(lane.zk === undefined ? Effect.succeed("no session") : lane.zk.state, (state) =>
        `p${lane.process} never finished: ${lane.doing}; session state ${state}`))
    if (Option.isNone(finished) && hung.length === 0) {
      hung.push(`the nemesis never finished; its last fault: ${nemesisLog.lines.at(-1) ?? "none"}`)
    }
    for (const line of nemesisLog.lines) log(`  nemesis: ${line}`)
    for (const line of hung) log(`  HUNG: ${line}`)
    const rows: Array<Row> = []
    for (const r of running) {
      if (r.workload === "queue") {
        const drainLane: Client.Lane = { process: nextProcess, recorder: r.recorder, proxies: [], zk, session: (yield* zk.clientId).hex, doing: "draining" }
        yield* Workloads.drain(drainLane, zk, r.base)
      }
      const history = r.recorder.operations()
      const report = Checker.check(r.workload, history)
      const files = report.verdict === "valid" ? [] : yield* writeViolation(options, nemesis, r.workload, history, report)
      const counted = history.filter((op) => op.f !== "event" && op.f !== "lost")
      const row: Row = {
        workload: r.workload,
        nemesis,
        seconds: options.phaseSeconds,
        ops: counted.length,
        indeterminate: counted.filter((op) => op.type === "info").length,
        faults: nemesisLog.faults,
        verdict: report.verdict,
        checkerMs: report.checkerMs,
        violations: report.violations,
        files,
        hung: hung.filter((line) => !line.startsWith("p") || r.lanes.some((lane) => line.startsWith(`p${lane.process} `)))
      }
      log(`  ${r.workload}: ${row.ops} ops, ${row.indeterminate} indeterminate, ${row.verdict} (${row.checkerMs.toFixed(0)} ms)${
        files.length === 0 ? "" : ` -> ${files[0]}`
      }`)
      for (const v of report.violations.slice(0, 3)) log(`    ${v}`)
      rows.push(row)
    }
    return rows
  }))

/**
 * Runs every phase and returns the table's rows.
 *
 * @example
 * ```ts
 * const rows = yield* Run.run({ phaseSeconds: 60, seed: 1, workloads: ["register"], nemeses: ["kill-leader"], outDir: "jepsen-out" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = (options: RunOptions): Effect.Effect<ReadonlyArray<Row>, unknown> =>
  Effect.scoped(Effect.gen(function*() {
    const ensemble = yield* ZooKeeperEnsemble.scoped({ size: 3, minSessionTimeout: "1 second", maxSessionTimeout: "30 seconds" })
    const zk = yield* admin(ensemble.connectString)
    const rows: Array<Row> = []
    for (const [index, nemesis] of options.nemeses.entries()) rows.push(...(yield* phase(options, ensemble, zk, index, nemesis)))
    return rows
    // Expired sessions and lost connections are what the nemesis is for: the history records
    // them, so the client's own error logs would only bury the table.
  })).pipe(Effect.provideService(References.MinimumLogLevel, "Fatal"))

/**
 * The rows as a text table.
 *
 * @since 0.1.0
 * @category rendering
 */
export const formatTable = (rows: ReadonlyArray<Row>): string => {
  const header = ["workload", "nemesis", "secs", "ops", "indeterminate", "faults", "verdict", "checker ms", "hung lanes"]
  const body = rows.map((r) => [r.workload, r.nemesis, String(r.seconds), String(r.ops), String(r.indeterminate), String(r.faults), r.verdict, r.checkerMs.toFixed(0), String(r.hung.length)])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n")
}

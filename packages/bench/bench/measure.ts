/**
 * The timed part of a run and the statistics of its figures. Effect-free (see spec.ts).
 */
import {
  type LatencySummary,
  type MemoryReport,
  type RunResult,
  type RunSpec,
  type Sizes,
  steadyTolerance,
  type WarmupReport
} from "./spec.ts"

const MiB = 1024 * 1024

/** The raw figures of a timed part, taken with `startMeter` ... `stop`. */
export interface Metered {
  readonly elapsedMs: number
  readonly cpuUserUs: number
  readonly cpuSysUs: number
}

/**
 * `pnpm bench --cpu-prof` sets this: the timed part (only) is profiled with the in-process
 * inspector and written there as a .cpuprofile.
 */
const profileFile = process.env["BENCH_CPU_PROFILE"]

const startProfile = (file: string): (() => void) => {
  const inspector = process.getBuiltinModule("node:inspector")
  const fs = process.getBuiltinModule("node:fs")
  const session = new inspector.Session()
  session.connect()
  session.post("Profiler.enable")
  session.post("Profiler.start")
  return () =>
    session.post("Profiler.stop", (error, result) => {
      if (error === null) fs.writeFileSync(file, JSON.stringify(result.profile))
      session.disconnect()
    })
}

/**
 * For `perf record -D -1 --control fifo:FIFO`: set `BENCH_PERF_FIFO=FIFO` and only the timed
 * parts are sampled. perf samples on-CPU time (kernel included), where `--cpu-prof` samples wall
 * time and charges a syscall with the time the process then waited to be scheduled again.
 */
const perfFifo = process.env["BENCH_PERF_FIFO"]

const perfControl = (command: "enable" | "disable"): void => {
  if (perfFifo !== undefined) process.getBuiltinModule("node:fs").writeFileSync(perfFifo, `${command}\n`)
}

/** Starts the clock and the CPU counters; call the returned function when the timed part ends. */
export const startMeter = (): (() => Metered) => {
  const stopProfile = profileFile === undefined ? undefined : startProfile(profileFile)
  perfControl("enable")
  const cpu = process.cpuUsage()
  const t0 = performance.now()
  return () => {
    const elapsedMs = performance.now() - t0
    const used = process.cpuUsage(cpu)
    perfControl("disable")
    stopProfile?.()
    return { elapsedMs, cpuUserUs: used.user, cpuSysUs: used.system }
  }
}

/** Windows compared on each side when deciding that the CPU per request stopped falling. */
const STEADY_WINDOWS = 3

/**
 * Optimized code that may still appear over the last windows of a steady client. CPU per window
 * is noisy on a shared machine and can sit on a plateau while V8 still has functions to compile
 * (Node 22 has no Maglev: TurboFan takes each function after about 3,000 calls); code growth
 * is a direct sign of that, and one TurboFan function is typically a few KB.
 */
const CODE_GROWTH_BYTES = 16 * 1024

const codeBytes = (): number => process.getBuiltinModule("node:v8").getHeapCodeStatistics().code_and_metadata_size

/**
 * Decides when a warm-up has reached steady state. The warm-up runs in windows of
 * `sizes.warmupWindow` requests, each metered. Steady: the mean CPU per request of the last
 * three windows is no more than `steadyTolerance` below the mean of the three before (it
 * stopped falling), and V8 added less than `CODE_GROWTH_BYTES` of optimized code over those
 * three windows (it stopped compiling). CPU rather than wall time, so that waiting for the
 * server does not count; a mean of three, so that one noisy window neither ends nor prolongs it.
 */
export class SteadyState {
  private readonly usPerOp: Array<number> = []
  /** Optimized code in the heap after each window: still growing means V8 is still compiling. */
  private readonly codeBytes: Array<number> = []
  private ops = 0
  private settled = false
  private readonly sizes: Sizes
  constructor(sizes: Sizes) {
    this.sizes = sizes
  }

  /** Requests for the next window, or 0 when the warm-up is over. */
  next(): number {
    if (this.settled || this.ops >= this.sizes.warmup) return 0
    return Math.min(this.sizes.warmupWindow, this.sizes.warmup - this.ops)
  }

  /** Starts metering a window of `n` requests; call the result when they are done. */
  start(n: number): () => void {
    const cpu = process.cpuUsage()
    return () => {
      const used = process.cpuUsage(cpu)
      this.ops += n
      this.usPerOp.push((used.user + used.system) / (n * this.sizes.requestsPerCount))
      this.codeBytes.push(codeBytes())
      const k = STEADY_WINDOWS
      const w = this.usPerOp
      if (w.length >= 2 * k) {
        const mean = (from: number) => w.slice(from, from + k).reduce((a, b) => a + b, 0) / k
        const stoppedFalling = mean(w.length - k) >= (1 - steadyTolerance) * mean(w.length - 2 * k)
        const c = this.codeBytes
        const compiling = c[c.length - 1]! - c[c.length - 1 - k]! > CODE_GROWTH_BYTES
        if (stoppedFalling && !compiling) this.settled = true
      }
    }
  }

  report(): WarmupReport {
    return {
      ops: this.ops,
      steady: this.settled,
      windowsUsPerOp: this.usPerOp.map((v) => Math.round(v * 100) / 100),
      windowsCodeBytes: this.codeBytes
    }
  }
}

/** Warms up with `run(n)` (n requests of the workload's kind) until steady state or the maximum. */
export const warmUp = async (sizes: Sizes, run: (n: number) => Promise<unknown>): Promise<WarmupReport> => {
  const steady = new SteadyState(sizes)
  for (let n = steady.next(); n > 0; n = steady.next()) {
    const stop = steady.start(n)
    await run(n)
    stop()
  }
  return steady.report()
}

/**
 * The V8 heap in use after full collections. Children of the memory workloads run with
 * --expose-gc; without it the figure would include garbage and mean nothing.
 */
export const heapAfterGc = (): { heap: number; rss: number } => {
  const collect = globalThis.gc
  if (collect === undefined) throw new Error("the memory workloads need --expose-gc")
  // Twice: the first pass runs finalizers whose objects the second one frees.
  collect()
  collect()
  const m = process.memoryUsage()
  return { heap: m.heapUsed, rss: m.rss }
}

/** The cost of holding `items` things, from the heap and RSS before and after. */
export const memoryReport = (
  items: number,
  before: { heap: number; rss: number },
  after: { heap: number; rss: number }
): MemoryReport => ({
  items,
  heapBeforeBytes: before.heap,
  heapAfterBytes: after.heap,
  heapPerItemBytes: Math.round((after.heap - before.heap) / items),
  rssBeforeBytes: before.rss,
  rssAfterBytes: after.rss,
  rssPerItemBytes: Math.round((after.rss - before.rss) / items)
})

export const quantile = (sorted: ReadonlyArray<number>, q: number): number => {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[i] ?? Number.NaN
}

export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

export const summarize = (latenciesUs: ReadonlyArray<number>): LatencySummary => {
  const sorted = [...latenciesUs].sort((a, b) => a - b)
  let sum = 0
  for (const v of sorted) sum += v
  return {
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    mean: sum / Math.max(1, sorted.length),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN
  }
}

const round1 = (n: number): number => Math.round(n * 10) / 10
const round3 = (n: number): number => Math.round(n * 1000) / 1000

/** A run's result from its spec, the metered timed part and what it checked. */
export const toResult = (
  spec: RunSpec,
  metered: Metered,
  extra: {
    readonly latenciesUs?: ReadonlyArray<number> | undefined
    readonly checks: Readonly<Record<string, number | string | boolean>>
    readonly notes?: string | undefined
    readonly warmup?: WarmupReport | undefined
    readonly memory?: MemoryReport | undefined
    /** What the CPU is divided by, when it is not `count * requestsPerCount`. */
    readonly ops?: number | undefined
  }
): RunResult => {
  const ops = extra.ops ?? spec.sizes.count * spec.sizes.requestsPerCount
  const memory = process.memoryUsage()
  const latencies = extra.latenciesUs
  return {
    client: spec.client,
    workload: spec.workload,
    round: spec.round,
    ops,
    elapsedMs: round3(metered.elapsedMs),
    opsPerSec: Math.round(ops / (metered.elapsedMs / 1000)),
    cpuUserUs: metered.cpuUserUs,
    cpuSysUs: metered.cpuSysUs,
    cpuUsPerOp: round3((metered.cpuUserUs + metered.cpuSysUs) / ops),
    // resourceUsage().maxRSS is in KiB.
    maxRssMiB: round1(process.resourceUsage().maxRSS / 1024),
    rssAfterMiB: round1(memory.rss / MiB),
    heapUsedAfterMiB: round1(memory.heapUsed / MiB),
    latencyUs: latencies === undefined ? undefined : summarize(latencies),
    latenciesUs: latencies?.map(round1),
    checks: extra.checks,
    notes: extra.notes,
    warmup: extra.warmup,
    memory: extra.memory
  }
}

/** Fails the run (the child exits non-zero) instead of reporting a number that means nothing. */
export const check = (condition: boolean, what: string): void => {
  if (!condition) throw new Error(`check failed: ${what}`)
}

/** Byte-for-byte equality. */
export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

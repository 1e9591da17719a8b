/**
 * The timed part of a run and the statistics of its figures. Effect-free (see spec.ts).
 */
import type { LatencySummary, RunResult, RunSpec } from "./spec.ts"

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
  }
): RunResult => {
  const ops = spec.sizes.count * spec.sizes.requestsPerCount
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
    notes: extra.notes
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

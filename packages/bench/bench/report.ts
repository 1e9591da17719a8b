/**
 * Medians over rounds, the printed tables (every client as a ratio to the floor of the same run,
 * and to node-zookeeper-client), the warm-up each client needed, and the targets for effect-zk,
 * evaluated on the medians.
 */
import { median } from "./measure.ts"
import { type ClientName, floor, memoryWorkloads, nzc, type RunResult, type WorkloadName } from "./spec.ts"

/** Medians of one client on one workload over its rounds. */
export interface Aggregate {
  readonly client: ClientName
  readonly workload: WorkloadName
  readonly rounds: number
  readonly opsPerSec: number
  readonly cpuUsPerOp: number
  readonly cpuUsPerOpMin: number
  readonly cpuUsPerOpMax: number
  readonly maxRssMiB: number
  readonly p50Us: number | undefined
  readonly p99Us: number | undefined
  /** Warm-up requests to steady state, and in how many rounds it settled before its maximum. */
  readonly warmupOps: number | undefined
  readonly warmupSteadyRounds: number
  /** Memory workloads: heap and RSS per item held. */
  readonly heapPerItemBytes: number | undefined
  readonly rssPerItemBytes: number | undefined
  readonly rssAfterMiB: number
}

export const aggregate = (
  results: ReadonlyArray<RunResult>,
  clients: ReadonlyArray<ClientName>,
  workloads: ReadonlyArray<WorkloadName>
): Array<Aggregate> =>
  workloads.flatMap((workload) =>
    clients.flatMap((client): Array<Aggregate> => {
      const runs = results.filter((r) => r.client === client && r.workload === workload)
      if (runs.length === 0) return []
      const cpu = runs.map((r) => r.cpuUsPerOp)
      const lat = runs.flatMap((r) => (r.latencyUs === undefined ? [] : [r.latencyUs]))
      const warm = runs.flatMap((r) => (r.warmup === undefined ? [] : [r.warmup]))
      const mem = runs.flatMap((r) => (r.memory === undefined ? [] : [r.memory]))
      return [{
        client,
        workload,
        rounds: runs.length,
        opsPerSec: median(runs.map((r) => r.opsPerSec)),
        cpuUsPerOp: median(cpu),
        cpuUsPerOpMin: Math.min(...cpu),
        cpuUsPerOpMax: Math.max(...cpu),
        maxRssMiB: median(runs.map((r) => r.maxRssMiB)),
        p50Us: lat.length === 0 ? undefined : median(lat.map((l) => l.p50)),
        p99Us: lat.length === 0 ? undefined : median(lat.map((l) => l.p99)),
        warmupOps: warm.length === 0 ? undefined : median(warm.map((w) => w.ops)),
        warmupSteadyRounds: warm.filter((w) => w.steady).length,
        heapPerItemBytes: mem.length === 0 ? undefined : median(mem.map((m) => m.heapPerItemBytes)),
        rssPerItemBytes: mem.length === 0 ? undefined : median(mem.map((m) => m.rssPerItemBytes)),
        rssAfterMiB: median(runs.map((r) => r.rssAfterMiB))
      }]
    })
  )

const find = (aggs: ReadonlyArray<Aggregate>, workload: WorkloadName, client: ClientName) =>
  aggs.find((a) => a.workload === workload && a.client === client)

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-")
const fixed = (n: number): string => (!Number.isFinite(n) ? "-" : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2))
const ratio = (a: number, b: number | undefined): string => (b === undefined || !(b > 0) ? "" : `${(a / b).toFixed(2)}x`)

/**
 * The table of medians, one block per workload. Each client's CPU per request is given as a
 * ratio to the floor of the same run ("x floor": the least a Node client can do, so the ratio
 * says how much a client adds, and it does not move with the machine's syscall costs the way a
 * ratio to a peer does) and to node-zookeeper-client ("x nzc").
 */
export const renderTable = (aggs: ReadonlyArray<Aggregate>, workloads: ReadonlyArray<WorkloadName>): string => {
  const header = [
    "workload".padEnd(14),
    "client".padEnd(22),
    "ops/s".padStart(9),
    "CPU us/op".padStart(10),
    "(min-max)".padStart(15),
    "x floor".padStart(8),
    "x nzc".padStart(6),
    "RSS MiB".padStart(8),
    "x floor".padStart(8),
    "p50 us".padStart(8),
    "p99 us".padStart(8),
    "warm-up".padStart(8)
  ].join(" ")
  const lines = [header, "-".repeat(header.length)]
  for (const workload of workloads.filter((w) => !memoryWorkloads.includes(w))) {
    const base = find(aggs, workload, nzc)
    const low = find(aggs, workload, floor)
    const rows = aggs.filter((a) => a.workload === workload)
    rows.forEach((a, i) => {
      lines.push([
        (i === 0 ? workload : "").padEnd(14),
        a.client.padEnd(22),
        int(a.opsPerSec).padStart(9),
        fixed(a.cpuUsPerOp).padStart(10),
        `(${fixed(a.cpuUsPerOpMin)}-${fixed(a.cpuUsPerOpMax)})`.padStart(15),
        ratio(a.cpuUsPerOp, low?.cpuUsPerOp).padStart(8),
        ratio(a.cpuUsPerOp, base?.cpuUsPerOp).padStart(6),
        a.maxRssMiB.toFixed(1).padStart(8),
        ratio(a.maxRssMiB, low?.maxRssMiB).padStart(8),
        (a.p50Us === undefined ? "" : int(a.p50Us)).padStart(8),
        (a.p99Us === undefined ? "" : int(a.p99Us)).padStart(8),
        warmupCell(a).padStart(8)
      ].join(" "))
    })
  }
  return lines.join("\n")
}

/** Median warm-up to steady state; "+" when some round stopped at the maximum without settling. */
const warmupCell = (a: Aggregate): string =>
  a.warmupOps === undefined ? "" : `${int(a.warmupOps)}${a.warmupSteadyRounds < a.rounds ? "+" : ""}`

/** The memory workloads: heap after GC per item held, as ratios to the floor and to nzc. */
export const renderMemoryTable = (aggs: ReadonlyArray<Aggregate>, workloads: ReadonlyArray<WorkloadName>): string => {
  const header = [
    "workload".padEnd(14),
    "client".padEnd(22),
    "heap B/item".padStart(12),
    "x floor".padStart(8),
    "x nzc".padStart(6),
    "RSS B/item".padStart(11),
    "RSS MiB".padStart(8),
    "x floor".padStart(8),
    "x nzc".padStart(6),
    "CPU us/item".padStart(12)
  ].join(" ")
  const lines = [header, "-".repeat(header.length)]
  for (const workload of workloads.filter((w) => memoryWorkloads.includes(w))) {
    const base = find(aggs, workload, nzc)
    const low = find(aggs, workload, floor)
    aggs.filter((a) => a.workload === workload).forEach((a, i) => {
      lines.push([
        (i === 0 ? workload : "").padEnd(14),
        a.client.padEnd(22),
        int(a.heapPerItemBytes ?? Number.NaN).padStart(12),
        ratio(a.heapPerItemBytes ?? Number.NaN, low?.heapPerItemBytes).padStart(8),
        ratio(a.heapPerItemBytes ?? Number.NaN, base?.heapPerItemBytes).padStart(6),
        int(a.rssPerItemBytes ?? Number.NaN).padStart(11),
        a.rssAfterMiB.toFixed(1).padStart(8),
        ratio(a.rssAfterMiB, low?.rssAfterMiB).padStart(8),
        ratio(a.rssAfterMiB, base?.rssAfterMiB).padStart(6),
        fixed(a.cpuUsPerOp).padStart(12)
      ].join(" "))
    })
  }
  return lines.join("\n")
}

/** One of the targets for effect-zk, checked on the medians. */
export interface TargetCheck {
  readonly client: ClientName
  readonly workload: WorkloadName
  readonly target: string
  readonly value: number
  readonly limit: number
  readonly met: boolean
}

/** Client CPU per request (per round for watch-rtt) as a multiple of the floor's. */
const floorTargets: Partial<Record<WorkloadName, number>> = {
  "get-pipe": 1.25,
  "create-pipe": 1.25,
  "set-pipe": 1.25,
  "multi-session": 1.25,
  "children-big": 1.25,
  "watch-rtt": 1.4
}

/** Heap per item held as a multiple of node-zookeeper-client's. */
const memoryTargets: Partial<Record<WorkloadName, number>> = {
  "watch-many": 1,
  "sessions-many": 2
}

/**
 * The targets for effect-zk (CPU against the floor, memory at scale against nzc) and, when an
 * old build runs beside it (`--baseline`), the guard that no workload got slower or heavier
 * than before. The guard allows 5% for noise.
 */
export const evaluateTargets = (aggs: ReadonlyArray<Aggregate>): Array<TargetCheck> => {
  const out: Array<TargetCheck> = []
  for (const a of aggs) {
    if (a.client !== "effect-zk") continue
    const add = (target: string, value: number, limit: number) =>
      out.push({ client: a.client, workload: a.workload, target, value, limit, met: value <= limit })
    const low = find(aggs, a.workload, floor)
    const factor = floorTargets[a.workload]
    if (low !== undefined && factor !== undefined) add(`CPU us/op <= ${factor} x floor`, a.cpuUsPerOp, factor * low.cpuUsPerOp)
    const peer = find(aggs, a.workload, nzc)
    const memFactor = memoryTargets[a.workload]
    if (peer?.heapPerItemBytes !== undefined && a.heapPerItemBytes !== undefined && memFactor !== undefined) {
      add(`heap B/item <= ${memFactor} x nzc`, a.heapPerItemBytes, memFactor * peer.heapPerItemBytes)
    }
    for (const old of aggs.filter((o) => o.workload === a.workload && o.client.startsWith("effect-zk@"))) {
      if (memoryWorkloads.includes(a.workload) && old.heapPerItemBytes !== undefined && a.heapPerItemBytes !== undefined) {
        add(`heap B/item <= ${old.client}`, a.heapPerItemBytes, 1.05 * old.heapPerItemBytes)
      } else {
        add(`CPU us/op <= ${old.client}`, a.cpuUsPerOp, 1.05 * old.cpuUsPerOp)
      }
    }
  }
  return out
}

export const renderTargets = (checks: ReadonlyArray<TargetCheck>): string =>
  checks
    .map((c) =>
      `${c.met ? "met    " : "MISSED "} ${c.client.padEnd(18)} ${c.workload.padEnd(14)} ${c.target.padEnd(34)} ${fixed(c.value).padStart(8)} vs ${
        fixed(c.limit).padStart(8)
      }`
    )
    .join("\n")

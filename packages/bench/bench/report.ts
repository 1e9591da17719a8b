/**
 * Medians over rounds, the printed table (ratios against node-zookeeper-client) and effect-zk's
 * performance targets, evaluated on the medians.
 */
import { median } from "./measure.ts"
import { baseline, type ClientName, type RunResult, type WorkloadName } from "./spec.ts"

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
        p99Us: lat.length === 0 ? undefined : median(lat.map((l) => l.p99))
      }]
    })
  )

const find = (aggs: ReadonlyArray<Aggregate>, workload: WorkloadName, client: ClientName) =>
  aggs.find((a) => a.workload === workload && a.client === client)

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-")
const fixed = (n: number): string => (!Number.isFinite(n) ? "-" : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2))
const ratio = (a: number, b: number | undefined): string => (b === undefined || !(b > 0) ? "" : `${(a / b).toFixed(2)}x`)

/** The table of medians, one block per workload, ratios against node-zookeeper-client. */
export const renderTable = (aggs: ReadonlyArray<Aggregate>, workloads: ReadonlyArray<WorkloadName>): string => {
  const header = [
    "workload".padEnd(14),
    "client".padEnd(22),
    "ops/s".padStart(9),
    "x nzc".padStart(6),
    "CPU us/op".padStart(10),
    "(min-max)".padStart(15),
    "x nzc".padStart(6),
    "RSS MiB".padStart(8),
    "x nzc".padStart(6),
    "p50 us".padStart(8),
    "p99 us".padStart(8)
  ].join(" ")
  const lines = [header, "-".repeat(header.length)]
  for (const workload of workloads) {
    const base = find(aggs, workload, baseline)
    const rows = aggs.filter((a) => a.workload === workload)
    rows.forEach((a, i) => {
      lines.push([
        (i === 0 ? workload : "").padEnd(14),
        a.client.padEnd(22),
        int(a.opsPerSec).padStart(9),
        ratio(a.opsPerSec, base?.opsPerSec).padStart(6),
        fixed(a.cpuUsPerOp).padStart(10),
        `(${fixed(a.cpuUsPerOpMin)}-${fixed(a.cpuUsPerOpMax)})`.padStart(15),
        ratio(a.cpuUsPerOp, base?.cpuUsPerOp).padStart(6),
        a.maxRssMiB.toFixed(1).padStart(8),
        ratio(a.maxRssMiB, base?.maxRssMiB).padStart(6),
        (a.p50Us === undefined ? "" : int(a.p50Us)).padStart(8),
        (a.p99Us === undefined ? "" : int(a.p99Us)).padStart(8)
      ].join(" "))
    })
  }
  return lines.join("\n")
}

/** One of effect-zk's performance targets, checked on the medians. */
export interface TargetCheck {
  readonly client: ClientName
  readonly workload: WorkloadName
  readonly target: string
  readonly value: number
  readonly limit: number
  readonly met: boolean
}

const peers: ReadonlyArray<ClientName> = ["node-zookeeper-client", "zookeeper"]

/** Client CPU per op (per round for watch-rtt) as a fraction of node-zookeeper-client's. */
const cpuTargets: Partial<Record<WorkloadName, number>> = {
  "get-pipe": 0.5,
  "create-pipe": 0.5,
  "set-pipe": 0.5,
  "children-big": 0.3,
  "watch-rtt": 0.7
}

/** effect-zk's performance targets for each of its variants present (CPU and RSS against nzc, throughput and p50 against the best peer). */
export const evaluateTargets = (aggs: ReadonlyArray<Aggregate>): Array<TargetCheck> => {
  const out: Array<TargetCheck> = []
  for (const a of aggs) {
    if (!a.client.startsWith("effect-zk")) continue
    const base = find(aggs, a.workload, baseline)
    const peerAggs = peers.flatMap((p) => find(aggs, a.workload, p) ?? [])
    const add = (target: string, value: number, limit: number, lowerIsBetter: boolean) =>
      out.push({ client: a.client, workload: a.workload, target, value, limit, met: lowerIsBetter ? value <= limit : value >= limit })
    if (base !== undefined) {
      const cpuFactor = cpuTargets[a.workload]
      if (cpuFactor !== undefined) add(`CPU us/op <= ${cpuFactor} x nzc`, a.cpuUsPerOp, cpuFactor * base.cpuUsPerOp, true)
      add("peak RSS MiB <= nzc", a.maxRssMiB, base.maxRssMiB, true)
    }
    if (peerAggs.length > 0) {
      if (a.workload === "get-pipe" || a.workload === "create-pipe" || a.workload === "set-pipe") {
        add("ops/s >= best peer", a.opsPerSec, Math.max(...peerAggs.map((p) => p.opsPerSec)), false)
      }
      if ((a.workload === "get-seq" || a.workload === "watch-rtt") && a.p50Us !== undefined) {
        const best = Math.min(...peerAggs.flatMap((p) => (p.p50Us === undefined ? [] : [p.p50Us])))
        add("p50 us <= best peer", a.p50Us, best, true)
      }
    }
  }
  return out
}

export const renderTargets = (checks: ReadonlyArray<TargetCheck>): string =>
  checks
    .map((c) =>
      `${c.met ? "met    " : "MISSED "} ${c.client.padEnd(18)} ${c.workload.padEnd(14)} ${c.target.padEnd(26)} ${fixed(c.value).padStart(8)} vs ${
        fixed(c.limit).padStart(8)
      }`
    )
    .join("\n")

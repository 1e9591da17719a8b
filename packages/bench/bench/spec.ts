/**
 * What the parent and the per-run child processes agree on: the workloads, their sizes, the data
 * layout on the server, and the shape of one run's result. No `effect` import here: the peer
 * clients' child processes load this module, and their memory must be their own.
 */

/** The clients run by default, in the order of every round (A B C A B C ...). */
export const defaultClients = ["effect-zk", "floor", "node-zookeeper-client", "zookeeper"] as const

/**
 * Every client the harness knows by name. `effect-zk-workers` is effect-zk with pipelining
 * written as a fixed pool of 256 looping fibers instead of `Effect.forEach({ concurrency: 256 })`:
 * an A/B of the runtime's share, opt-in with `--clients`.
 */
export const allClients = [...defaultClients, "effect-zk-workers"] as const
export type KnownClient = (typeof allClients)[number]

/** A known client, or an older commit of effect-zk built by `--baseline` (baseline.ts). */
export type ClientName = KnownClient | `effect-zk@${string}`

/** The floor (floor.ts): every client is also reported as a ratio to it, in the same run. */
export const floor: ClientName = "floor"

/** The most used Node client: the other ratio. */
export const nzc: ClientName = "node-zookeeper-client"

export const workloadNames = [
  "get-seq",
  "get-pipe",
  "create-pipe",
  "set-pipe",
  "watch-rtt",
  "children-big",
  "multi-session",
  "watch-many",
  "sessions-many"
] as const
export type WorkloadName = (typeof workloadNames)[number]

/**
 * Workloads that measure memory held at scale (heap after GC per item) rather than CPU per
 * request: `watch-many` holds `count` one-shot data watches on distinct nodes, `sessions-many`
 * holds `count` idle sessions. Their children run with --expose-gc.
 */
export const memoryWorkloads: ReadonlyArray<WorkloadName> = ["watch-many", "sessions-many"]

export const isKnownClient = (s: string): s is KnownClient => allClients.some((c) => c === s)
export const isClientName = (s: string): s is ClientName => isKnownClient(s) || /^effect-zk@[0-9a-f]{7,40}$/.test(s)
export const isWorkloadName = (s: string): s is WorkloadName => workloadNames.some((w) => w === s)

/** How much cheaper (as a fraction) the last windows must be to count as still warming up. */
export const steadyTolerance = 0.05

/** The sizes of one workload; `ops` is what the CPU per op is divided by. */
export interface Sizes {
  /** Requests (or rounds) in the timed part. */
  readonly count: number
  /**
   * The most untimed requests (or rounds) of the same kind run before the timed part. Warm-up
   * stops earlier once the client is in steady state: it runs in windows of `warmupWindow`
   * requests, and stops when the CPU per request of the last three windows is no longer below
   * that of the three before (within `steadyTolerance`); the count each client needed is
   * reported. Short fixed warm-ups measured the JIT: on 2026-11-29, perf put 29% of effect-zk's
   * timed CPU on set-pipe (2,000 warm-up sets) in V8's compiler, and node-zookeeper-client's first
   * 1,000 watch rounds cost 580 us each against 200-280 us after 4,000.
   */
  readonly warmup: number
  readonly warmupWindow: number
  /** Requests in flight (pipelined workloads), per session. */
  readonly window: number
  /** Sessions used by the timed part. */
  readonly sessions: number
  /** Requests per counted op: create-pipe sends a create and a delete per node. */
  readonly requestsPerCount: number
  /** Children of the node read by children-big. */
  readonly children: number
}

const full: Record<WorkloadName, Sizes> = {
  "get-seq": { count: 5_000, warmup: 10_000, warmupWindow: 500, window: 1, sessions: 1, requestsPerCount: 1, children: 0 },
  "get-pipe": { count: 100_000, warmup: 60_000, warmupWindow: 4_000, window: 256, sessions: 1, requestsPerCount: 1, children: 0 },
  "create-pipe": { count: 20_000, warmup: 15_000, warmupWindow: 1_000, window: 256, sessions: 1, requestsPerCount: 2, children: 0 },
  "set-pipe": { count: 20_000, warmup: 30_000, warmupWindow: 2_000, window: 256, sessions: 1, requestsPerCount: 1, children: 0 },
  "watch-rtt": { count: 1_000, warmup: 20_000, warmupWindow: 500, window: 1, sessions: 2, requestsPerCount: 1, children: 0 },
  "children-big": { count: 200, warmup: 200, warmupWindow: 10, window: 1, sessions: 1, requestsPerCount: 1, children: 10_000 },
  "multi-session": { count: 100_000, warmup: 60_000, warmupWindow: 4_000, window: 256, sessions: 4, requestsPerCount: 1, children: 0 },
  // Memory workloads: `count` watches held (issued 256 at a time) or sessions held; no warm-up.
  "watch-many": { count: 50_000, warmup: 0, warmupWindow: 1, window: 256, sessions: 1, requestsPerCount: 1, children: 0 },
  "sessions-many": { count: 200, warmup: 0, warmupWindow: 1, window: 1, sessions: 1, requestsPerCount: 1, children: 0 }
}

/** Scaled down; warm-ups still have room for ten windows, so steady state can be detected. */
const quick: Record<WorkloadName, Sizes> = {
  "get-seq": { ...full["get-seq"], count: 500, warmup: 500, warmupWindow: 50 },
  "get-pipe": { ...full["get-pipe"], count: 5_000, warmup: 5_000, warmupWindow: 500 },
  "create-pipe": { ...full["create-pipe"], count: 1_000, warmup: 1_000, warmupWindow: 100 },
  "set-pipe": { ...full["set-pipe"], count: 1_000, warmup: 1_000, warmupWindow: 100 },
  "watch-rtt": { ...full["watch-rtt"], count: 100, warmup: 300, warmupWindow: 25 },
  "children-big": { ...full["children-big"], count: 20, warmup: 20, warmupWindow: 2, children: 2_000 },
  "multi-session": { ...full["multi-session"], count: 8_000, warmup: 5_000, warmupWindow: 500 },
  "watch-many": { ...full["watch-many"], count: 5_000 },
  "sessions-many": { ...full["sessions-many"], count: 100 }
}

export const sizesOf = (workload: WorkloadName, isQuick: boolean): Sizes => (isQuick ? quick : full)[workload]

/** The nodes the parent prepares once per workload; children never modify them, except `setNode`. */
export const paths = {
  root: "/bench",
  /** 100 bytes, read by get-seq, get-pipe and multi-session. */
  getNode: "/bench/data-100",
  /** 1 KiB, overwritten by set-pipe. */
  setNode: "/bench/data-1k",
  /** Watched by one session and changed by the other in watch-rtt. */
  watchNode: "/bench/watched",
  /** The parent of `Sizes.children` children (children-big). */
  bigNode: "/bench/big",
  /** Each create-pipe run creates its own parent below this one. */
  createRoot: "/bench/create",
  /** The parent of the nodes watched by watch-many, one watch per node (`childName`). */
  manyNode: "/bench/many"
} as const

export const getBytes = 100
export const setBytes = 1024
export const createBytes = 32

/** Deterministic content, so a reply can be checked byte for byte. */
export const pattern = (length: number, seed: number): Uint8Array => {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + 13) & 0xff
  return out
}

/** The names of the children of `paths.bigNode`: like sequential nodes, `item-0000000042`. */
export const childName = (i: number): string => `item-${String(i).padStart(10, "0")}`

/** Sessions sessions-many connects (and keeps) before it reads the heap, the first one included. */
export const warmSessions = (count: number): number => Math.max(1, Math.round(count / 10))

/** Where watch-many's `i`th watch is set. */
export const manyPath = (i: number): string => `${paths.manyNode}/${childName(i)}`

/** One child process's assignment, passed as JSON in argv. */
export interface RunSpec {
  readonly client: ClientName
  readonly workload: WorkloadName
  readonly round: number
  readonly servers: string
  readonly sizes: Sizes
}

export interface LatencySummary {
  readonly p50: number
  readonly p99: number
  readonly mean: number
  readonly min: number
  readonly max: number
}

/** Everything one child measured; the JSON file keeps every one of these. */
export interface RunResult {
  readonly client: ClientName
  readonly workload: WorkloadName
  readonly round: number
  /** Requests (or watch rounds) in the timed part. */
  readonly ops: number
  readonly elapsedMs: number
  readonly opsPerSec: number
  /** user + sys CPU of the whole child process over the timed part only. */
  readonly cpuUserUs: number
  readonly cpuSysUs: number
  readonly cpuUsPerOp: number
  /** Peak resident set of the child process over its whole life (load, connect, warm-up, timed part). */
  readonly maxRssMiB: number
  /** RSS and V8 heap right after the timed part. */
  readonly rssAfterMiB: number
  readonly heapUsedAfterMiB: number
  /** Per-op (get-seq, children-big) or per-round (watch-rtt) latencies in µs. */
  readonly latencyUs?: LatencySummary | undefined
  readonly latenciesUs?: ReadonlyArray<number> | undefined
  /** What the run verified (counts, bytes); a failed check fails the run instead. */
  readonly checks: Readonly<Record<string, number | string | boolean>>
  /** Who loaded what, e.g. the effect-zk pipelining style. */
  readonly notes?: string | undefined
  /** How the warm-up went (workloads with one). */
  readonly warmup?: WarmupReport | undefined
  /** What the memory workloads hold (watch-many, sessions-many). */
  readonly memory?: MemoryReport | undefined
}

/** The warm-up of one run: how many requests it took to reach steady state. */
export interface WarmupReport {
  /** Untimed requests (or rounds) run before the timed part. */
  readonly ops: number
  /** False when the warm-up stopped at its maximum without settling. */
  readonly steady: boolean
  /** CPU us per request of each window, in order. */
  readonly windowsUsPerOp: ReadonlyArray<number>
  /** V8's optimized code (`code_and_metadata_size`) after each window. */
  readonly windowsCodeBytes: ReadonlyArray<number>
}

/** The heap (after GC) and RSS that holding `items` watches or sessions costs. */
export interface MemoryReport {
  readonly items: number
  readonly heapBeforeBytes: number
  readonly heapAfterBytes: number
  readonly heapPerItemBytes: number
  readonly rssBeforeBytes: number
  readonly rssAfterBytes: number
  readonly rssPerItemBytes: number
}

/** The line prefix that carries a child's result on stdout. */
export const resultPrefix = "BENCH-RESULT "

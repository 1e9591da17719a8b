/**
 * The cluster benchmark: shard failover after a runner is SIGKILLed, and runner start-up, with
 * shards coordinated by ZooKeeper (`ZkCluster.layer`, T = 9 s) and by effect's `SqlRunnerStorage`
 * on PostgreSQL at its defaults (`shardLockExpiration` 35 s), in the same run. A script, never a
 * test.
 *
 *   pnpm bench cluster [--rounds N]     # default 3 rounds per storage, alternating
 *
 * Each round, on a fresh namespace (a ZooKeeper path, a table prefix):
 * - start-up: one runner alone, from spawning its process until it holds all 300 shards;
 * - join: two more runners, each from its module load until it holds its first shard (the first runner
 *   hands shards over gracefully, stopping their entities); then wait until the three hold all
 *   shards between them and nothing has changed for 5 s;
 * - failover after SIGKILL: kill the first runner; the time until every shard it held is held by
 *   a survivor. Its connections close with it, so PostgreSQL drops its advisory locks at once;
 * - failover after SIGSTOP: once the two left have settled, freeze one (a hung process or a lost
 *   host: connections stay open and silent); the time until the last runner holds its shards.
 * The times come from the runners' own lines (each prints its held shards when they change).
 *
 * Needs ZooKeeper (scripts/toolchain.sh) and installs Debian's `postgresql` on first use.
 * Prints a Markdown table and writes the raw figures to bench-results/cluster-<date>.json.
 */
import { NodeRuntime } from "@effect/platform-node"
import { ZooKeeperServer } from "@effect-zk/server"
import { Effect, References, type Scope } from "effect"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { freePort, type Proc, start } from "../../../cluster/test/helpers/processes.ts"
import { postgres } from "./postgres.ts"
import { writeResults } from "../results.ts"

const here = path.dirname(fileURLToPath(import.meta.url))
const runnerScript = path.join(here, "runner.ts")
const roundsArg = process.argv.indexOf("--rounds")
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 3
const SHARDS = 300
/** Longer than either storage's `refreshAssignmentsInterval` (1 s and 3 s). */
const SETTLED_MS = 5000

type Storage = "zk" | "sql"

interface Round {
  readonly storage: Storage
  readonly startupMs: number
  /** Of the start-up: until the runner's module ran (node, TypeScript stripping, imports). */
  readonly bootMs: number
  readonly joinMs: ReadonlyArray<number>
  /** Failover after SIGKILL (of one runner of three). */
  readonly killMs: number
  /** Failover after SIGSTOP (of one runner of the two left). */
  readonly freezeMs: number
}

interface Runner {
  readonly proc: Proc
  readonly spawnAt: number
}

const shardLines = (r: Runner) => r.proc.lines.filter((l) => l.event === "shards")
const bootAt = (r: Runner): number => r.proc.lines.find((l) => l.event === "boot")!.at
const held = (r: Runner): ReadonlyArray<string> => shardLines(r).at(-1)?.held ?? []

/** Polls `condition` every 50 ms; fails after `timeoutMs` with what the runners said last. */
const waitFor = (condition: () => boolean, timeoutMs: number, what: string, runners: ReadonlyArray<Runner>) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    while (!condition()) {
      if (Date.now() > deadline) {
        const tails = runners.map((r) => `${r.proc.name}: holds ${held(r).length}\n${r.proc.tail()}`).join("\n")
        return yield* Effect.fail(new Error(`timed out waiting for ${what}\n${tails}`))
      }
      yield* Effect.sleep("50 millis")
    }
  })

/**
 * Waits until `runners` hold every shard between them, each some, with no change for
 * `SETTLED_MS`: a runner still handing shards over would time the handoff, not the failover.
 */
const settled = (runners: ReadonlyArray<Runner>) => {
  const lastChange = () => Math.max(...runners.map((r) => shardLines(r).at(-1)?.at ?? Infinity))
  return waitFor(
    () =>
      runners.every((r) => held(r).length > 0) && runners.reduce((sum, r) => sum + held(r).length, 0) === SHARDS &&
      Date.now() - lastChange() > SETTLED_MS,
    180_000,
    `${runners.length} runners holding every shard between them`,
    runners
  )
}

/** Fails `victim` with `fail`; the time until every shard it held is held by a survivor. */
const failover = (victim: Runner, survivors: ReadonlyArray<Runner>, fail: () => Effect.Effect<void>) =>
  Effect.gen(function*() {
    const lost = held(victim)
    const failedAt = Date.now()
    yield* fail()
    const survivorHolds = (shard: string) => survivors.some((r) => held(r).includes(shard))
    yield* waitFor(() => lost.every(survivorHolds), 180_000, "the survivors to take the failed runner's shards", [victim, ...survivors])
    // Each shard moved when a survivor first reported it after the failure.
    const movedAt = (shard: string) =>
      Math.min(...survivors.map((r) => shardLines(r).find((l) => l.at >= failedAt && l.held!.includes(shard))?.at ?? Infinity))
    return Math.max(...lost.map(movedAt)) - failedAt
  })

const round = (storage: Storage, n: number, backends: { readonly zk: string; readonly pg: string }) =>
  Effect.gen(function*() {
    const namespace = storage === "zk"
      ? { ZK_SERVERS: backends.zk, CLUSTER_PATH: `/bench-cluster/round-${n}` }
      : { PG_URL: backends.pg, PREFIX: `round_${n}` }
    const runners: Array<Runner> = []
    const spawn = (name: string): Effect.Effect<Runner, never, Scope.Scope> =>
      Effect.gen(function*() {
        const port = yield* freePort
        const spawnAt = Date.now()
        const proc = yield* start(`${storage}-${name}`, runnerScript, { STORAGE: storage, PORT: String(port), ...namespace })
        const runner = { proc, spawnAt }
        runners.push(runner)
        return runner
      })

    const first = yield* spawn("a")
    yield* waitFor(() => held(first).length === SHARDS, 120_000, "the first runner to hold every shard", runners)
    const startupMs = shardLines(first).find((l) => l.held!.length === SHARDS)!.at - first.spawnAt
    const bootMs = bootAt(first) - first.spawnAt

    const joiners = [yield* spawn("b"), yield* spawn("c")]
    const [b, c] = joiners as [Runner, Runner]
    yield* settled(runners)
    // From the joiner's module load: node's own start-up swings with the machine's load.
    const joinMs = joiners.map((r) => shardLines(r).find((l) => l.held!.length > 0)!.at - bootAt(r))

    // A killed process: its connections close at once.
    const killMs = yield* failover(first, joiners, () => first.proc.kill("SIGKILL"))
    yield* settled(joiners)
    // A frozen one (a hung process, or a lost host): its connections stay open and silent.
    const freezeMs = yield* failover(b, [c], () => Effect.sync(() => b.proc.child.kill("SIGSTOP")))

    const result: Round = { storage, startupMs, bootMs, joinMs, killMs, freezeMs }
    console.error(`cluster bench: ${storage} round ${n}: ${JSON.stringify(result)}`)
    return result
  }).pipe(Effect.scoped)

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const seconds = (ms: number) => (ms / 1000).toFixed(1)

const program = Effect.gen(function*() {
  const server = yield* ZooKeeperServer.scoped({})
  const pg = yield* postgres(yield* freePort)
  const backends = { zk: yield* server.address, pg: pg.url }
  // Alternating storages, so machine noise spreads over both.
  const results: Array<Round> = []
  for (let n = 1; n <= ROUNDS; n++) {
    for (const storage of ["zk", "sql"] as const) results.push(yield* round(storage, n, backends))
  }
  const row = (storage: Storage, label: string) => {
    const rs = results.filter((r) => r.storage === storage)
    const cell = (xs: ReadonlyArray<number>) => `${seconds(median(xs))} (${xs.map(seconds).join(", ")})`
    const startup = median(rs.map((r) => r.startupMs))
    const cluster = median(rs.map((r) => r.startupMs - r.bootMs))
    return `| ${label} | ${cell(rs.map((r) => r.killMs))} | ${cell(rs.map((r) => r.freezeMs))} | ${seconds(startup)} (${seconds(cluster)}) | ${
      seconds(median(rs.flatMap((r) => r.joinMs)))
    } |`
  }
  const ratio = (f: (r: Round) => number) =>
    (median(results.filter((r) => r.storage === "sql").map(f)) / median(results.filter((r) => r.storage === "zk").map(f))).toFixed(1)
  const table = [
    `cluster bench (${new Date().toISOString()}, load ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}, ${ROUNDS} rounds, 3 runners, ${SHARDS} shards; ${pg.version})`,
    "| runner storage | failover after SIGKILL, s: median (rounds) | failover after SIGSTOP, s | start-up alone until all shards held, s: from spawn (from module load) | join: from module load until first shard, s |",
    "|---|---|---|---|---|",
    row("zk", "ZkRunnerStorage (ZkCluster.layer, T = 9 s, ZooKeeper tickTime 2 s)"),
    row("sql", "SqlRunnerStorage on PostgreSQL (defaults: expiration 35 s)"),
    "",
    `failover, SQL / ZooKeeper: ${ratio((r) => r.killMs)}x after SIGKILL, ${ratio((r) => r.freezeMs)}x after SIGSTOP`
  ].join("\n")
  console.log(table)
  writeResults("cluster", results)
}).pipe(Effect.scoped, Effect.provideService(References.MinimumLogLevel, "Error"))

// runMain: Ctrl-C still stops the runners, ZooKeeper and PostgreSQL and deletes their files.
NodeRuntime.runMain(program)

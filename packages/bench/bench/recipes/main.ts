/**
 * The recipes benchmark: effect-zk's Lock and Leader against Curator 5 (JVM) and kazoo 2.8
 * (Python) in the same run, on one fresh local ZooKeeper server. A script, never a test.
 *
 *   node --conditions=@effect-zk/source --disable-warning=ExperimentalWarning packages/bench/bench/recipes/main.ts [--quick]
 *
 * Workloads, each client in turn on its own path, in rounds whose client order rotates; the
 * first round only warms up (the server's JIT, each client's, the helpers' paths), so the client
 * that happens to go first does not pay for a cold server:
 * - uncontended acquire + release: latency p50/p99, and round trips per acquire + release
 *   counted by the server (the session's `recved` in `cons`, before and after);
 * - handoffs: 8 sessions take one lock in turn as fast as they can, handoffs per second;
 * - failover: a leader's session closes; the time until the next contender leads (Curator:
 *   LeaderLatch; kazoo: its Lock, which its Election uses; ours: Leader.run).
 *
 * Prints a Markdown table and writes the raw figures to bench-results/recipes-<date>.json.
 */
import { ZooKeeper, type ZooKeeperService } from "@effect-zk/core"
import { NodeZooKeeper } from "@effect-zk/node"
import { FourLetterWord, ZooKeeperServer } from "@effect-zk/server"
import { Context, Deferred, Effect, Fiber, Layer, Option, References, type Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { type Anchor, start, startJava } from "../../../recipes/test/helpers/anchors.ts"
import { Leader, Lock } from "@effect-zk/recipes"
import { writeResults } from "../results.ts"

const here = path.dirname(fileURLToPath(import.meta.url))
const quick = process.argv.includes("--quick")
const N = quick ? 100 : 500
const WARMUP = quick ? 50 : 200
/**
 * Acquire + release cycles of each client in the warm-up round. Our lock's latency on a fresh
 * server kept falling until about 7,700 cycles (from 1.4 ms to 0.43 ms, in steps, measured
 * 2026-12-07): the server's JIT and the clients' warm up over thousands of requests, not
 * hundreds, and a short warm-up compared clients on a half-warm server.
 */
const WARMUP_ROUND = quick ? 300 : 5000
const HANDOFF_MS = quick ? 2000 : 5000
const FAILOVERS = quick ? 3 : 7
const CONTENDERS = 8
/** Rounds of the uncontended and handoff workloads; round 0 is a warm-up and is not counted. */
const ROUNDS = quick ? 2 : 3
const WARMUP_HANDOFF_MS = quick ? 500 : 1000

const connect = (servers: string): Effect.Effect<ZooKeeperService, unknown, Scope.Scope> =>
  Layer.build(NodeZooKeeper.layer({ servers, sessionTimeout: "10 seconds" })).pipe(Effect.map((c) => Context.get(c, ZooKeeper)))

const quantile = (xs: ReadonlyArray<number>, q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN
}
const median = (xs: ReadonlyArray<number>) => quantile(xs, 0.5)

/** Requests the server received from a session so far (`recved` in `cons`). */
const received = (port: number, sessionHex: string) =>
  Effect.map(FourLetterWord.cons(port), (cs) => {
    const c = cs.find((x) => Option.getOrUndefined(x.sessionId) === sessionHex)
    return Number(c?.fields.get("recved") ?? NaN)
  })

interface Figures {
  readonly p50us: number
  readonly p99us: number
  readonly roundTrips: number
  readonly handoffsPerSec: number
  readonly failoverMsMedian: number
  readonly failoverMs: ReadonlyArray<number>
}

/** One client's side of the three workloads. */
interface Contender {
  readonly uncontended: (warmup: number) => Effect.Effect<{ readonly lat: ReadonlyArray<number>; readonly roundTrips: number }, unknown, Scope.Scope>
  readonly handoffs: (millis: number) => Effect.Effect<number, unknown, Scope.Scope>
  readonly failover: Effect.Effect<ReadonlyArray<number>, unknown, Scope.Scope>
}

const ours = (servers: string, port: number): Contender => ({
  uncontended: (warmup) => Effect.scoped(Effect.gen(function*() {
    const zk = yield* connect(servers)
    const once = Effect.scoped(Lock.acquire("/bench/ours/u")).pipe(Effect.provideService(ZooKeeper, zk))
    for (let i = 0; i < warmup; i++) yield* once
    const hex = (yield* zk.clientId).hex
    const before = yield* received(port, hex)
    const lat: Array<number> = []
    for (let i = 0; i < N; i++) {
      const t = performance.now()
      yield* once
      lat.push((performance.now() - t) * 1000)
    }
    return { lat, roundTrips: ((yield* received(port, hex)) - before) / N }
  })),
  handoffs: (millis) => Effect.scoped(Effect.gen(function*() {
    const sessions = yield* Effect.all(Array.from({ length: CONTENDERS }, () => connect(servers)))
    let count = 0
    const started = performance.now()
    const deadline = started + millis
    yield* Effect.forEach(sessions, (s) =>
      Effect.gen(function*() {
        while (performance.now() < deadline) {
          yield* Lock.withLock("/bench/ours/h", Effect.sync(() => count++)).pipe(Effect.provideService(ZooKeeper, s))
        }
      }), { concurrency: "unbounded" })
    return count / ((performance.now() - started) / 1000)
  })),
  // The leader's session closes; the time until the other contender's work starts.
  failover: Effect.gen(function*() {
    const failoverMs: Array<number> = []
    for (let i = 0; i < FAILOVERS; i++) {
      yield* Effect.scoped(Effect.gen(function*() {
        const a = yield* connect(servers)
        const b = yield* connect(servers)
        const aLeads = yield* Deferred.make<void>()
        const bLeads = yield* Deferred.make<number>()
        const contend = (zk: ZooKeeperService, id: string, leads: Effect.Effect<unknown>) =>
          Effect.forkScoped(Effect.ignore(Leader.run("/bench/ours/f", Effect.andThen(leads, Effect.never), { id }).pipe(Effect.provideService(ZooKeeper, zk))))
        yield* contend(a, "a", Deferred.succeed(aLeads, undefined))
        yield* Deferred.await(aLeads)
        const fb = yield* contend(b, "b", Effect.suspend(() => Deferred.succeed(bLeads, performance.now())))
        while ((yield* a.children("/bench/ours/f")).children.length < 2) yield* Effect.sleep("1 millis")
        const t = performance.now()
        yield* a.close
        failoverMs.push((yield* Deferred.await(bLeads)) - t)
        yield* Fiber.interrupt(fb)
      }))
    }
    return failoverMs
  })
})

/** The same workloads through a helper process (Curator or kazoo). */
const theirs = (helper: Anchor, name: string, port: number): Contender => ({
  uncontended: (warmup) => Effect.gen(function*() {
    yield* helper.send("session")
    const hex = (yield* helper.next(/^session (0x[0-9a-f]+)$/))[1]!
    yield* helper.send(`uncontended /bench/${name}/u ${warmup} ${N}`)
    yield* helper.next(/^warm$/, 120_000)
    const before = yield* received(port, hex)
    yield* helper.send("go")
    const lat = (yield* helper.next(/^lat (.*)$/, 120_000))[1]!.split(",").map(Number)
    // The helper's session may ping meanwhile: a few requests over N iterations.
    return { lat, roundTrips: ((yield* received(port, hex)) - before) / N }
  }),
  handoffs: (millis) => Effect.gen(function*() {
    yield* helper.send(`handoffs /bench/${name}/h ${CONTENDERS} ${millis}`)
    const h = yield* helper.next(/^handoffs (\d+) (\d+)$/, 120_000)
    return Number(h[1]) / (Number(h[2]) / 1000)
  }),
  failover: Effect.gen(function*() {
    yield* helper.send(`failover /bench/${name}/f ${FAILOVERS}`)
    return (yield* helper.next(/^failover (.*)$/, 120_000))[1]!.split(",").map((us) => Number(us) / 1000)
  })
})

/** A run directory on tmpfs when there is one, so fsync does not dominate the write latency. */
const tmpfsRunDir = (): string | undefined => {
  try {
    fs.accessSync("/dev/shm", fs.constants.W_OK)
    return path.join("/dev/shm", `effect-zk-recipes-bench-${process.pid}`)
  } catch {
    return undefined
  }
}

const program = Effect.gen(function*() {
  const runDir = tmpfsRunDir()
  const server = yield* ZooKeeperServer.scoped(runDir === undefined ? {} : { runDir })
  const servers = yield* server.address
  const clients: Record<string, Contender> = {
    "effect-zk": ours(servers, server.port),
    "curator 5.4": theirs(yield* startJava(path.join(here, "BenchCurator.java"), "BenchCurator", [servers], []), "curator", server.port),
    "kazoo 2.8": theirs(yield* start("/usr/bin/python3", [path.join(here, "bench_kazoo.py"), servers], "kazoo"), "kazoo", server.port)
  }
  // Workload by workload, every client in turn and in rotating order, so machine noise spreads
  // over all of them.
  const names = Object.keys(clients)
  const inRound = (round: number) => names.map((_, i) => names[(i + round) % names.length]!)
  const results: Record<string, Figures> = {}
  const lats: Record<string, Array<number>> = {}
  const trips: Record<string, Array<number>> = {}
  const ho: Record<string, Array<number>> = {}
  const fo: Record<string, ReadonlyArray<number>> = {}
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of inRound(round)) {
      const { lat, roundTrips } = yield* clients[name]!.uncontended(round === 0 ? WARMUP_ROUND : WARMUP)
      if (round === 0) continue
      ;(lats[name] ??= []).push(...lat)
      ;(trips[name] ??= []).push(roundTrips)
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of inRound(round)) {
      const rate = yield* clients[name]!.handoffs(round === 0 ? WARMUP_HANDOFF_MS : HANDOFF_MS)
      if (round > 0) (ho[name] ??= []).push(rate)
    }
  }
  for (const [name, c] of Object.entries(clients)) fo[name] = yield* c.failover
  const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length
  for (const name of names) {
    const lat = lats[name]!
    results[name] = {
      p50us: median(lat),
      p99us: quantile(lat, 0.99),
      roundTrips: mean(trips[name]!),
      handoffsPerSec: mean(ho[name]!),
      failoverMsMedian: median(fo[name]!),
      failoverMs: fo[name]!
    }
  }
  const rows = Object.entries(results).map(([name, f]) =>
    `| ${name} | ${(f.p50us / 1000).toFixed(2)} | ${(f.p99us / 1000).toFixed(2)} | ${f.roundTrips.toFixed(2)} | ${f.handoffsPerSec.toFixed(0)} | ${f.failoverMsMedian.toFixed(1)} |`)
  const table = [
    `recipes bench (${new Date().toISOString()}, ${quick ? "quick" : "full"}: ${ROUNDS - 1} rounds after a warm-up round (${WARMUP_ROUND} uncontended cycles per client, handoffs for ${WARMUP_HANDOFF_MS} ms), each round ${WARMUP} + ${N} uncontended cycles and ${CONTENDERS} contenders for ${HANDOFF_MS} ms, ${FAILOVERS} failovers; load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")})`,
    "| client | uncontended p50 ms | p99 ms | round trips / acquire+release | handoffs/s (8 contenders) | leader failover ms (median) |",
    "|---|---|---|---|---|---|",
    ...rows
  ].join("\n")
  console.log(table)
  writeResults("recipes", results)
}).pipe(Effect.scoped, Effect.provideService(References.MinimumLogLevel, "Error"))

Effect.runPromise(program).catch((e) => {
  console.error(e)
  process.exitCode = 1
})

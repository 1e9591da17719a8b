/**
 * Failover benchmark (a script, not a test): how long a session is without a server when things
 * break, against real servers. Median of 5 each (BENCH_RUNS overrides).
 *
 *   cd packages/node && pnpm bench:failover
 *
 * (a) A 3-member ensemble (tickTime 2000), a client with every member in its connect string and
 *     a 10 s session timeout. The member the session is on is stopped (SIGTERM, as
 *     `ensemble.stop` does); measured from the moment `stop` is called to the client's
 *     `Connected` event on another member (same session). When that member is the leader the
 *     survivors also drop their clients and elect a new leader first, so its role is shown per
 *     run. Then the same with the leader stopped, wherever the client is.
 * (b) A standalone server behind a FaultProxy, a 4 s session timeout. The proxy turns into a
 *     blackhole right after a reply (no bytes, no FIN: a partition); measured from then to the
 *     client's `Expired` event (client-side expiry), also as a ratio to the negotiated timeout.
 *
 * Set-up and teardown (restarting the stopped member, new sessions) are never counted.
 */
import { type SessionEvent, ZooKeeper, type ZooKeeperService } from "@effect-zk/core"
import { FaultProxy, NodeZooKeeper } from "@effect-zk/node"
import { FourLetterWord, ZooKeeperEnsemble, ZooKeeperServer } from "@effect-zk/server"
import { Context, Deferred, type Duration, Effect, Layer, Option, References, Stream } from "effect"
import * as os from "node:os"

const RUNS = Number(process.env["BENCH_RUNS"] ?? 5)

const median = (samples: ReadonlyArray<number>): number => {
  const sorted = [...samples].sort((a, b) => a - b)
  const mid = sorted.length / 2
  return sorted.length % 2 === 1
    ? (sorted[Math.floor(mid)] ?? Number.NaN)
    : ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2
}

const ms = (n: number) => `${Math.round(n)} ms`

const summary = (label: string, samples: ReadonlyArray<number>, notes: ReadonlyArray<string> = []): string => {
  const sorted = [...samples].sort((a, b) => a - b)
  return [
    label.padEnd(44),
    `median ${ms(median(samples)).padStart(8)}`,
    `min ${ms(sorted[0] ?? Number.NaN).padStart(8)}`,
    `max ${ms(sorted[sorted.length - 1] ?? Number.NaN).padStart(8)}`,
    `(${samples.map((s, i) => `${ms(s)}${notes[i] === undefined ? "" : ` ${notes[i]}`}`).join(", ")})`
  ].join("  ")
}

const connect = (servers: string, sessionTimeout: Duration.Input) =>
  Layer.build(NodeZooKeeper.layer({ servers, sessionTimeout })).pipe(Effect.map((context) => Context.get(context, ZooKeeper)))

/** Resolves when the session reaches `state`, with the wall-clock time it was seen. */
const whenState = (zk: ZooKeeperService, state: SessionEvent["state"]) =>
  Effect.gen(function*() {
    const reached = yield* Deferred.make<number>()
    yield* Effect.forkScoped(
      Stream.runForEach(zk.sessionEvents, (event) =>
        event.state === state ? Deferred.succeed(reached, performance.now()) : Effect.void)
    , { startImmediately: true })
    return Deferred.await(reached).pipe(Effect.timeout("60 seconds"))
  })

/** Index of the member whose `cons` lists the session. */
const memberOf = (ensemble: ZooKeeperEnsemble.Ensemble, zk: ZooKeeperService) =>
  Effect.gen(function*() {
    const hex = (yield* zk.clientId).hex
    for (let attempt = 0; attempt < 50; attempt++) {
      for (const [i, member] of ensemble.members.entries()) {
        const connections = yield* Effect.orElseSucceed(FourLetterWord.cons(member.port), () => [])
        if (connections.some((c) => Option.getOrUndefined(c.sessionId) === hex)) return i
      }
      yield* Effect.sleep("20 millis")
    }
    return yield* Effect.fail(new Error(`session ${hex} not listed by any member`))
  })

/** One failover: stop a member (chosen by `pick`), time until `Connected` elsewhere. */
const failover = (ensemble: ZooKeeperEnsemble.Ensemble, pick: "connected" | "leader") =>
  Effect.scoped(Effect.gen(function*() {
    const zk = yield* connect(ensemble.connectString, "10 seconds")
    const before = (yield* zk.clientId).sessionId
    const leader = Option.getOrThrow(yield* ensemble.leader)
    const on = yield* memberOf(ensemble, zk)
    const victim = pick === "leader" ? leader : on
    const disconnected = yield* whenState(zk, "Disconnected")
    const connected = yield* whenState(zk, "Connected")
    const t0 = performance.now()
    yield* ensemble.stop(victim)
    const t1 = yield* disconnected
    const t2 = yield* connected
    if ((yield* zk.clientId).sessionId !== before) return yield* Effect.fail(new Error("a new session was opened"))
    yield* zk.close
    yield* ensemble.start(victim)
    yield* ensemble.awaitQuorum("60 seconds")
    const role = victim === leader ? "leader" : "follower"
    return {
      total: t2 - t0,
      reconnect: t2 - t1,
      note: pick === "leader" ? (on === leader ? "[on leader]" : "[on follower]") : `[${role}]`
    }
  }))

const repeat = <A, E>(measure: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const samples: Array<A> = []
    for (let i = 0; i < RUNS; i++) samples.push(yield* measure)
    return samples
  })

/** One partition: blackhole right after a reply, time until `Expired`. */
const partition = (server: ZooKeeperServer.ServerHandle) =>
  Effect.scoped(Effect.gen(function*() {
    const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
    const zk = yield* connect(proxy.address, "4 seconds")
    const timeout = yield* zk.sessionTimeout
    const disconnected = yield* whenState(zk, "Disconnected")
    const expired = yield* whenState(zk, "Expired")
    yield* zk.exists("/")
    const t0 = performance.now()
    yield* proxy.setMode("blackhole")
    const t1 = yield* disconnected
    const t2 = yield* expired
    return { expired: t2 - t0, disconnected: t1 - t0, timeout }
  }))

const program = Effect.gen(function*() {
  const load = os.loadavg().map((l) => l.toFixed(2)).join(" ")
  console.log(`effect-zk failover: ${RUNS} runs each, ${os.cpus().length} CPUs, load average ${load}`)

  yield* Effect.scoped(Effect.gen(function*() {
    const ensemble = yield* ZooKeeperEnsemble.scoped({ size: 3, startTimeout: "120 seconds" })
    for (const pick of ["connected", "leader"] as const) {
      const runs = yield* repeat(failover(ensemble, pick))
      const what = pick === "connected" ? "its member stopped" : "the leader stopped"
      console.log(summary(`(a) ${what} → Connected elsewhere`, runs.map((r) => r.total), runs.map((r) => r.note)))
      console.log(summary(`    of which Disconnected → Connected`, runs.map((r) => r.reconnect)))
    }
  }))

  yield* Effect.scoped(Effect.gen(function*() {
    const server = yield* ZooKeeperServer.scoped({ startTimeout: "120 seconds" })
    const runs = yield* repeat(partition(server))
    const timeout = runs[0]?.timeout ?? Number.NaN
    console.log(summary(`(b) blackhole → Expired (timeout ${ms(timeout)})`, runs.map((r) => r.expired)))
    console.log(`    ratio to the session timeout: median ${(median(runs.map((r) => r.expired)) / timeout).toFixed(2)} (${
      runs.map((r) => (r.expired / r.timeout).toFixed(2)).join(", ")
    })`)
    console.log(summary(`    blackhole → Disconnected (read timeout)`, runs.map((r) => r.disconnected)))
  }))
})

// The client logs its session events; the figures are the output here.
Effect.runPromiseExit(program.pipe(Effect.provideService(References.MinimumLogLevel, "Error"))).then((exit) => {
  if (exit._tag === "Failure") {
    console.error(String(exit.cause))
    process.exitCode = 1
  }
})

/**
 * The soak: many sessions doing mixed reads, writes and watches against a 3-node
 * ensemble on 127.0.0.1 while members are stopped and started at random (never more than one
 * down, so the quorum holds), then a check of every promise the client makes:
 *
 * - every acknowledged write is present (checked from a fresh session at the end; a write that
 *   failed with ConnectionLoss may or may not have been applied, and is allowed either way);
 * - every read a session makes of its own nodes shows its own latest write (or one whose
 *   outcome it could not know);
 * - every watch registered produced its event, or its stream failed with a typed error;
 * - `pendingWatches` is 0 on every session at the end; no operation hung;
 * - after closing every session: heap back near its start (after GC), no socket and no fiber
 *   left over, no unhandled rejection or uncaught exception along the way.
 *
 * Then the 100,000-case decoder fuzz (test/utils/fuzz.ts in @effect-zk/core).
 *
 *   pnpm soak                                         # 200 sessions, 90 s, 100,000 fuzz cases
 *   pnpm soak --sessions 50 --duration 30 --fuzz 20000 --seed 7 --chaos-every 4
 *
 * Prints a summary of what it did and what held; exits 1 if any invariant failed. Bounded: the
 * workload stops at `--duration`, every operation has a deadline, the end phase waits at most
 * `--settle` seconds for each thing it waits for. `runSoak` is also what the short in-suite
 * version (test/Soak.test.ts) runs, with small parameters.
 */
import { Op, ZooKeeper, type ZooKeeperService } from "@effect-zk/core"
import { NodeZooKeeper } from "@effect-zk/node"
import { ZooKeeperEnsemble } from "@effect-zk/server"
import { Cause, Context, Effect, Exit, Fiber, Layer, Metric, Option, References, Scope, Stream } from "effect"
import * as fs from "node:fs"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { formatReport as formatFuzz, runFuzz } from "../../core/test/utils/fuzz.ts"
import { prng } from "../../core/test/utils/prng.ts"

// ---------------------------------------------------------------------------------------------
// Options and report

/** What to run. */
export interface SoakOptions {
  readonly sessions: number
  /** How long the workload runs. */
  readonly durationMs: number
  /** Mean pause between two faults; 0 turns the chaos off. */
  readonly chaosEveryMs: number
  readonly seed: number
  /** Mean pause between two operations of one session. */
  readonly opPauseMs: number
  /** Data nodes per session (besides its watch target `w`). */
  readonly keysPerSession: number
  readonly sessionTimeoutMs: number
  /** The longest the end phase waits for any one thing (watches, sockets, fibers). */
  readonly settleMs: number
  readonly log: (line: string) => void
}

/** The defaults of `pnpm soak`. */
export const defaults: SoakOptions = {
  sessions: 200,
  durationMs: 90_000,
  chaosEveryMs: 6_000,
  seed: 1,
  opPauseMs: 200,
  keysPerSession: 4,
  sessionTimeoutMs: 30_000,
  settleMs: 60_000,
  log: (line) => console.log(line)
}

/** One promise, and whether it held. */
export interface Invariant {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

/** What a soak did and what held. */
export interface SoakReport {
  readonly sessions: number
  readonly elapsedMs: number
  readonly workloadMs: number
  /** Operations by kind: successes, and failures by error tag. */
  readonly ops: Record<string, { ok: number; failed: Record<string, number> }>
  readonly faults: { stops: number; leaderStops: number; starts: number; failedStarts: number; downMs: number; log: Array<string> }
  readonly connections: { disconnects: number; reconnects: number; expired: number }
  readonly writes: { acked: number; keys: number; exact: number; withinUncertainty: number; violations: Array<string> }
  readonly reads: { checked: number; violations: Array<string> }
  readonly watches: { registered: number; events: number; typedErrors: Record<string, number>; hung: number; bad: Array<string> }
  readonly opsHung: number
  readonly unexpected: Array<string>
  readonly pendingWatchesAtEnd: number
  readonly heap: { beforeMB: number; afterMB: number; gc: boolean }
  /** Before the first session, with every session open (so the counters see them), after closing. */
  readonly sockets: { before: number; during: number; after: number; fdsBefore?: number | undefined; fdsDuring?: number | undefined; fdsAfter?: number | undefined }
  readonly fibers: { before: number; during: number; after: number; started: number }
  readonly timers: { before: number; after: number }
  readonly unhandled: Array<string>
  readonly invariants: Array<Invariant>
  readonly ok: boolean
}

// ---------------------------------------------------------------------------------------------
// Process-level measurements

/** `global.gc`, also without --expose-gc (the flag can be set at run time, then read from a fresh context). */
const getGc = (): (() => void) | undefined => {
  const existing: unknown = Reflect.get(globalThis, "gc")
  if (typeof existing === "function") return () => void Reflect.apply(existing, globalThis, [])
  try {
    v8.setFlagsFromString("--expose-gc")
    const gc: unknown = vm.runInNewContext("gc")
    return typeof gc === "function" ? () => void Reflect.apply(gc, undefined, []) : undefined
  } catch {
    return undefined
  }
}

const heapMB = (gc: (() => void) | undefined): number => {
  if (gc !== undefined) for (let i = 0; i < 3; i++) gc()
  return process.memoryUsage().heapUsed / (1024 * 1024)
}

/** Open TCP sockets of this process (client connections and 4lw probes). */
const tcpSockets = (): number => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "TLSWrap").length
const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length
/** Socket file descriptors, where /proc tells (child-process pipes are sockets too). */
const socketFds = (): number | undefined => {
  try {
    return fs.readdirSync("/proc/self/fd").filter((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith("socket:")
      } catch {
        return false
      }
    }).length
  } catch {
    return undefined
  }
}

// ---------------------------------------------------------------------------------------------
// The model of one node: its last acknowledged value, and the writes since whose outcome is
// unknown (ConnectionLoss), in order. `null` is "absent".

interface NodeModel {
  acked: string | null
  uncertain: Array<string | null>
}

const possible = (m: NodeModel): Array<string | null> => [m.acked, ...m.uncertain]

/**
 * Records an observation of the node; false if the session could not have seen it. An
 * uncertain write may still land after a read that did not show it (it was in a server's
 * pipeline when the connection dropped), so only the uncertain writes up to the one seen are
 * settled.
 */
const observe = (m: NodeModel, value: string | null): boolean => {
  if (value === m.acked) return true
  const at = m.uncertain.indexOf(value)
  if (at < 0) return false
  m.acked = value
  m.uncertain = m.uncertain.slice(at + 1)
  return true
}

const ack = (m: NodeModel, value: string | null): void => {
  // Everything sent before an acknowledged write was applied before it, or never.
  m.acked = value
  m.uncertain = []
}

const show = (v: string | null): string => (v === null ? "absent" : JSON.stringify(v))

// ---------------------------------------------------------------------------------------------
// The run

interface SessionRec {
  readonly index: number
  readonly zk: ZooKeeperService
  readonly scope: Scope.Closeable
  readonly dir: string
  readonly nodes: Map<string, NodeModel>
  seq: number
  watching: boolean
  expired: boolean
}

interface WatchRec {
  readonly watcher: number
  readonly path: string
  readonly kind: "getW" | "existsW" | "childrenW"
  outcome: string | undefined
  fiber: Fiber.Fiber<void> | undefined
}

const OK = "ok"

const tagOf = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return OK
  const error = Cause.findErrorOption(exit.cause)
  if (Option.isSome(error)) {
    const e = error.value
    return typeof e === "object" && e !== null && "_tag" in e && typeof e._tag === "string" ? e._tag : String(e)
  }
  return Cause.hasInterruptsOnly(exit.cause) ? "Interrupted" : "Defect"
}

/** Errors an operation may meet under this workload and these faults. */
const EXPECTED: ReadonlySet<string> = new Set([OK, "ConnectionLoss", "NoNode", "NodeExists"])

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

/** Polls until `condition` holds or `millis` pass; true if it held. */
const within = (millis: number, condition: () => boolean | Effect.Effect<boolean>): Effect.Effect<boolean> =>
  Effect.gen(function*() {
    const deadline = Date.now() + millis
    for (;;) {
      const c = condition()
      if (typeof c === "boolean" ? c : yield* c) return true
      if (Date.now() > deadline) return false
      yield* Effect.sleep("100 millis")
    }
  })

/** A session of its own, in a scope of its own (closed explicitly at the end). */
const openSession = (servers: string, sessionTimeoutMs: number) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(
      NodeZooKeeper.layer({ servers, sessionTimeout: `${sessionTimeoutMs} millis`, connectTimeout: "60 seconds" }),
      scope
    ).pipe(Effect.onError(() => Scope.close(scope, Exit.void)))
    return { zk: Context.get(context, ZooKeeper), scope }
  })

/**
 * Runs the soak against a running ensemble (all members up) and reports. Never fails: a broken
 * promise is a failed invariant in the report.
 */
export const runSoak = (ensemble: ZooKeeperEnsemble.Ensemble, input: Partial<SoakOptions> = {}): Effect.Effect<SoakReport> => {
  const options: SoakOptions = { ...defaults, ...input }
  const fiberCount = { started: 0, ended: 0 }
  const tracker: Metric.FiberRuntimeMetricsService = {
    recordFiberStart: () => void fiberCount.started++,
    recordFiberEnd: () => void fiberCount.ended++
  }
  const liveFibers = () => fiberCount.started - fiberCount.ended
  const body = Effect.gen(function*() {
    const log = options.log
    const rand = prng(options.seed)
    const below = (n: number) => Math.floor(rand() * n)
    const unhandled: Array<string> = []
    const onRejection = (reason: unknown) => void unhandled.push(`unhandledRejection: ${String(reason)}`)
    const onException = (error: unknown) => void unhandled.push(`uncaughtException: ${String(error)}`)
    process.on("unhandledRejection", onRejection)
    process.on("uncaughtExceptionMonitor", onException)

    const gc = getGc()
    // The ensemble's readiness probes may still be closing their sockets: let them go first.
    yield* within(3000, () => tcpSockets() === 0)
    const started = Date.now()
    const before = { heap: heapMB(gc), sockets: tcpSockets(), fibers: liveFibers(), timers: timers(), fds: socketFds() }
    log(`soak: ${options.sessions} sessions for ${options.durationMs / 1000} s on ${ensemble.connectString}, ` +
      `chaos every ~${options.chaosEveryMs / 1000} s, seed ${options.seed}`)

    const ops: SoakReport["ops"] = {}
    const count = (kind: string, tag: string) => {
      const o = ops[kind] ??= { ok: 0, failed: {} }
      if (tag === OK) o.ok++
      else o.failed[tag] = (o.failed[tag] ?? 0) + 1
    }
    const unexpected: Array<string> = []
    const readViolations: Array<string> = []
    let readsChecked = 0
    let acked = 0
    let opsHung = 0
    const connections = { disconnects: 0, reconnects: 0, expired: 0 }
    const opDeadline = options.sessionTimeoutMs * 2

    /** Runs one operation under its deadline; its exit, or undefined if it hung. */
    const run = <A>(kind: string, effect: Effect.Effect<A, unknown>) =>
      effect.pipe(
        Effect.exit,
        Effect.timeoutOrElse({ duration: opDeadline, orElse: () => Effect.succeed(undefined) }),
        Effect.tap((exit) =>
          Effect.sync(() => {
            if (exit === undefined) {
              opsHung++
              count(kind, "Hung")
              return
            }
            const tag = tagOf(exit)
            count(kind, tag)
            if (!EXPECTED.has(tag) && unexpected.length < 50) unexpected.push(`${kind}: ${tag}${Exit.isFailure(exit) ? ` ${Cause.pretty(exit.cause).split("\n")[0]}` : ""}`)
          })
        )
      )

    // -- Setup: the tree, then the sessions ------------------------------------------------
    const admin = yield* openSession(ensemble.connectString, options.sessionTimeoutMs).pipe(Effect.orDie)
    const root = `/soak-${options.seed}-${Date.now().toString(36)}`
    yield* admin.zk.create(root).pipe(Effect.orDie)
    yield* Effect.forEach(Array.from({ length: options.sessions }, (_, i) => i), (i) =>
      admin.zk.create(`${root}/s${i}`).pipe(Effect.andThen(admin.zk.create(`${root}/s${i}/w`, "0")), Effect.orDie), { concurrency: 32, discard: true })
    const sessions: Array<SessionRec> = yield* Effect.forEach(Array.from({ length: options.sessions }, (_, i) => i), (index) =>
      Effect.gen(function*() {
        const { zk, scope } = yield* openSession(ensemble.connectString, options.sessionTimeoutMs).pipe(Effect.orDie)
        const nodes = new Map<string, NodeModel>([["w", { acked: "0", uncertain: [] }]])
        for (let k = 0; k < options.keysPerSession; k++) nodes.set(`k${k}`, { acked: null, uncertain: [] })
        const rec: SessionRec = { index, zk, scope, dir: `${root}/s${index}`, nodes, seq: 0, watching: false, expired: false }
        let lost = false
        yield* Effect.forkIn(
          Stream.runForEach(zk.sessionEvents, (e) =>
            Effect.sync(() => {
              if (e.state === "Disconnected") {
                connections.disconnects++
                lost = true
              } else if (e.state === "Connected" && lost) {
                connections.reconnects++
                lost = false
              } else if (e.state === "Expired") {
                connections.expired++
                rec.expired = true
              }
            })),
          scope
        )
        return rec
      }), { concurrency: 16 })
    const during = { sockets: tcpSockets(), fibers: liveFibers(), fds: socketFds() }
    log(`soak: ${sessions.length} sessions open in ${((Date.now() - started) / 1000).toFixed(1)} s`)

    // -- Chaos: stop a random member, start it again; one at a time --------------------------
    const deadline = Date.now() + options.durationMs
    const faults: SoakReport["faults"] = { stops: 0, leaderStops: 0, starts: 0, failedStarts: 0, downMs: 0, log: [] }
    const quiet = <A, E>(e: Effect.Effect<A, E>) => Metric.disableRuntimeMetrics(e)
    const chaos = Effect.gen(function*() {
      while (Date.now() < deadline - 2000) {
        yield* Effect.sleep(Math.floor(options.chaosEveryMs * (0.5 + rand())))
        if (Date.now() >= deadline - 2000) break
        const i = below(ensemble.members.length)
        const leader = Option.getOrUndefined(yield* quiet(ensemble.leader))
        const t0 = Date.now()
        const stopped = yield* Effect.exit(quiet(ensemble.stop(i)))
        if (Exit.isFailure(stopped)) {
          faults.log.push(`stop n${i + 1} failed: ${Cause.pretty(stopped.cause).split("\n")[0]}`)
          continue
        }
        faults.stops++
        if (leader === i) faults.leaderStops++
        const what = `n${i + 1}${leader === i ? " (leader)" : ""}`
        log(`soak: chaos: stopped ${what} at +${((t0 - started) / 1000).toFixed(1)} s`)
        yield* Effect.sleep(500 + below(2000))
        const start = yield* Effect.exit(quiet(ensemble.start(i)))
        if (Exit.isSuccess(start)) faults.starts++
        else {
          faults.failedStarts++
          faults.log.push(`start n${i + 1} failed: ${Cause.pretty(start.cause).split("\n")[0]}`)
        }
        faults.downMs += Date.now() - t0
        faults.log.push(`${what} down ${((Date.now() - t0) / 1000).toFixed(1)} s`)
        log(`soak: chaos: ${what} back after ${((Date.now() - t0) / 1000).toFixed(1)} s`)
        yield* Effect.ignore(quiet(ensemble.awaitQuorum("60 seconds")))
      }
    })
    const chaosFiber = options.chaosEveryMs > 0 ? yield* Effect.forkChild(chaos) : undefined

    // -- The workload ---------------------------------------------------------------------
    const watches: Array<WatchRec> = []
    const watchScope = yield* Scope.make()
    const value = (s: SessionRec) => `s${s.index}-${++s.seq}`

    const check = (s: SessionRec, name: string, m: NodeModel, seen: string | null, how: string) => {
      readsChecked++
      const was = possible(m).map(show).join(" | ")
      if (!observe(m, seen) && readViolations.length < 50) {
        readViolations.push(`s${s.index}/${name}: ${how} saw ${show(seen)}, expected one of ${was}`)
      }
    }

    const write = (s: SessionRec, name: string, m: NodeModel) =>
      Effect.gen(function*() {
        const path = `${s.dir}/${name}`
        const v = value(s)
        const exists = possible(m).some((x) => x !== null)
        const exit = yield* run(exists ? "set" : "create", exists ? Effect.asVoid(s.zk.set(path, v)) : Effect.asVoid(s.zk.create(path, v)))
        if (exit === undefined) return
        const tag = tagOf(exit)
        if (tag === OK) {
          ack(m, v)
          acked++
        } else if (tag === "ConnectionLoss") m.uncertain.push(v)
        else if (tag === "NoNode") check(s, name, m, null, "set got NoNode:")
        else if (tag === "NodeExists") {
          if (!possible(m).some((x) => x !== null) && readViolations.length < 50) {
            readViolations.push(`s${s.index}/${name}: create got NodeExists, expected absent (${possible(m).map(show).join(" | ")})`)
          }
          yield* read(s, name, m)
        } else if (tag === "SessionExpired") s.expired = true
      })

    const read = (s: SessionRec, name: string, m: NodeModel): Effect.Effect<void> =>
      Effect.gen(function*() {
        const exit = yield* run("get", s.zk.get(`${s.dir}/${name}`))
        if (exit === undefined) return
        if (Exit.isSuccess(exit)) check(s, name, m, text(exit.value.data), "get")
        else if (tagOf(exit) === "NoNode") check(s, name, m, null, "get got NoNode:")
        else if (tagOf(exit) === "SessionExpired") s.expired = true
      })

    const remove = (s: SessionRec, name: string, m: NodeModel) =>
      Effect.gen(function*() {
        const exit = yield* run("delete", s.zk.delete(`${s.dir}/${name}`))
        if (exit === undefined) return
        const tag = tagOf(exit)
        if (tag === OK) {
          ack(m, null)
          acked++
        } else if (tag === "ConnectionLoss") m.uncertain.push(null)
        else if (tag === "NoNode") check(s, name, m, null, "delete got NoNode:")
        else if (tag === "SessionExpired") s.expired = true
      })

    const listChildren = (s: SessionRec) =>
      Effect.gen(function*() {
        const exit = yield* run("children", s.zk.children(s.dir))
        if (exit === undefined || Exit.isFailure(exit)) return
        const names = new Set(exit.value.children)
        for (const [name, m] of s.nodes) {
          if (m.uncertain.length > 0) continue
          readsChecked++
          if (names.has(name) !== (m.acked !== null) && readViolations.length < 50) {
            readViolations.push(`s${s.index}/${name}: children ${names.has(name) ? "lists" : "misses"} it, expected ${show(m.acked)}`)
          }
        }
      })

    /** Two nodes in one transaction: both applied or neither. */
    const multiWrite = (s: SessionRec) =>
      Effect.gen(function*() {
        const a = below(options.keysPerSession)
        const names = [`k${a}`, `k${(a + 1 + below(options.keysPerSession - 1)) % options.keysPerSession}`]
        if (names[0] === names[1]) return
        const models = names.map((n) => s.nodes.get(n)!)
        const values = names.map(() => value(s))
        const txn = names.map((n, i) =>
          possible(models[i]!).some((x) => x !== null) ? Op.set(`${s.dir}/${n}`, values[i]!) : Op.create(`${s.dir}/${n}`, values[i]!)
        )
        const exit = yield* run("multi", s.zk.multi(txn))
        if (exit === undefined) return
        const tag = tagOf(exit)
        if (tag === OK) {
          models.forEach((m, i) => ack(m, values[i]!))
          acked += 2
        } else if (tag === "ConnectionLoss") models.forEach((m, i) => m.uncertain.push(values[i]!))
        else if (tag === "NoNode" || tag === "NodeExists") {
          // Nothing was applied; an unknown-outcome write made the guess wrong. Look again.
          for (let i = 0; i < names.length; i++) yield* read(s, names[i]!, models[i]!)
        } else if (tag === "SessionExpired") s.expired = true
      })

    const watchPartner = (s: SessionRec) =>
      Effect.gen(function*() {
        const partner = sessions[(s.index + 1) % sessions.length]!
        const pick = rand()
        const kind = pick < 0.4 ? "getW" : pick < 0.7 ? "existsW" : "childrenW"
        const path = kind === "childrenW" ? partner.dir : `${partner.dir}/w`
        const expected = kind === "childrenW" ? "NodeChildrenChanged" : "NodeDataChanged"
        const exit = yield* run(
          kind,
          kind === "getW"
            ? Effect.map(s.zk.getW(path), (r) => r.watch)
            : kind === "existsW"
            ? Effect.map(s.zk.existsW(path), (r) => r.watch)
            : Effect.map(s.zk.childrenW(path), (r) => r.watch)
        )
        if (exit === undefined || Exit.isFailure(exit)) return
        const rec: WatchRec = { watcher: s.index, path, kind, outcome: undefined, fiber: undefined }
        watches.push(rec)
        s.watching = true
        rec.fiber = yield* Effect.forkIn(
          Stream.runHead(exit.value).pipe(
            Effect.exit,
            Effect.map((result): string => {
              if (Exit.isFailure(result)) {
                const tag = tagOf(result)
                return tag === "Defect" || tag === "Interrupted" ? `bad: ${tag} ${Cause.pretty(result.cause).split("\n")[0]}` : `error:${tag}`
              }
              const event = Option.getOrUndefined(result.value)
              if (event === undefined) return "bad: the stream ended without an event"
              return event.type === expected && event.path === path ? "event" : `bad: ${event.type} on ${event.path}`
            }),
            Effect.flatMap((outcome) => Effect.sync(() => {
              rec.outcome = outcome
              s.watching = false
            }))
          ),
          watchScope
        )
      })

    const step = (s: SessionRec) => {
      const r = rand()
      const k = `k${below(options.keysPerSession)}`
      const m = s.nodes.get(k)!
      if (r < 0.26) return write(s, k, m)
      if (r < 0.44) return read(s, k, m)
      if (r < 0.52) return possible(m).some((x) => x !== null) ? remove(s, k, m) : write(s, k, m)
      if (r < 0.58) return multiWrite(s)
      if (r < 0.72) return write(s, "w", s.nodes.get("w")!)
      if (r < 0.90) return s.watching ? read(s, k, m) : watchPartner(s)
      return listChildren(s)
    }

    const loop = (s: SessionRec) =>
      Effect.gen(function*() {
        // Staggered starts, so 200 sessions do not fire at once.
        yield* Effect.sleep(below(options.opPauseMs * 2 + 1))
        while (Date.now() < deadline && !s.expired) {
          yield* step(s)
          yield* Effect.sleep(below(options.opPauseMs * 2 + 1))
        }
      })

    yield* Effect.forEach(sessions, loop, { concurrency: "unbounded", discard: true })
    const workloadMs = Date.now() - started
    const totalOps = Object.values(ops).reduce((n, o) => n + o.ok + Object.values(o.failed).reduce((a, b) => a + b, 0), 0)
    log(`soak: workload done: ${totalOps} operations, ${watches.length} watches; settling`)

    // -- End phase: every member up, every watched node changed once more --------------------
    if (chaosFiber !== undefined) yield* Fiber.await(chaosFiber)
    yield* quiet(Effect.forEach(ensemble.members, (member, i) =>
      Effect.gen(function*() {
        const pid = yield* Effect.orElseSucceed(member.pid, () => Option.none<number>())
        if (Option.isNone(pid)) {
          const exit = yield* Effect.exit(ensemble.start(i))
          if (Exit.isSuccess(exit)) faults.starts++
          else faults.failedStarts++
        }
      }), { discard: true }))
    yield* Effect.ignore(quiet(ensemble.awaitQuorum("60 seconds")))

    // The finisher changes every watched node once more: each w (data and exists watches) and
    // each session's directory (child watches).
    const finisher = yield* openSession(ensemble.connectString, options.sessionTimeoutMs).pipe(Effect.orDie)
    const untilDone = (kind: string, effect: Effect.Effect<unknown, unknown>, done: (tag: string) => boolean) =>
      Effect.gen(function*() {
        for (let attempt = 0; attempt < 10; attempt++) {
          const exit = yield* run(kind, effect)
          if (exit !== undefined && done(tagOf(exit))) return true
          yield* Effect.sleep("200 millis")
        }
        return false
      })
    yield* Effect.forEach(sessions, (s) =>
      Effect.gen(function*() {
        // The owner's own writes with an unknown outcome may still land after this one.
        if (yield* untilDone("final set", finisher.zk.set(`${s.dir}/w`, "final"), (tag) => tag === OK)) s.nodes.get("w")!.acked = "final"
        yield* untilDone("final create", finisher.zk.create(`${s.dir}/final`), (tag) => tag === OK || tag === "NodeExists")
      }), { concurrency: 16, discard: true })
    yield* within(options.settleMs, () => watches.every((w) => w.outcome !== undefined))
    let pendingWatchesAtEnd = 0
    for (const s of sessions) pendingWatchesAtEnd += yield* s.zk.pendingWatches
    const hungWatches = watches.filter((w) => w.outcome === undefined)
    yield* Scope.close(watchScope, Exit.void)

    // -- Every acknowledged write, from a fresh session ------------------------------------
    const writes: SoakReport["writes"] = { acked, keys: 0, exact: 0, withinUncertainty: 0, violations: [] }
    yield* Effect.forEach(sessions, (s) =>
      Effect.forEach(s.nodes, ([name, m]) =>
        Effect.gen(function*() {
          writes.keys++
          let exit: Exit.Exit<{ readonly data: Uint8Array }, unknown> | undefined = undefined
          for (let attempt = 0; attempt < 10; attempt++) {
            exit = yield* run("verify", finisher.zk.get(`${s.dir}/${name}`))
            if (exit !== undefined && tagOf(exit) !== "ConnectionLoss") break
            yield* Effect.sleep("200 millis")
          }
          const seen = exit === undefined ? undefined : Exit.isSuccess(exit) ? text(exit.value.data) : tagOf(exit) === "NoNode" ? null : undefined
          const allowed = possible(m)
          if (seen === undefined) writes.violations.push(`s${s.index}/${name}: could not be read (${exit === undefined ? "hung" : tagOf(exit)})`)
          else if (m.uncertain.length === 0 && seen === m.acked) writes.exact++
          else if (allowed.includes(seen)) writes.withinUncertainty++
          else if (writes.violations.length < 50) writes.violations.push(`s${s.index}/${name}: found ${show(seen)}, expected ${allowed.map(show).join(" | ")}`)
        }), { discard: true }), { concurrency: 16, discard: true })

    // -- Close everything, then look for leftovers -------------------------------------------
    yield* Effect.forEach(sessions, (s) => Scope.close(s.scope, Exit.void), { concurrency: 32, discard: true })
    yield* Scope.close(finisher.scope, Exit.void)
    yield* Scope.close(admin.scope, Exit.void)
    yield* within(options.settleMs / 4, () => tcpSockets() <= before.sockets && liveFibers() <= before.fibers)
    const after = { heap: heapMB(gc), sockets: tcpSockets(), fibers: liveFibers(), timers: timers(), fds: socketFds() }
    process.off("unhandledRejection", onRejection)
    process.off("uncaughtExceptionMonitor", onException)

    const watchOutcomes = { events: 0, typedErrors: {} as Record<string, number>, bad: [] as Array<string> }
    for (const w of watches) {
      if (w.outcome === "event") watchOutcomes.events++
      else if (w.outcome?.startsWith("error:")) {
        const tag = w.outcome.slice(6)
        watchOutcomes.typedErrors[tag] = (watchOutcomes.typedErrors[tag] ?? 0) + 1
      } else if (w.outcome !== undefined && watchOutcomes.bad.length < 50) watchOutcomes.bad.push(`s${w.watcher} ${w.kind} ${w.path}: ${w.outcome}`)
    }
    const heapLimit = 24 + before.heap * 0.1
    const invariant = (name: string, ok: boolean, detail: string): Invariant => ({ name, ok, detail })
    const invariants: Array<Invariant> = [
      invariant("work was done", totalOps > options.sessions && acked > 0 && watchOutcomes.events > 0,
        `${totalOps} operations, ${acked} acknowledged writes, ${watchOutcomes.events} watch events`),
      invariant("faults were injected", options.chaosEveryMs === 0 || faults.stops > 0, `${faults.stops} member stops (${faults.leaderStops} leaders)`),
      invariant("every acknowledged write is present", writes.violations.length === 0,
        `${writes.keys} nodes checked: ${writes.exact} exactly as last acknowledged, ${writes.withinUncertainty} as an unknown-outcome write left them` +
          (writes.violations.length > 0 ? `; ${writes.violations.slice(0, 5).join("; ")}` : "")),
      invariant("every read showed the session's own writes", readViolations.length === 0,
        `${readsChecked} checks` + (readViolations.length > 0 ? `; ${readViolations.slice(0, 5).join("; ")}` : "")),
      invariant("every watch produced its event or a typed error", hungWatches.length === 0 && watchOutcomes.bad.length === 0,
        `${watches.length} watches: ${watchOutcomes.events} events, typed errors ${JSON.stringify(watchOutcomes.typedErrors)}, ` +
          `${hungWatches.length} hung` + (watchOutcomes.bad.length > 0 ? `; ${watchOutcomes.bad.slice(0, 5).join("; ")}` : "")),
      invariant("pendingWatches is 0 on every session", pendingWatchesAtEnd === 0, `${pendingWatchesAtEnd} pending in total`),
      invariant("no operation hung", opsHung === 0, `${opsHung} past the ${opDeadline / 1000} s deadline`),
      invariant("no unexpected error", unexpected.length === 0, unexpected.length === 0 ? "only ConnectionLoss, NoNode, NodeExists" : unexpected.slice(0, 5).join("; ")),
      invariant("no session expired", connections.expired === 0, `${connections.expired} expired`),
      invariant("heap back near its start", !gc || after.heap - before.heap < heapLimit,
        `${before.heap.toFixed(1)} MB -> ${after.heap.toFixed(1)} MB (limit +${heapLimit.toFixed(1)} MB${gc ? "" : ", no GC available"})`),
      invariant("no socket left open", after.sockets <= before.sockets && (before.fds === undefined || after.fds === undefined || after.fds <= before.fds),
        `TCP sockets ${before.sockets} -> ${during.sockets} with the sessions open -> ${after.sockets}` +
          (before.fds !== undefined ? `; socket fds ${before.fds} -> ${during.fds} -> ${after.fds}` : "")),
      invariant("no fiber left running", after.fibers <= before.fibers,
        `live fibers ${before.fibers} -> ${during.fibers} with the sessions open -> ${after.fibers} (${fiberCount.started} started)`),
      invariant("no unhandled rejection or exception", unhandled.length === 0, unhandled.length === 0 ? "none" : unhandled.slice(0, 5).join("; "))
    ]
    return {
      sessions: sessions.length,
      elapsedMs: Date.now() - started,
      workloadMs,
      ops,
      faults,
      connections,
      writes,
      reads: { checked: readsChecked, violations: readViolations },
      watches: { registered: watches.length, events: watchOutcomes.events, typedErrors: watchOutcomes.typedErrors, hung: hungWatches.length, bad: watchOutcomes.bad },
      opsHung,
      unexpected,
      pendingWatchesAtEnd,
      heap: { beforeMB: before.heap, afterMB: after.heap, gc: gc !== undefined },
      sockets: {
        before: before.sockets,
        during: during.sockets,
        after: after.sockets,
        fdsBefore: before.fds,
        fdsDuring: during.fds,
        fdsAfter: after.fds
      },
      fibers: { before: before.fibers, during: during.fibers, after: after.fibers, started: fiberCount.started },
      timers: { before: before.timers, after: after.timers },
      unhandled,
      invariants,
      ok: invariants.every((i) => i.ok)
    } satisfies SoakReport
  })
  return body.pipe(
    Effect.provideService(Metric.FiberRuntimeMetrics, tracker),
    // 200 sessions reconnecting log a lot; the report is the output.
    Effect.provideService(References.MinimumLogLevel, "Error")
  )
}

/** The summary table. */
export const formatReport = (r: SoakReport): string => {
  const lines: Array<string> = []
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(34)} ${v}`)
  lines.push(`soak summary: ${r.sessions} sessions, workload ${(r.workloadMs / 1000).toFixed(1)} s, total ${(r.elapsedMs / 1000).toFixed(1)} s`)
  const total = Object.values(r.ops).reduce((n, o) => n + o.ok + Object.values(o.failed).reduce((a, b) => a + b, 0), 0)
  row("operations", `${total} (${(total / (r.workloadMs / 1000)).toFixed(0)}/s)`)
  for (const [kind, o] of Object.entries(r.ops).sort()) {
    const failed = Object.entries(o.failed).map(([t, n]) => `${t} ${n}`).join(", ")
    row(`  ${kind}`, `${o.ok} ok${failed === "" ? "" : `, ${failed}`}`)
  }
  row("faults injected", `${r.faults.stops} member stops (${r.faults.leaderStops} of the leader), ${r.faults.starts} starts, ` +
    `${r.faults.failedStarts} failed starts, ${(r.faults.downMs / 1000).toFixed(1)} s member-down in total`)
  row("connections", `${r.connections.disconnects} disconnects, ${r.connections.reconnects} reconnects, ${r.connections.expired} expired`)
  row("writes", `${r.writes.acked} acknowledged; ${r.writes.keys} nodes verified: ${r.writes.exact} exact, ` +
    `${r.writes.withinUncertainty} within unknown outcomes, ${r.writes.violations.length} violations`)
  row("reads checked against own writes", `${r.reads.checked}, ${r.reads.violations.length} violations`)
  row("watches", `${r.watches.registered} registered: ${r.watches.events} events, typed errors ` +
    `${JSON.stringify(r.watches.typedErrors)}, ${r.watches.hung} hung, ${r.watches.bad.length} bad`)
  row("pendingWatches at the end", String(r.pendingWatchesAtEnd))
  row("heap (after GC)", `${r.heap.beforeMB.toFixed(1)} MB before, ${r.heap.afterMB.toFixed(1)} MB after${r.heap.gc ? "" : " (no GC)"}`)
  row("TCP sockets", `${r.sockets.before} before, ${r.sockets.during} with the sessions open, ${r.sockets.after} after` +
    (r.sockets.fdsBefore === undefined ? "" : ` (socket fds ${r.sockets.fdsBefore} / ${r.sockets.fdsDuring} / ${r.sockets.fdsAfter})`))
  row("live fibers", `${r.fibers.before} before, ${r.fibers.during} with the sessions open, ${r.fibers.after} after (${r.fibers.started} started)`)
  row("timers", `${r.timers.before} before, ${r.timers.after} after`)
  lines.push("invariants:")
  for (const i of r.invariants) lines.push(`  ${i.ok ? "ok  " : "FAIL"} ${i.name}: ${i.detail}`)
  if (r.faults.log.length > 0) lines.push(`fault log: ${r.faults.log.join("; ")}`)
  return lines.join("\n")
}

// ---------------------------------------------------------------------------------------------
// The script

const parseArgs = (argv: ReadonlyArray<string>) => {
  const value = (name: string, fallback: number): number => {
    const at = argv.indexOf(`--${name}`)
    if (at < 0) return fallback
    const n = Number(argv[at + 1])
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a non-negative number, got ${argv[at + 1]}`)
    return n
  }
  return {
    sessions: Math.max(2, Math.floor(value("sessions", defaults.sessions))),
    durationMs: value("duration", defaults.durationMs / 1000) * 1000,
    chaosEveryMs: value("chaos-every", defaults.chaosEveryMs / 1000) * 1000,
    seed: Math.floor(value("seed", defaults.seed)),
    opPauseMs: value("pause", defaults.opPauseMs),
    settleMs: value("settle", defaults.settleMs / 1000) * 1000,
    fuzzCases: Math.floor(value("fuzz", 100_000))
  }
}

const main = async (): Promise<void> => {
  const args = parseArgs(process.argv.slice(2))
  // The fuzz first, alone: it is CPU-bound and would slow the sessions down.
  const fuzz = await runFuzz({ cases: args.fuzzCases, seed: args.seed })
  console.log(formatFuzz(fuzz))
  const program = Effect.scoped(Effect.gen(function*() {
    console.log("soak: starting a 3-node ensemble")
    const ensemble = yield* ZooKeeperEnsemble.scoped({ size: 3, startTimeout: "120 seconds", extraConfig: { forceSync: "no" } })
    return yield* runSoak(ensemble, args)
  }))
  const exit = await Effect.runPromiseExit(program)
  if (Exit.isFailure(exit)) {
    console.error(`soak: could not run: ${Cause.pretty(exit.cause)}`)
    process.exitCode = 2
    return
  }
  console.log(formatReport(exit.value))
  console.log(`fuzz: ${fuzz.cases} cases, ${fuzz.failures.length === 0 ? "no invariant failure" : `${fuzz.failures.length} FAILURES`}`)
  const ok = exit.value.ok && fuzz.failures.length === 0
  console.log(ok ? "soak: every invariant held" : "soak: SOME INVARIANT FAILED")
  process.exitCode = ok ? 0 : 1
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${fs.realpathSync(process.argv[1])}`).href) {
  void main()
}

/**
 * Starting and stopping the JVM of one run directory.
 *
 * The JVM is spawned detached, with its output in files and the handle unref'd, so it outlives
 * the caller; the pid file is the only link other processes need. While this process waits for
 * readiness it keeps the ChildProcess `exit` event as the liveness signal: it is exact, whereas a
 * pid poll can be fooled by a zombie.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as FourLetterWord from "../FourLetterWord.ts"
import {
  AlreadyRunningError,
  ExitedEarlyError,
  NotReadyError,
  PortInUseError,
  ServerIoError
} from "../ServerError.ts"
import { describe, sizeOf, tailOf } from "./fs.ts"
import { isAnswering } from "./ports.ts"
import { onLiveClock } from "./liveClock.ts"
import { commandLineHas, isAlive, terminate } from "./process.ts"
import { type Layout, type Metadata, readPidFile, removePidFile, writePidFile } from "./runDir.ts"

export const MAIN_CLASS = "org.apache.zookeeper.server.quorum.QuorumPeerMain"

/** How often readiness is probed. */
const POLL_MILLIS = 50
/**
 * A probe that connects just as the JVM binds is accepted but never answered (seen hanging for
 * 3 s and more), so the first probes give up fast. Each consecutive timeout doubles the limit,
 * up to 2 s, so a heavily loaded machine that answers slowly still gets through.
 */
const probeTimeoutMillis = (consecutiveTimeouts: number): number => Math.min(2000, 250 * 2 ** consecutiveTimeouts)

/**
 * The pid of this run directory's JVM, if it runs. A pid counts only when it is alive (zombies
 * are dead) and its command line names this directory's zoo.cfg: a stale pid file may point at
 * a recycled pid.
 */
export const runningPid = (l: Layout): Effect.Effect<Option.Option<number>, ServerIoError> =>
  Effect.flatMap(readPidFile(l), (recorded) => {
    if (Option.isNone(recorded)) return Effect.succeedNone
    const pid = recorded.value
    return Effect.map(
      Effect.zip(isAlive(pid), commandLineHas(pid, l.zooCfg), { concurrent: true }),
      ([alive, ours]) => (alive && ours ? Option.some(pid) : Option.none())
    )
  })

interface Exited {
  readonly code: number | null
  readonly signal: string | null
}

interface Launched {
  readonly child: ChildProcess
  readonly pid: number
  /** Set by the `exit` listener registered at spawn time, so an exit is never missed. */
  exited: Exited | undefined
  readonly logOffset: number
  readonly outOffset: number
}

const logTail = (l: Layout, from: { readonly logOffset: number; readonly outOffset: number }) =>
  Effect.map(
    Effect.zip(tailOf(l.logFile, from.logOffset, 25), tailOf(l.outFile, from.outOffset, 10), { concurrent: true }),
    ([log, out]) =>
      [
        log === "" ? "" : `--- ${l.logFile}\n${log}`,
        out === "" ? "" : `--- ${l.outFile}\n${out}`
      ].filter((s) => s !== "").join("\n") || "(both logs are empty)"
  )

/** The last lines of this server's logs, for error messages and debugging. */
export const recentLog = (l: Layout, lines: number): Effect.Effect<string> =>
  Effect.map(
    Effect.zip(tailOf(l.logFile, 0, lines), tailOf(l.outFile, 0, lines), { concurrent: true }),
    ([log, out]) => [log, out].filter((s) => s !== "").join("\n")
  )

const portsOf = (metadata: Metadata): ReadonlyArray<number> => [
  metadata.clientPort,
  ...(metadata.securePort === null ? [] : [metadata.securePort]),
  ...metadata.peerPorts
]

const spawnJava = (l: Layout, metadata: Metadata): Effect.Effect<ChildProcess, ServerIoError> =>
  Effect.callback<ChildProcess, ServerIoError>((resume) => {
    const fail = (cause: unknown) =>
      resume(Effect.fail(new ServerIoError({ operation: `spawn ${metadata.java}`, path: l.runDir, detail: describe(cause) })))
    let out: number
    try {
      out = fs.openSync(l.outFile, "a")
    } catch (cause) {
      return fail(cause)
    }
    let child: ChildProcess
    try {
      child = spawn(
        metadata.java,
        [...metadata.jvmFlags, "-cp", metadata.classpath.join(":"), MAIN_CLASS, l.zooCfg],
        // detached: own process group, so a Ctrl-C aimed at the caller does not reach the server.
        { cwd: l.runDir, detached: true, stdio: ["ignore", out, out], env: process.env }
      )
    } catch (cause) {
      return fail(cause)
    } finally {
      // The child has its own copy of the descriptor.
      fs.closeSync(out)
    }
    child.once("spawn", () => resume(Effect.succeed(child)))
    child.once("error", fail)
  })

/**
 * Spawns the JVM after checking that it is not running already and that its ports are free.
 */
const launch = (l: Layout, metadata: Metadata): Effect.Effect<Launched, AlreadyRunningError | PortInUseError | ServerIoError> =>
  Effect.gen(function*() {
    const running = yield* runningPid(l)
    if (Option.isSome(running)) return yield* new AlreadyRunningError({ runDir: l.runDir, pid: running.value })
    // A probe answered by another process would report "ready" while our JVM dies of a BindException.
    const busy = yield* Effect.forEach(portsOf(metadata), (port) => Effect.map(isAnswering(port), (b) => [port, b] as const), {
      concurrency: "unbounded"
    })
    for (const [port, answering] of busy) {
      if (answering) return yield* new PortInUseError({ port, runDir: l.runDir })
    }
    const logOffset = yield* sizeOf(l.logFile)
    const outOffset = yield* sizeOf(l.outFile)
    const child = yield* spawnJava(l, metadata)
    const pid = child.pid
    if (pid === undefined) {
      return yield* new ServerIoError({ operation: `spawn ${metadata.java}`, path: l.runDir, detail: "no pid" })
    }
    const launched: Launched = { child, pid, exited: undefined, logOffset, outOffset }
    child.once("exit", (code, signal) => {
      launched.exited = { code, signal }
    })
    // Let this process exit while the server keeps running.
    child.unref()
    yield* writePidFile(l, pid)
    return launched
  })

const exitedEarly = (l: Layout, launched: Launched, exited: Exited) =>
  Effect.flatMap(logTail(l, launched), (tail) =>
    Effect.fail(
      new ExitedEarlyError({ runDir: l.runDir, exitCode: exited.code, signal: exited.signal, logTail: tail })
    ))

/** Completes when the child exits; fails with ExitedEarlyError. */
const watchExit = (l: Layout, launched: Launched): Effect.Effect<never, ExitedEarlyError> =>
  Effect.flatMap(
    Effect.callback<Exited>((resume) => {
      if (launched.exited !== undefined) return resume(Effect.succeed(launched.exited))
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => resume(Effect.succeed({ code, signal }))
      launched.child.once("exit", onExit)
      return Effect.sync(() => {
        launched.child.off("exit", onExit)
      })
    }),
    (exited) => exitedEarly(l, launched, exited)
  )

/** Polls `srvr` until it reports a mode `accept`s; returns the stats. */
const pollServing = (
  port: number,
  accept: (mode: FourLetterWord.Mode) => boolean,
  onState: (state: string) => void
): Effect.Effect<FourLetterWord.ServerStats> =>
  Effect.gen(function*() {
    let timeouts = 0
    while (true) {
      const answer = yield* Effect.result(FourLetterWord.srvr(port, { timeout: probeTimeoutMillis(timeouts) }))
      timeouts = answer._tag === "Failure" && answer.failure.reason === "Timeout" ? timeouts + 1 : 0
      if (answer._tag === "Success") {
        if (Option.isSome(answer.success)) {
          const stats = answer.success.value
          if (accept(stats.mode)) return stats
          onState(`Mode: ${stats.mode}`)
        } else {
          onState("port open, not serving requests")
        }
      } else {
        onState(answer.failure.reason === "Refused" ? "port closed" : answer.failure.message)
      }
      yield* Effect.sleep(POLL_MILLIS)
    }
  })

/**
 * Starts the JVM and returns once `srvr` shows an accepted `Mode:`. Any failure or interruption
 * before that stops the JVM it spawned, so a failed start leaves nothing running. The readiness
 * polls, the start timeout and the stop grace period run on the real clock: a JVM does not
 * follow a test's TestClock, and on it the start would wait forever.
 */
export const start = (
  l: Layout,
  metadata: Metadata,
  accept: (mode: FourLetterWord.Mode) => boolean = () => true
): Effect.Effect<FourLetterWord.ServerStats, AlreadyRunningError | PortInUseError | ExitedEarlyError | NotReadyError | ServerIoError> =>
  onLiveClock(Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      const launched = yield* launch(l, metadata)
      let lastState = "not probed yet"
      const ready = Effect.raceFirst(
        pollServing(metadata.clientPort, accept, (state) => {
          lastState = state
        }),
        watchExit(l, launched)
      ).pipe(
        Effect.timeoutOrElse({
          duration: metadata.startTimeoutMillis,
          orElse: () =>
            Effect.flatMap(logTail(l, launched), (tail) =>
              Effect.fail(
                new NotReadyError({
                  runDir: l.runDir,
                  port: metadata.clientPort,
                  timeoutMillis: metadata.startTimeoutMillis,
                  lastState,
                  logTail: tail
                })
              ))
        })
      )
      return yield* restore(ready).pipe(
        Effect.onError(() =>
          Effect.gen(function*() {
            if (launched.exited === undefined) {
              yield* Effect.ignore(terminate(launched.pid, metadata.stopTimeoutMillis))
            }
            yield* Effect.ignore(removePidFile(l))
          })
        )
      )
    })
  ))

/**
 * SIGTERM, SIGKILL after the grace period (on the real clock, as in `start`); a no-op when the
 * server does not run.
 */
export const stop = (l: Layout, metadata: Metadata): Effect.Effect<void, ServerIoError> =>
  onLiveClock(Effect.gen(function*() {
    const pid = yield* runningPid(l)
    if (Option.isSome(pid)) yield* terminate(pid.value, metadata.stopTimeoutMillis)
    yield* removePidFile(l)
  }))

/**
 * Liveness, identity and termination of a JVM known only by its pid, which is all another
 * process has after `attach`.
 */
import * as Effect from "effect/Effect"
import { execFile } from "node:child_process"
import * as fs from "node:fs/promises"
import { ServerIoError } from "../ServerError.ts"
import { errnoCode } from "./fs.ts"

const signalZero = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (cause) {
    // EPERM: the pid exists but belongs to someone else; it is alive, just not ours.
    return errnoCode(cause) === "EPERM"
  }
}

/** State letter (R, S, Z, ...) and thread count from /proc, or undefined where /proc is unavailable. */
const procStatus = async (pid: number): Promise<{ readonly state: string; readonly threads: number } | undefined> => {
  try {
    const status = await fs.readFile(`/proc/${pid}/status`, "utf8")
    const state = /^State:\s*(\S)/m.exec(status)?.[1]
    const threads = Number(/^Threads:\s*(\d+)/m.exec(status)?.[1] ?? "1")
    return state === undefined ? undefined : { state, threads }
  } catch (cause) {
    return errnoCode(cause) === "ENOENT" ? { state: "X", threads: 0 } : undefined
  }
}

const psOutput = (args: ReadonlyArray<string>): Promise<string | undefined> =>
  new Promise((resolve) => {
    execFile("ps", [...args], { timeout: 5000 }, (error, stdout) => resolve(error ? undefined : stdout.trim()))
  })

/**
 * Whether `pid` is a live process. A zombie counts as dead: an orphaned JVM is re-parented to
 * PID 1, which may reap it a second late, and meanwhile `kill(pid, 0)` still succeeds although
 * the server is gone. But only a zombie with one thread left: while a JVM exits, its main thread
 * shows "Z" for tens of milliseconds while other threads still hold its sockets open.
 */
export const isAlive = (pid: number): Effect.Effect<boolean> =>
  Effect.promise(async () => {
    if (!signalZero(pid)) return false
    const status = await procStatus(pid)
    if (status !== undefined) return status.state === "X" ? false : status.state !== "Z" || status.threads > 1
    const state = (await psOutput(["-o", "stat=", "-p", String(pid)]))?.charAt(0)
    return state !== "Z" && state !== ""
  })

/**
 * Whether the command line of `pid` names `needle` as one of its arguments. Guards against pid
 * reuse: a pid file can outlive its JVM, and the number may since belong to any other process.
 */
export const commandLineHas = (pid: number, needle: string): Effect.Effect<boolean> =>
  Effect.promise(async () => {
    try {
      const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, "utf8")
      return cmdline.split("\0").includes(needle)
    } catch {
      const args = await psOutput(["-o", "args=", "-p", String(pid)])
      return args !== undefined && args.split(" ").includes(needle)
    }
  })

/** Sends a signal; a process that is already gone is not an error. */
export const signal = (pid: number, sig: NodeJS.Signals): Effect.Effect<void, ServerIoError> =>
  Effect.try({
    try: () => {
      process.kill(pid, sig)
    },
    catch: (cause) => cause
  }).pipe(
    Effect.catch((cause) =>
      errnoCode(cause) === "ESRCH"
        ? Effect.void
        : Effect.fail(new ServerIoError({ operation: `send ${sig}`, path: `pid ${pid}`, detail: String(cause) }))
    )
  )

/** Polls until `pid` is dead or `timeoutMillis` passed; true when it died. */
export const awaitDeath = (pid: number, timeoutMillis: number): Effect.Effect<boolean> =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMillis
    while (yield* isAlive(pid)) {
      if (Date.now() >= deadline) return false
      yield* Effect.sleep("25 millis")
    }
    return true
  })

/**
 * SIGTERM, then SIGKILL when the JVM is still alive after `graceMillis`. ZooKeeper exits on
 * SIGTERM in about 0.35 s (status 143) without logging anything.
 */
export const terminate = (pid: number, graceMillis: number): Effect.Effect<void, ServerIoError> =>
  Effect.gen(function*() {
    yield* signal(pid, "SIGTERM")
    if (yield* awaitDeath(pid, graceMillis)) return
    yield* signal(pid, "SIGKILL")
    if (yield* awaitDeath(pid, 10_000)) return
    return yield* new ServerIoError({
      operation: "stop",
      path: `pid ${pid}`,
      detail: "the process is still alive 10 s after SIGKILL (uninterruptible sleep? check `ps -o stat= -p PID`)"
    })
  })

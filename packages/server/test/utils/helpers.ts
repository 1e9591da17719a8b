/**
 * Test helpers: temporary directories, deadline polling, process and port probes.
 * (Waiting for a client-visible state is `Testing.eventually` of @effect-zk/node; these tests
 * stay below the client.)
 */
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

/** A fresh empty directory, removed when the scope closes. */
export const tempDir = Effect.acquireRelease(
  Effect.promise(() => fs.mkdtemp(path.join(os.tmpdir(), "effect-zk-test-"))),
  (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
)

/** A path inside a fresh temporary directory that does not exist yet. */
export const freshPath = Effect.map(tempDir, (dir) => path.join(dir, "run"))

export const exists = (p: string): Effect.Effect<boolean> =>
  Effect.promise(() => fs.access(p).then(() => true, () => false))

/** Polls `check` every 50 ms until it yields true; fails with `what` after `timeoutMillis`. */
export const waitUntil = <E, R>(
  what: string,
  check: Effect.Effect<boolean, E, R>,
  timeoutMillis = 15_000
): Effect.Effect<void, E | Error, R> =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMillis
    while (!(yield* check)) {
      if (Date.now() > deadline) return yield* Effect.fail(new Error(`timed out after ${timeoutMillis} ms waiting for ${what}`))
      yield* Effect.sleep(50)
    }
  })

/** Whether a process with this pid exists (zombies included; use for our own children only). */
export const pidExists = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * The live JVMs whose command line names `runDir`'s zoo.cfg, found through /proc, so a test can
 * show that nothing of a server is left even when it never learnt the pid.
 */
export const jvmsOf = (runDir: string): Effect.Effect<ReadonlyArray<number>> =>
  Effect.promise(async () => {
    const zooCfg = path.join(runDir, "zoo.cfg")
    const pids = (await fs.readdir("/proc")).filter((name) => /^\d+$/.test(name)).map(Number)
    const named = await Promise.all(pids.map(async (pid) => {
      const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")
      return cmdline.split("\0").includes(zooCfg) ? [pid] : []
    }))
    return named.flat()
  }).pipe(Effect.flatMap((pids) => Effect.filter(pids, (pid) => Effect.map(processGone(pid), (gone) => !gone))))

/** Whether 127.0.0.1:port accepts connections. */
export const portAnswers = (port: number): Effect.Effect<boolean> =>
  Effect.callback<boolean>((resume) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed(true))
    })
    socket.once("error", () => resume(Effect.succeed(false)))
  })

/** A TCP listener on a free port of 127.0.0.1 until the scope closes; returns the port. */
export const occupyPort = Effect.acquireRelease(
  Effect.promise(() =>
    new Promise<net.Server>((resolve) => {
      // Reads (and drops) whatever arrives, so it sees the peer's FIN and the socket can close.
      const server = net.createServer((socket) => {
        socket.on("error", () => {})
        socket.resume()
        socket.end()
      })
      server.listen(0, "127.0.0.1", () => resolve(server))
    })
  ),
  (server) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
).pipe(
  Effect.map((server) => {
    const address = server.address()
    return address !== null && typeof address === "object" ? address.port : 0
  })
)

/**
 * Whether pid is gone, counting a zombie as gone (an orphan's reaper may be slow) once its last
 * thread has exited (before that it still holds its sockets).
 */
export const processGone = (pid: number): Effect.Effect<boolean> =>
  Effect.promise(async () => {
    if (!pidExists(pid)) return true
    const status = await fs.readFile(`/proc/${pid}/status`, "utf8").catch(() => "")
    return status === "" || (/^State:\s*Z/m.test(status) && /^Threads:\s*1$/m.test(status))
  })

/**
 * Runs the built `zk` binary as a user would (`node dist/bin.js ...`, no shell in between),
 * and a client session to compare its output with the server's state.
 */
import type { ZooKeeperService } from "@effect-zk/core"
import { NodeZooKeeper } from "@effect-zk/node"
import { ZooKeeperServer } from "@effect-zk/server"
import { Duration, Effect, type Scope } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

/** The executable the `zk` bin points at: `tsc -b`, then the bundle (test/setup.ts makes it). */
export const BIN = Path.resolve(import.meta.dirname, "../../dist/zk.js")
if (!Fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm exec tsc -b\` first`)

/** What a finished run left behind. */
export interface Result {
  readonly status: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: Buffer
  readonly stderr: string
  /** stdout as text. */
  readonly out: string
}

const home = Fs.mkdtempSync(Path.join(Os.tmpdir(), "zk-cli-test-home-"))

/** The environment of every run: no inherited ZK_SERVERS, no colour, a private home for the shell history. */
export const baseEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", HOME: home, ...extra }
  if (extra["ZK_SERVERS"] === undefined) delete env["ZK_SERVERS"]
  return env
}

/** Runs `zk args...` to completion, with `stdin` piped in. */
export const zk = (
  args: ReadonlyArray<string>,
  options: { readonly stdin?: Uint8Array | string; readonly env?: Record<string, string> } = {}
): Effect.Effect<Result> =>
  Effect.callback<Result>((resume) => {
    const child = ChildProcess.spawn(process.execPath, [BIN, ...args], { env: baseEnv(options.env), stdio: ["pipe", "pipe", "pipe"] })
    const out: Array<Buffer> = []
    const err: Array<Buffer> = []
    child.stdout.on("data", (b: Buffer) => out.push(b))
    child.stderr.on("data", (b: Buffer) => err.push(b))
    child.stdin.end(options.stdin ?? "")
    child.once("close", (status, signal) => {
      const stdout = Buffer.concat(out)
      resume(Effect.succeed({ status, signal, stdout, out: stdout.toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }))
    })
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/** A `zk` running in the background: its lines so far, and how to stop it. */
export interface Running {
  readonly child: ChildProcess.ChildProcessWithoutNullStreams
  readonly lines: Array<string>
  readonly stderr: () => string
  readonly exited: Promise<{ readonly status: number | null; readonly signal: NodeJS.Signals | null }>
}

/** Starts `zk args...` in the background; it is killed when the scope closes. */
export const start = (args: ReadonlyArray<string>): Effect.Effect<Running, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = ChildProcess.spawn(process.execPath, [BIN, ...args], { env: baseEnv(), stdio: ["pipe", "pipe", "pipe"] })
      const lines: Array<string> = []
      let partial = ""
      let err = ""
      child.stdout.setEncoding("utf8")
      child.stdout.on("data", (chunk: string) => {
        const parts = (partial + chunk).split("\n")
        partial = parts.pop() ?? ""
        lines.push(...parts)
      })
      child.stderr.on("data", (b: Buffer) => (err += b.toString("utf8")))
      const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once("close", (status, signal) => resolve({ status, signal }))
      )
      return { child, lines, stderr: () => err, exited }
    }),
    (running) => Effect.sync(() => running.child.kill("SIGKILL"))
  )

/** Polls `condition` every 25 ms until it holds, failing after `timeout` (with `context()` in the message). */
export const eventually = <E, R>(
  condition: Effect.Effect<boolean, E, R>,
  timeout: Duration.Input = "15 seconds",
  context: () => string = () => ""
) =>
  Effect.gen(function*() {
    const deadline = Date.now() + Duration.toMillis(Duration.fromInputUnsafe(timeout))
    while (!(yield* condition)) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`condition not met within ${Duration.format(Duration.fromInputUnsafe(timeout))}\n${context()}`))
      yield* Effect.sleep("25 millis")
    }
  })

/** The shared server's connect string. */
export const address = Effect.flatMap(ZooKeeperServer.ZooKeeperServer, (s) => s.address)

/** A quiet client session on the shared server, to read what `zk` did. */
export const client: Effect.Effect<ZooKeeperService, unknown, ZooKeeperServer.ZooKeeperServer | Scope.Scope> = Effect.flatMap(
  address,
  (servers) => NodeZooKeeper.make({ servers, logLevel: "None" })
)

let counter = 0
/** A path no other test of the file uses. */
export const fresh = (name: string): string => `/${name}-${++counter}-${process.pid}`

/**
 * A JVM peer for interop tests that speak JSON: compiles a helper under test/java with javac
 * against the Debian Curator jars (the same classpath as the anchors' helpers), runs it, and
 * talks to it one JSON line per command over stdin/stdout. The process dies with the scope.
 */
import { Effect, type Scope } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Readline from "node:readline"
import { curatorClasspath } from "./anchors.ts"

export const classpath = curatorClasspath

/** A running peer: `send` writes one command and resolves with its one-line JSON answer. */
export interface JavaPeer {
  readonly send: (command: Record<string, unknown>) => Effect.Effect<Record<string, unknown>>
}

/** Compiles `test/java/<main>.java` into a temporary directory; returns the directory. */
export const compile = (main: string): Effect.Effect<string, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () =>
        new Promise<string>((resolve, reject) => {
          const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "zk-java-"))
          const source = Path.join(import.meta.dirname, "..", "java", `${main}.java`)
          ChildProcess.execFile("javac", ["-d", dir, "-cp", classpath, source], (err, _out, stderr) =>
            err ? reject(new Error(`javac failed: ${stderr}`)) : resolve(dir))
        }),
      catch: (e) => (e instanceof Error ? e : new Error(String(e)))
    }),
    (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
  )

/** Starts `main` from `dir` with `args`; ready once it printed its first line. */
export const start = (dir: string, main: string, args: ReadonlyArray<string>): Effect.Effect<JavaPeer, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ readonly peer: JavaPeer; readonly child: ChildProcess.ChildProcess }, Error>((resume) => {
      const child = ChildProcess.spawn("java", ["-cp", `${classpath}:${dir}`, main, ...args], { stdio: ["pipe", "pipe", "inherit"] })
      const lines = Readline.createInterface({ input: child.stdout! })
      const waiting: Array<(line: string) => void> = []
      let ready = false
      lines.on("line", (line) => {
        if (!ready) {
          ready = true
          resume(Effect.succeed({ peer, child }))
          return
        }
        waiting.shift()?.(line)
      })
      child.on("exit", (code) => {
        if (!ready) resume(Effect.fail(new Error(`${main} exited with ${code} before it was ready`)))
      })
      const peer: JavaPeer = {
        send: (command) =>
          Effect.promise(() =>
            new Promise<Record<string, unknown>>((resolve) => {
              waiting.push((line) => resolve(JSON.parse(line)))
              child.stdin!.write(JSON.stringify(command) + "\n")
            })
          )
      }
    }),
    ({ child }) =>
      Effect.callback<void>((resume) => {
        if (child.exitCode !== null) return resume(Effect.void)
        child.on("exit", () => resume(Effect.void))
        child.stdin!.end()
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000)
        child.on("exit", () => clearTimeout(timer))
      })
  ).pipe(Effect.map(({ peer }) => peer))

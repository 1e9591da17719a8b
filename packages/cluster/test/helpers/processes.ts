/**
 * Runner and client processes of the counter example (packages/examples/src/cluster), or any
 * other script given by its absolute path (the cluster benchmark's runner), started with node on
 * 127.0.0.1, with their JSON output lines collected for the test to read.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"
import { isAbsolute, join } from "node:path"
import { Effect, type Scope } from "effect"

const exampleDir = join(import.meta.dirname, "..", "..", "..", "examples", "src", "cluster")

/** One JSON line a process printed, with what it says. */
export interface Line {
  readonly event: string
  readonly entity?: string
  readonly shard?: string
  readonly runner?: string
  readonly count?: number
  /** The shards a runner holds (the benchmark's runner prints one line each time they change). */
  readonly held?: ReadonlyArray<string>
  readonly at: number
}

export interface Proc {
  readonly name: string
  readonly child: ChildProcess
  readonly lines: Array<Line>
  /** The last non-JSON output, for failure messages. */
  readonly tail: () => string
  readonly kill: (signal: NodeJS.Signals) => Effect.Effect<void>
}

/** A free port on 127.0.0.1 right now. */
export const freePort: Effect.Effect<number> = Effect.callback<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/**
 * Starts `script` (one of the example's, or an absolute path) with `env`; killed (SIGKILL) when
 * the scope closes if still running.
 */
export const start = (
  name: string,
  script: "runner.ts" | "client.ts" | (string & {}),
  env: Readonly<Record<string, string>>
): Effect.Effect<Proc, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, [
        "--conditions=@effect-zk/source",
        "--disable-warning=ExperimentalWarning",
        isAbsolute(script) ? script : join(exampleDir, script)
      ], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } })
      const lines: Array<Line> = []
      let other = ""
      let buffer = ""
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        buffer += chunk
        let nl: number
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl)
          buffer = buffer.slice(nl + 1)
          if (line.startsWith("{")) {
            try {
              lines.push(JSON.parse(line) as Line)
              continue
            } catch {
              // not one of ours: keep it with the rest
            }
          }
          other = (other + line + "\n").slice(-4000)
        }
      })
      child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
        other = (other + chunk).slice(-4000)
      })
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
      const kill = (signal: NodeJS.Signals) =>
        Effect.promise(() => {
          if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
          child.kill(signal)
          return exited
        })
      return { name, child, lines, tail: () => other, kill }
    }),
    (proc) => proc.kill("SIGKILL")
  )

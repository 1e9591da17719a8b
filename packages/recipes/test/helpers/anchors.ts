/**
 * Curator (JVM) and kazoo (Python) participants for interop tests: the helpers in `../anchors`
 * are compiled or started here and driven over stdin/stdout, one command and one reply a line.
 * Both come from Debian packages that scripts/toolchain.sh installs (libcurator-recipes-java,
 * python3-kazoo, default-jdk-headless).
 */
import { spawn, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, type Scope } from "effect"

const anchorsDir = join(import.meta.dirname, "..", "anchors")

/** The jars Curator's recipes need, from Debian's /usr/share/java. */
export const curatorClasspath = [
  "curator-client", "curator-framework", "curator-recipes", "curator-x-discovery", "guava", "zookeeper",
  "jackson-databind", "jackson-core", "jackson-annotations", "slf4j-nop"
].map((j) => `/usr/share/java/${j}.jar`).join(":")

/** A running helper process. */
export interface Anchor {
  readonly send: (line: string) => Effect.Effect<void>
  /** Waits for (and consumes) the first unconsumed reply line matching `pattern`. */
  readonly next: (pattern: RegExp, timeoutMs?: number) => Effect.Effect<RegExpMatchArray, string>
  /** Every reply so far. */
  readonly lines: ReadonlyArray<string>
}

/** Compiles a Java helper once per source version (javac takes seconds on a busy machine). */
const compiled = (source: string, className: string): string => {
  const hash = createHash("sha256").update(readFileSync(source)).digest("hex").slice(0, 12)
  const out = join(tmpdir(), `effect-zk-${className}-${hash}`)
  if (!existsSync(join(out, `${className}.class`))) {
    mkdirSync(out, { recursive: true })
    const r = spawnSync("javac", ["-cp", curatorClasspath, "-d", out, source], { encoding: "utf8" })
    if (r.status !== 0) throw new Error(`javac failed: ${r.stderr}`)
  }
  return out
}

export const start = (command: string, args: ReadonlyArray<string>, name: string): Effect.Effect<Anchor, string, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(command, [...args], { stdio: ["pipe", "pipe", "pipe"] })
      const lines: Array<string> = []
      const consumed = new Set<number>()
      let stderr = ""
      let buffer = ""
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        buffer += chunk
        let nl: number
        while ((nl = buffer.indexOf("\n")) >= 0) {
          lines.push(buffer.slice(0, nl))
          buffer = buffer.slice(nl + 1)
        }
      })
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        stderr = (stderr + chunk).slice(-4000)
      })
      const anchor: Anchor = {
        lines,
        send: (line) => Effect.sync(() => void child.stdin.write(`${line}\n`)),
        next: (pattern, timeoutMs = 30_000) =>
          Effect.gen(function*() {
            const deadline = Date.now() + timeoutMs
            while (true) {
              for (let i = 0; i < lines.length; i++) {
                if (consumed.has(i)) continue
                const error = /^error /.test(lines[i]!) ? lines[i] : undefined
                if (error !== undefined) return yield* Effect.fail(`${name}: ${error}`)
                const m = lines[i]!.match(pattern)
                if (m !== null) {
                  consumed.add(i)
                  return m
                }
              }
              if (child.exitCode !== null) return yield* Effect.fail(`${name} exited ${child.exitCode}: ${stderr}`)
              if (Date.now() > deadline) return yield* Effect.fail(`${name}: no line matching ${pattern} in ${timeoutMs} ms; got ${JSON.stringify(lines)} ${stderr}`)
              yield* Effect.sleep("10 millis")
            }
          })
      }
      return { anchor, child }
    }),
    ({ child }) =>
      Effect.promise(() =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve()
          const kill = setTimeout(() => child.kill("SIGKILL"), 3000)
          child.once("exit", () => {
            clearTimeout(kill)
            resolve()
          })
          child.stdin.end("quit\n")
        })
      )
  ).pipe(
    Effect.map(({ anchor }) => anchor),
    Effect.tap((anchor) => anchor.next(/^ready$/, 60_000))
  )

/** Compiles (once) and starts the Java helper `source` (class `className`) with Curator on its classpath. */
export const startJava = (
  source: string,
  className: string,
  args: ReadonlyArray<string>,
  jvmOptions: ReadonlyArray<string> = ["-XX:TieredStopAtLevel=1"]
): Effect.Effect<Anchor, string, Scope.Scope> =>
  Effect.flatMap(Effect.try({ try: () => compiled(source, className), catch: String }), (dir) =>
    start("java", [...jvmOptions, "-cp", `${dir}:${curatorClasspath}`, className, ...args], className))

/** A Curator client connected to `servers` (a chroot suffix is fine). */
export const curator = (servers: string): Effect.Effect<Anchor, string, Scope.Scope> =>
  startJava(join(anchorsDir, "CuratorHelper.java"), "CuratorHelper", [servers])

/** A kazoo client connected to `servers`, on Debian's python3 (where python3-kazoo lives). */
export const kazoo = (servers: string): Effect.Effect<Anchor, string, Scope.Scope> =>
  start("/usr/bin/python3", [join(anchorsDir, "kazoo_helper.py"), servers], "kazoo")

/**
 * A throw-away PostgreSQL for the cluster benchmark: Debian's `postgresql` package (installed on
 * first use when running as root), one cluster made with `initdb` in a temporary directory,
 * listening on 127.0.0.1 only, at its default settings, removed when the scope closes.
 *
 * PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user the
 * package creates and every command runs through `runuser`.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, type Scope } from "effect"

/** The newest installed server's binaries, if any. */
const binDir = (): string | undefined => {
  const root = "/usr/lib/postgresql"
  if (!fs.existsSync(root)) return undefined
  const versions = fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, "bin", "initdb")))
  versions.sort((a, b) => Number(b) - Number(a))
  return versions[0] === undefined ? undefined : path.join(root, versions[0], "bin")
}

const run = (cmd: string, args: ReadonlyArray<string>, what: string) => {
  const r = spawnSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" })
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr || r.stdout}`)
  return r.stdout
}

const isRoot = process.getuid?.() === 0

/** Installs Debian's `postgresql` unless a server is already there. */
const ensureInstalled = (): string => {
  const found = binDir()
  if (found !== undefined) return found
  if (!isRoot) throw new Error("PostgreSQL is not installed: sudo apt-get install -y postgresql")
  console.error("cluster bench: installing Debian's postgresql")
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
  const install = () => spawnSync("apt-get", ["install", "-y", "-q", "postgresql"], { stdio: "inherit", env }).status === 0
  if (!install()) {
    spawnSync("apt-get", ["update", "-q"], { stdio: "inherit", env })
    if (!install()) throw new Error("apt-get install postgresql failed")
  }
  const bin = binDir()
  if (bin === undefined) throw new Error("postgresql installed, but no initdb under /usr/lib/postgresql")
  return bin
}

/** A running throw-away server: its connection URL. */
export interface Postgres {
  readonly url: string
  readonly version: string
}

/**
 * Starts a fresh PostgreSQL cluster on `port` (127.0.0.1, trust authentication, socket in the
 * data directory), stopped and deleted when the scope closes.
 */
export const postgres = (port: number): Effect.Effect<Postgres, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const bin = ensureInstalled()
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "effect-zk-pg-"))
      const data = path.join(dir, "data")
      if (isRoot) fs.chownSync(dir, Number(run("id", ["-u", "postgres"], "id")), Number(run("id", ["-g", "postgres"], "id")))
      const as = (cmd: string, args: ReadonlyArray<string>, what: string) =>
        isRoot ? run("runuser", ["-u", "postgres", "--", path.join(bin, cmd), ...args], what) : run(path.join(bin, cmd), args, what)
      as("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"], "initdb")
      as("pg_ctl", [
        "-D", data, "-l", path.join(dir, "log"), "-w", "-o",
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, "start"
      ], "pg_ctl start")
      const version = as("postgres", ["--version"], "postgres --version").trim()
      return { dir, data, as, url: `postgres://postgres@127.0.0.1:${port}/postgres`, version }
    }),
    ({ as, data, dir }) =>
      Effect.sync(() => {
        try {
          as("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"], "pg_ctl stop")
        } finally {
          fs.rmSync(dir, { recursive: true, force: true })
        }
      })
  ).pipe(Effect.map(({ url, version }) => ({ url, version })))

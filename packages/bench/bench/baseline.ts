/**
 * `pnpm bench --baseline <rev>`: an older commit of this repository as one more client,
 * `effect-zk@<sha>`, in the same interleaved run, so "no workload got slower than before" is read
 * off one table instead of two runs on a machine whose speed drifts.
 *
 * The commit is exported with `git archive` into a directory of its own under the system's
 * temporary directory (kept and reused by later runs: it is named by the commit), and its
 * dependencies are installed from pnpm's store without the network. The old build's children
 * run this bench's own effect-zk client code: a load hook (strip.ts) resolves `@effect-zk/*`
 * and `effect` from the old tree, so the old core, the old Node transport and the Effect
 * version that commit pinned are what gets measured, by the same workloads and checks.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { ClientName } from "./spec.ts"

/** An old commit, ready to run. */
export interface BaselineBuild {
  readonly client: ClientName
  readonly sha: string
  /** The exported tree; its packages/bench is where the old modules are resolved from. */
  readonly dir: string
  readonly seconds: number
}

const run = (command: string, args: ReadonlyArray<string>, cwd: string, log: number): SpawnSyncReturns<string> => {
  fs.writeSync(log, `\n$ ${command} ${args.join(" ")}   (in ${cwd})\n`)
  const r = spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })
  fs.writeSync(log, `${r.stdout ?? ""}${r.stderr ?? ""}`)
  return r
}

const must = (r: SpawnSyncReturns<string>, what: string, logFile: string): void => {
  if (r.status !== 0) throw new Error(`--baseline: ${what} failed (exit ${r.status}); see ${logFile}`)
}

/** The pnpm that runs `pnpm bench` (a script for Node, or pnpm's own executable), else pnpm from the PATH. */
const pnpm = (): { command: string; prefix: Array<string> } => {
  const execPath = process.env["npm_execpath"]
  if (execPath === undefined || !/pnpm/.test(execPath)) return { command: "pnpm", prefix: [] }
  return /\.[cm]?js$/.test(execPath) ? { command: process.execPath, prefix: [execPath] } : { command: execPath, prefix: [] }
}

/** Exports `rev` of the repository at `repoRoot` and installs it (or reuses an earlier export). */
export const prepareBaseline = (repoRoot: string, rev: string, logFile: string): BaselineBuild => {
  const started = performance.now()
  const resolved = spawnSync("git", ["rev-parse", "--verify", `${rev}^{commit}`], { cwd: repoRoot, encoding: "utf8" })
  if (resolved.status !== 0) throw new Error(`--baseline: "${rev}" is not a commit of ${repoRoot}`)
  const sha = resolved.stdout.trim()
  const short = sha.slice(0, 7)
  const client: ClientName = `effect-zk@${short}`
  const dir = path.join(os.tmpdir(), `effect-zk-baseline-${sha}`)
  const ready = path.join(dir, ".bench-ready")
  if (fs.existsSync(ready)) return { client, sha, dir, seconds: 0 }
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  const log = fs.openSync(logFile, "w")
  try {
    must(run("sh", ["-c", `git archive --format=tar ${sha} | tar -x -C '${dir}'`], repoRoot, log), `exporting ${short}`, logFile)
    const { command, prefix } = pnpm()
    const install = (mode: string) =>
      run(command, [...prefix, "install", mode, "--frozen-lockfile", "--ignore-scripts", "--config.confirmModulesPurge=false"], dir, log)
    // The store normally holds every package an older commit pinned; fall back to the registry if not.
    const offline = install("--offline")
    if (offline.status !== 0) must(install("--prefer-offline"), `pnpm install of ${short}`, logFile)
    fs.writeFileSync(ready, `${sha}\n`)
  } finally {
    fs.closeSync(log)
  }
  return { client, sha, dir, seconds: (performance.now() - started) / 1000 }
}

/** The sources the children of an old build load, to be stripped with the current ones. */
export const baselineSourceRoots = (build: BaselineBuild): Array<string> =>
  ["core", "node"].map((p) => path.join(build.dir, "packages", p, "src"))

/** The environment that makes a child resolve effect-zk and effect from the old tree (see strip.ts). */
export const baselineEnv = (build: BaselineBuild): Record<string, string> => ({
  BENCH_RESOLVE_FROM: path.join(build.dir, "packages", "bench", "package.json")
})

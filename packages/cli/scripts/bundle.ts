/**
 * Bundles the compiled `zk` (dist/bin.js and everything it imports, effect included) into the
 * one file the `zk` bin runs, dist/zk.js. Loading one file instead of several hundred modules
 * takes about half the CPU off every start, which is most of what a one-shot command costs.
 *
 *   node packages/cli/scripts/bundle.ts     # after `tsc -b`; also run by the cli's tests and prepack
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { build } from "rolldown"

const packageDir = Path.resolve(import.meta.dirname, "..")
const entry = Path.join(packageDir, "dist", "bin.js")
const output = Path.join(packageDir, "dist", "zk.js")

/** Builds dist/zk.js unless it is newer than every compiled file it comes from. */
export const bundle = async (): Promise<string> => {
  if (!Fs.existsSync(entry)) throw new Error(`${entry} is missing: run \`pnpm exec tsc -b\` first`)
  const newest = Math.max(
    ...["cli", "core", "node", "recipes"].map((p) => Fs.statSync(Path.join(packageDir, "..", p, "dist", ".tsbuildinfo")).mtimeMs)
  )
  if (Fs.existsSync(output) && Fs.statSync(output).mtimeMs > newest) return output
  await build({
    input: entry,
    platform: "node",
    logLevel: "warn",
    output: { file: output, format: "esm", codeSplitting: false }
  })
  Fs.chmodSync(output, 0o755)
  return output
}

if (process.argv[1] === import.meta.filename) {
  await bundle()
}

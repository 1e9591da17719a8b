/**
 * Where the sub-benches (recipes, cluster) keep their raw figures: one JSON file per run in
 * `bench-results/` at the repository root (gitignored), named by kind and start time, so runs
 * on different days can be compared later.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const resultsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "bench-results")

/** Writes `value` to `bench-results/<kind>-<ISO time>.json`; returns the file's path. */
export const writeResults = (kind: string, value: unknown): string => {
  fs.mkdirSync(resultsDir, { recursive: true })
  const file = path.join(resultsDir, `${kind}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`)
  fs.writeFileSync(file, JSON.stringify(value, null, 2))
  return file
}

/**
 * Summarises `.cpuprofile` files written by `pnpm bench --cpu-prof`: self time per function and
 * per area (effect, effect-zk core, the Node transport, Node internals, GC, ...).
 *
 *   pnpm --filter @effect-zk/bench profile-top bench-results/profiles-<date>/get-pipe.effect-zk.r1.cpuprofile [--top 30]
 *
 * The profiles cover the timed part only (the child starts and stops the inspector's profiler
 * around it). Self time is the sum of the sampling intervals that landed in a function; samples
 * are taken on wall time, so on a loaded machine a function that was descheduled (typically a
 * syscall such as `writeBuffer`) collects time it did not spend on a CPU: compare with the
 * user/sys split in the JSON.
 */
import * as fs from "node:fs"

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}
interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
}
interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const isProfile = (u: unknown): u is Profile =>
  typeof u === "object" && u !== null && "nodes" in u && Array.isArray(u.nodes) && "samples" in u && Array.isArray(u.samples) &&
  "timeDeltas" in u && Array.isArray(u.timeDeltas)

const area = (url: string, name: string): string => {
  if (url === "") return name.startsWith("(") ? name : "(native / V8)"
  if (url === "node:inspector") return "(profiler)"
  if (url.includes("/packages/core/")) return "@effect-zk/core"
  if (url.includes("/packages/node/")) return "@effect-zk/node"
  if (url.includes("/packages/bench/")) return "bench harness"
  if (url.includes("/node_modules/effect/") || url.includes("/effect@")) return "effect"
  if (url.includes("node-zookeeper-client")) return "node-zookeeper-client"
  if (url.includes("zookeeper")) return "zookeeper (JS wrapper)"
  if (url.startsWith("node:")) return "node internals"
  return "other"
}

const short = (url: string): string => {
  const m = /(packages\/[^/]+\/.*|node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?(.*))$/.exec(url)
  return m?.[2] ?? m?.[1] ?? url
}

const summarize = (profile: Profile, top: number): string => {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0
    self.set(id, (self.get(id) ?? 0) + dt)
    total += dt
  })
  const byFunction = new Map<string, { readonly label: string; readonly area: string; us: number }>()
  const byArea = new Map<string, number>()
  for (const [id, us] of self) {
    const node = byId.get(id)
    if (node === undefined) continue
    const { functionName, url, lineNumber } = node.callFrame
    const name = functionName === "" ? "(anonymous)" : functionName
    const key = `${name} ${url}:${lineNumber}`
    const entry = byFunction.get(key) ?? { label: `${name}  ${url === "" ? "" : `${short(url)}:${lineNumber + 1}`}`, area: area(url, name), us: 0 }
    entry.us += us
    byFunction.set(key, entry)
    byArea.set(entry.area, (byArea.get(entry.area) ?? 0) + us)
  }
  // Percentages are of the busy time: neither waiting (idle) nor the profiler stopping itself.
  const busy = total - (byArea.get("(idle)") ?? 0) - (byArea.get("(profiler)") ?? 0)
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`
  const lines = [
    `sampled ${ms(total)}, of which busy ${ms(busy)}, idle ${ms(byArea.get("(idle)") ?? 0)}, profiler ${ms(byArea.get("(profiler)") ?? 0)}`,
    "",
    "self time by area (% of busy):"
  ]
  for (const [name, us] of [...byArea].sort((a, b) => b[1] - a[1])) {
    if (name !== "(idle)" && name !== "(profiler)") lines.push(`  ${pct(us)} ${ms(us)}  ${name}`)
  }
  lines.push("", `top ${top} functions by self time (% of busy):`)
  const ranked = [...byFunction.values()].filter((f) => f.area !== "(idle)" && f.area !== "(profiler)").sort((a, b) => b.us - a.us)
  for (const f of ranked.slice(0, top)) {
    lines.push(`  ${pct(f.us)} ${ms(f.us)}  ${f.area.padEnd(22)} ${f.label}`)
  }
  return lines.join("\n")
}

const main = (argv: ReadonlyArray<string>) => {
  const topAt = argv.indexOf("--top")
  const top = topAt >= 0 ? Number(argv[topAt + 1]) : 25
  const files = argv.filter((a, i) => a !== "--top" && (topAt < 0 || i !== topAt + 1) && a !== "--")
  if (files.length === 0) {
    console.error("usage: profile-top FILE.cpuprofile... [--top N]")
    process.exit(2)
  }
  for (const file of files) {
    const profile: unknown = JSON.parse(fs.readFileSync(file, "utf8"))
    if (!isProfile(profile)) throw new Error(`${file} is not a .cpuprofile`)
    console.log(`== ${file}\n${summarize(profile, top)}\n`)
  }
}

main(process.argv.slice(2))

/**
 * Every checker a workload's history goes through, with one combined verdict, the violations in
 * words, the minimal failing sub-history and the time the checking took.
 *
 * @since 0.1.0
 */
import { describe, type Operation } from "./History.ts"
import * as LockSafety from "./LockSafety.ts"
import * as QueueCheck from "./QueueCheck.ts"
import * as Register from "./Register.ts"
import * as SessionOrder from "./SessionOrder.ts"
import * as WatchOrder from "./WatchOrder.ts"

/**
 * The workloads, each with its own checkers.
 *
 * @since 0.1.0
 * @category models
 */
export type WorkloadName = "register" | "queue" | "lock"

/**
 * The combined verdict. `unknown`: the linearizability search ran out of budget for some key
 * and nothing else failed.
 *
 * @since 0.1.0
 * @category models
 */
export interface Report {
  readonly verdict: "valid" | "invalid" | "unknown"
  readonly violations: ReadonlyArray<string>
  readonly minimal: ReadonlyArray<Operation>
  readonly checkerMs: number
}

const registerReport = (history: ReadonlyArray<Operation>, maxSteps: number | undefined): Omit<Report, "checkerMs"> => {
  const keys = Register.check(history, { maxSteps })
  const violations: Array<string> = []
  let minimal: ReadonlyArray<Operation> = []
  for (const key of keys) {
    if (key.verdict === "NotLinearizable") {
      violations.push(`linearizability: key ${key.key} (${key.operations} ops) is not linearizable; minimal sub-history:\n  ${key.minimal.map(describe).join("\n  ")}`)
      if (minimal.length === 0) minimal = key.minimal
    }
  }
  for (const v of SessionOrder.check(history)) {
    violations.push(`${v.kind}: ${describe(v.read)} after the session saw ${describe(v.seen)}; it missed ${describe(v.missed)}`)
    if (minimal.length === 0) minimal = [v.missed, v.seen, v.read]
  }
  for (const v of WatchOrder.check(history)) {
    violations.push(`watch-order: ${describe(v.reply)} arrived before the event of the watch armed by ${describe(v.armed)} for ${describe(v.change)}${
      v.event === undefined ? " (no event)" : ""
    }`)
    if (minimal.length === 0) minimal = [v.armed, v.change, v.reply, ...(v.event === undefined ? [] : [v.event])]
  }
  const unknown = keys.some((k) => k.verdict === "Unknown")
  return { verdict: violations.length > 0 ? "invalid" : unknown ? "unknown" : "valid", violations, minimal }
}

const queueReport = (history: ReadonlyArray<Operation>): Omit<Report, "checkerMs"> => {
  const found = QueueCheck.check(history)
  const violations = found.map((v) =>
    v.kind === "lost"
      ? `lost: ${describe(v.enqueue)} was acknowledged and never dequeued`
      : v.kind === "duplicated"
      ? `duplicated: ${v.value} dequeued ${v.dequeues.length} times: ${v.dequeues.map(describe).join("; ")}`
      : `unexpected: ${describe(v.dequeue)} took a value nobody enqueued`
  )
  const first = found[0]
  const minimal = first === undefined
    ? []
    : first.kind === "lost"
    ? [first.enqueue]
    : first.kind === "duplicated"
    ? [...history.filter((op) => op.f === "enqueue" && op.value === first.value), ...first.dequeues]
    : [first.dequeue]
  const drained = history.some((op) => op.f === "list" && op.type === "ok")
  return {
    verdict: found.length > 0 ? "invalid" : drained ? "valid" : "unknown",
    violations: drained ? violations : [...violations, "the final drain could not list the queue: lost elements cannot be told"],
    minimal
  }
}

const lockReport = (history: ReadonlyArray<Operation>): Omit<Report, "checkerMs"> => {
  const found = LockSafety.check(history)
  const violations = found.map((v) =>
    v.kind === "overlap"
      ? `overlap: ${describe(v.second)} while ${describe(v.first)} still held the lock`
      : `token-not-increasing: ${describe(v.later)} after ${describe(v.earlier)}`
  )
  const first = found[0]
  const related = (acquire: Operation) =>
    history.filter((op) => op.id === acquire.id || (op.process === acquire.process && op.invoke > acquire.invoke && (op.f === "release" || op.f === "lost"))).slice(0, 2)
  const minimal = first === undefined
    ? []
    : first.kind === "overlap"
    ? [...related(first.first), ...related(first.second)]
    : [first.earlier, first.later]
  return { verdict: found.length > 0 ? "invalid" : "valid", violations, minimal }
}

/**
 * Checks a workload's history.
 *
 * @example
 * ```ts
 * const report = Checker.check("register", recorder.operations())
 * if (report.verdict === "invalid") console.log(report.violations.join("\n"))
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const check = (
  workload: WorkloadName,
  history: ReadonlyArray<Operation>,
  options: { readonly maxSteps?: number | undefined } = {}
): Report => {
  const started = performance.now()
  const report = workload === "register"
    ? registerReport(history, options.maxSteps)
    : workload === "queue"
    ? queueReport(history)
    : lockReport(history)
  return { ...report, checkerMs: performance.now() - started }
}

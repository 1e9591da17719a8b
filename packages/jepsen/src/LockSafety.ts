/**
 * Lock safety from a lock history: fencing tokens strictly increase from one holder to the next,
 * and no two holders hold at once while their guarantee stands.
 *
 * A holder's interval runs from its `acquire` completing (ok) to the first of: its `release`
 * being invoked, its lease's `lost` signal (the guarantee lapsed), or the end of the history.
 * A holder told that its lock lapsed must stop acting on it, so its interval ends there even if
 * another client takes the lock soon after.
 *
 * @since 0.1.0
 */
import type { Operation } from "./History.ts"

/**
 * A safety violation.
 *
 * @since 0.1.0
 * @category models
 */
export type Violation =
  | { readonly kind: "token-not-increasing"; readonly earlier: Operation; readonly later: Operation }
  | { readonly kind: "overlap"; readonly first: Operation; readonly second: Operation }

/**
 * One holder's interval, nanoseconds on the history's clock.
 *
 * @since 0.1.0
 * @category models
 */
export interface Hold {
  readonly acquire: Operation
  readonly start: bigint
  readonly end: bigint | undefined
}

/**
 * The holds of a history. A process holds at most one lease at a time, so its `release` or
 * `lost` after an acquisition ends that acquisition's hold.
 *
 * @since 0.1.0
 * @category constructors
 */
export const holds = (history: ReadonlyArray<Operation>): ReadonlyArray<Hold> => {
  const result: Array<Hold> = []
  const open = new Map<number, Operation>()
  const endsAt = new Map<number, bigint>()
  const sorted = [...history].sort((a, b) => (a.invoke < b.invoke ? -1 : a.invoke > b.invoke ? 1 : 0))
  const close = (process: number, at: bigint) => {
    const acquire = open.get(process)
    if (acquire === undefined) return
    open.delete(process)
    endsAt.set(acquire.id, at)
  }
  for (const op of sorted) {
    if (op.f === "acquire" && op.type === "ok") open.set(op.process, op)
    else if (op.f === "release" || op.f === "lost") close(op.process, op.invoke)
  }
  for (const op of history) {
    if (op.f !== "acquire" || op.type !== "ok" || op.complete === undefined) continue
    result.push({ acquire: op, start: op.complete, end: endsAt.get(op.id) })
  }
  return result.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
}

/**
 * Checks a lock history.
 *
 * @example
 * ```ts
 * const violations = LockSafety.check(recorder.operations())
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const check = (history: ReadonlyArray<Operation>): ReadonlyArray<Violation> => {
  const all = holds(history)
  const violations: Array<Violation> = []
  for (let i = 1; i < all.length; i++) {
    const earlier = all[i - 1]!.acquire
    const later = all[i]!.acquire
    if (later.result.token === undefined || earlier.result.token === undefined || later.result.token <= earlier.result.token) {
      violations.push({ kind: "token-not-increasing", earlier, later })
    }
  }
  // Sorted by start: a hold overlaps an earlier one iff it starts before the latest end so far.
  let widest: Hold | undefined = undefined
  for (const hold of all) {
    if (widest !== undefined && (widest.end === undefined || hold.start < widest.end)) {
      violations.push({ kind: "overlap", first: widest.acquire, second: hold.acquire })
    }
    if (widest === undefined || (widest.end !== undefined && (hold.end === undefined || hold.end > widest.end))) widest = hold
  }
  return violations
}

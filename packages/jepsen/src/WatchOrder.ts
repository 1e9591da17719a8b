/**
 * ZooKeeper's watch promise, checked with zxids: a client sees the event of a watched node's
 * change before it sees any reply that reflects that change (or anything after it).
 *
 * A `getw` read of key K that saw mzxid m armed a watch. Let z be the smallest zxid of a known
 * write to K above m: the change (or an earlier one) must fire the watch. Every reply on the
 * same session that reveals a zxid >= z must therefore arrive after the event. A violation is
 * such a reply that completed first, with no event yet (the event came later, or never).
 *
 * Reads that found the node missing arm nothing here (their state has no zxid), and a session
 * that expired loses its watches, which is fine: its later operations run on a new session.
 *
 * @since 0.1.0
 */
import type { Operation } from "./History.ts"
import { bySession, knownWrites } from "./SessionOrder.ts"

/**
 * A reply that overtook a watch event.
 *
 * @since 0.1.0
 * @category models
 */
export interface Violation {
  /** The read that armed the watch. */
  readonly armed: Operation
  /** The first write to the key after what `armed` saw. */
  readonly change: Operation
  /** The reply that reflects `change` but arrived before the event. */
  readonly reply: Operation
  /** The event, if it came at all. */
  readonly event: Operation | undefined
}

/**
 * Checks every armed watch of a history.
 *
 * @example
 * ```ts
 * const violations = WatchOrder.check(recorder.operations())
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const check = (history: ReadonlyArray<Operation>): ReadonlyArray<Violation> => {
  const writes = knownWrites(history)
  const sessions = bySession(history)
  const events = new Map<number, Operation>()
  for (const op of history) if (op.f === "event" && op.armedBy !== undefined) events.set(op.armedBy, op)
  const violations: Array<Violation> = []
  for (const armed of history) {
    if (armed.f !== "getw" || armed.type !== "ok" || armed.result.zxid === undefined || armed.complete === undefined) continue
    const seen = armed.result.zxid
    const change = (writes.get(armed.key) ?? []).find((w) => w.result.zxid! > seen)
    if (change === undefined) continue
    const z = change.result.zxid!
    const event = events.get(armed.id)
    const reply = (sessions.get(armed.session) ?? []).find((op) =>
      op.f !== "event" && op.type === "ok" && op.complete! > armed.complete! && op.result.zxid !== undefined &&
      op.result.zxid >= z
    )
    if (reply !== undefined && (event === undefined || event.complete! > reply.complete!)) {
      violations.push({ armed, change, reply, event })
    }
  }
  return violations
}

/**
 * What ZooKeeper promises every session, checked with zxids: a session sees the server's order.
 * Its reads may be stale (a follower serves them) but never older than anything the session has
 * already seen, its own writes included.
 *
 * Each reply reveals a zxid: a create its czxid, a set its new mzxid, a read the mzxid of the
 * version it saw. The session's high-water mark is the largest zxid revealed by its replies so
 * far. A later read of key K that returns mzxid m is a violation when a known write to K has a
 * zxid in (m, mark]: the server the session reads from has already applied it, yet the read
 * shows an older version. The violation is named after where the mark came from:
 * - `read-your-writes`: the session's own write to K;
 * - `monotonic-reads`: the session's earlier read of K;
 * - `session-order`: anything else the session saw (a write or read of another key).
 *
 * Reads answered `NoNode` are not checked: deletes reveal no zxid, so a missing node cannot be
 * placed in the order.
 *
 * Plain reads and synced reads are both checked here; synced reads are also checked
 * linearizably by `Register`.
 *
 * @since 0.1.0
 */
import type { Operation } from "./History.ts"

/**
 * A stale read.
 *
 * @since 0.1.0
 * @category models
 */
export interface Violation {
  readonly kind: "read-your-writes" | "monotonic-reads" | "session-order"
  /** The stale read. */
  readonly read: Operation
  /** The operation whose reply set the session's mark. */
  readonly seen: Operation
  /** The write the read should have seen. */
  readonly missed: Operation
}

const READS: ReadonlySet<string> = new Set(["get", "getw", "sget"])
const WRITES: ReadonlySet<string> = new Set(["create", "set"])

/**
 * Known writes per key, sorted by zxid: the ok creates and sets.
 *
 * @since 0.1.0
 * @category constructors
 */
export const knownWrites = (history: ReadonlyArray<Operation>): ReadonlyMap<string, ReadonlyArray<Operation>> => {
  const byKey = new Map<string, Array<Operation>>()
  for (const op of history) {
    if (op.type !== "ok" || !WRITES.has(op.f) || op.result.zxid === undefined) continue
    const list = byKey.get(op.key) ?? []
    list.push(op)
    byKey.set(op.key, list)
  }
  for (const list of byKey.values()) list.sort((a, b) => (a.result.zxid! < b.result.zxid! ? -1 : 1))
  return byKey
}

/**
 * The operations of each session, in the order their replies arrived.
 *
 * @since 0.1.0
 * @category constructors
 */
export const bySession = (history: ReadonlyArray<Operation>): ReadonlyMap<string, ReadonlyArray<Operation>> => {
  const sessions = new Map<string, Array<Operation>>()
  for (const op of history) {
    if (op.session === "" || op.complete === undefined) continue
    const list = sessions.get(op.session) ?? []
    list.push(op)
    sessions.set(op.session, list)
  }
  for (const list of sessions.values()) list.sort((a, b) => (a.complete! < b.complete! ? -1 : a.complete! > b.complete! ? 1 : 0))
  return sessions
}

/**
 * Checks every session of a history for stale reads.
 *
 * @example
 * ```ts
 * const violations = SessionOrder.check(recorder.operations())
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const check = (history: ReadonlyArray<Operation>): ReadonlyArray<Violation> => {
  const writes = knownWrites(history)
  const violations: Array<Violation> = []
  for (const ops of bySession(history).values()) {
    let mark: Operation | undefined = undefined
    for (const op of ops) {
      const zxid = op.type === "ok" ? op.result.zxid : undefined
      if (zxid === undefined) continue
      if (READS.has(op.f) && mark !== undefined) {
        const markZxid = mark.result.zxid!
        const missed = (writes.get(op.key) ?? []).find((w) => w.result.zxid! > zxid && w.result.zxid! <= markZxid)
        if (missed !== undefined) {
          const kind = mark.key !== op.key ? "session-order" : READS.has(mark.f) ? "monotonic-reads" : "read-your-writes"
          violations.push({ kind, read: op, seen: mark, missed })
        }
      }
      if (mark === undefined || zxid > mark.result.zxid!) mark = op
    }
  }
  return violations
}

/**
 * The errors recipes add to `ZkError`: a wait that ran out of time, and a guarantee (a lock,
 * a leadership) that lapsed while work ran under it. Each is a `Schema.TaggedError`, so callers
 * recover with `Effect.catchTag("LockLost", ...)` and errors can cross process boundaries.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * Why a guarantee lapsed: the connection dropped (`Disconnected`, also a read-only server),
 * the grace period after a drop ran out, the session ended (`Expired`, `Closed`), or the
 * holder's node was deleted by someone else.
 *
 * @since 0.1.0
 * @category models
 */
export const LapseReason = Schema.Literals(["Disconnected", "GraceExpired", "SessionEnded", "NodeDeleted"])

/**
 * @since 0.1.0
 * @category models
 */
export type LapseReason = typeof LapseReason.Type

/**
 * The lock was not acquired within the caller's `timeout`; the waiter's node is already gone.
 *
 * @since 0.1.0
 * @category errors
 */
export class LockTimeout extends Schema.TaggedError<LockTimeout>()("LockTimeout", {
  path: Schema.String,
  timeoutMillis: Schema.Number
}) {
  override get message(): string {
    return `lock ${JSON.stringify(this.path)} not acquired within ${this.timeoutMillis} ms`
  }
}

/**
 * A held lock's guarantee lapsed: work running under it was interrupted, because another
 * holder may now exist.
 *
 * @since 0.1.0
 * @category errors
 */
export class LockLost extends Schema.TaggedError<LockLost>()("LockLost", {
  path: Schema.String,
  node: Schema.String,
  reason: LapseReason
}) {
  override get message(): string {
    return `lock ${JSON.stringify(this.path)} lost (${this.reason}); node ${this.node}`
  }
}

/**
 * Leadership lapsed: the leader's work was interrupted, because another leader may now exist.
 *
 * @since 0.1.0
 * @category errors
 */
export class LeadershipLost extends Schema.TaggedError<LeadershipLost>()("LeadershipLost", {
  path: Schema.String,
  node: Schema.String,
  reason: LapseReason
}) {
  override get message(): string {
    return `leadership of ${JSON.stringify(this.path)} lost (${this.reason}); node ${this.node}`
  }
}

/**
 * A barrier was still up (or a double barrier not full) when the caller's `timeout` ran out.
 *
 * @since 0.1.0
 * @category errors
 */
export class BarrierTimeout extends Schema.TaggedError<BarrierTimeout>()("BarrierTimeout", {
  path: Schema.String,
  timeoutMillis: Schema.Number
}) {
  override get message(): string {
    return `barrier ${JSON.stringify(this.path)} still closed after ${this.timeoutMillis} ms`
  }
}

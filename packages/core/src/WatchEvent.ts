/**
 * Events delivered by watch streams.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The node events a server sends. `path` is the client's path (chroot removed).
 *
 * @since 0.1.0
 * @category models
 */
export type WatchEventType = "NodeCreated" | "NodeDeleted" | "NodeDataChanged" | "NodeChildrenChanged"

/**
 * One fired watch.
 *
 * @example
 * ```ts
 * const { watch } = yield* zk.existsW("/lock")
 * const event = yield* Stream.runHead(watch)   // Option<WatchEvent>: { type: "NodeDeleted", path: "/lock" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface WatchEvent {
  readonly type: WatchEventType
  readonly path: string
}

const byCode: ReadonlyArray<WatchEventType | undefined> = [
  undefined,
  "NodeCreated",
  "NodeDeleted",
  "NodeDataChanged",
  "NodeChildrenChanged"
]

/**
 * The event type for a wire EventType number (1-4), or undefined for anything else.
 *
 * @since 0.1.0
 * @category constructors
 */
export const typeFromCode = (code: number): WatchEventType | undefined => byCode[code]

/**
 * Emitted by persistent watch streams (`addWatch`) after the session reconnected. The server
 * re-arms persistent watches but does not replay what changed while the client was away, so a
 * consumer that caches state should re-read it now. It arrives only once the watch is armed
 * again on the server, so nothing changed after it can be missed.
 *
 * @since 0.1.0
 * @category models
 */
export interface WatchResync {
  readonly type: "Resync"
  /** The watched path. */
  readonly path: string
}

/**
 * What a persistent watch stream emits.
 *
 * @since 0.1.0
 * @category models
 */
export type PersistentWatchEvent = WatchEvent | WatchResync

/**
 * A watch stream's consumer fell `capacity` events behind. The stream fails with this instead
 * of dropping events; resubscribe (and re-read) to recover.
 *
 * @since 0.1.0
 * @category errors
 */
export class WatchOverflow extends Schema.TaggedError<WatchOverflow>()("WatchOverflow", {
  path: Schema.String,
  capacity: Schema.Number
}) {
  override get message(): string {
    return `zookeeper: watch ${JSON.stringify(this.path)}: more than ${this.capacity} events not consumed; the stream stopped rather than drop any`
  }
}

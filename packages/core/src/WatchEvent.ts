/**
 * Events delivered by watch streams.
 *
 * @since 0.1.0
 */

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

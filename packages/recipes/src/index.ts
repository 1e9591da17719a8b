/**
 * effect-zk recipes: locks, leader election, semaphores, barriers, counters, queues and group
 * membership on top of `@effect-zk/core`, interoperable with Curator and kazoo on the same paths.
 *
 * @since 0.1.0
 */

/** Mutual exclusion with fencing tokens. @since 0.1.0 */
export * as Lock from "./Lock.ts"
/** @since 0.1.0 */
export { BarrierTimeout, LapseReason, LeadershipLost, LockLost, LockTimeout } from "./RecipeError.ts"
/** @since 0.1.0 */
export type { LapsePolicy } from "./internal/lapse.ts"
/** @since 0.1.0 */
export type { Layout } from "./internal/layout.ts"

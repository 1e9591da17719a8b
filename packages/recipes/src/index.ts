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

/** A live mirror of a znode subtree on one recursive watch (Curator's CuratorCache, kazoo's TreeCache). @since 0.1.0 */
export * as TreeCache from "./TreeCache.ts"
/** A live copy of one znode (Curator's NodeCache, kazoo's DataWatch). @since 0.1.0 */
export * as NodeCache from "./NodeCache.ts"
/** Service registry and load balancing, interoperable with Curator's x-discovery. @since 0.1.0 */
export * as ServiceDiscovery from "./ServiceDiscovery.ts"
/** Effect configuration read live from a znode tree. @since 0.1.0 */
export * as ZkConfigProvider from "./ZkConfigProvider.ts"

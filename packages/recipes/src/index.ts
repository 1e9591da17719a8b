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
/** Leader election (run, latch), interoperable with Curator's LeaderLatch. @since 0.1.0 */
export * as Leader from "./Leader.ts"
/** Group membership. @since 0.1.0 */
export * as Membership from "./Membership.ts"
/** Keeping a component alive across session expiry. @since 0.1.0 */
export * as Recipes from "./Recipes.ts"
/** Readers/writer lock, interoperable with Curator's InterProcessReadWriteLock. @since 0.1.0 */
export * as ReadWriteLock from "./ReadWriteLock.ts"
/** Counting semaphore with leases, interoperable with Curator's InterProcessSemaphoreV2. @since 0.1.0 */
export * as Semaphore from "./Semaphore.ts"
/** Barrier. @since 0.1.0 */
export * as Barrier from "./Barrier.ts"
/** Double barrier. @since 0.1.0 */
export * as DoubleBarrier from "./DoubleBarrier.ts"
/** Shared 64-bit counter. @since 0.1.0 */
export * as SharedCounter from "./SharedCounter.ts"
/** FIFO queue, each item taken by exactly one consumer. @since 0.1.0 */
export * as DistributedQueue from "./DistributedQueue.ts"

/**
 * A distributed mutex (Curator's InterProcessMutex, kazoo's Lock) that JVM and Python services
 * can share. Contenders queue as ephemeral sequential nodes under the lock's path; each waiter
 * watches only the node just ahead of it, so a release wakes exactly one waiter.
 *
 * What the anchors leave to the caller is built in here:
 * - a lease has a `fencingToken` (its node's czxid), strictly greater for every later holder,
 *   so downstream systems can reject a stale holder's writes;
 * - `guard(ops)` applies ZooKeeper writes only while the lease's node still exists;
 * - work under `withLock` is interrupted with `LockLost` the moment the guarantee lapses,
 *   instead of a flag the work would have to poll;
 * - an interrupted or timed-out waiter, and a closed scope, leave no node behind.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Lock } from "@effect-zk/recipes"
 *
 * const program = Lock.withLock("/locks/orders", Effect.log("only one of us"), { timeout: "5 seconds" })
 * ```
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { ZkError, ZooKeeper } from "@effect-zk/core"
import type { Lease, LockOptions } from "./internal/lease.ts"
import { acquireLease, withLease } from "./internal/lease.ts"
import { firstWins } from "./internal/contend.ts"
import { LOCK } from "./internal/layout.ts"
import type { LockLost, LockTimeout } from "./RecipeError.ts"

export type {
  /**
   * A held lock: its node, fencing token, `lost` and `guard`.
   *
   * @since 0.1.0
   * @category models
   */
  Lease,
  /**
   * Options of {@link acquire} and {@link withLock}.
   *
   * @since 0.1.0
   * @category models
   */
  LockOptions
}

const lock = { op: "lock", marker: LOCK, markers: [LOCK.curator, LOCK.kazoo], blocker: firstWins } as const

/**
 * Waits for the lock and holds it until the current scope closes (the node is deleted then,
 * also on interruption or failure).
 *
 * @example
 * ```ts
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const lease = yield* Lock.acquire("/locks/orders")
 *   yield* lease.guard([Op.set("/orders/next", "42")])
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const acquire = (
  path: string,
  options: LockOptions = {}
): Effect.Effect<Lease, LockTimeout | ZkError, ZooKeeper | Scope.Scope> => acquireLease(path, options, lock)

/**
 * Runs `work` while holding the lock, then releases it. `work` runs as a fiber that is
 * interrupted, and the result fails with `LockLost`, the moment the guarantee lapses. `work`
 * may be a function of the lease, to use its fencing token or `guard`.
 *
 * @example
 * ```ts
 * const program = Lock.withLock("/locks/orders", (lease) => Effect.log(`token ${lease.fencingToken}`), {
 *   timeout: "5 seconds"
 * })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const withLock = <A, E, R>(
  path: string,
  work: Effect.Effect<A, E, R> | ((lease: Lease) => Effect.Effect<A, E, R>),
  options: LockOptions = {}
): Effect.Effect<A, E | LockLost | LockTimeout | ZkError, R | ZooKeeper> => withLease(acquire(path, options), work)

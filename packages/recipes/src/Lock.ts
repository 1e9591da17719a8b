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
import type { Data, Op, ZkError } from "@effect-zk/core"
import { ZooKeeper } from "@effect-zk/core"
import type * as OpModule from "@effect-zk/core/Op"
import { check } from "@effect-zk/core/Op"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { firstWins, takeTurn, validate } from "./internal/contend.ts"
import type { LapsePolicy } from "./internal/lapse.ts"
import type { Layout } from "./internal/layout.ts"
import { LOCK } from "./internal/layout.ts"
import { encode } from "./internal/text.ts"
import { LockLost, LockTimeout } from "./RecipeError.ts"

/**
 * Options of {@link acquire} and {@link withLock}.
 *
 * @since 0.1.0
 * @category models
 */
export interface LockOptions {
  /** Give up waiting after this long with `LockTimeout`. Default: wait as long as it takes. */
  readonly timeout?: Duration.Input | undefined
  /**
   * Name our node like Curator (`_c_<uuid>-lock-<seq>`, the default) or like kazoo
   * (`<uuidhex>__lock__<seq>`). Either way, nodes of both styles count as contenders.
   */
  readonly layout?: Layout | undefined
  /** When the held lock lapses: `"disconnected"` (default), `"expired"`, or `{ grace }`. */
  readonly lapse?: LapsePolicy | undefined
  /** Data of our node, e.g. an identifier that operators can read. Default: empty. */
  readonly data?: Data | undefined
}

/**
 * A held lock.
 *
 * @since 0.1.0
 * @category models
 */
export interface Lease {
  /** The lock's path. */
  readonly path: string
  /** Our node's full path. */
  readonly node: string
  /** Our node's czxid: strictly greater for every later holder of this lock. */
  readonly fencingToken: bigint
  /** Fails with `LockLost` once the guarantee lapses (never succeeds). */
  readonly lost: Effect.Effect<never, LockLost>
  /**
   * Applies `ops` atomically, only if our node still exists: a `multi` with a `check` of our
   * node first. Fails with `NoNode` (the check's error) when the lock is no longer ours.
   */
  readonly guard: (ops: ReadonlyArray<Op.Op>) => Effect.Effect<ReadonlyArray<OpModule.OpResult>, ZkError>
}

const toBytes = (data: Data | undefined): Uint8Array =>
  data === undefined ? new Uint8Array(0) : typeof data === "string" ? encode(data) : data

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
): Effect.Effect<Lease, LockTimeout | ZkError, ZooKeeper | Scope.Scope> =>
  Effect.gen(function*() {
    const timeout = yield* validate("lock", path, options.timeout)
    const zk = yield* ZooKeeper
    const turn = yield* takeTurn(zk, {
      dir: path,
      layout: options.layout ?? "curator",
      marker: LOCK,
      markers: [LOCK.curator, LOCK.kazoo],
      data: toBytes(options.data),
      blocker: firstWins
    }, {
      timeout,
      lapse: options.lapse ?? "disconnected",
      onTimeout: () => new LockTimeout({ path, timeoutMillis: timeout === undefined ? 0 : Duration.toMillis(timeout) })
    })
    const node = turn.node.path
    return {
      path,
      node,
      fencingToken: turn.node.stat.czxid,
      lost: Effect.flatMap(turn.lapsed, (reason) => Effect.fail(new LockLost({ path, node, reason }))),
      guard: (ops) => zk.multi([check(node, -1), ...ops])
    }
  })

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
): Effect.Effect<A, E | LockLost | LockTimeout | ZkError, R | ZooKeeper> =>
  Effect.scoped(
    Effect.flatMap(acquire(path, options), (lease) =>
      Effect.raceFirst(Effect.isEffect(work) ? work : work(lease), lease.lost))
  )

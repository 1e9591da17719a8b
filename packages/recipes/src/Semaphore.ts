/**
 * A counting semaphore with leases, laid out like Curator's InterProcessSemaphoreV2 so JVM
 * services share the permits: `<path>/locks` holds a mutex that one acquirer at a time holds
 * while it takes a lease, and `<path>/leases` holds one ephemeral node
 * `_c_<uuid>-lease-<seq>` per lease. A lease is granted when there are at most `max` lease nodes
 * (ours included); otherwise the acquirer waits for the leases to change while still holding
 * the mutex, so only one waiter at a time is woken by a release.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Semaphore } from "@effect-zk/recipes"
 *
 * const program = Semaphore.withPermit("/sem/db", { max: 3 }, Effect.log("one of at most three"))
 * ```
 *
 * @since 0.1.0
 */
import type { ZkError, ZooKeeperService } from "@effect-zk/core"
import { ZooKeeper } from "@effect-zk/core"
import { BadArguments, NoNode } from "@effect-zk/core/ZkError"
import * as ZNodePath from "@effect-zk/core/ZNodePath"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { firstWins, takeTurn, validate } from "./internal/contend.ts"
import type { LapsePolicy } from "./internal/lapse.ts"
import { watchLapse } from "./internal/lapse.ts"
import { LOCK, ownName } from "./internal/layout.ts"
import { toBytes, withLease } from "./internal/lease.ts"
import type { Created } from "./internal/protected.ts"
import { createProtected, removeOwned, whileConnecting } from "./internal/protected.ts"
import { LockLost, LockTimeout } from "./RecipeError.ts"
import type { Data } from "@effect-zk/core"

/**
 * Options of {@link acquire} and {@link withPermit}.
 *
 * @since 0.1.0
 * @category models
 */
export interface SemaphoreOptions {
  /** How many leases may be held at once, across every client of this path. */
  readonly max: number
  /** Give up waiting after this long with `LockTimeout`. Default: wait as long as it takes. */
  readonly timeout?: Duration.Input | undefined
  /** When a held lease lapses: `"disconnected"` (default), `"expired"`, or `{ grace }`. */
  readonly lapse?: LapsePolicy | undefined
  /** Data of our lease node. Default: empty. */
  readonly data?: Data | undefined
}

/**
 * A held lease.
 *
 * @since 0.1.0
 * @category models
 */
export interface Permit {
  /** Our lease node (full path). */
  readonly node: string
  /** Fails with `LockLost` once the lease lapses (never succeeds). */
  readonly lost: Effect.Effect<never, LockLost>
}

const LEASE = { curator: "lease-", kazoo: "lease-" } as const

/** Waits, holding the mutex, until there are at most `max` leases including ours. */
const awaitRoom = (zk: ZooKeeperService, leases: string, ours: string, max: number): Effect.Effect<void, ZkError> =>
  Effect.gen(function*() {
    while (true) {
      const { children, watch } = yield* whileConnecting(zk.childrenW(leases))
      if (!children.includes(ZNodePath.basename(ours))) {
        return yield* new NoNode({ op: "semaphore", path: ours, detail: "our lease node is gone (deleted, or its session ended)" })
      }
      if (children.length <= max) return
      yield* Stream.runHead(watch)
    }
  })

/** Takes a lease: mutex, lease node, room; the lease node belongs to `owner`. */
const takeLease = (zk: ZooKeeperService, path: string, options: SemaphoreOptions, owner: Scope.Scope) =>
  Effect.scoped(Effect.gen(function*() {
    yield* takeTurn(zk, {
      dir: ZNodePath.join(path, "locks"),
      layout: "curator",
      marker: LOCK,
      markers: [LOCK.curator],
      data: new Uint8Array(0),
      blocker: firstWins
    }, { lapse: "expired" })
    const leases = ZNodePath.join(path, "leases")
    const lease: Created = yield* Effect.acquireRelease(
      createProtected(zk, leases, ownName("curator", LEASE), toBytes(options.data), "EphemeralSequential"),
      (c) => removeOwned(zk, c.path)
    ).pipe(Scope.provide(owner))
    yield* awaitRoom(zk, leases, lease.path, options.max).pipe(
      Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : removeOwned(zk, lease.path)))
    )
    return lease
  }))

/**
 * Takes a lease and holds it until the current scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const acquire = (
  path: string,
  options: SemaphoreOptions
): Effect.Effect<Permit, LockTimeout | ZkError, ZooKeeper | Scope.Scope> =>
  Effect.gen(function*() {
    const timeout = yield* validate("semaphore", path, options.timeout)
    if (!Number.isInteger(options.max) || options.max < 1) {
      return yield* new BadArguments({ op: "semaphore", path, detail: `max must be a positive integer, got ${options.max}` })
    }
    const zk = yield* ZooKeeper
    const owner = yield* Effect.scope
    const take = takeLease(zk, path, options, owner)
    const lease = yield* timeout === undefined ? take : Effect.timeoutOrElse(take, {
      duration: timeout,
      orElse: () => Effect.fail(new LockTimeout({ path, timeoutMillis: Duration.toMillis(timeout) }))
    })
    const lapsed = yield* watchLapse(zk, options.lapse ?? "disconnected")
    return {
      node: lease.path,
      lost: Effect.flatMap(lapsed, (reason) => Effect.fail(new LockLost({ path, node: lease.path, reason })))
    }
  })

/**
 * Runs `work` while holding one of `max` leases, interrupted with `LockLost` if the lease lapses.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withPermit = <A, E, R>(
  path: string,
  options: SemaphoreOptions,
  work: Effect.Effect<A, E, R>
): Effect.Effect<A, E | LockLost | LockTimeout | ZkError, R | ZooKeeper> =>
  withLease(acquire(path, options), work)

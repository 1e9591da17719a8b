/**
 * A readers/writer lock, interoperable with Curator's InterProcessReadWriteLock (nodes
 * `_c_<uuid>-__READ__<seq>` and `_c_<uuid>-__WRIT__<seq>`) and kazoo's ReadLock/WriteLock
 * (`__rlock__`, `__lock__`). Readers share the lock unless a writer queued before them; a writer
 * holds it alone. A waiting reader watches only the nearest writer ahead of it, a waiting writer
 * only the node just ahead of it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ReadWriteLock } from "@effect-zk/recipes"
 *
 * const read = ReadWriteLock.withRead("/locks/catalog", Effect.log("reading"))
 * const write = ReadWriteLock.withWrite("/locks/catalog", Effect.log("writing"), { timeout: "5 seconds" })
 * ```
 *
 * @since 0.1.0
 */
import type { ZkError, ZooKeeper } from "@effect-zk/core"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { firstWins } from "./internal/contend.ts"
import type { Contender } from "./internal/layout.ts"
import { hasMarker, READ, WRITE } from "./internal/layout.ts"
import type { Lease, LockOptions } from "./internal/lease.ts"
import { acquireLease, withLease } from "./internal/lease.ts"
import type { LockLost, LockTimeout } from "./RecipeError.ts"

const all = [READ.curator, READ.kazoo, WRITE.curator, WRITE.kazoo]
const writers = [WRITE.curator, WRITE.kazoo]

/** A reader waits only for the nearest writer queued before it. */
const readBlocker = (sorted: ReadonlyArray<Contender>, ours: number): Contender | undefined => {
  for (let i = ours - 1; i >= 0; i--) if (hasMarker(sorted[i]!.name, writers)) return sorted[i]
  return undefined
}

const read = { op: "readLock", marker: READ, markers: all, blocker: readBlocker } as const
const write = { op: "writeLock", marker: WRITE, markers: all, blocker: firstWins } as const

/**
 * Holds a read lock until the current scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const acquireRead = (path: string, options: LockOptions = {}): Effect.Effect<Lease, LockTimeout | ZkError, ZooKeeper | Scope.Scope> =>
  acquireLease(path, options, read)

/**
 * Holds the write lock until the current scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const acquireWrite = (path: string, options: LockOptions = {}): Effect.Effect<Lease, LockTimeout | ZkError, ZooKeeper | Scope.Scope> =>
  acquireLease(path, options, write)

/**
 * Runs `work` under a read lock (shared with other readers), interrupted with `LockLost` if the
 * lock lapses.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withRead = <A, E, R>(
  path: string,
  work: Effect.Effect<A, E, R> | ((lease: Lease) => Effect.Effect<A, E, R>),
  options: LockOptions = {}
): Effect.Effect<A, E | LockLost | LockTimeout | ZkError, R | ZooKeeper> => withLease(acquireRead(path, options), work)

/**
 * Runs `work` under the write lock (alone), interrupted with `LockLost` if the lock lapses.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withWrite = <A, E, R>(
  path: string,
  work: Effect.Effect<A, E, R> | ((lease: Lease) => Effect.Effect<A, E, R>),
  options: LockOptions = {}
): Effect.Effect<A, E | LockLost | LockTimeout | ZkError, R | ZooKeeper> => withLease(acquireWrite(path, options), work)

/**
 * A held turn as users see it (a lock, a read or write lock): node, fencing token, `lost` and
 * `guard`, and the combinator that runs work under it.
 */
import type { Data, Op, ZkError } from "@effect-zk/core"
import { ZooKeeper } from "@effect-zk/core"
import type * as OpModule from "@effect-zk/core/Op"
import { check } from "@effect-zk/core/Op"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { LockLost, LockTimeout } from "../RecipeError.ts"
import type { Contender, Layout } from "./layout.ts"
import type { LapsePolicy } from "./lapse.ts"
import { takeTurn, validate } from "./contend.ts"
import { encode } from "./text.ts"

/** Options of every lock-like recipe. */
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

/** A held lock. */
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

/** Which kind of lock: its node markers and its rule. */
export interface LockKind {
  readonly op: string
  readonly marker: { readonly curator: string; readonly kazoo: string }
  readonly markers: ReadonlyArray<string>
  readonly blocker: (sorted: ReadonlyArray<Contender>, ours: number) => Contender | undefined
}

/** Node data as bytes. */
export const toBytes = (data: Data | undefined): Uint8Array =>
  data === undefined ? new Uint8Array(0) : typeof data === "string" ? encode(data) : data

/** Waits for a turn of `kind` at `path` and holds it until the current scope closes. */
export const acquireLease = (
  path: string,
  options: LockOptions,
  kind: LockKind
): Effect.Effect<Lease, LockTimeout | ZkError, ZooKeeper | Scope.Scope> =>
  Effect.gen(function*() {
    const timeout = yield* validate(kind.op, path, options.timeout)
    const zk = yield* ZooKeeper
    const turn = yield* takeTurn(zk, {
      dir: path,
      layout: options.layout ?? "curator",
      marker: kind.marker,
      markers: kind.markers,
      data: toBytes(options.data),
      blocker: kind.blocker
    }, {
      lapse: options.lapse ?? "disconnected",
      timeout: timeout && { duration: timeout, error: () => new LockTimeout({ path, timeoutMillis: Duration.toMillis(timeout) }) }
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

/** Runs `work` under a lease from `acquire`, interrupted with `LockLost` when the lease lapses. */
export const withLease = <L extends { readonly lost: Effect.Effect<never, LockLost> }, A, E, R, E2, R2>(
  acquire: Effect.Effect<L, E2, R2>,
  work: Effect.Effect<A, E, R> | ((lease: L) => Effect.Effect<A, E, R>)
): Effect.Effect<A, E | E2 | LockLost, R | Exclude<R2, Scope.Scope>> =>
  Effect.scoped(Effect.flatMap(acquire, (lease) => Effect.raceFirst(Effect.isEffect(work) ? work : work(lease), lease.lost)))

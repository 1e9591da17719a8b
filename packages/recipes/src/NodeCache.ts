/**
 * A live copy of one znode (Curator's NodeCache, kazoo's DataWatch): its data and Stat, or
 * `None` while it does not exist, kept current by a watch re-armed with every read, so no
 * change is missed across reconnects (rapid changes may be seen as their latest value only).
 *
 * @example
 * ```ts
 * import { Effect, Option, Stream } from "effect"
 * import { NodeCache } from "@effect-zk/recipes"
 *
 * const program = Effect.gen(function*() {
 *   const flag = yield* NodeCache.make("/flags/maintenance")
 *   const now = yield* flag.get                      // Option<{ data, stat }>
 *   yield* Stream.runForEach(flag.changes, (value) => Effect.log(value))   // current value first
 * })
 * ```
 *
 * @since 0.1.0
 */
import { type NodeData, type ZkError, ZNodePath, ZooKeeper } from "@effect-zk/core"
import { BadArguments, Closing } from "@effect-zk/core/ZkError"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"

/**
 * A running node cache; it lives as long as the Scope it was made in.
 *
 * @since 0.1.0
 * @category models
 */
export interface NodeCache {
  readonly path: string
  /** The node as last seen; fails once the cache has died (session ended, scope closed). */
  readonly get: Effect.Effect<Option.Option<NodeData>, ZkError>
  /** The current value, then every change; fails when the cache dies. */
  readonly changes: Stream.Stream<Option.Option<NodeData>, ZkError>
}

type State =
  | { readonly _tag: "Value"; readonly value: Option.Option<NodeData> }
  | { readonly _tag: "Failed"; readonly error: ZkError }

const stampOf = (value: Option.Option<NodeData>): string =>
  Option.isNone(value) ? "none" : `${value.value.stat.czxid}:${value.value.stat.mzxid}`

const valueOf = (state: State): Effect.Effect<Option.Option<NodeData>, ZkError> =>
  state._tag === "Value" ? Effect.succeed(state.value) : Effect.fail(state.error)

/**
 * Starts a cache of the node at `path` in the current Scope; it returns once the first read is
 * in, so `get` answers at once.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (path: string): Effect.Effect<NodeCache, ZkError, ZooKeeper | Scope.Scope> =>
  Effect.gen(function*() {
    const bad = ZNodePath.validationError(path)
    if (bad !== undefined) return yield* new BadArguments({ op: "NodeCache", path, detail: bad })
    const zk = yield* ZooKeeper
    const first = yield* Deferred.make<void, ZkError>()
    const ref = yield* SubscriptionRef.make<State>({ _tag: "Value", value: Option.none() })
    const publish = (state: State) => SubscriptionRef.set(ref, state)
    yield* zk.watchData(path).pipe(
      Stream.changesWith((a, b) => stampOf(a) === stampOf(b)),
      Stream.runForEach((value) => Effect.andThen(publish({ _tag: "Value", value }), Deferred.succeed(first, undefined))),
      Effect.catch((error) => Effect.andThen(publish({ _tag: "Failed", error }), Deferred.fail(first, error))),
      Effect.forkScoped
    )
    yield* Effect.addFinalizer(() =>
      publish({ _tag: "Failed", error: new Closing({ op: "NodeCache", path, detail: "the cache's scope is closed" }) })
    )
    yield* Deferred.await(first)
    return {
      path,
      get: Effect.flatMap(SubscriptionRef.get(ref), valueOf),
      changes: SubscriptionRef.changes(ref).pipe(Stream.mapEffect(valueOf))
    } satisfies NodeCache
  })

/**
 * A double barrier (Curator's DistributedDoubleBarrier, kazoo's DoubleBarrier): `count`
 * participants enter together, run their work, and leave together. Laid out like Curator's:
 * each participant is an ephemeral node `<path>/<uuid>`, and the last to arrive creates
 * `<path>/ready`, which lets everyone in.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DoubleBarrier } from "@effect-zk/recipes"
 *
 * const program = DoubleBarrier.with("/barriers/batch", { count: 3 }, Effect.log("all three are here"))
 * ```
 *
 * @since 0.1.0
 */
import type { ZkError, ZooKeeperService } from "@effect-zk/core"
import { ZooKeeper } from "@effect-zk/core"
import { BadArguments } from "@effect-zk/core/ZkError"
import * as ZNodePath from "@effect-zk/core/ZNodePath"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { validate } from "./internal/contend.ts"
import { removeOwned, uuid, whileConnecting, withParents } from "./internal/protected.ts"
import { BarrierTimeout } from "./RecipeError.ts"

const READY = "ready"

/** Waits until `count` participants are in (or `ready` exists), then makes sure `ready` does. */
const enterWhenFull = (zk: ZooKeeperService, path: string, count: number): Effect.Effect<void, ZkError> =>
  Effect.gen(function*() {
    const ready = ZNodePath.join(path, READY)
    while (true) {
      const { stat, watch } = yield* whileConnecting(zk.existsW(ready))
      if (Option.isSome(stat)) return
      const { children } = yield* whileConnecting(zk.children(path))
      if (children.filter((c) => c !== READY).length >= count) {
        yield* whileConnecting(zk.create(ready)).pipe(Effect.catchTag("NodeExists", () => Effect.void))
        return
      }
      yield* Stream.runHead(watch)
    }
  })

/** Our node is gone; wait until every other participant has left too, then take `ready` down. */
const leaveTogether = (zk: ZooKeeperService, path: string): Effect.Effect<void, ZkError> =>
  Effect.gen(function*() {
    while (true) {
      const { children, watch } = yield* whileConnecting(zk.childrenW(path))
      const others = children.filter((c) => c !== READY)
      if (others.length === 0) {
        yield* removeOwned(zk, ZNodePath.join(path, READY))
        return
      }
      yield* Stream.runHead(watch)
    }
  }).pipe(Effect.catchTag("NoNode", () => Effect.void))

/**
 * Enters the barrier once `count` participants are in (failing with `BarrierTimeout` after
 * `timeout`, if given), runs `work`, then leaves and waits until all participants have left.
 * Interruption or failure takes our node away at once.
 *
 * @since 0.1.0
 * @category combinators
 */
const withBarrier = <A, E, R>(
  path: string,
  options: { readonly count: number; readonly timeout?: Duration.Input | undefined },
  work: Effect.Effect<A, E, R>
): Effect.Effect<A, E | BarrierTimeout | ZkError, R | ZooKeeper> =>
  Effect.gen(function*() {
    const timeout = yield* validate("doubleBarrier", path, options.timeout)
    if (!Number.isInteger(options.count) || options.count < 1) {
      return yield* new BadArguments({ op: "doubleBarrier", path, detail: `count must be a positive integer, got ${options.count}` })
    }
    const zk = yield* ZooKeeper
    const ours = ZNodePath.join(path, uuid())
    return yield* Effect.acquireUseRelease(
      withParents(zk, path, whileConnecting(zk.create(ours, undefined, { mode: "Ephemeral" }))),
      () =>
        Effect.gen(function*() {
          const entering = enterWhenFull(zk, path, options.count)
          yield* timeout === undefined ? entering : Effect.timeoutOrElse(entering, {
            duration: timeout,
            orElse: () => Effect.fail(new BarrierTimeout({ path, timeoutMillis: Duration.toMillis(timeout) }))
          })
          const result = yield* work
          yield* removeOwned(zk, ours)
          yield* leaveTogether(zk, path)
          return result
        }),
      () => removeOwned(zk, ours)
    )
  })

export {
  /**
   * Enters the barrier once `count` participants are in, runs `work`, then leaves together.
   *
   * @since 0.1.0
   * @category combinators
   */
  withBarrier as with
}

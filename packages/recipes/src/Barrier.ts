/**
 * A barrier (Curator's DistributedBarrier, kazoo's Barrier): while the node at `path` exists,
 * `wait` blocks; removing it lets every waiter through.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Barrier } from "@effect-zk/recipes"
 *
 * const coordinator = Effect.andThen(Barrier.set("/barriers/deploy"), Barrier.remove("/barriers/deploy"))
 * const worker = Barrier.wait("/barriers/deploy", { timeout: "30 seconds" })
 * ```
 *
 * @since 0.1.0
 */
import type { ZkError, ZooKeeperService } from "@effect-zk/core"
import { ZooKeeper } from "@effect-zk/core"
import * as ZNodePath from "@effect-zk/core/ZNodePath"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { validate } from "./internal/contend.ts"
import { whileConnecting, withParents } from "./internal/protected.ts"
import { BarrierTimeout } from "./RecipeError.ts"

/**
 * Raises the barrier (creates its node and missing parents); raising a raised barrier is fine.
 *
 * @since 0.1.0
 * @category constructors
 */
export const set = (path: string): Effect.Effect<void, ZkError, ZooKeeper> =>
  Effect.gen(function*() {
    yield* validate("barrier", path)
    const zk = yield* ZooKeeper
    yield* withParents(zk, ZNodePath.parent(path), whileConnecting(zk.create(path))).pipe(
      Effect.catchTag("NodeExists", () => Effect.void)
    )
  })

/**
 * Lowers the barrier (deletes its node), letting every waiter through; fine when it is down.
 *
 * @since 0.1.0
 * @category constructors
 */
export const remove = (path: string): Effect.Effect<void, ZkError, ZooKeeper> =>
  Effect.gen(function*() {
    yield* validate("barrier", path)
    const zk = yield* ZooKeeper
    yield* whileConnecting(zk.delete(path)).pipe(Effect.catchTag("NoNode", () => Effect.void))
  })

/** Waits until the node at `path` is gone. */
export const awaitGone = (zk: ZooKeeperService, path: string): Effect.Effect<void, ZkError> =>
  Effect.gen(function*() {
    while (true) {
      const { stat, watch } = yield* whileConnecting(zk.existsW(path))
      if (Option.isNone(stat)) return
      yield* Stream.runHead(watch)
    }
  })

/**
 * Waits until the barrier is down, failing with `BarrierTimeout` after `timeout` if given.
 *
 * @since 0.1.0
 * @category combinators
 */
export const wait = (
  path: string,
  options: { readonly timeout?: Duration.Input | undefined } = {}
): Effect.Effect<void, BarrierTimeout | ZkError, ZooKeeper> =>
  Effect.gen(function*() {
    const timeout = yield* validate("barrier", path, options.timeout)
    const zk = yield* ZooKeeper
    const waiting = awaitGone(zk, path)
    return yield* timeout === undefined ? waiting : Effect.timeoutOrElse(waiting, {
      duration: timeout,
      orElse: () => Effect.fail(new BarrierTimeout({ path, timeoutMillis: Duration.toMillis(timeout) }))
    })
  })

/**
 * A FIFO queue across producers and consumers (the ZooKeeper queue recipe; Curator's
 * SimpleDistributedQueue and kazoo's Queue work alike). Each item is a persistent sequential
 * node `<path>/_c_<uuid>-qn-<seq>` (protected, so an offer whose reply is lost is
 * not enqueued twice): the server's sequence orders items from every producer. A consumer
 * claims the oldest item with one atomic `multi` that deletes it and creates an ephemeral
 * receipt `<path>/claim-<item>`; only one consumer's delete can succeed, and the receipt
 * settles whether ours did when the reply is lost to a ConnectionLoss. So each item is taken by
 * exactly one consumer.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { DistributedQueue } from "@effect-zk/recipes"
 *
 * const program = Effect.gen(function*() {
 *   const q = yield* DistributedQueue.make("/queues/jobs")
 *   yield* q.offer("job-1")
 *   const first = yield* Stream.runHead(q.take)
 * })
 * ```
 *
 * @since 0.1.0
 */
import type { Data, ZkError, ZooKeeperService } from "@effect-zk/core"
import { ZooKeeper } from "@effect-zk/core"
import { create, delete as del } from "@effect-zk/core/Op"
import * as ZNodePath from "@effect-zk/core/ZNodePath"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { validate } from "./internal/contend.ts"
import { contenders, ownName } from "./internal/layout.ts"
import { createProtected, ensurePath, ifExists, removeOwned, whileConnecting } from "./internal/protected.ts"
import { toBytes } from "./internal/lease.ts"

/**
 * A queue at one path.
 *
 * @since 0.1.0
 * @category models
 */
export interface DistributedQueue {
  readonly path: string
  /** Appends an item; returns its node's path. */
  readonly offer: (data: Data) => Effect.Effect<string, ZkError>
  /** Items in queue order as this consumer claims them, waiting for new ones; never ends by itself. */
  readonly take: Stream.Stream<Uint8Array, ZkError>
  /** How many items wait now. */
  readonly size: Effect.Effect<number, ZkError>
}

const ITEM = "qn-"
const CLAIM = "claim-"

/** Tries to claim `name`: its data if we took it, `None` if another consumer did. */
const claim = (zk: ZooKeeperService, path: string, name: string): Effect.Effect<Option.Option<Uint8Array>, ZkError> =>
  Effect.gen(function*() {
    const item = ZNodePath.join(path, name)
    const receipt = ZNodePath.join(path, CLAIM + name)
    const read = yield* ifExists(whileConnecting(zk.get(item)))
    if (Option.isNone(read)) return Option.none()
    const taken = zk.multi([del(item, { version: read.value.stat.version }), create(receipt, undefined, { mode: "Ephemeral" })]).pipe(
      Effect.as(true),
      Effect.catchTags({ NoNode: () => Effect.succeed(false), NodeExists: () => Effect.succeed(false) }),
      // The reply was lost: our receipt exists exactly when our multi was applied.
      Effect.catchTag("ConnectionLoss", () => Effect.map(whileConnecting(zk.exists(receipt)), Option.isSome))
    )
    if (!(yield* taken)) return Option.none()
    yield* removeOwned(zk, receipt)
    return Option.some(read.value.data)
  })

/** Claims the oldest item we can, waiting for items when there are none. */
const takeOne = (zk: ZooKeeperService, path: string): Effect.Effect<Uint8Array, ZkError> =>
  Effect.gen(function*() {
    while (true) {
      const { children, watch } = yield* whileConnecting(zk.childrenW(path))
      for (const item of contenders(children, [ITEM])) {
        if (children.includes(CLAIM + item.name)) continue
        const data = yield* claim(zk, path, item.name)
        if (Option.isSome(data)) return data.value
      }
      yield* Stream.runHead(watch)
    }
  }).pipe(
    // The queue's node is a container: gone while empty for a while. Bring it back and wait.
    Effect.catchTag("NoNode", () => Effect.andThen(ensurePath(zk, path), takeOne(zk, path)))
  )

/**
 * The queue at `path` (its node and missing parents are created).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (path: string): Effect.Effect<DistributedQueue, ZkError, ZooKeeper> =>
  Effect.gen(function*() {
    yield* validate("queue", path)
    const zk = yield* ZooKeeper
    yield* ensurePath(zk, path)
    return {
      path,
      // Protected: after a ConnectionLoss the item is found again instead of enqueued twice.
      offer: (data) =>
        Effect.map(createProtected(zk, path, ownName("curator", { curator: ITEM, kazoo: ITEM }), toBytes(data), "PersistentSequential"), (c) => c.path),
      take: Stream.fromEffectRepeat(takeOne(zk, path)),
      size: whileConnecting(zk.children(path)).pipe(
        Effect.map(({ children }) => contenders(children, [ITEM]).length),
        Effect.catchTag("NoNode", () => Effect.succeed(0))
      )
    }
  })

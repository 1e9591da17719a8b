/**
 * A live, in-memory mirror of a znode subtree (Curator's CuratorCache, kazoo's TreeCache).
 *
 * It runs on ONE persistent recursive watch, armed before anything is read, so no change can
 * fall between the watch and the initial load. Every watch event makes the cache re-read the
 * node it names; reads are applied in the order they were sent, so each node in the mirror
 * only ever moves forward through values it really had, and every event the cache emits is a
 * change that really happened. After a reconnect (the watch stream's `Resync`), after falling
 * too far behind the watch, or after a connection error, the cache reads the whole subtree
 * again and emits only what differs, then `Resynced`.
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import { TreeCache } from "@effect-zk/recipes"
 *
 * const program = Effect.gen(function*() {
 *   const tree = yield* TreeCache.make("/config")
 *   yield* tree.initialized
 *   const host = yield* tree.get("/config/db/host")   // Option<{ data, stat }>
 *   const keys = yield* tree.children("/config/db")    // ["host", "port"]
 * })
 * ```
 *
 * @since 0.1.0
 */
import { Op, type NodeData, type PersistentWatchEvent, type ZkError, WatchOverflow, ZNodePath, ZooKeeper } from "@effect-zk/core"
import { BadArguments, Closing, isRetryable } from "@effect-zk/core/ZkError"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { NodeStore } from "./internal/nodeStore.ts"

/**
 * A change of the mirror. `NodeAdded`, `NodeUpdated` and `NodeRemoved` carry the values before
 * and after; `Initialized` follows the first complete load, `Resynced` every later full
 * re-read (after a reconnect or a lost watch), once the mirror has converged.
 *
 * @since 0.1.0
 * @category models
 */
export type TreeEvent =
  | { readonly _tag: "NodeAdded"; readonly path: string; readonly node: NodeData }
  | { readonly _tag: "NodeUpdated"; readonly path: string; readonly previous: NodeData; readonly node: NodeData }
  | { readonly _tag: "NodeRemoved"; readonly path: string; readonly previous: NodeData }
  | { readonly _tag: "Initialized" }
  | { readonly _tag: "Resynced" }

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface TreeCacheOptions {
  /** Levels below the root to mirror: 0 is the root alone. Default: all. */
  readonly maxDepth?: number | undefined
  /**
   * Which paths to mirror (the root always is): a path for which this returns false is left
   * out together with everything below it.
   */
  readonly filter?: ((path: string) => boolean) | undefined
  /** Keep each node's data (default true); false keeps the Stat only, for presence and versions. */
  readonly keepData?: boolean | undefined
  /**
   * How many events an `events` subscriber may fall behind (default 4096) before its stream
   * fails with `WatchOverflow`; the cache itself never drops a change.
   */
  readonly bufferSize?: number | undefined
  /** Pause before the watch and the full re-read are set up again after a connection error. */
  readonly retrySchedule?: Schedule.Schedule<unknown, unknown> | undefined
}

/**
 * A running cache; it lives as long as the Scope it was made in.
 *
 * @since 0.1.0
 * @category models
 */
export interface TreeCache {
  readonly root: string
  /** Completes once the first full load is in the mirror; fails if the cache died before. */
  readonly initialized: Effect.Effect<void, ZkError>
  /** The mirrored node at `path`: data and Stat as of the node's last change seen. */
  readonly get: (path: string) => Effect.Effect<Option.Option<NodeData>, ZkError>
  /** Names of the mirrored children of `path`, sorted; empty when there are none. */
  readonly children: (path: string) => Effect.Effect<ReadonlyArray<string>, ZkError>
  /** An immutable copy of the whole mirror, path to node. Costs a copy of every node. */
  readonly snapshot: Effect.Effect<ReadonlyMap<string, NodeData>, ZkError>
  /** Nodes in the mirror. */
  readonly size: Effect.Effect<number, ZkError>
  /**
   * Changes from the moment of subscription. Subscribe before reading `snapshot` to miss
   * nothing between the two.
   */
  readonly events: Stream.Stream<TreeEvent, ZkError | WatchOverflow>
}

const DEFAULT_BUFFER = 4096
/** The cache's own watch buffer: a burst larger than this costs a full re-read, never a change. */
const WATCH_BUFFER = 1 << 16
/** Target reply size of one multiRead: below the client's 1 MB frame limit with room to spare. */
const BATCH_BYTES = 512 * 1024
const MAX_BATCH = 512
/** Read batches in flight at once during a full load. */
const LOAD_CONCURRENCY = 4
/** Bytes assumed per child name when sizing a batch of children lists. */
const CHILD_NAME_BYTES = 48

const defaultRetrySchedule: Schedule.Schedule<unknown, unknown> = Schedule.min([
  Schedule.exponential("20 millis", 2),
  Schedule.spaced("1 second")
]).pipe(Schedule.jittered)

/** Why the watch and the load must be set up again. */
class Restart {
  readonly _tag = "Restart"
}

/**
 * The mirror's state and its subscribers: plain synchronous code, driven by the cache's fiber.
 */
class Mirror {
  readonly store = new NodeStore()
  /** Parent path to the full paths of its mirrored children. */
  readonly childIndex = new Map<string, Set<string>>()
  readonly listeners = new Set<Queue.Queue<TreeEvent, ZkError | WatchOverflow | Cause.Done>>()
  failure: ZkError | undefined = undefined
  /** Largest data length seen, to size read batches. */
  largestData = 0

  readonly root: string
  readonly keepData: boolean
  readonly capacity: number

  constructor(root: string, keepData: boolean, capacity: number) {
    this.root = root
    this.keepData = keepData
    this.capacity = capacity
  }

  upsert(path: string, node: NodeData): void {
    const { stat } = node
    if (stat.dataLength > this.largestData) this.largestData = stat.dataLength
    const data = this.keepData ? node.data : EMPTY
    const before = this.store.stamp(path)
    if (before === undefined) {
      this.store.write(path, stat, data)
      this.link(path)
      if (this.listeners.size > 0) this.emit({ _tag: "NodeAdded", path, node: { data, stat } })
      return
    }
    if (before.czxid === stat.czxid && before.mzxid === stat.mzxid) {
      // Same value; the Stat's child fields may have moved, so keep the newer Stat.
      this.store.write(path, stat, data)
      return
    }
    const previous = this.listeners.size > 0 ? this.store.read(path) : undefined
    this.store.write(path, stat, data)
    if (previous === undefined) return
    if (before.czxid !== stat.czxid) {
      // Deleted and created again since the last read: that is what happened, in that order.
      this.emit({ _tag: "NodeRemoved", path, previous })
      this.emit({ _tag: "NodeAdded", path, node: { data, stat } })
    } else {
      this.emit({ _tag: "NodeUpdated", path, previous, node: { data, stat } })
    }
  }

  /** Removes a node and what is mirrored below it (gone too: a node with children cannot be deleted). */
  remove(path: string): void {
    const kids = this.childIndex.get(path)
    if (kids !== undefined) for (const child of Array.from(kids)) this.remove(child)
    const previous = this.listeners.size > 0 ? this.store.read(path) : undefined
    if (!this.store.delete(path)) return
    this.unlink(path)
    if (previous !== undefined) this.emit({ _tag: "NodeRemoved", path, previous })
  }

  /** After a full read: drops every node the read did not find, deepest first. */
  retainOnly(seen: ReadonlySet<string>): void {
    const gone: Array<string> = []
    for (const path of this.store.paths()) if (!seen.has(path)) gone.push(path)
    gone.sort((a, b) => depth(b) - depth(a))
    for (const path of gone) this.remove(path)
  }

  childNames(path: string): ReadonlyArray<string> {
    const kids = this.childIndex.get(path)
    return kids === undefined ? [] : Array.from(kids, ZNodePath.basename).sort()
  }

  private link(path: string): void {
    if (path === this.root) return
    const parent = ZNodePath.parent(path)
    const kids = this.childIndex.get(parent)
    if (kids === undefined) this.childIndex.set(parent, new Set([path]))
    else kids.add(path)
  }

  private unlink(path: string): void {
    if (path === this.root) return
    const parent = ZNodePath.parent(path)
    const kids = this.childIndex.get(parent)
    if (kids === undefined) return
    kids.delete(path)
    if (kids.size === 0) this.childIndex.delete(parent)
  }

  emit(event: TreeEvent): void {
    for (const queue of this.listeners) {
      if (Queue.offerUnsafe(queue, event)) continue
      this.listeners.delete(queue)
      Queue.failCauseUnsafe(queue, Cause.fail(new WatchOverflow({ path: this.root, capacity: this.capacity })))
    }
  }

  fail(error: ZkError): void {
    this.failure = error
    for (const queue of this.listeners) Queue.failCauseUnsafe(queue, Cause.fail(error))
    this.listeners.clear()
  }

  /** A read of the mirror: fails once the cache is dead, so no one reads a mirror that stopped. */
  read<A>(f: () => A): Effect.Effect<A, ZkError> {
    return Effect.suspend(() => (this.failure === undefined ? Effect.succeed(f()) : Effect.fail(this.failure)))
  }
}

const EMPTY = new Uint8Array(0)

const depth = (path: string): number => {
  let n = 0
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 0x2f) n++
  return n
}

/**
 * A child's path as one flat string: `+` would build a rope that the path Map flattens into a
 * second copy, about 40 bytes more per cached node; `join` writes it flat once.
 */
const childOf = (parent: string, name: string): string => (parent === "/" ? "/" + name : [parent, name].join("/"))

/** How many levels `path` is below `root` (0 for the root itself). */
const levelOf = (root: string, path: string): number =>
  path === root ? 0 : depth(path) - (root === "/" ? 0 : depth(root))

/** Splits `items` into runs whose estimated reply stays near {@link BATCH_BYTES}. */
const batches = <A>(items: ReadonlyArray<A>, size: (a: A) => number): Array<Array<A>> =>
  Op.batches(items, { maxItems: MAX_BATCH, maxBytes: BATCH_BYTES, size })

const validate = (root: string, options: TreeCacheOptions | undefined): BadArguments | undefined => {
  const bad = ZNodePath.validationError(root)
  if (bad !== undefined) return new BadArguments({ op: "TreeCache", path: root, detail: bad })
  const maxDepth = options?.maxDepth
  if (maxDepth !== undefined && !(Number.isInteger(maxDepth) && maxDepth >= 0)) {
    return new BadArguments({ op: "TreeCache", path: root, detail: `maxDepth must be a non-negative integer, got ${maxDepth}` })
  }
  const bufferSize = options?.bufferSize
  if (bufferSize !== undefined && !(Number.isInteger(bufferSize) && bufferSize > 0)) {
    return new BadArguments({ op: "TreeCache", path: root, detail: `bufferSize must be a positive integer, got ${bufferSize}` })
  }
  return undefined
}

/**
 * Starts a cache of the subtree at `root` in the current Scope; it stops (and removes its
 * watch) when the Scope closes. It returns at once: await `initialized` for the first load.
 *
 * The cache keeps going through disconnects (serving what it has, then converging after the
 * reconnect). When the session ends (expired or closed) it dies: reads fail with that error
 * and `events` ends with it; make a new cache on the new session.
 *
 * Per node it holds one record, the Stat (68 bytes) and the data, packed in shared arenas, plus
 * the path and two index entries: about 340 bytes per node of 100 bytes of data at 100,000
 * nodes (the cache benchmark; the record itself is 168 bytes). The Stat's child fields
 * (`numChildren`, `cversion`, `pzxid`) are as of the node's last data read: a recursive watch
 * reports no child-list changes; use `children` for those.
 *
 * A change is in the mirror one read after its watch event arrives (a watch event carries no
 * data), so about two round trips after the writer's set: what any watching client pays. The
 * cache adds no timer or batching delay; events that arrive together share one read.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  root: string,
  options?: TreeCacheOptions
): Effect.Effect<TreeCache, BadArguments, ZooKeeper | Scope.Scope> =>
  Effect.gen(function*() {
    const bad = validate(root, options)
    if (bad !== undefined) return yield* bad
    const zk = yield* ZooKeeper
    const capacity = options?.bufferSize ?? DEFAULT_BUFFER
    const mirror = new Mirror(root, options?.keepData ?? true, capacity)
    const initialized = yield* Deferred.make<void, ZkError>()
    const include = inScope(root, options?.maxDepth, options?.filter)
    const maxDepth = options?.maxDepth ?? Number.POSITIVE_INFINITY
    const canHaveChildren = (path: string) => levelOf(root, path) < maxDepth

    /** Reads the whole subtree level by level and makes the mirror equal to it. */
    const load = Effect.gen(function*() {
      const seen = new Set<string>()
      let level: Array<string> = [root]
      while (level.length > 0) {
        const parents: Array<{ readonly path: string; readonly count: number }> = []
        // Every path is read once per load, so batches may be in flight together and be
        // applied in any order.
        yield* Effect.forEach(batches(level, () => mirror.largestData + 160), (batch) =>
          Effect.map(zk.multiRead(batch.map(Op.get)), (results) =>
            results.forEach((result, i) => {
              if (result._tag !== "Get") return
              const path = batch[i]!
              seen.add(path)
              mirror.upsert(path, result)
              if (result.stat.numChildren > 0 && canHaveChildren(path)) parents.push({ path, count: result.stat.numChildren })
            })), { concurrency: LOAD_CONCURRENCY, discard: true })
        const next: Array<string> = []
        yield* Effect.forEach(batches(parents, (p) => p.count * CHILD_NAME_BYTES + 32), (batch) =>
          Effect.map(zk.multiRead(batch.map((p) => Op.children(p.path))), (results) =>
            results.forEach((result, i) => {
              if (result._tag !== "Children") return
              const parent = batch[i]!.path
              for (const name of result.children) {
                const child = childOf(parent, name)
                if (include(child)) next.push(child)
              }
            })), { concurrency: LOAD_CONCURRENCY, discard: true })
        level = next
      }
      mirror.retainOnly(seen)
    })

    /** Re-reads the nodes some events named, in one or a few round trips, in order. */
    const refresh = (paths: ReadonlyArray<string>) =>
      Effect.forEach(batches(paths, () => mirror.largestData + 160), (batch) =>
        Effect.map(zk.multiRead(batch.map(Op.get)), (results) =>
          results.forEach((result, i) => {
            const path = batch[i]!
            if (result._tag === "Get") mirror.upsert(path, result)
            else mirror.remove(path)
          })), { discard: true })

    const restartOnDone = <A, E>(pull: Effect.Effect<A, E | Cause.Done>): Effect.Effect<A, E | Restart> =>
      Effect.catchIf(pull, Cause.isDone, () => Effect.fail(new Restart()))

    /** One life of the watch: arm it, load, then follow its events until something breaks. */
    const follow = (first: boolean) =>
      Effect.scoped(Effect.gen(function*() {
        // toPull starts the stream, which sends addWatch before anything below is sent; the
        // server handles a session's requests in order, so the load reads after the watch.
        const pull = yield* Stream.toPull(zk.addWatch(root, { recursive: true, bufferSize: WATCH_BUFFER }))
        yield* load
        if (first) {
          mirror.emit({ _tag: "Initialized" })
          yield* Deferred.succeed(initialized, undefined)
        } else mirror.emit({ _tag: "Resynced" })
        while (true) {
          const events: ReadonlyArray<PersistentWatchEvent> = yield* restartOnDone(pull)
          if (events.some((e) => e.type === "Resync")) {
            yield* load
            mirror.emit({ _tag: "Resynced" })
            continue
          }
          const dirty = new Set<string>()
          for (const event of events) if (include(event.path)) dirty.add(event.path)
          if (dirty.size > 0) yield* refresh(Array.from(dirty))
        }
      }))

    const recoverable = (e: ZkError | WatchOverflow | Restart): boolean =>
      e._tag === "Restart" || e._tag === "WatchOverflow" || isRetryable(e)

    const run = Effect.suspend(() => follow(!Deferred.isDoneUnsafe(initialized))).pipe(
      Effect.retry({ schedule: options?.retrySchedule ?? defaultRetrySchedule, while: recoverable }),
      Effect.catch((e) => {
        // Restart and WatchOverflow are retried forever above: only a ZkError gets here.
        if (e._tag === "Restart" || e._tag === "WatchOverflow") return Effect.void
        mirror.fail(e)
        return Deferred.fail(initialized, e)
      })
    )

    yield* Effect.forkScoped(run)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        if (mirror.failure === undefined) mirror.fail(new Closing({ op: "TreeCache", path: root, detail: "the cache's scope is closed" }))
      })
    )

    const events: Stream.Stream<TreeEvent, ZkError | WatchOverflow> = Stream.callback<TreeEvent, ZkError | WatchOverflow>(
      (queue) =>
        Effect.acquireRelease(
          Effect.suspend(() => {
            if (mirror.failure !== undefined) return Effect.fail(mirror.failure)
            mirror.listeners.add(queue)
            return Effect.void
          }),
          () => Effect.sync(() => void mirror.listeners.delete(queue))
        ),
      { bufferSize: capacity + 1, strategy: "suspend" }
    )

    return {
      root,
      initialized: Deferred.await(initialized),
      get: (path) => mirror.read(() => Option.fromUndefinedOr(mirror.store.read(path))),
      children: (path) => mirror.read(() => mirror.childNames(path)),
      snapshot: mirror.read((): ReadonlyMap<string, NodeData> => {
        const copy = new Map<string, NodeData>()
        for (const path of mirror.store.paths()) copy.set(path, mirror.store.read(path)!)
        return copy
      }),
      size: mirror.read(() => mirror.store.size),
      events
    } satisfies TreeCache
  })

/** Whether a path is mirrored: under the root, within maxDepth, and passing the filter with all its ancestors. */
const inScope = (
  root: string,
  maxDepth: number | undefined,
  filter: ((path: string) => boolean) | undefined
) => {
  const prefix = root === "/" ? "/" : root + "/"
  return (path: string): boolean => {
    if (path === root) return true
    if (!path.startsWith(prefix)) return false
    if (maxDepth !== undefined && levelOf(root, path) > maxDepth) return false
    if (filter === undefined) return true
    for (let p = path; p !== root && p.length > root.length; p = ZNodePath.parent(p)) {
      if (!filter(p)) return false
    }
    return true
  }
}

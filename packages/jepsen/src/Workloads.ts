/**
 * The workloads: what each client lane does, one recorded operation per step.
 *
 * - `register`: create, conditional set, conditional delete, synced read, plain read and a read
 *   that arms a watch, on a few keys. Keys rotate every few seconds (a fresh set of independent
 *   registers), which bounds each key's history and so the linearizability search.
 * - `queue`: enqueue is a persistent-sequential create with a unique value; dequeue takes the
 *   lowest child (read it, delete it; a lost race moves on to the next). A final drain reads
 *   what is left.
 * - `lock`: acquire `@effect-zk/recipes`'s lock, record its fencing token, hold it a little,
 *   release it; a lapsed lease (`lost`) is recorded when it happens.
 *
 * @since 0.1.0
 */
import type { ZkError, ZooKeeperService } from "@effect-zk/core"
import { CreateMode, ZooKeeper } from "@effect-zk/core"
import { Lock } from "@effect-zk/recipes"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { errorTag, type Lane, recorded } from "./Client.ts"
import type { Result } from "./History.ts"

/**
 * A seeded random source shared by a workload's lanes.
 *
 * @since 0.1.0
 * @category models
 */
export type Random = () => number

/**
 * A deliberately wrong client, to show that the checkers catch what a client bug does.
 * `resend-creates` re-sends a create after `ConnectionLoss` or `OperationTimeout` and reports
 * the second answer: when
 * the first request was applied, a plain create then reports `NodeExists` for a node it made,
 * and a sequential create makes a second node with the same value.
 *
 * @since 0.1.0
 * @category models
 */
export type Broken = "resend-creates"

/**
 * What every workload step needs.
 *
 * @since 0.1.0
 * @category models
 */
export interface Context {
  readonly base: string
  readonly random: Random
  readonly started: bigint
  readonly broken: Broken | undefined
}

const decoder = new TextDecoder()
const text = (bytes: Uint8Array): string => decoder.decode(bytes)

/** Small pauses between operations keep ten lanes from saturating a two-core machine. */
const pace = (random: Random) => Effect.sleep(Math.floor(random() * 15))

/**
 * `create2`, re-sent after `ConnectionLoss` when the client is broken that way (and only then).
 *
 * @since 0.1.0
 * @category constructors
 */
export const create2 = (zk: ZooKeeperService, broken: Broken | undefined, path: string, data: string, mode: CreateMode) => {
  const once = zk.create2(path, data, { mode })
  // The naive client treats both "unknown outcome" errors as "not applied".
  const unknown = (e: ZkError) => e._tag === "ConnectionLoss" || e._tag === "OperationTimeout"
  return broken === "resend-creates"
    ? Effect.catchIf(once, unknown, () => Effect.retry(zk.create2(path, data, { mode }), { times: 20, while: unknown }))
    : once
}

// ---------------------------------------------------------------------------------------------
// register

const KEYS_PER_EPOCH = 3
const EPOCH_NANOS = 6_000_000_000n

/** The register keys in use now. */
const keyNow = (ctx: Context): string => {
  const epoch = (process.hrtime.bigint() - ctx.started) / EPOCH_NANOS
  return `${ctx.base}/r${epoch}-${Math.floor(ctx.random() * KEYS_PER_EPOCH)}`
}

/**
 * One register step of a lane.
 *
 * @since 0.1.0
 * @category constructors
 */
export const registerStep = (ctx: Context, counter: { n: number }, armed: Set<string>) => (lane: Lane) => (zk: ZooKeeperService): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function*() {
    yield* pace(ctx.random)
    const key = keyNow(ctx)
    const value = `${lane.process}.${counter.n++}`
    const pick = ctx.random()
    // A version guess: usually the current one (from a quick read), sometimes stale or "any".
    const guess = (): Effect.Effect<number> =>
      Effect.map(Effect.option(zk.exists(key)), (stat) => {
        const current = Option.match(Option.flatten(stat), { onNone: () => 0, onSome: (s) => s.version })
        const r = ctx.random()
        return r < 0.15 ? -1 : r < 0.3 ? Math.max(0, current - 1) : current
      })
    if (pick < 0.2) {
      yield* recorded(lane, { f: "create", key, value }, create2(zk, ctx.broken, key, value, CreateMode.Persistent), (r) => ({
        zxid: r.stat.czxid,
        version: r.stat.version
      }))
    } else if (pick < 0.5) {
      const version = yield* guess()
      yield* recorded(lane, { f: "set", key, value, version }, zk.set(key, value, { version }), (stat) => ({
        zxid: stat.mzxid,
        version: stat.version
      }))
    } else if (pick < 0.6) {
      const version = yield* guess()
      yield* recorded(lane, { f: "delete", key, version }, zk.delete(key, { version }), () => ({}))
    } else if (pick < 0.8) {
      yield* recorded(lane, { f: "sget", key }, Effect.andThen(zk.sync(key), zk.get(key)), readResult)
    } else if (pick < 0.9 || armed.has(key)) {
      yield* recorded(lane, { f: "get", key }, zk.get(key), readResult)
    } else {
      yield* armWatch(lane, zk, key, armed)
    }
  })

const readResult = (r: { readonly data: Uint8Array; readonly stat: { readonly mzxid: bigint; readonly czxid: bigint; readonly version: number } }): Result => ({
  value: text(r.data),
  version: r.stat.version,
  zxid: r.stat.mzxid,
  czxid: r.stat.czxid
})

/** `existsW`, then a fiber that records the watch's event when it fires. */
const armWatch = (lane: Lane, zk: ZooKeeperService, key: string, armed: Set<string>) =>
  Effect.gen(function*() {
    let watch: Option.Option<Stream.Stream<{ readonly type: string }, unknown>> = Option.none()
    const { id, exit } = yield* recorded(lane, { f: "getw", key }, Effect.tap(zk.existsW(key), (r) => Effect.sync(() => void (watch = Option.some(r.watch)))), (r) =>
      Option.match(r.stat, {
        onNone: () => ({}),
        onSome: (stat) => ({ zxid: stat.mzxid, czxid: stat.czxid, version: stat.version })
      }))
    if (Exit.isFailure(exit) || Option.isNone(watch)) return
    const session = lane.session
    armed.add(key)
    yield* Effect.forkScoped(
      Stream.runHead(watch.value).pipe(
        Effect.tap((event) =>
          Effect.sync(() => {
            if (Option.isSome(event)) {
              lane.recorder.observe({ process: lane.process, session, f: "event", key, armedBy: id }, { value: event.value.type })
            }
          })
        ),
        Effect.ignore,
        Effect.ensuring(Effect.sync(() => armed.delete(key)))
      )
    )
  })

// ---------------------------------------------------------------------------------------------
// queue

/**
 * One queue step of a lane: an enqueue or a dequeue, at random.
 *
 * @since 0.1.0
 * @category constructors
 */
export const queueStep = (ctx: Context, counter: { n: number }) => (lane: Lane) => (zk: ZooKeeperService): Effect.Effect<void> =>
  Effect.gen(function*() {
    yield* pace(ctx.random)
    const dir = `${ctx.base}/queue`
    if (ctx.random() < 0.55) {
      const value = `${lane.process}.${counter.n++}`
      yield* recorded(lane, { f: "enqueue", key: dir, value }, create2(zk, ctx.broken, `${dir}/e-`, value, CreateMode.PersistentSequential), (r) => ({
        path: r.path,
        zxid: r.stat.czxid
      }))
      return
    }
    const attempt: { value: string | undefined } = { value: undefined }
    yield* recorded(lane, { f: "dequeue", key: dir }, dequeue(zk, dir, attempt), (value) => ({ value }), attempt)
  })

/**
 * Takes the lowest element: read it, delete it at the version read. `NoNode` or `BadVersion`
 * means another lane was faster: try the next one. Fails with `NoNode` when empty. `attempt`
 * holds the value being deleted, so an unknown outcome can say what it may have taken.
 */
const dequeue = (zk: ZooKeeperService, dir: string, attempt: { value: string | undefined }) =>
  Effect.gen(function*(): Effect.fn.Return<string, ZkError | { readonly _tag: "Empty" }> {
    const { children } = yield* zk.children(dir)
    for (const child of [...children].sort()) {
      const path = `${dir}/${child}`
      const read = yield* Effect.exit(zk.get(path))
      if (Exit.isFailure(read)) {
        if (errorTag(read.cause) === "NoNode") continue
        return yield* Effect.failCause(read.cause)
      }
      attempt.value = text(read.value.data)
      const deleted = yield* Effect.exit(zk.delete(path, { version: read.value.stat.version }))
      if (Exit.isSuccess(deleted)) return attempt.value
      const tag = errorTag(deleted.cause)
      if (tag === "NoNode" || tag === "BadVersion") {
        attempt.value = undefined
        continue
      }
      return yield* Effect.failCause(deleted.cause)
    }
    const empty: { readonly _tag: "Empty" } = { _tag: "Empty" }
    return yield* Effect.fail(empty)
  })

/**
 * Reads and removes everything left in the queue at the end, one `drain` operation per
 * element, from a healthy session.
 *
 * @since 0.1.0
 * @category constructors
 */
export const drain = (lane: Lane, zk: ZooKeeperService, base: string): Effect.Effect<void> =>
  Effect.gen(function*() {
    const dir = `${base}/queue`
    // The listing is an operation of its own (`list`): without an ok one, nothing can be
    // called lost, since what is left was never read.
    const { exit: listed } = yield* recorded(
      lane,
      { f: "list", key: dir },
      Effect.retry(zk.children(dir), { times: 10, schedule: Schedule.spaced("500 millis") }),
      (r) => ({ value: String(r.children.length) })
    )
    if (Exit.isFailure(listed)) return
    for (const child of [...listed.value.children].sort()) {
      yield* recorded(lane, { f: "drain", key: dir }, Effect.map(zk.get(`${dir}/${child}`), (r) => text(r.data)), (value) => ({ value }))
    }
  })

// ---------------------------------------------------------------------------------------------
// lock

/**
 * One lock step of a lane: acquire (with a timeout), hold a little, release. While held, a
 * fiber waits on the lease's `lost` and records it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const lockStep = (ctx: Context) => (lane: Lane) => (zk: ZooKeeperService): Effect.Effect<void> =>
  Effect.gen(function*() {
    yield* pace(ctx.random)
    const path = `${ctx.base}/lock`
    const scope = yield* Scope.make()
    const session = lane.session
    const acquired = yield* recorded(
      lane,
      { f: "acquire", key: path },
      Lock.acquire(path, { timeout: "3 seconds" }).pipe(Scope.provide(scope), Effect.provideService(ZooKeeper, zk)),
      (lease) => ({ token: lease.fencingToken, path: lease.node })
    )
    if (Exit.isSuccess(acquired.exit)) {
      yield* Effect.forkIn(
        Effect.catch(acquired.exit.value.lost, () =>
          Effect.sync(() => lane.recorder.observe({ process: lane.process, session, f: "lost", key: path }))),
        scope
      )
      yield* Effect.sleep(20 + Math.floor(ctx.random() * 150))
    }
    yield* recorded(lane, { f: "release", key: path }, Scope.close(scope, Exit.void), () => ({}))
  })

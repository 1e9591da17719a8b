/**
 * Leader election, interoperable with Curator's LeaderLatch: contenders are ephemeral
 * sequential nodes `_c_<uuid>-latch-<seq>` holding the participant's id, and the lowest
 * sequence leads. Each contender watches only the node ahead of it.
 *
 * - {@link run} contends forever: while leader it runs `work` as a fiber that is interrupted the
 *   moment leadership lapses, then contends again (Curator's LeaderSelector with re-queue).
 * - {@link latch} is a scoped participant with `isLeader` as a Stream (LeaderLatch).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Leader } from "@effect-zk/recipes"
 *
 * const program = Leader.run("/election/app", Effect.log("leading").pipe(Effect.andThen(Effect.never)), { id: "node-a" })
 * ```
 *
 * @since 0.1.0
 */
import type { ZkError, ZooKeeperService } from "@effect-zk/core"
import { ZooKeeper } from "@effect-zk/core"
import { get } from "@effect-zk/core/Op"
import * as ZNodePath from "@effect-zk/core/ZNodePath"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import type { ContendSpec } from "./internal/contend.ts"
import { awaitTurn, enter, firstWins, takeTurn, validate } from "./internal/contend.ts"
import type { LapsePolicy } from "./internal/lapse.ts"
import { watchLapse } from "./internal/lapse.ts"
import { contenders, LATCH } from "./internal/layout.ts"
import type { Created } from "./internal/protected.ts"
import { removeOwned, whileConnecting } from "./internal/protected.ts"
import { awaitState } from "./internal/session.ts"
import { decode, encode } from "./internal/text.ts"
import { LeadershipLost } from "./RecipeError.ts"

/**
 * Options of {@link run} and {@link latch}.
 *
 * @since 0.1.0
 * @category models
 */
export interface LeaderOptions {
  /** This participant's id, stored as its node's data (as Curator's LeaderLatch does). */
  readonly id: string
  /** When leadership lapses: `"disconnected"` (default), `"expired"`, or `{ grace }`. */
  readonly lapse?: LapsePolicy | undefined
}

/**
 * A participant of an election, as its node shows it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Participant {
  readonly id: string
  /** The participant's node (full path). */
  readonly node: string
  /** The node's czxid: a later leader always has a greater one. */
  readonly fencingToken: bigint
}

/**
 * What `work` gets while leading.
 *
 * @since 0.1.0
 * @category models
 */
export interface Leadership extends Participant {
  /** Fails with `LeadershipLost` once leadership lapses (never succeeds). */
  readonly lost: Effect.Effect<never, LeadershipLost>
}

const spec = (path: string, id: string): ContendSpec => ({
  dir: path,
  layout: "curator",
  marker: LATCH,
  markers: [LATCH.curator],
  data: encode(id),
  blocker: firstWins
})

/** One term: wait to lead, then run `work` until it ends or leadership lapses. */
const term = <A, E, R>(
  zk: ZooKeeperService,
  path: string,
  work: (leadership: Leadership) => Effect.Effect<A, E, R>,
  options: LeaderOptions
): Effect.Effect<void, E | ZkError, R> =>
  Effect.scoped(Effect.gen(function*() {
    const turn = yield* takeTurn(zk, spec(path, options.id), { lapse: options.lapse ?? "disconnected" })
    const node = turn.node.path
    const lost = Effect.flatMap(turn.lapsed, (reason) => Effect.fail(new LeadershipLost({ path, node, reason })))
    const leadership: Leadership = { id: options.id, node, fencingToken: turn.node.stat.czxid, lost }
    yield* Effect.raceFirst(work(leadership), lost).pipe(Effect.catchTag("LeadershipLost", () => Effect.void))
  }))

/**
 * Contends for leadership forever: while leader, runs `work` (a fiber interrupted the moment
 * leadership lapses); when `work` ends or leadership is lost, gives the leadership up and
 * contends again. Fails only with `work`'s error or a ZooKeeper error (for example
 * `SessionExpired`: see `Recipes.resilient` to come back with a new session).
 *
 * @since 0.1.0
 * @category combinators
 */
export const run = <A, E, R>(
  path: string,
  work: Effect.Effect<A, E, R> | ((leadership: Leadership) => Effect.Effect<A, E, R>),
  options: LeaderOptions
): Effect.Effect<never, E | ZkError, R | ZooKeeper> =>
  Effect.gen(function*() {
    yield* validate("leader", path)
    const zk = yield* ZooKeeper
    const body = Effect.isEffect(work) ? () => work : work
    return yield* Effect.forever(term(zk, path, body, options))
  })

/**
 * A participant in an election for as long as the current scope is open.
 *
 * @since 0.1.0
 * @category models
 */
export interface Latch {
  /** Whether we lead: the current value first, then every change. */
  readonly isLeader: Stream.Stream<boolean>
  /** The current leader, if any. */
  readonly leader: Effect.Effect<Option.Option<Participant>, ZkError>
  /** Every participant, the current leader first. */
  readonly participants: Effect.Effect<ReadonlyArray<Participant>, ZkError>
}

/** The participants in order, read in two round trips (children, then every node's data at once). */
const readParticipants = (zk: ZooKeeperService, path: string): Effect.Effect<ReadonlyArray<Participant>, ZkError> =>
  Effect.gen(function*() {
    const { children } = yield* whileConnecting(zk.children(path))
    const sorted = contenders(children, [LATCH.curator])
    if (sorted.length === 0) return []
    const paths = sorted.map((c) => ZNodePath.join(path, c.name))
    const results = yield* whileConnecting(zk.multiRead(paths.map((p) => get(p))))
    const out: Array<Participant> = []
    results.forEach((r, i) => {
      if (r._tag === "Get") out.push({ id: decode(r.data), node: paths[i]!, fencingToken: r.stat.czxid })
    })
    return out
  }).pipe(Effect.catchTag("NoNode", () => Effect.succeed([])))

/** Waits until the session is connected again (or has ended: the next request then says so). */
const awaitConnected = (zk: ZooKeeperService): Effect.Effect<void> =>
  awaitState(zk, (state) => state !== "Disconnected" && state !== "Connecting")

/**
 * Joins the election at `path` until the current scope closes (then our node is deleted).
 * Leadership follows the same lapse policy as {@link run}: `isLeader` turns false when the
 * connection drops and true again if, once reconnected, our node still leads. A node deleted
 * by someone else is created again (at the back of the queue).
 *
 * @example
 * ```ts
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const latch = yield* Leader.latch("/election/app", { id: "node-a" })
 *   yield* latch.isLeader.pipe(Stream.filter((b) => b), Stream.runHead)
 *   const leader = yield* latch.leader
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const latch = (path: string, options: LeaderOptions): Effect.Effect<Latch, ZkError, ZooKeeper | Scope.Scope> =>
  Effect.gen(function*() {
    yield* validate("leader", path)
    const zk = yield* ZooKeeper
    const contend = spec(path, options.id)
    const leading = yield* SubscriptionRef.make(false)
    let node: Created = (yield* enter(zk, contend)).node
    const lapse = options.lapse ?? "disconnected"
    // One step: wait for our turn, lead until it lapses or our node goes, then settle again.
    const step = Effect.gen(function*() {
      yield* SubscriptionRef.set(leading, false)
      yield* awaitTurn(zk, contend, node.path)
      const { stat, watch } = yield* whileConnecting(zk.existsW(node.path))
      if (Option.isNone(stat)) return
      yield* SubscriptionRef.set(leading, true)
      yield* Effect.scoped(Effect.flatMap(watchLapse(zk, lapse), (lapsed) => Effect.raceFirst(Stream.runHead(watch), lapsed)))
      yield* SubscriptionRef.set(leading, false)
      yield* awaitConnected(zk)
    }).pipe(
      Effect.catchTag("NoNode", () =>
        Effect.gen(function*() {
          yield* removeOwned(zk, node.path)
          node = (yield* enter(zk, contend)).node
        }))
    )
    yield* Effect.forkScoped(Effect.forever(step).pipe(Effect.ensuring(SubscriptionRef.set(leading, false))))
    const participants = readParticipants(zk, path)
    return {
      isLeader: Stream.changes(SubscriptionRef.changes(leading)),
      leader: Effect.map(participants, (ps) => Option.fromNullishOr(ps[0])),
      participants
    }
  })

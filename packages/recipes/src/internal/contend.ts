/**
 * The shared core of every queue-of-contenders recipe (lock, leader, read/write lock): create
 * an ephemeral sequential node, then wait, watching exactly one other node, until the recipe's
 * rule says it is our turn. Watching one node (not the parent's children) means a release wakes
 * one waiter, not all of them.
 */
import type { ZkError, ZooKeeperService } from "@effect-zk/core"
import * as ZNodePath from "@effect-zk/core/ZNodePath"
import { BadArguments, NoNode } from "@effect-zk/core/ZkError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { LapseReason } from "../RecipeError.ts"
import type { LapsePolicy } from "./lapse.ts"
import { watchLapse } from "./lapse.ts"
import type { Contender, Layout } from "./layout.ts"
import { contenders, ownName } from "./layout.ts"
import type { Created } from "./protected.ts"
import { createProtected, removeOwned, whileConnecting } from "./protected.ts"

/** What a recipe contends with. */
export interface ContendSpec {
  /** The recipe's directory: contenders are its children. */
  readonly dir: string
  readonly layout: Layout
  /** Our node's marker in each layout style. */
  readonly marker: { readonly curator: string; readonly kazoo: string }
  /** Markers of every node that counts as a contender. */
  readonly markers: ReadonlyArray<string>
  readonly data: Uint8Array
  /**
   * The recipe's rule: given the contenders in order and our index, `undefined` when it is our
   * turn, else the one contender whose removal may make it our turn.
   */
  readonly blocker: (sorted: ReadonlyArray<Contender>, ours: number) => Contender | undefined
}

/** A node that got its turn, and an effect that completes when the guarantee lapses. */
export interface Turn {
  readonly node: Created
  readonly lapsed: Effect.Effect<LapseReason>
}

/** The contenders in order, and our index among them. */
export interface Standing {
  readonly sorted: ReadonlyArray<Contender>
  readonly ours: number
}

/** Our standing in a listing of `spec.dir`, or `undefined` when our node is not in it. */
const rank = (spec: ContendSpec, node: string, children: ReadonlyArray<string>): Standing | undefined => {
  const sorted = contenders(children, spec.markers)
  const name = ZNodePath.basename(node)
  const ours = sorted.findIndex((c) => c.name === name)
  return ours < 0 ? undefined : { sorted, ours }
}

/** Lists the contenders now; our node must still exist. */
const standing = (zk: ZooKeeperService, spec: ContendSpec, node: string): Effect.Effect<Standing, ZkError> =>
  Effect.flatMap(whileConnecting(zk.children(spec.dir)), ({ children }) => {
    const found = rank(spec, node, children)
    return found !== undefined
      ? Effect.succeed(found)
      : Effect.fail(new NoNode({ op: "contend", path: node, detail: "our contender node is gone (deleted, or its session ended)" }))
  })

/** Waits until the blocker is gone or changes: one watch, one wake-up. */
const awaitRemoval = (zk: ZooKeeperService, path: string): Effect.Effect<void, ZkError> =>
  Effect.gen(function*() {
    const { stat, watch } = yield* whileConnecting(zk.existsW(path))
    if (Option.isSome(stat)) yield* Stream.runHead(watch)
  })

/**
 * Waits until `spec`'s rule gives `node` its turn. `first` is a listing already in hand (from
 * {@link enter}); later rounds list again.
 */
export const awaitTurn = (
  zk: ZooKeeperService,
  spec: ContendSpec,
  node: string,
  first?: Standing | undefined
): Effect.Effect<void, ZkError> =>
  Effect.gen(function*() {
    let known = first
    while (true) {
      const { sorted, ours } = known ?? (yield* standing(zk, spec, node))
      known = undefined
      const blocker = spec.blocker(sorted, ours)
      if (blocker === undefined) return
      yield* awaitRemoval(zk, ZNodePath.join(spec.dir, blocker.name))
    }
  })

/** Our node, and the contenders as listed right after its create when that listing had it. */
export interface Entered {
  readonly node: Created
  readonly standing: Standing | undefined
}

/**
 * Creates our contender node in the current scope (closing the scope deletes it) and lists the
 * contenders in the same round trip: the listing is sent right behind the create, without
 * waiting for its reply. A session's requests are applied in order (docs/protocol.md#xids),
 * so a listing that contains our node was taken after our create. One that does not (the
 * create failed first, needed its parents, or was found again after a ConnectionLoss) is
 * dropped and the wait lists again. An uncontended lock then waits for two round trips
 * (create and list, then delete) instead of three.
 */
export const enter = (zk: ZooKeeperService, spec: ContendSpec): Effect.Effect<Entered, ZkError, Scope.Scope> =>
  Effect.uninterruptible(Effect.gen(function*() {
    // Started first and run until it has sent its create, so the listing goes out behind it.
    const creating = yield* Effect.forkChild(
      createProtected(zk, spec.dir, ownName(spec.layout, spec.marker), spec.data, "EphemeralSequential"),
      { startImmediately: true, uninterruptible: true }
    )
    const listed = yield* Effect.exit(zk.children(spec.dir))
    const node = yield* Fiber.join(creating)
    yield* Effect.addFinalizer(() => removeOwned(zk, node.path))
    return { node, standing: Exit.isSuccess(listed) ? rank(spec, node.path, listed.value.children) : undefined }
  }))

/** A bound on the wait for a turn, and the error to fail with when it runs out. */
export interface TurnTimeout<E> {
  readonly duration: Duration.Duration
  readonly error: () => E
}

/**
 * Enters and waits for our turn (bounded by `timeout` when given), then starts watching for a
 * lapse. A wait that fails, times out or is interrupted deletes our node at once, not only
 * when the caller's scope closes.
 */
export const takeTurn = <E = never>(
  zk: ZooKeeperService,
  spec: ContendSpec,
  options: {
    readonly lapse: LapsePolicy
    readonly timeout?: TurnTimeout<E> | undefined
  }
): Effect.Effect<Turn, ZkError | E, Scope.Scope> =>
  Effect.gen(function*() {
    const { node, standing: first } = yield* enter(zk, spec)
    // Uncontended, the listing sent with the create already says it is our turn.
    if (first === undefined || spec.blocker(first.sorted, first.ours) !== undefined) {
      const wait = awaitTurn(zk, spec, node.path, first)
      const timeout = options.timeout
      const bounded = timeout === undefined
        ? wait
        : Effect.timeoutOrElse(wait, { duration: timeout.duration, orElse: () => Effect.fail(timeout.error()) })
      yield* Effect.onExit(bounded, (exit) => (Exit.isSuccess(exit) ? Effect.void : removeOwned(zk, node.path)))
    }
    const lapsed = yield* watchLapse(zk, options.lapse)
    return { node, lapsed }
  })

/** The first contender is the holder. */
export const firstWins = (sorted: ReadonlyArray<Contender>, ours: number): Contender | undefined =>
  ours === 0 ? undefined : sorted[ours - 1]

/**
 * Checks a recipe's path and optional timeout before anything is sent: the timeout as a
 * Duration (`undefined` when absent), or `BadArguments`.
 */
export const validate = (
  op: string,
  path: string,
  timeout?: Duration.Input | undefined
): Effect.Effect<Duration.Duration | undefined, BadArguments> => {
  const bad = ZNodePath.checkError(op, path)
  if (bad !== undefined) return Effect.fail(bad)
  if (path === "/") return Effect.fail(new BadArguments({ op, path, detail: "a recipe needs a path of its own, not the root" }))
  if (timeout === undefined) return Effect.succeed(undefined)
  const d = Duration.fromInput(timeout)
  return Option.isSome(d) && Duration.toMillis(d.value) >= 0
    ? Effect.succeed(d.value)
    : Effect.fail(new BadArguments({ op, path, detail: `timeout must be a non-negative duration, got ${String(timeout)}` }))
}

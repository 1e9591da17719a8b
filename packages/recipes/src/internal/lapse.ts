/**
 * When a held guarantee (a lock, a leadership, a permit) stops being a guarantee. A holder that
 * cannot reach the ensemble cannot know whether its session, and so its node, still exists:
 * the session may already have expired on the server and another client may hold the lock.
 */
import type { SessionState, ZooKeeperService } from "@effect-zk/core"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { LapseReason } from "../RecipeError.ts"

/**
 * When a held guarantee lapses.
 *
 * - `"disconnected"` (the default, Curator's standard policy): as soon as the connection drops.
 * - `"expired"`: only when the session is known to have ended. A partitioned holder keeps
 *   running although another client may already hold the lock: use it only with fencing.
 * - `{ grace }`: after the connection has been down for `grace`, capped at a third of the
 *   negotiated session timeout, so the holder stops before the server can expire its session
 *   (the client notices a silent connection only after about two thirds of that timeout).
 */
export type LapsePolicy = "disconnected" | "expired" | { readonly grace: Duration.Input }

/** The grace period in milliseconds, bounded below the session timeout. */
const graceMillis = (zk: ZooKeeperService, policy: LapsePolicy): Effect.Effect<number> => {
  if (typeof policy === "string") return Effect.succeed(policy === "disconnected" ? 0 : Number.POSITIVE_INFINITY)
  const wanted = Option.match(Duration.fromInput(policy.grace), { onNone: () => 0, onSome: Duration.toMillis })
  return Effect.map(zk.sessionTimeout, (timeout) => Math.max(0, Math.min(wanted, Math.floor(timeout / 3))))
}

/** Reacts to one session state; runs on the session's shared follower fiber. */
type Listener = (state: SessionState) => Effect.Effect<unknown>

/**
 * Every held guarantee of one session listens through one subscription to its events, so a
 * lease costs a set insertion instead of a fiber and a subscription of its own: on a busy
 * lock, the fiber's start and its interruption sat on the acquire and release paths.
 */
const followers = new WeakMap<ZooKeeperService, Set<Listener>>()

/**
 * The session's listeners, with its follower fiber subscribed before this returns. The fiber
 * is detached: it ends by itself with the session (its event stream ends at a terminal state).
 */
const listenersOf = (zk: ZooKeeperService): Effect.Effect<Set<Listener>> =>
  Effect.suspend(() => {
    const known = followers.get(zk)
    if (known !== undefined) return Effect.succeed(known)
    const listeners = new Set<Listener>()
    followers.set(zk, listeners)
    const dispatch = (state: SessionState) => Effect.forEach([...listeners], (l) => l(state), { discard: true })
    return Stream.runForEach(zk.sessionEvents, (e) => dispatch(e.state)).pipe(
      Effect.ensuring(Effect.sync(() => {
        if (followers.get(zk) === listeners) followers.delete(zk)
      })),
      Effect.forkDetach({ startImmediately: true }),
      Effect.as(listeners)
    )
  })

/**
 * Starts watching the session now and returns an effect that completes (with the reason) once
 * the guarantee lapses. The watch ends with the current scope.
 */
export const watchLapse = (
  zk: ZooKeeperService,
  policy: LapsePolicy
): Effect.Effect<Effect.Effect<LapseReason>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const lapsed = yield* Deferred.make<LapseReason>()
    const grace = yield* graceMillis(zk, policy)
    const scope = yield* Effect.scope
    let timer: Fiber.Fiber<unknown> | undefined
    const lapse = (reason: LapseReason) => Deferred.succeed(lapsed, reason)
    const onState: Listener = (state) => {
      switch (state) {
        case "Expired":
        case "Closed":
        case "AuthFailed":
          return lapse("SessionEnded")
        case "Connected":
          return Effect.suspend(() => {
            const running = timer
            timer = undefined
            return running === undefined ? Effect.void : Fiber.interrupt(running)
          })
        default:
          // Disconnected, Connecting, ConnectedReadOnly: no quorum behind us.
          if (grace === 0) return lapse("Disconnected")
          if (!Number.isFinite(grace) || timer !== undefined) return Effect.void
          return Effect.sleep(Duration.millis(grace)).pipe(
            Effect.andThen(lapse("GraceExpired")),
            Effect.forkIn(scope),
            Effect.map((fiber) => {
              timer = fiber
            })
          )
      }
    }
    const listeners = yield* listenersOf(zk)
    yield* Effect.acquireRelease(Effect.sync(() => listeners.add(onState)), () => Effect.sync(() => listeners.delete(onState)))
    // Listening first, reading second: a change between the two reaches the listener (a state
    // seen twice is harmless).
    yield* onState(yield* zk.state)
    return Deferred.await(lapsed)
  })

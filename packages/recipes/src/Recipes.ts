/**
 * Keeping a long-running component alive across session expiry.
 *
 * After a session expires, its `ZooKeeper` service is dead: every later call fails with
 * `SessionExpired`, and it never opens a new session behind the caller's back (the caller's
 * ephemeral nodes, locks and leaderships are gone, and only the caller knows what to rebuild).
 * {@link resilient} is the one place that rebuilds: it runs a component with a fresh session
 * from a layer, and when that session ends, closes everything the component had open in its
 * scope and runs it again with a new session.
 *
 * @since 0.1.0
 */
import type { ZkError, ZooKeeperService } from "@effect-zk/core"
import { ZooKeeper } from "@effect-zk/core"
import { isRetryable, isZkError, SessionExpired } from "@effect-zk/core/ZkError"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"

/**
 * Options of {@link resilient}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResilientOptions {
  /**
   * Pacing between sessions. Default: 100 ms doubling up to 5 s, jittered, without end: a
   * service keeps trying to come back.
   */
  readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
  /**
   * Which failures start a new session. Default: `SessionExpired`, and transient errors such as
   * `ConnectionLoss` (so an ensemble that is down while the new session opens is waited for).
   */
  readonly while?: ((error: unknown) => boolean) | undefined
}

const defaultSchedule: Schedule.Schedule<unknown, unknown> = Schedule.min([
  Schedule.exponential("100 millis", 2),
  Schedule.spaced("5 seconds")
]).pipe(Schedule.jittered)

/** Whether a failure means "this session is gone or unreachable; a new one may work". */
const sessionLost = (error: unknown): boolean =>
  isZkError(error) && (error._tag === "SessionExpired" || isRetryable(error))

/** Fails with `SessionExpired` once the session has expired (also when it already has). */
const expiry = (zk: ZooKeeperService): Effect.Effect<never, SessionExpired> =>
  Effect.scoped(Effect.gen(function*() {
    const ended = yield* Effect.forkScoped(
      Stream.runHead(Stream.filter(zk.sessionEvents, (e) => e.state === "Expired")),
      { startImmediately: true }
    )
    if ((yield* zk.state) !== "Expired") yield* Fiber.join(ended)
    return yield* new SessionExpired({ op: "session", detail: "the session expired; starting over with a new one" })
  }))

/**
 * Runs `component` with a session built from `session`; when the session expires (noticed by
 * the component's own calls or by the session itself, whichever comes first), interrupts the
 * component, closes its scope (its ephemeral nodes went with the session) and runs it again
 * with a new session, paced by `schedule`. Other failures, and the component's success, end it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { NodeZooKeeper } from "@effect-zk/node"
 * import { Leader, Recipes } from "@effect-zk/recipes"
 *
 * const service = Recipes.resilient(
 *   Leader.run("/election/app", Effect.never, { id: "node-a" }),
 *   NodeZooKeeper.layer({ servers: "127.0.0.1:2181" })
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const resilient = <A, E, R, E2>(
  component: Effect.Effect<A, E, R>,
  session: Layer.Layer<ZooKeeper, E2>,
  options: ResilientOptions = {}
): Effect.Effect<A, E | E2 | ZkError, Exclude<R, ZooKeeper>> => {
  const once = Effect.gen(function*() {
    const zk = yield* ZooKeeper
    return yield* Effect.raceFirst(component, expiry(zk))
  }).pipe(Effect.provide(session))
  return Effect.retry(once, { schedule: options.schedule ?? defaultSchedule, while: options.while ?? sessionLost })
}

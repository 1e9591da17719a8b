/**
 * The real clock, for effects about the world outside the process (a server's state, a session
 * of our own) that must keep their pace when a test installs the TestClock.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

const live: Clock.Clock = Clock.Clock.defaultValue()

/** Runs `effect` on the real clock, whatever clock the caller provides. */
export const onLiveClock = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.provideService(effect, Clock.Clock, live)

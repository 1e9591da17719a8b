/** Waiting for a session state without missing a change that happens while we start to wait. */
import type { SessionState, ZooKeeperService } from "@effect-zk/core"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"

/**
 * Completes once the session's state satisfies `wanted` (at once when it does now). Subscribes
 * first and reads the state second, so a change in between is seen by the subscription.
 */
export const awaitState = (zk: ZooKeeperService, wanted: (state: SessionState) => boolean): Effect.Effect<void> =>
  Effect.scoped(Effect.gen(function*() {
    const next = yield* Effect.forkScoped(
      Stream.runHead(Stream.filter(zk.sessionEvents, (e) => wanted(e.state))),
      { startImmediately: true }
    )
    if (wanted(yield* zk.state)) return
    yield* Fiber.join(next)
  }))

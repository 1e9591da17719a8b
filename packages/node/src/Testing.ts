/**
 * Helpers for users' own tests of code built on effect-zk (the fault proxy is in `FaultProxy`).
 *
 * @since 0.1.0
 */
import type { ZkError, ZooKeeperService } from "@effect-zk/core"
import { SessionMoved } from "@effect-zk/core/ZkError"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as NodeZooKeeper from "./NodeZooKeeper.ts"

/**
 * Expires a live session the way an ensemble would, without touching the client's internals:
 * a second connection takes the session over with its id and password, then closes it. The
 * server ends the session and its ephemeral nodes; the original client learns it when it next
 * talks to the server (its state becomes `Expired`).
 *
 * `servers` must reach the same ensemble (a chroot suffix is allowed and irrelevant).
 *
 * @example
 * ```ts
 * yield* Testing.expireSession(zk, "127.0.0.1:2181")
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export const expireSession = (zk: ZooKeeperService, servers: string): Effect.Effect<void, ZkError> =>
  Effect.gen(function*() {
    const session = yield* zk.clientId
    // The original client may take the session back between our takeover and our
    // closeSession (it reconnects at once), so repeat until the server says it is gone.
    for (let attempt = 1; attempt <= 20; attempt++) {
      const exit = yield* Effect.exit(Effect.scoped(Layer.build(NodeZooKeeper.layer({ servers, session }))))
      if (Exit.isFailure(exit)) {
        const error = Cause.findErrorOption(exit.cause)
        if (Option.isSome(error) && error.value._tag === "SessionExpired") return
      }
    }
    return yield* new SessionMoved({ op: "expireSession", detail: "the session kept being taken back; it is still alive" })
  })

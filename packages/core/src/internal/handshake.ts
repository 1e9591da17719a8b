/**
 * Opening one connection of a session: the TCP (or TLS) connection, the ConnectRequest and its
 * reply, then the SASL login when one is configured. Whether the session may use the result
 * (it may have expired or been closed meanwhile) is the supervisor's decision, not this
 * module's.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Protocol from "../Protocol.ts"
import * as Sasl from "../Sasl.ts"
import type { HostPort, Transport } from "../Transport.ts"
import { ErrorCode, fromCode, type ZkError } from "../ZkError.ts"
import type { Connection, Handshake } from "./connection.ts"

/** SASL login settings (DIGEST-MD5 with a username and password). */
export interface SaslOptions {
  readonly mechanism: "DIGEST-MD5"
  readonly username: string
  readonly password: Redacted.Redacted<string>
}

/** Why a connection attempt failed in a way that is not worth trying again. */
export type Refusal =
  /** The server no longer knows the session (a ConnectResponse with timeOut <= 0). */
  | { readonly _tag: "Expired" }
  /** The server rejected the SASL credentials. */
  | { readonly _tag: "Rejected"; readonly detail: string }

const connectionLoss = (detail: string, cause?: unknown): ZkError =>
  fromCode(ErrorCode.ConnectionLoss, { op: "connect", detail, cause })

/**
 * Connects `conn` to `host` and exchanges the ConnectRequest, each within `timeoutMillis`.
 * Fails with ConnectionLoss when the attempt should move on to the next host (refused,
 * swallowed, garbage, refused handshake), or with `Refusal` Expired.
 */
export const connect = (
  transport: Transport["Service"],
  host: HostPort,
  conn: Connection,
  request: Protocol.ConnectRequest,
  timeoutMillis: number
): Effect.Effect<Protocol.ConnectResponse, ZkError | Refusal> =>
  transport.connect(host, conn, timeoutMillis).pipe(
    Effect.mapError((e) => connectionLoss(e.message, e)),
    Effect.flatMap((channel) => {
      conn.attach(channel)
      return Effect.callback<Handshake>((resume) => {
        conn.startHandshake(request, (h) => resume(Exit.succeed(h)))
      }).pipe(
        Effect.timeoutOrElse({
          duration: Duration.millis(timeoutMillis),
          orElse: () => Effect.succeed<Handshake>({ _tag: "Failed", reason: "no handshake reply in time" })
        })
      )
    }),
    Effect.flatMap((h): Effect.Effect<Protocol.ConnectResponse, ZkError | Refusal> => {
      if (h._tag === "Failed") {
        // A fresh port may accept and close before serving (server starting, follower LOOKING,
        // or we are ahead of its zxid): retryable, try the next host.
        conn.close(h.reason)
        return Effect.fail(connectionLoss(`${conn.address}: ${h.reason}`, h.cause))
      }
      if (h.response.timeOut <= 0) {
        conn.close("session expired")
        return Effect.fail({ _tag: "Expired" })
      }
      if (conn.isClosed) return Effect.fail(connectionLoss(`${conn.address}: closed after handshake`))
      return Effect.succeed(h.response)
    })
  )

/**
 * SASL DIGEST-MD5 on a fresh connection, before anything else is sent (the server answers
 * op 102 outside its pipeline, so nothing may be in flight meanwhile; Java holds its queue
 * the same way). The identity belongs to the connection, so this runs after every reconnect.
 * A rejected login fails with `Refusal` Rejected (terminal, as in Java).
 */
export const saslLogin = (
  conn: Connection,
  sasl: SaslOptions,
  timeoutMillis: number
): Effect.Effect<void, ZkError | Refusal> => {
  const exchange = (token: Uint8Array) =>
    Effect.callback<Uint8Array | null, ZkError>((resume) => {
      conn.send({
        op: Protocol.OpCode.Sasl,
        write: (w) => Protocol.writeSaslRequest(w, token),
        reply: (err, r) =>
          resume(err === 0 ? Exit.succeed(r === undefined ? null : Protocol.readBuffer(r)) : Exit.fail(fromCode(err, "sasl"))),
        abort: (code, detail, cause) => resume(Exit.fail(fromCode(code, { op: "sasl", detail, cause }))),
        sentAt: 0,
        done: false
      })
    }).pipe(
      Effect.timeoutOrElse({
        duration: Duration.millis(timeoutMillis),
        orElse: () => Effect.fail(fromCode(ErrorCode.ConnectionLoss, { op: "sasl", detail: "no SASL reply in time" }))
      })
    )
  const rejected = (detail: string): Refusal => ({
    _tag: "Rejected",
    detail: `SASL ${sasl.mechanism} login of ${sasl.username} failed: ${detail}`
  })
  return Effect.gen(function*() {
    const credentials = { username: sasl.username, password: sasl.password }
    const options = { cnonce: yield* Sasl.makeCnonce }
    let state: Sasl.ClientState = Sasl.start
    let token = yield* exchange(Sasl.initialToken)
    for (;;) {
      const step = Sasl.step(state, token, credentials, options)
      if (Result.isFailure(step)) return yield* Effect.fail(rejected(step.failure.message))
      state = step.success.state
      if (step.success.send === undefined) return
      token = yield* exchange(step.success.send)
    }
  }).pipe(
    Effect.catchTag("AuthFailed", (e) => Effect.fail(rejected(e.message)))
  )
}

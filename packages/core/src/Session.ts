/**
 * What a user can observe of a ZooKeeper session: its state, the events that move it, and the
 * `ClientId` that lets another connection or process take the same session over.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { BadArguments } from "./ZkError.ts"

/**
 * Session states, as in the Java client's KeeperState, plus `Connecting` and `Closed`.
 *
 * - `Connecting`: no server yet (at start, or after a disconnect while looking for one).
 * - `Connected` / `ConnectedReadOnly`: requests flow (writes fail with `NotReadOnly` on a
 *   read-only server).
 * - `Disconnected`: the connection dropped; the session may still be alive on the ensemble and
 *   requests wait for the next connection. Ephemeral nodes and watches are not lost yet.
 * - `Expired`, `AuthFailed`, `Closed`: terminal. Every later call fails; a new session is a new
 *   layer build.
 *
 * @since 0.1.0
 * @category models
 */
export type SessionState =
  | "Connecting"
  | "Connected"
  | "ConnectedReadOnly"
  | "Disconnected"
  | "Expired"
  | "AuthFailed"
  | "Closed"

/**
 * A state change, as emitted by `ZooKeeper.sessionEvents`.
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionEvent {
  readonly state: SessionState
  /** The session id, 0n before the first handshake. */
  readonly sessionId: bigint
  /** `host:port` of the server involved, when there is one. */
  readonly server?: string | undefined
}

/**
 * Whether no further request can ever succeed in this state.
 *
 * @since 0.1.0
 * @category guards
 */
export const isTerminal = (state: SessionState): boolean =>
  state === "Expired" || state === "AuthFailed" || state === "Closed"

/**
 * A session id in ZooKeeper's own notation (as its logs and four-letter words print it), for
 * log lines and error details.
 *
 * @example
 * Session.hexId(0x1000a2b3c4d0000n) // "0x1000a2b3c4d0000"
 *
 * @since 0.1.0
 * @category encoding
 */
export const hexId = (sessionId: bigint): string => `0x${sessionId.toString(16)}`

/**
 * The identity of a session: its id and the password the server issued. Passing it as
 * `{ session: clientId }` to a new layer re-attaches to the same session (gozk's Redial), as
 * long as it has not expired. It round-trips through JSON, so another process can take over:
 *
 * @example
 * ```ts
 * const id = yield* zk.clientId
 * const json = ClientId.toJson(id)              // '{"sessionId":"…","password":"…"}'
 * const again = ClientId.fromJson(json)          // Effect<ClientId, BadArguments>
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class ClientId extends Schema.Class<ClientId>("@effect-zk/core/ClientId")({
  sessionId: Schema.BigIntFromString,
  password: Schema.Uint8ArrayFromBase64
}) {
  /** The session id in ZooKeeper's own notation, e.g. `0x1000a2b3c4d0000`. */
  get hex(): string {
    return hexId(this.sessionId)
  }

  /** JSON text for this id (sessionId as a decimal string, password as base64). */
  static toJson(id: ClientId): string {
    return JSON.stringify(Schema.encodeSync(ClientId)(id))
  }

  /** Parses what `toJson` wrote; anything else fails with `BadArguments`. */
  static fromJson(json: string): Effect.Effect<ClientId, BadArguments> {
    return Effect.try({
      try: () => JSON.parse(json) as unknown,
      catch: (cause) => new BadArguments({ op: "clientId", detail: `not JSON: ${String(cause)}` })
    }).pipe(
      Effect.flatMap((u) => Schema.decodeUnknownEffect(ClientId)(u)),
      Effect.mapError((e) => e instanceof BadArguments ? e : new BadArguments({ op: "clientId", detail: `not a client id: ${e.message}` }))
    )
  }
}

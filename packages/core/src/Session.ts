/**
 * What a user can observe of a ZooKeeper session: its state, the events that move it, and the
 * `ClientId` that lets another connection or process take the same session over.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { NodeInspectSymbol } from "effect/Inspectable"
import * as Predicate from "effect/Predicate"
import { symbolRedactable } from "effect/Redactable"
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

/** What every printed form shows instead of the password. */
const REDACTED = "<redacted>"

/**
 * The redacted form of a ClientId: the session id as a decimal string and in ZooKeeper's hex
 * notation, and no password. What `JSON.stringify(clientId)`, `String(clientId)`,
 * `console.log(clientId)` and Effect's loggers show.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientIdJson {
  readonly sessionId: string
  readonly hex: string
  readonly password: "<redacted>"
}

/**
 * The identity of a session: its id and the password the server issued. Passing it as
 * `{ session: clientId }` to a new layer re-attaches to the same session (gozk's Redial), as
 * long as it has not expired.
 *
 * The password is a secret: whoever has it can take the session over. So every printed form
 * leaves it out: `JSON.stringify(clientId)` (via `toJSON`), `String(clientId)`,
 * `console.log`/`util.inspect`, and `Effect.log(clientId)` (Effect's loggers honour
 * `Redactable`) all show `{ sessionId, hex, password: "<redacted>" }`. To hand a session to
 * another process, persist it explicitly with `ClientId.toJson`, which does carry the password
 * (base64), and read it back with `ClientId.fromJson`; handing `fromJson` the redacted form
 * fails with `BadArguments` saying so.
 *
 * Two live clients that share one ClientId fight over the session: each connect moves the
 * session to the newer connection and the server closes the older one, so both keep bouncing
 * between `Disconnected` and `Connected`, and their operations fail with `ConnectionLoss`.
 * Re-attach only after the first client is gone without `close` (e.g. its process died), as a
 * hand-over, never to share a session.
 *
 * @example
 * ```ts
 * const id = yield* zk.clientId
 * const json = ClientId.toJson(id)              // '{"sessionId":"…","password":"…"}'
 * const again = yield* ClientId.fromJson(json)   // Effect<ClientId, BadArguments>
 * JSON.stringify(id)                             // '{"sessionId":"…","hex":"0x…","password":"<redacted>"}'
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
    return `0x${this.sessionId.toString(16)}`
  }

  /** The redacted form: `JSON.stringify` never sees the password. */
  toJSON(): ClientIdJson {
    return { sessionId: this.sessionId.toString(), hex: this.hex, password: REDACTED }
  }

  /** `ClientId(0x…)`: what string interpolation and Effect's formatter show. */
  override toString(): string {
    return `ClientId(${this.hex})`
  }

  /** What `console.log` and `util.inspect` show. */
  [NodeInspectSymbol](): ClientIdJson {
    return this.toJSON()
  }

  /** What Effect's loggers and `Formatter` show. */
  [symbolRedactable](): ClientIdJson {
    return this.toJSON()
  }

  /** JSON text for this id, password included (sessionId as a decimal string, password as base64): for persistence only. */
  static toJson(id: ClientId): string {
    return JSON.stringify(Schema.encodeSync(ClientId)(id))
  }

  /** Parses what `toJson` wrote; anything else (the redacted form included) fails with `BadArguments`. */
  static fromJson(json: string): Effect.Effect<ClientId, BadArguments> {
    return Effect.try({
      try: () => JSON.parse(json) as unknown,
      catch: (cause) => new BadArguments({ op: "clientId", detail: `not JSON: ${String(cause)}` })
    }).pipe(
      Effect.flatMap((u): Effect.Effect<ClientId, BadArguments | Schema.SchemaError> =>
        Predicate.hasProperty(u, "password") && u.password === REDACTED
          ? Effect.fail(
            new BadArguments({
              op: "clientId",
              detail: "this is the redacted form (JSON.stringify); persist a ClientId with ClientId.toJson"
            })
          )
          : Schema.decodeUnknownEffect(ClientId)(u)
      ),
      Effect.mapError((e) => e instanceof BadArguments ? e : new BadArguments({ op: "clientId", detail: `not a client id: ${e.message}` }))
    )
  }
}

/**
 * The one port core needs from a platform: open a byte stream to `host:port`. The Node
 * implementation (TCP, TLS) lives in `@effect-zk/node`; tests or other runtimes can supply
 * their own.
 *
 * The interface is callback-based on purpose: every reply of every request crosses it, and a
 * plain function call per chunk is what keeps the client near the cost floor measured for Node
 * (docs/request-costs.md#floor). Effect wraps the session above it, not each chunk.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type { Effect } from "effect/Effect"
import type { HostPort } from "./ConnectString.ts"

/**
 * A server address as `connect` receives it (re-exported from `ConnectString`).
 *
 * @since 0.1.0
 * @category models
 */
export type { HostPort }

/**
 * An open connection, as core drives it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Channel {
  /**
   * Queues bytes for sending; never blocks. Returns `true` when the transport is already done
   * with `bytes` (sent or copied), so the caller may write its next frames over that memory;
   * anything else means the transport keeps `bytes` until they are sent and the caller leaves
   * them alone. Reusing the memory saves a copy and an allocation per flush of pipelined
   * requests.
   */
  readonly write: (bytes: Uint8Array) => boolean | void
  /** Closes the connection; `onClose` follows. Idempotent. */
  readonly close: () => void
}

/**
 * What the transport calls back. `onClose` is called exactly once, whatever ended the
 * connection (peer close, error, or `close()`), and no `onData` follows it.
 *
 * A chunk is only valid during its `onData` call: a transport may read the next one into the
 * same memory, so a handler copies what it keeps (core's codec decodes or copies every frame
 * before returning).
 *
 * @since 0.1.0
 * @category models
 */
export interface ChannelHandlers {
  readonly onData: (chunk: Uint8Array) => void
  readonly onClose: (cause?: unknown) => void
}

/**
 * A connection attempt that failed (refused, timed out, TLS handshake rejected, ...).
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Data.TaggedError("TransportError")<{
  readonly address: string
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `cannot connect to ${this.address}: ${this.reason}`
  }
}

/**
 * The transport service.
 *
 * @since 0.1.0
 * @category services
 */
export class Transport extends Context.Service<Transport, {
  /**
   * Opens a connection. Succeeds once bytes can flow (after the TLS handshake, for TLS), or
   * fails within `timeoutMillis`.
   */
  readonly connect: (
    address: HostPort,
    handlers: ChannelHandlers,
    timeoutMillis: number
  ) => Effect<Channel, TransportError>
}>()("@effect-zk/core/Transport") {}

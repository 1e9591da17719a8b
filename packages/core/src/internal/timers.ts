/**
 * The session's timers: a ping when the server has not heard from us for a while, dropping a
 * connection that went silent, failing requests that waited longer than `requestTimeout`, and
 * client-side expiry when no server could be reached for longer than the session timeout.
 *
 * They are four small checks run by one loop per session, on the session's clock (the real
 * one, or the TestClock our deterministic tests drive). They live apart from the supervisor
 * because they only read its state and ask it to act: each check is a plain function of the
 * `Timed` view below, and the loop is the only fiber an idle connected session keeps.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { ErrorCode } from "../ZkError.ts"
import type { Call, Connection } from "./connection.ts"

/** What the timers read of a session, and the two things they ask of it. */
export interface Timed {
  /** The connection requests and pings use: the live one, or the one a close drains. */
  readonly conn: Connection | undefined
  /** The session timeout the server granted (ms); 0 until the first connection. */
  readonly negotiatedTimeout: number
  /** The session timeout asked for (ms). */
  readonly sessionTimeout: number
  readonly requestTimeout: number | undefined
  /** When a server was last heard, while no connection is live (after the first one). */
  readonly searchingSince: number | undefined
  now(): number
  /** Fails with OperationTimeout the calls queued since before `cutoff`. */
  timeOutQueued(cutoff: number, detail: string): void
  /** Ends the session as Expired. */
  expire(detail: string): void
}

/** Ends a call without a reply, unless it already has its outcome. */
export const abortCall = (call: Call, code: number, detail: string): void => {
  if (call.done) return
  call.done = true
  call.abort(code, detail)
}

/**
 * The timeout that paces pings, the read timeout and close: the negotiated one, but never
 * more than the requested one or a minute, so a server granting an absurd timeout cannot make
 * a silent connection look alive for weeks. Client-side expiry still uses the negotiated one.
 */
export const liveness = (s: Timed): number => {
  const negotiated = s.negotiatedTimeout || s.sessionTimeout
  return Math.min(negotiated, Math.max(s.sessionTimeout, 60_000))
}

const readTimeout = (s: Timed): number => (liveness(s) * 2) / 3

/** Nothing at all for 2/3 of the timeout: half-open or dead. Drop it and try another host. */
const dropSilentConnection = (s: Timed): void => {
  const conn = s.conn
  if (conn === undefined || s.negotiatedTimeout <= 0) return
  const timeout = readTimeout(s)
  if (s.now() - conn.lastRecv > timeout) {
    conn.close(`no reply from ${conn.address} within ${Math.round(timeout)} ms`)
  }
}

/** A ping once nothing was sent for a third of the timeout, so the server hears from us. */
const ping = (s: Timed): void => {
  const conn = s.conn
  if (conn === undefined || conn.isClosed || s.negotiatedTimeout <= 0) return
  if (s.now() - conn.lastSend >= readTimeout(s) / 2) conn.sendPing()
}

/** Fails with OperationTimeout the calls that waited longer than `requestTimeout`. */
const timeOutRequests = (s: Timed): void => {
  const requestTimeout = s.requestTimeout
  if (requestTimeout === undefined) return
  const now = s.now()
  const conn = s.conn
  if (conn !== undefined) {
    for (const call of conn.waiting()) {
      if (now - call.sentAt <= requestTimeout) break
      abortCall(call, ErrorCode.OperationTimeout, `no reply within ${requestTimeout} ms`)
    }
  }
  s.timeOutQueued(now - requestTimeout, `no connection within ${requestTimeout} ms`)
}

/**
 * Nobody could be reached for longer than the session timeout: the ensemble has expired the
 * session by now, so say so instead of looping in Connecting (the server would say the same
 * at the next reconnect).
 */
const expireWhenUnreachable = (s: Timed): void => {
  const since = s.searchingSince
  const negotiated = s.negotiatedTimeout
  if (since === undefined || negotiated <= 0) return
  const away = s.now() - since
  if (away > negotiated) {
    s.expire(`nothing heard from any server for ${away} ms, more than the session timeout of ${negotiated} ms`)
  }
}

/** Often enough for each check to act within about a twelfth of its period. */
const tickInterval = (s: Timed): number => {
  let interval = Math.min(liveness(s) / 12, 500)
  if (s.requestTimeout !== undefined) interval = Math.min(interval, s.requestTimeout / 4)
  return Math.max(10, Math.floor(interval))
}

/** Every check, once. */
export const tick = (s: Timed): void => {
  dropSilentConnection(s)
  ping(s)
  timeOutRequests(s)
  expireWhenUnreachable(s)
}

/** The timer loop of a session: sleep a tick on the session's clock, check, forever. */
export const loop = (s: Timed): Effect.Effect<never> =>
  Effect.forever(
    Effect.flatMap(
      Effect.suspend(() => Effect.sleep(Duration.millis(tickInterval(s)))),
      () => Effect.sync(() => tick(s))
    )
  )

/**
 * The session's timers: a ping when the server has not heard from us for a while, dropping a
 * connection that went silent, failing requests that waited longer than `requestTimeout`, and
 * client-side expiry when no server could be reached for longer than the session timeout.
 *
 * They are four small checks, run for every session of a clock by one fiber (the real clock,
 * or the TestClock our deterministic tests drive). They live apart from the supervisor because
 * they only read its state and ask it to act: each check is a plain function of the `Timed`
 * view below. An idle connected session so keeps no fiber of its own.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
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
  /** When the session's checks are due next (the timers' own bookkeeping). */
  timerDue: number
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

/**
 * The sessions of one clock and the one fiber that checks them all, as the floor client's one
 * process-wide ping timer: a fiber per session would cost each idle session about a kilobyte.
 * Each session keeps its own pace (`tickInterval`, from its timeouts) in `timerDue`; the
 * fiber sleeps until the earliest one is due. It runs only while it has sessions.
 */
class Ticker {
  private readonly sessions = new Set<Timed>()
  private fiber: Fiber.Fiber<void> | undefined = undefined
  /** When the running fiber wakes next. */
  private wakeAt = Infinity
  private readonly clock: Clock.Clock

  constructor(clock: Clock.Clock) {
    this.clock = clock
  }

  add(s: Timed): void {
    s.timerDue = this.clock.currentTimeMillisUnsafe() + tickInterval(s)
    this.sessions.add(s)
    // A new session due before the fiber wakes: restart it, so no check runs late.
    if (this.fiber === undefined || s.timerDue < this.wakeAt) this.restart()
  }

  /** Returns true once the ticker has no session left (its fiber is stopped). */
  remove(s: Timed): boolean {
    this.sessions.delete(s)
    if (this.sessions.size > 0) return false
    this.stop()
    return true
  }

  private stop(): void {
    this.fiber?.interruptUnsafe()
    this.fiber = undefined
    this.wakeAt = Infinity
  }

  private restart(): void {
    this.stop()
    this.fiber = Effect.runFork(Effect.provideService(this.loop, Clock.Clock, this.clock))
  }

  /** Runs the checks of every session that is due, then sleeps until the next one is. */
  private readonly loop: Effect.Effect<void> = Effect.suspend(() => {
    const now = this.clock.currentTimeMillisUnsafe()
    let next = Infinity
    let defect: unknown = undefined
    for (const s of this.sessions) {
      if (s.timerDue <= now) {
        s.timerDue = now + tickInterval(s)
        // One session's bug must not stop the timers of the others.
        try {
          tick(s)
        } catch (e) {
          defect = e
        }
      }
      if (s.timerDue < next) next = s.timerDue
    }
    this.wakeAt = next
    if (next === Infinity) return Effect.void
    const sleep = Effect.andThen(Effect.sleep(Duration.millis(next - now)), this.loop)
    return defect === undefined ? sleep : Effect.andThen(Effect.logError("ZooKeeper session timers failed", defect), sleep)
  })
}

const tickers = new WeakMap<Clock.Clock, Ticker>()

/**
 * Starts checking `s` on `clock` (a tick interval from now, then every tick interval).
 * Returns the function that stops it.
 */
export const start = (s: Timed, clock: Clock.Clock): () => void => {
  let ticker = tickers.get(clock)
  if (ticker === undefined) tickers.set(clock, ticker = new Ticker(clock))
  ticker.add(s)
  const registered = ticker
  return () => {
    if (registered.remove(s) && tickers.get(clock) === registered) tickers.delete(clock)
  }
}

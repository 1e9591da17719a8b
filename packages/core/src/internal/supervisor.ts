/**
 * The session supervisor: finds a server, opens a connection (see `handshake.ts`), keeps the
 * one live connection healthy (pings, read timeout), replays what the server forgot on a new
 * connection (auth, then watches, then the requests queued meanwhile), and ends the session for
 * good when it expires, fails authentication or is closed.
 *
 * Hot-path work (submitting a call, dispatching a reply) is synchronous; two fibers run the
 * reconnect loop and the timers (a third looks for a read-write server when read-only
 * servers are accepted), so the cost per request stays that of a function call.
 *
 * The operations see it only through the small `Supervisor` interface below.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as ConnectString from "../ConnectString.ts"
import * as Protocol from "../Protocol.ts"
import { ClientId, hexId, type SessionEvent, type SessionState } from "../Session.ts"
import type { HostPort } from "../Transport.ts"
import { Transport } from "../Transport.ts"
import * as WatchEvent from "../WatchEvent.ts"
import { ErrorCode, fromCode, type ZkError } from "../ZkError.ts"
import * as ZNodePath from "../ZNodePath.ts"
import { type Call, Connection } from "./connection.ts"
import * as Handshake from "./handshake.ts"
import type { JuteReader, JuteWriter } from "./jute.ts"
import { type Send, WatchManager } from "./watches.ts"

/**
 * What the operations need from a session: submit a request, the chroot, the watch manager,
 * and its observable state. Nothing of connections or the wire format shows through.
 */
export interface Supervisor {
  /**
   * Sends a call now, or queues it until the next connection; exactly one of its `reply` or
   * `abort` follows (abort with Closing or the terminal code once the session is over).
   */
  readonly submit: (call: Call) => void
  /** The chroot of the connect string, if any: client paths live under it on the server. */
  readonly chroot: string | undefined
  /** The watch tables and every decision of what to tell the server about them. */
  readonly watches: WatchManager
  /**
   * Adds an identity: remembered (re-sent after every reconnect) and sent; `done` gets the
   * server's code (0 when accepted), on the next connection if none is live.
   */
  readonly addAuth: (entry: AuthEntry, done: (err: number) => void) => void
  /** Replaces the server list; the connection moves only if its server is no longer listed. */
  readonly updateHosts: (hosts: ReadonlyArray<HostPort>) => void
  /** Calls `f` on every state change from now on; returns the unsubscribe function. */
  readonly subscribe: (f: (event: SessionEvent) => void) => () => void
  readonly state: SessionState
  readonly clientId: ClientId
  /** The session timeout the server granted (ms), 0 before the first connection. */
  readonly negotiatedTimeout: number
  /** `host:port` of the live connection, if any. */
  readonly server: string | undefined
  /** Closes the session (see `SupervisorImpl.close`). Idempotent. */
  readonly close: Effect.Effect<void>
}

/** Resolved settings of a session. */
export interface SessionOptions {
  readonly hosts: ReadonlyArray<HostPort>
  readonly chroot: string | undefined
  /** Requested session timeout (ms); sent on every reconnect, not the negotiated one. */
  readonly sessionTimeout: number
  /** Budget for the first connection when the layer is built (ms). */
  readonly connectTimeout: number
  readonly requestTimeout: number | undefined
  readonly canBeReadOnly: boolean
  readonly maxFrame: number
  readonly maxRequest: number
  readonly session: ClientId | undefined
  readonly auth: ReadonlyArray<AuthEntry>
  readonly reconnectSchedule: Schedule.Schedule<unknown, ZkError>
  readonly sasl: Handshake.SaslOptions | undefined
}

/** A remembered addAuth, re-sent after every reconnect. */
export interface AuthEntry {
  readonly scheme: string
  readonly auth: Uint8Array
}

/**
 * The clock of the session's timers (pings, read timeout, request timeouts, expiry, reconnect
 * pacing). Unset, they run on real time even where the caller's fiber has a TestClock (as under
 * `it.effect`), where they would otherwise stall. Our own tests set it to drive them.
 */
export const SessionClock = Context.Reference<Clock.Clock | undefined>("@effect-zk/core/internal/SessionClock", {
  defaultValue: () => undefined
})

/**
 * Where the session is. Every decision reads this one value.
 * - `Searching`: no connection; calls queue. `since` is when a server was last heard (unset
 *   before the first connection), for client-side expiry.
 * - `Live`: one connection after its handshake; calls go straight to it.
 * - `Closing`: close was called; new calls fail, outstanding ones drain on `conn`.
 * - `Ended`: terminal; every call fails with `code`.
 */
type Phase =
  | { readonly _tag: "Searching"; readonly state: "Connecting" | "Disconnected"; readonly since: number | undefined }
  | { readonly _tag: "Live"; readonly conn: Connection; readonly readOnly: boolean }
  | { readonly _tag: "Closing"; readonly conn: Connection | undefined; readonly state: SessionState }
  | { readonly _tag: "Ended"; readonly code: number; readonly detail: string; readonly state: SessionState }

const ISRO = new Uint8Array([0x69, 0x73, 0x72, 0x6f])

/** @internal */
export class SupervisorImpl implements Supervisor {
  readonly chroot: string | undefined
  readonly watches: WatchManager
  private phase: Phase = { _tag: "Searching", state: "Connecting", since: undefined }
  private sessionId: bigint
  private passwd: Uint8Array
  negotiatedTimeout = 0
  private lastZxidSeen = 0n
  /** Calls submitted while no connection is live, in order. */
  private queue: Array<Call> = []
  private readonly authInfo: Array<AuthEntry>
  private authWaiters: Array<(err: number) => void> = []
  /** Callers of addAuth made while disconnected, for the last entries of `authInfo`. */
  private pendingAuthDone: Array<(err: number) => void> = []
  private xid = 0
  private hostIndex = 0
  /** Why the latest connection attempt failed, for the error of a layer build that times out. */
  private lastAttemptError: ZkError | undefined = undefined
  /** Whether a read-write server has accepted this session (or it was given to re-attach). */
  private seenRwServer: boolean
  /** The servers to rotate through, in (shuffled) order; replaced by `updateHosts`. */
  private hosts: ReadonlyArray<HostPort>
  private listeners: Set<(event: SessionEvent) => void> | undefined = undefined
  private readonly firstConnect = Deferred.makeUnsafe<void, ZkError>()
  /** Completed when the live connection closes, so the reconnect loop looks for the next one. */
  private connClosed: ((u: void) => void) | undefined = undefined

  private readonly options: SessionOptions
  private readonly transport: Transport["Service"]
  private readonly clock: Clock.Clock

  constructor(options: SessionOptions, transport: Transport["Service"], clock: Clock.Clock) {
    this.options = options
    this.transport = transport
    this.clock = clock
    this.chroot = options.chroot
    this.sessionId = options.session?.sessionId ?? 0n
    this.passwd = options.session?.password ?? new Uint8Array(16)
    this.authInfo = [...options.auth]
    this.hosts = options.hosts
    this.seenRwServer = options.session !== undefined
    this.watches = new WatchManager({ send: this.sendInternal, lastZxid: () => this.lastZxid })
  }

  // -- Observable state -----------------------------------------------------------------------

  get state(): SessionState {
    const phase = this.phase
    switch (phase._tag) {
      case "Searching":
      case "Closing":
      case "Ended":
        return phase.state
      case "Live":
        return phase.readOnly ? "ConnectedReadOnly" : "Connected"
    }
  }

  get clientId(): ClientId {
    return new ClientId({ sessionId: this.sessionId, password: this.passwd })
  }

  get server(): string | undefined {
    return this.conn?.address
  }

  /** The connection requests and timers use: the live one, or the one a close drains. */
  private get conn(): Connection | undefined {
    const phase = this.phase
    return phase._tag === "Live" || phase._tag === "Closing" ? phase.conn : undefined
  }

  /** Whether close was called or the session ended: nothing new may start. */
  private get stopped(): boolean {
    return this.phase._tag === "Closing" || this.phase._tag === "Ended"
  }

  private get lastZxid(): bigint {
    const live = this.conn?.lastZxid ?? 0n
    return live > this.lastZxidSeen ? live : this.lastZxidSeen
  }

  private now(): number {
    return this.clock.currentTimeMillisUnsafe()
  }

  subscribe = (f: (event: SessionEvent) => void): () => void => {
    // Created on first use: most sessions only ever have the log's listener.
    const listeners = this.listeners ??= new Set()
    listeners.add(f)
    return () => listeners.delete(f)
  }

  private publish(server?: string): void {
    const listeners = this.listeners
    if (listeners === undefined) return
    const event: SessionEvent = { state: this.state, sessionId: this.sessionId, server }
    for (const f of listeners) f(event)
  }

  // -- Requests -------------------------------------------------------------------------------

  private nextXid = (): number => {
    this.xid = this.xid >= 0x7fffffff ? 1 : this.xid + 1
    return this.xid
  }

  submit = (call: Call): void => {
    const phase = this.phase
    switch (phase._tag) {
      case "Live":
        return phase.conn.send(call)
      case "Searching":
        call.sentAt = this.now()
        this.queue.push(call)
        return
      case "Closing":
        return abortCall(call, ErrorCode.Closing, "the session is closing")
      case "Ended":
        return abortCall(call, phase.code, phase.detail)
    }
  }

  /**
   * addAuth: remembered first (so a reconnect re-sends it), then sent with xid -4. Its reply
   * comes out of band, matched in send order.
   */
  addAuth = (entry: AuthEntry, done: (err: number) => void): void => {
    const phase = this.phase
    if (phase._tag === "Ended") return done(phase.code)
    if (phase._tag === "Closing") return done(ErrorCode.Closing)
    this.authInfo.push(entry)
    if (phase._tag === "Searching") {
      // Sent with the others on the next connection; the caller learns the outcome then.
      this.pendingAuthDone.push(done)
      return
    }
    this.authWaiters.push(done)
    phase.conn.sendAuth(entry.scheme, entry.auth)
  }

  /**
   * Sends a request whose outcome nobody waits for (re-arming watches); dropped when no
   * connection is live, since the next connection's SetWatches covers it.
   */
  private sendInternal: Send = (op, write, replied) => {
    if (this.phase._tag === "Live") this.phase.conn.send(internalCall(op, write, replied))
  }

  updateHosts = (hosts: ReadonlyArray<HostPort>): void => {
    this.hosts = hosts
    this.hostIndex = 0
    const conn = this.conn
    if (conn !== undefined && !hosts.some((h) => ConnectString.formatHost(h) === conn.address)) {
      conn.close("its server was removed from the server list")
    }
  }

  // -- Connecting -----------------------------------------------------------------------------

  /** One attempt on the next host: the connection, the handshake, SASL; then establish. */
  private connectOnce: Effect.Effect<void, ZkError> = Effect.suspend(() => {
    if (this.phase._tag === "Ended") return Effect.fail(this.endedError("connect"))
    const hosts = this.hosts
    const host = hosts[this.hostIndex++ % hosts.length]!
    // Java gives each host sessionTimeout/hostCount; at least three attempts fit in the session
    // timeout here, so one swallowed handshake cannot use up the whole session.
    const attemptTimeout = Math.max(1000, Math.floor(this.options.sessionTimeout / Math.max(3, hosts.length)))
    const conn: Connection = new Connection({
      address: ConnectString.formatHost(host),
      now: () => this.now(),
      maxFrame: this.options.maxFrame,
      maxRequest: this.options.maxRequest,
      nextXid: this.nextXid,
      stampCalls: this.options.requestTimeout !== undefined,
      events: {
        onNotification: (event) => this.onNotification(event),
        onAuthReply: (err) => this.onAuthReply(err),
        onClosed: () => this.onConnectionClosed(conn)
      }
    })
    const request: Protocol.ConnectRequest = {
      protocolVersion: 0,
      lastZxidSeen: this.lastZxid,
      timeOut: this.options.sessionTimeout,
      // Java's rule: a session only ever seen by read-only servers is theirs alone (the quorum
      // never heard of it), so ask a read-write server for a new one.
      sessionId: this.seenRwServer ? this.sessionId : 0n,
      passwd: this.seenRwServer ? this.passwd : new Uint8Array(16),
      readOnly: this.options.canBeReadOnly
    }
    const sasl = this.options.sasl
    return Handshake.connect(this.transport, host, conn, request, attemptTimeout).pipe(
      Effect.flatMap((response) => {
        if (this.stopped) {
          // Expired client-side or closed while this handshake was on its way: the session is
          // over for the caller, so a late reply must not bring it back.
          conn.close("the session ended during the handshake")
          return Effect.fail(this.phase._tag === "Ended" ? this.endedError("connect") : fromCode(ErrorCode.Closing, { op: "connect", detail: "the session is closing" }))
        }
        if (sasl === undefined) return Effect.succeed(response)
        return Handshake.saslLogin(conn, sasl, attemptTimeout).pipe(
          Effect.flatMap(() =>
            conn.isClosed || this.stopped
              ? Effect.fail(fromCode(ErrorCode.ConnectionLoss, { op: "connect", detail: `${conn.address}: closed during SASL` }))
              : Effect.succeed(response)
          )
        )
      }),
      Effect.flatMap((response) => Effect.sync(() => this.establish(conn, response))),
      Effect.catchIf(
        (e): e is Handshake.Refusal => !("message" in e),
        (refusal) => {
          if (refusal._tag === "Expired") {
            this.end(ErrorCode.SessionExpired, `the server at ${conn.address} no longer knows session ${hexId(this.sessionId)}`, "Expired")
            return Effect.fail(this.endedError("connect"))
          }
          conn.close(refusal.detail)
          this.end(ErrorCode.AuthFailed, refusal.detail, "AuthFailed")
          return Effect.fail(this.endedError("sasl"))
        }
      ),
      Effect.onInterrupt(() => Effect.sync(() => conn.close("interrupted")))
    )
  })

  private endedError(op: string): ZkError {
    const phase = this.phase
    return phase._tag === "Ended"
      ? fromCode(phase.code, { op, detail: phase.detail })
      : fromCode(ErrorCode.ConnectionLoss, { op, detail: "the session is not over" })
  }

  private establish(conn: Connection, response: Protocol.ConnectResponse): void {
    this.sessionId = response.sessionId
    this.passwd = response.passwd
    this.negotiatedTimeout = response.timeOut
    if (!response.readOnly) this.seenRwServer = true
    this.phase = { _tag: "Live", conn, readOnly: response.readOnly }
    // Order matters (Java primeConnection): auth first, so watches and queued requests run
    // with the caller's identity; then watches, so a queued write cannot fire one unseen.
    const fresh = this.pendingAuthDone
    this.pendingAuthDone = []
    const resent = this.authInfo.length - fresh.length
    this.authInfo.forEach((entry, i) => {
      this.authWaiters.push(i < resent ? ignoreAuth : fresh[i - resent]!)
      conn.sendAuth(entry.scheme, entry.auth)
    })
    this.watches.replay((op, write, replied) => conn.send(internalCall(op, write, replied)))
    const queued = this.queue
    this.queue = []
    for (const call of queued) if (!call.done) conn.send(call)
    this.publish(conn.address)
    Deferred.doneUnsafe(this.firstConnect, Exit.void)
  }

  private onConnectionClosed(conn: Connection): void {
    if (this.conn !== conn) return
    if (conn.lastZxid > this.lastZxidSeen) this.lastZxidSeen = conn.lastZxid
    const waiters = this.authWaiters
    this.authWaiters = []
    for (const done of waiters) done(ErrorCode.ConnectionLoss)
    const phase = this.phase
    if (phase._tag === "Live") {
      // The server's expiry clock started when it last heard from us, which is about when we
      // last heard from it; a drop noticed by the read timeout is already 2/3 of a timeout late.
      this.phase = { _tag: "Searching", state: "Disconnected", since: conn.lastRecv }
      this.publish(conn.address)
    } else if (phase._tag === "Closing") {
      this.phase = { ...phase, conn: undefined }
    }
    this.connectionGone()
  }

  private connectionGone(): void {
    const f = this.connClosed
    this.connClosed = undefined
    f?.()
  }

  private onNotification(event: Protocol.WatcherEvent): void {
    const type = WatchEvent.typeFromCode(event.type)
    if (type === undefined) return
    this.watches.dispatch(event.path, { type, path: this.clientPath(event.path) })
  }

  private clientPath(serverPath: string): string {
    return ZNodePath.stripChroot(this.chroot, serverPath)
  }

  private onAuthReply(err: number): void {
    const done = this.authWaiters.shift()
    if (err === ErrorCode.AuthFailed) {
      // Terminal, as in Java: the server closes the connection and the identity is unusable.
      // Ended first, so the caller already sees the AuthFailed state when it resumes.
      this.end(ErrorCode.AuthFailed, "the server rejected the credentials", "AuthFailed")
    }
    done?.(err)
  }

  // -- Ending ---------------------------------------------------------------------------------

  /** Ends the session for good: every call, queued or later, and every watch fails with `code`. */
  private end(code: number, detail: string, state: SessionState): void {
    if (this.phase._tag === "Ended") return
    const conn = this.conn
    this.phase = { _tag: "Ended", code, detail, state }
    conn?.close(detail)
    const queued = this.queue
    this.queue = []
    for (const call of queued) abortCall(call, code, detail)
    for (const done of this.pendingAuthDone) done(code)
    this.pendingAuthDone = []
    this.watches.failAll(fromCode(code, { op: "watch", detail }))
    this.publish(conn?.address)
    Deferred.doneUnsafe(this.firstConnect, Exit.fail(fromCode(code, { op: "connect", detail })))
    this.connectionGone()
  }

  // -- Fibers ---------------------------------------------------------------------------------

  /** Resolves when the live connection closes (at once when there is none). */
  private readonly awaitConnectionClosed: Effect.Effect<void> = Effect.callback<void>((resume) => {
    if (this.phase._tag !== "Live") return resume(Effect.void)
    this.connClosed = () => resume(Effect.void)
  })

  /** Connect, wait for the connection to drop, repeat; until the session ends. */
  private readonly reconnectLoop: Effect.Effect<void> = Effect.gen({ self: this }, function*() {
    while (!this.stopped) {
      const connected = yield* Effect.result(
        this.connectOnce.pipe(
          Effect.tapError((e) => {
            this.lastAttemptError = e
            return Effect.logDebug(`ZooKeeper connection attempt failed: ${e.message}`)
          }),
          Effect.retry({
            schedule: this.options.reconnectSchedule,
            while: (e) => e._tag === "ConnectionLoss" && !this.stopped
          })
        )
      )
      if (connected._tag === "Failure") {
        if (this.stopped || connected.failure._tag !== "ConnectionLoss") return
        // The schedule ran out while the session may still be alive: pause, then start over.
        // Only expiry or close ends the search, and a finite schedule cannot become a hot loop.
        yield* Effect.sleep(Duration.seconds(1))
        continue
      }
      yield* this.awaitConnectionClosed
    }
  })

  /**
   * While connected to a read-only server, look for a read-write one (Java's pingRwServer):
   * ask every other server `isro`, with a backoff from 250 ms to 5 s, and move to the first
   * that answers `rw`.
   */
  private seekReadWrite(): Effect.Effect<void> {
    return Effect.gen({ self: this }, function*() {
      let interval = 250
      for (;;) {
        yield* Effect.sleep(Duration.millis(interval))
        const conn = this.conn
        if (this.state !== "ConnectedReadOnly" || conn === undefined) {
          interval = 250
          continue
        }
        interval = Math.min(interval * 2, 5000)
        for (let i = 0; i < this.hosts.length; i++) {
          const host = this.hosts[i]!
          const address = ConnectString.formatHost(host)
          if (address === conn.address) continue
          if ((yield* this.isReadWrite(host)) && this.conn === conn) {
            this.hostIndex = i
            conn.close(`a read-write server is available at ${address}`)
            break
          }
        }
      }
    })
  }

  /** The `isro` four-letter word: "rw" from a server in the quorum. */
  private isReadWrite(host: HostPort): Effect.Effect<boolean> {
    return Effect.gen({ self: this }, function*() {
      const answer = Deferred.makeUnsafe<string>()
      let text = ""
      const channel = yield* this.transport.connect(host, {
        onData: (chunk) => {
          for (const byte of chunk) text += String.fromCharCode(byte)
        },
        onClose: () => Deferred.doneUnsafe(answer, Exit.succeed(text))
      }, 1000)
      channel.write(ISRO)
      const reply = yield* Deferred.await(answer).pipe(
        Effect.timeoutOrElse({ duration: "1 second", orElse: () => Effect.succeed("") }),
        Effect.ensuring(Effect.sync(() => channel.close()))
      )
      return reply.trim() === "rw"
    }).pipe(Effect.orElseSucceed(() => false))
  }

  // -- Timers ---------------------------------------------------------------------------------

  /**
   * The timeout that paces pings, the read timeout and close: the negotiated one, but never
   * more than the requested one or a minute, so a server granting an absurd timeout cannot make
   * a silent connection look alive for weeks. Client-side expiry still uses the negotiated one.
   */
  private get liveness(): number {
    const negotiated = this.negotiatedTimeout || this.options.sessionTimeout
    return Math.min(negotiated, Math.max(this.options.sessionTimeout, 60_000))
  }

  private get readTimeout(): number {
    return (this.liveness * 2) / 3
  }

  /** Nothing at all for 2/3 of the timeout: half-open or dead. Drop it and try another host. */
  private readonly dropSilentConnection: Effect.Effect<void> = Effect.sync(() => {
    const conn = this.conn
    if (conn === undefined || this.negotiatedTimeout <= 0) return
    const readTimeout = this.readTimeout
    if (this.now() - conn.lastRecv > readTimeout) {
      conn.close(`no reply from ${conn.address} within ${Math.round(readTimeout)} ms`)
    }
  })

  /** A ping once nothing was sent for a third of the timeout, so the server hears from us. */
  private readonly ping: Effect.Effect<void> = Effect.sync(() => {
    const conn = this.conn
    if (conn === undefined || conn.isClosed || this.negotiatedTimeout <= 0) return
    if (this.now() - conn.lastSend >= this.readTimeout / 2) conn.sendPing()
  })

  /** Fails with OperationTimeout the calls that waited longer than `requestTimeout`. */
  private readonly timeOutRequests: Effect.Effect<void> = Effect.sync(() => {
    const requestTimeout = this.options.requestTimeout
    if (requestTimeout === undefined) return
    const now = this.now()
    const conn = this.conn
    if (conn !== undefined) {
      for (const call of conn.waiting()) {
        if (now - call.sentAt <= requestTimeout) break
        if (!call.done) abortCall(call, ErrorCode.OperationTimeout, `no reply within ${requestTimeout} ms`)
      }
    }
    if (this.queue.length > 0) {
      this.queue = this.queue.filter((call) => {
        if (call.done) return false
        if (now - call.sentAt <= requestTimeout) return true
        abortCall(call, ErrorCode.OperationTimeout, `no connection within ${requestTimeout} ms`)
        return false
      })
    }
  })

  /**
   * Nobody could be reached for longer than the session timeout: the ensemble has expired the
   * session by now, so say so instead of looping in Connecting (the server would say the same
   * at the next reconnect).
   */
  private readonly expireWhenUnreachable: Effect.Effect<void> = Effect.sync(() => {
    const phase = this.phase
    const negotiated = this.negotiatedTimeout
    if (phase._tag !== "Searching" || phase.since === undefined || negotiated <= 0) return
    const away = this.now() - phase.since
    if (away > negotiated) {
      this.end(
        ErrorCode.SessionExpired,
        `nothing heard from any server for ${away} ms, more than the session timeout of ${negotiated} ms`,
        "Expired"
      )
    }
  })

  private tickInterval(): number {
    const candidates = [this.liveness / 12, 500]
    if (this.options.requestTimeout !== undefined) candidates.push(this.options.requestTimeout / 4)
    return Math.max(10, Math.floor(Math.min(...candidates)))
  }

  /** The one timer fiber: every tick runs each timer's check. */
  private readonly timers: Effect.Effect<void> = Effect.suspend(() => Effect.sleep(Duration.millis(this.tickInterval()))).pipe(
    Effect.andThen(this.dropSilentConnection),
    Effect.andThen(this.ping),
    Effect.andThen(this.timeOutRequests),
    Effect.andThen(this.expireWhenUnreachable),
    Effect.forever
  )

  /**
   * Starts the fibers in `scope` and waits for the first connection. Fails with the terminal
   * error (e.g. SessionExpired when re-attaching to a dead session) or ConnectionLoss when no
   * server answered within `connectTimeout`.
   */
  start(scope: Scope.Scope): Effect.Effect<void, ZkError> {
    return Effect.gen({ self: this }, function*() {
      const fibers = [yield* Effect.forkIn(this.reconnectLoop, scope), yield* Effect.forkIn(this.timers, scope)]
      if (this.options.canBeReadOnly) fibers.push(yield* Effect.forkIn(this.seekReadWrite(), scope))
      yield* Scope.addFinalizer(scope, Effect.andThen(this.close, Fiber.interruptAll(fibers)))
      const hosts = ConnectString.format(this.hosts)
      yield* Deferred.await(this.firstConnect).pipe(
        Effect.timeoutOrElse({
          duration: Duration.millis(this.options.connectTimeout),
          orElse: () => {
            // Say why: the last attempt's error (refused, TLS rejected, handshake refused...).
            const last = this.lastAttemptError
            const why = last === undefined ? "" : `; last attempt: ${last.detail ?? last.message}`
            return Effect.fail(
              fromCode(ErrorCode.ConnectionLoss, {
                op: "connect",
                detail: `no session with any of ${hosts} within ${this.options.connectTimeout} ms${why}`,
                cause: last
              })
            )
          }
        })
      )
    }).pipe(Effect.provideService(Clock.Clock, this.clock))
  }

  /**
   * Closes the session: later calls fail with Closing, outstanding ones complete first (bounded
   * by the session timeout), then closeSession is sent and the connection closed. Idempotent;
   * never waits for a server that is gone.
   */
  readonly close: Effect.Effect<void> = Effect.suspend(() => {
    if (this.stopped) return Effect.void
    const conn = this.conn
    this.phase = { _tag: "Closing", conn, state: this.state }
    const queued = this.queue
    this.queue = []
    for (const call of queued) abortCall(call, ErrorCode.Closing, "the session was closed before a server was reachable")
    const bound = Duration.millis(Math.max(1000, this.liveness))
    const drain = conn === undefined
      ? Effect.void
      : pollUntil(() => conn.isClosed || conn.inFlight === 0).pipe(
        Effect.andThen(
          Effect.callback<void>((resume) => {
            if (conn.isClosed) return resume(Effect.void)
            conn.closingSession = true
            conn.send(internalCall(Protocol.OpCode.CloseSession, noBody, undefined, () => resume(Effect.void)))
          })
        ),
        Effect.timeout(bound),
        Effect.ignore
      )
    return drain.pipe(
      Effect.andThen(Effect.sync(() => this.end(ErrorCode.Closing, "the session is closed", "Closed"))),
      Effect.provideService(Clock.Clock, this.clock)
    )
  })
}

const ignoreAuth = (): void => {}
const noBody = (): void => {}

const abortCall = (call: Call, code: number, detail: string): void => {
  if (call.done) return
  call.done = true
  call.abort(code, detail)
}

/**
 * A call the session makes for itself (SetWatches, closeSession); errors are not reported.
 * `replied` runs when the server answers, `settled` on an answer or a lost connection alike.
 */
const internalCall = (op: number, write: (w: JuteWriter) => void, replied?: () => void, settled?: () => void): Call => ({
  op,
  write,
  reply: (_err: number, _r: JuteReader | undefined) => {
    replied?.()
    settled?.()
  },
  abort: () => settled?.(),
  sentAt: 0,
  done: false
})

const pollUntil = (condition: () => boolean): Effect.Effect<void> =>
  Effect.suspend(() => (condition() ? Effect.void : Effect.sleep(Duration.millis(5)).pipe(Effect.andThen(pollUntil(condition)))))

/**
 * Builds a session and starts it in the current scope. Its timers run on the real clock unless
 * `SessionClock` says otherwise.
 */
export const make = (options: SessionOptions): Effect.Effect<Supervisor, ZkError, Transport | Scope.Scope> =>
  Effect.gen(function*() {
    const transport = yield* Transport
    const clock = (yield* SessionClock) ?? Clock.Clock.defaultValue()
    const scope = yield* Scope.Scope
    const supervisor = new SupervisorImpl(options, transport, clock)
    yield* supervisor.start(scope)
    return supervisor
  })

/**
 * The session supervisor: finds a server, opens a connection (see `handshake.ts`), keeps the
 * one live connection healthy (pings, read timeout), replays what the server forgot on a new
 * connection (auth, then watches, then the requests queued meanwhile), and ends the session for
 * good when it expires, fails authentication or is closed.
 *
 * Hot-path work (submitting a call, dispatching a reply) is synchronous, so the cost per
 * request stays that of a function call. Waiting lives in two modules of its own: the timers
 * (`timers.ts`, one fiber for all the sessions of a clock) and the search for a server
 * (`reconnect.ts`, a fiber only while no connection is live; another looks for a read-write
 * server when read-only servers are accepted). An idle connected session so keeps no fiber.
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
import { type Call, Connection, type ConnectionEvents } from "./connection.ts"
import type { Refusal, SaslOptions } from "./handshake.ts"
import type { JuteReader, JuteWriter } from "./jute.ts"
import { type Connecting, search, seekReadWrite } from "./reconnect.ts"
import * as Timers from "./timers.ts"
import { abortCall, type Timed } from "./timers.ts"
import { WatchManager, type WatchPort } from "./watches.ts"

/**
 * What the operations need from a session: submit a request, the chroot, the watch manager,
 * and its observable state. Nothing of connections or the wire format shows through.
 */
export interface Supervisor {
  /**
   * Sends a call now, or queues it until the next connection; exactly one of its `reply` or
   * `abort` follows (abort with Closing or the terminal code once the session is over).
   */
  submit(call: Call): void
  /** The chroot of the connect string, if any: client paths live under it on the server. */
  readonly chroot: string | undefined
  /** The watch tables and every decision of what to tell the server about them. */
  readonly watches: WatchManager
  /**
   * Adds an identity: remembered (re-sent after every reconnect) and sent; `done` gets the
   * server's code (0 when accepted), on the next connection if none is live.
   */
  addAuth(entry: AuthEntry, done: (err: number) => void): void
  /** Replaces the server list; the connection moves only if its server is no longer listed. */
  updateHosts(hosts: ReadonlyArray<HostPort>): void
  /** Calls `f` on every state change from now on; returns the unsubscribe function. */
  subscribe(f: (event: SessionEvent) => void): () => void
  /**
   * Calls `f` on every state change from now on until the session's scope starts closing
   * (the session log: what happens while it closes is the caller's doing). One at a time.
   */
  observe(f: (event: SessionEvent) => void): void
  readonly state: SessionState
  readonly clientId: ClientId
  /** The session timeout the server granted (ms), 0 before the first connection. */
  readonly negotiatedTimeout: number
  /** `host:port` of the live connection, if any. */
  readonly server: string | undefined
  /**
   * Closes the session: later calls fail with Closing, outstanding ones complete first
   * (bounded by the session timeout), then closeSession is sent. Idempotent.
   */
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
  readonly sasl: SaslOptions | undefined
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

const connecting: Phase = { _tag: "Searching", state: "Connecting", since: undefined }

/**
 * One session. Its members are shaped for scale: methods live on the prototype, the watch
 * manager, listeners and fibers are made on first use, so a process can hold many idle
 * sessions cheaply.
 *
 * @internal
 */
export class SupervisorImpl implements Supervisor, Timed, Connecting, WatchPort {
  readonly chroot: string | undefined
  private phase: Phase = connecting
  private sessionId: bigint
  private passwd: Uint8Array
  negotiatedTimeout = 0
  /** When the timers check this session next (kept by `timers.ts`). */
  timerDue = 0
  private lastZxidSeen = 0n
  /** Calls submitted while no connection is live, in order. */
  private queue: Array<Call> = []
  private readonly authInfo: Array<AuthEntry>
  private authWaiters: Array<(err: number) => void> = []
  /** Callers of addAuth made while disconnected, for the last entries of `authInfo`. */
  private pendingAuthDone: Array<(err: number) => void> = []
  private xid = 0
  private hostIndex = 0
  /** Why the latest connection attempt failed, for the error of a connect that times out. */
  private lastAttemptError: ZkError | undefined = undefined
  /** Whether a read-write server has accepted this session (or it was given to re-attach). */
  private seenRwServer: boolean
  /** The servers to rotate through, in (shuffled) order; replaced by `updateHosts`. */
  hosts: ReadonlyArray<HostPort>
  private listeners: Set<(event: SessionEvent) => void> | undefined = undefined
  private observer: ((event: SessionEvent) => void) | undefined = undefined
  private watchManager: WatchManager | undefined = undefined
  /** Completed by the first connection or the end of the session; dropped once `start` returns. */
  private firstConnect: Deferred.Deferred<void, ZkError> | undefined = undefined
  /** Forks with the services of the scope that started the session; unset once it closes. */
  private run: ((effect: Effect.Effect<void>) => Fiber.Fiber<void>) | undefined = undefined
  /** The search for a server, while one runs. */
  private searching: Fiber.Fiber<void> | undefined = undefined

  private readonly options: SessionOptions
  readonly transport: Transport["Service"]
  private readonly clock: Clock.Clock

  constructor(options: SessionOptions, transport: Transport["Service"], clock: Clock.Clock) {
    this.options = options
    this.transport = transport
    this.clock = clock
    this.chroot = options.chroot
    this.sessionId = options.session?.sessionId ?? 0n
    this.passwd = options.session?.password ?? new Uint8Array(16)
    this.authInfo = options.auth.length === 0 ? [] : [...options.auth]
    this.hosts = options.hosts
    this.seenRwServer = options.session !== undefined
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

  /** Made on first use: a session that never watches never pays for the tables. */
  get watches(): WatchManager {
    return this.watchManager ??= new WatchManager(this)
  }

  get conn(): Connection | undefined {
    const phase = this.phase
    return phase._tag === "Live" || phase._tag === "Closing" ? phase.conn : undefined
  }

  get stopped(): boolean {
    return this.phase._tag === "Closing" || this.phase._tag === "Ended"
  }

  get ended(): boolean {
    return this.phase._tag === "Ended"
  }

  get sessionTimeout(): number {
    return this.options.sessionTimeout
  }

  get requestTimeout(): number | undefined {
    return this.options.requestTimeout
  }

  get sasl(): SaslOptions | undefined {
    return this.options.sasl
  }

  get searchingSince(): number | undefined {
    return this.phase._tag === "Searching" ? this.phase.since : undefined
  }

  lastZxid(): bigint {
    const live = this.conn?.lastZxid ?? 0n
    return live > this.lastZxidSeen ? live : this.lastZxidSeen
  }

  now(): number {
    return this.clock.currentTimeMillisUnsafe()
  }

  subscribe(f: (event: SessionEvent) => void): () => void {
    // Created on first use: most sessions only ever have the log's listener.
    const listeners = this.listeners ??= new Set()
    listeners.add(f)
    return () => listeners.delete(f)
  }

  observe(f: (event: SessionEvent) => void): void {
    this.observer = f
  }

  private publish(server?: string): void {
    const listeners = this.listeners
    const observer = this.observer
    if (listeners === undefined && observer === undefined) return
    const event: SessionEvent = { state: this.state, sessionId: this.sessionId, server }
    observer?.(event)
    if (listeners !== undefined) for (const f of listeners) f(event)
  }

  // -- Requests -------------------------------------------------------------------------------

  private nextXid(): number {
    this.xid = this.xid >= 0x7fffffff ? 1 : this.xid + 1
    return this.xid
  }

  submit(call: Call): void {
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
  addAuth(entry: AuthEntry, done: (err: number) => void): void {
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
  send(op: number, write: (w: JuteWriter) => void, replied?: () => void): void {
    if (this.phase._tag === "Live") this.phase.conn.send(internalCall(op, write, replied))
  }

  updateHosts(hosts: ReadonlyArray<HostPort>): void {
    this.hosts = hosts
    this.hostIndex = 0
    const conn = this.conn
    if (conn !== undefined && !hosts.some((h) => ConnectString.formatHost(h) === conn.address)) {
      conn.close("its server was removed from the server list")
    }
  }

  /** Fails with OperationTimeout the queued calls submitted before `cutoff`. */
  timeOutQueued(cutoff: number, detail: string): void {
    if (this.queue.length === 0) return
    this.queue = this.queue.filter((call) => {
      if (call.done) return false
      if (call.sentAt >= cutoff) return true
      abortCall(call, ErrorCode.OperationTimeout, detail)
      return false
    })
  }

  expire(detail: string): void {
    this.end(ErrorCode.SessionExpired, detail, "Expired")
  }

  // -- Connecting (see reconnect.ts) ----------------------------------------------------------

  nextHost(): HostPort {
    return this.hosts[this.hostIndex++ % this.hosts.length]!
  }

  moveTo(index: number): void {
    this.hostIndex = index
  }

  attemptFailed(error: ZkError): void {
    this.lastAttemptError = error
  }

  open(host: HostPort): { readonly conn: Connection; readonly request: Protocol.ConnectRequest } {
    const events = new Wiring(this)
    const conn = events.conn = new Connection({
      address: ConnectString.formatHost(host),
      now: () => this.now(),
      maxFrame: this.options.maxFrame,
      maxRequest: this.options.maxRequest,
      nextXid: () => this.nextXid(),
      stampCalls: this.options.requestTimeout !== undefined,
      events
    })
    const request: Protocol.ConnectRequest = {
      protocolVersion: 0,
      lastZxidSeen: this.lastZxid(),
      timeOut: this.options.sessionTimeout,
      // Java's rule: a session only ever seen by read-only servers is theirs alone (the quorum
      // never heard of it), so ask a read-write server for a new one.
      sessionId: this.seenRwServer ? this.sessionId : 0n,
      passwd: this.seenRwServer ? this.passwd : new Uint8Array(16),
      readOnly: this.options.canBeReadOnly
    }
    return { conn, request }
  }

  refused(conn: Connection, refusal: Refusal): ZkError {
    if (refusal._tag === "Expired") {
      this.end(ErrorCode.SessionExpired, `the server at ${conn.address} no longer knows session ${hexId(this.sessionId)}`, "Expired")
      return this.endedError("connect")
    }
    conn.close(refusal.detail)
    this.end(ErrorCode.AuthFailed, refusal.detail, "AuthFailed")
    return this.endedError("sasl")
  }

  endedError(op: string): ZkError {
    const phase = this.phase
    return phase._tag === "Ended"
      ? fromCode(phase.code, { op, detail: phase.detail })
      : phase._tag === "Closing"
      ? fromCode(ErrorCode.Closing, { op, detail: "the session is closing" })
      : fromCode(ErrorCode.ConnectionLoss, { op, detail: "the session is not over" })
  }

  establish(conn: Connection, response: Protocol.ConnectResponse): void {
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
    this.watchManager?.replay((op, write, replied) => conn.send(internalCall(op, write, replied)))
    const queued = this.queue
    this.queue = []
    for (const call of queued) if (!call.done) conn.send(call)
    this.publish(conn.address)
    if (this.firstConnect !== undefined) Deferred.doneUnsafe(this.firstConnect, Exit.void)
  }

  /** @internal (for `Wiring`) */
  onConnectionClosed(conn: Connection): void {
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
      this.startSearch()
    } else if (phase._tag === "Closing") {
      this.phase = { ...phase, conn: undefined }
    }
  }

  /** @internal (for `Wiring`) */
  onNotification(event: Protocol.WatcherEvent): void {
    const type = WatchEvent.typeFromCode(event.type)
    if (type === undefined) return
    this.watchManager?.dispatch(event.path, { type, path: ZNodePath.stripChroot(this.chroot, event.path) })
  }

  /** @internal (for `Wiring`) */
  onAuthReply(err: number): void {
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
    this.watchManager?.failAll(fromCode(code, { op: "watch", detail }))
    this.publish(conn?.address)
    if (this.firstConnect !== undefined) {
      Deferred.doneUnsafe(this.firstConnect, Exit.fail(fromCode(code, { op: "connect", detail })))
    }
  }

  // -- Fibers ---------------------------------------------------------------------------------

  /** Starts looking for a server in a fiber of its own, unless a search already runs. */
  private startSearch(): void {
    const run = this.run
    if (run === undefined || this.searching !== undefined || this.stopped) return
    this.searching = run(Effect.onExit(search(this, this.options.reconnectSchedule), (exit) =>
      Effect.sync(() => {
        this.searching = undefined
        // The connection it found may already be gone (lost before this fiber finished): then
        // nobody else is looking.
        if (Exit.isSuccess(exit) && exit.value && this.phase._tag === "Searching") this.startSearch()
      })))
  }

  /**
   * Starts the fibers in `scope` and waits for the first connection. Fails with the terminal
   * error (e.g. SessionExpired when re-attaching to a dead session) or ConnectionLoss when no
   * server answered within `connectTimeout`.
   */
  start(scope: Scope.Scope): Effect.Effect<void, ZkError> {
    return Effect.gen({ self: this }, function*() {
      this.run = Effect.runForkWith(yield* Effect.context<never>())
      const firstConnect = this.firstConnect = Deferred.makeUnsafe<void, ZkError>()
      const keepers: Array<Fiber.Fiber<void>> = []
      if (this.options.canBeReadOnly) keepers.push(yield* Effect.forkIn(seekReadWrite(this), scope))
      const stopTimers = Timers.start(this, this.clock)
      yield* Scope.addFinalizer(
        scope,
        Effect.andThen(
          Effect.andThen(Effect.sync(() => this.observer = undefined), this.close),
          Effect.suspend(() => {
            stopTimers()
            this.run = undefined
            const fibers = this.searching === undefined ? keepers : [...keepers, this.searching]
            return Fiber.interruptAll(fibers)
          })
        )
      )
      this.startSearch()
      const hosts = ConnectString.format(this.hosts)
      yield* Deferred.await(firstConnect).pipe(
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
        }),
        Effect.ensuring(Effect.sync(() => this.firstConnect = undefined))
      )
    }).pipe(Effect.provideService(Clock.Clock, this.clock))
  }

  /**
   * Closes the session: later calls fail with Closing, outstanding ones complete first (bounded
   * by the session timeout), then closeSession is sent and the connection closed. Idempotent;
   * never waits for a server that is gone.
   */
  get close(): Effect.Effect<void> {
    return Effect.suspend(() => this.closeNow())
  }

  private closeNow(): Effect.Effect<void> {
    if (this.stopped) return Effect.void
    const conn = this.conn
    this.phase = { _tag: "Closing", conn, state: this.state }
    const queued = this.queue
    this.queue = []
    for (const call of queued) abortCall(call, ErrorCode.Closing, "the session was closed before a server was reachable")
    const bound = Duration.millis(Math.max(1000, Timers.liveness(this)))
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
  }
}

/**
 * What one connection reports, routed to its session: an object with prototype methods rather
 * than three closures per connection. A closed connection that is no longer the session's is
 * ignored by `onConnectionClosed`.
 */
class Wiring implements ConnectionEvents {
  private readonly session: SupervisorImpl
  conn: Connection | undefined = undefined
  constructor(session: SupervisorImpl) {
    this.session = session
  }
  onNotification(event: Protocol.WatcherEvent): void {
    this.session.onNotification(event)
  }
  onAuthReply(err: number): void {
    this.session.onAuthReply(err)
  }
  onClosed(): void {
    if (this.conn !== undefined) this.session.onConnectionClosed(this.conn)
  }
}

const ignoreAuth = (): void => {}
const noBody = (): void => {}

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

/** The default clock, made once: every session on real time shares it. */
let realClock: Clock.Clock | undefined

/**
 * Builds a session and starts it in the current scope. Its timers run on the real clock unless
 * `SessionClock` says otherwise.
 */
export const make = (options: SessionOptions): Effect.Effect<Supervisor, ZkError, Transport | Scope.Scope> =>
  Effect.gen(function*() {
    const transport = yield* Transport
    const clock = (yield* SessionClock) ?? (realClock ??= Clock.Clock.defaultValue())
    const scope = yield* Scope.Scope
    const supervisor = new SupervisorImpl(options, transport, clock)
    yield* supervisor.start(scope)
    return supervisor
  })

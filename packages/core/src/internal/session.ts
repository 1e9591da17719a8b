/**
 * The session supervisor: finds a server, performs the handshake, keeps the one live
 * connection healthy (pings, read timeout), replays what the server forgot on a new connection
 * (auth, then watches, then the requests queued meanwhile), and ends the session for good when
 * it expires, fails authentication or is closed.
 *
 * Hot-path work (submitting a call, dispatching a reply) is synchronous; fibers only run the
 * reconnect loop and a ticker for timers, so the cost per request stays that of a function call.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as PubSub from "effect/PubSub"
import type * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import type * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as ConnectString from "../ConnectString.ts"
import * as Protocol from "../Protocol.ts"
import * as Sasl from "../Sasl.ts"
import { ClientId, type SessionEvent, type SessionState } from "../Session.ts"
import type { HostPort } from "../Transport.ts"
import { Transport } from "../Transport.ts"
import * as WatchEvent from "../WatchEvent.ts"
import * as ZNodePath from "../ZNodePath.ts"
import { ErrorCode, fromCode, type ZkError } from "../ZkError.ts"
import { type Call, Connection, type Handshake } from "./connection.ts"
import type { JuteReader, JuteWriter } from "./jute.ts"
import { WatchRegistry } from "./watches.ts"

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

/** SASL login settings (DIGEST-MD5 with a username and password). */
export interface SaslOptions {
  readonly mechanism: "DIGEST-MD5"
  readonly username: string
  readonly password: Redacted.Redacted<string>
}

/** A remembered addAuth, re-sent after every reconnect. */
export interface AuthEntry {
  readonly scheme: string
  readonly auth: Uint8Array
}

const ISRO = new Uint8Array([0x69, 0x73, 0x72, 0x6f])

/** Java's SET_WATCHES_MAX_LENGTH: a SetWatches batch closes once its paths reach 128 KiB. */
const SET_WATCHES_MAX_LENGTH = 128 * 1024

/** @internal */
export class Session {
  readonly options: SessionOptions
  readonly watches = new WatchRegistry()
  state: SessionState = "Connecting"
  sessionId: bigint
  passwd: Uint8Array
  negotiatedTimeout = 0
  readOnly = false
  private lastZxidSeen = 0n
  /** The live connection, after its handshake. */
  conn: Connection | undefined = undefined
  /** Calls submitted while no connection is live, in order. */
  private queue: Array<Call> = []
  /** Once set, the session is over and every call fails with this code. */
  private ended: { readonly code: number; readonly detail: string } | undefined = undefined
  closing = false
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
  private disconnectedAt: number | undefined = undefined
  private readonly now: () => number
  readonly events: PubSub.PubSub<SessionEvent>
  private readonly firstConnect = Deferred.makeUnsafe<void, ZkError>()
  private connClosed = Deferred.makeUnsafe<void>()
  private readonly transport: Transport["Service"]

  constructor(options: SessionOptions, transport: Transport["Service"], clock: Clock.Clock, events: PubSub.PubSub<SessionEvent>) {
    this.options = options
    this.transport = transport
    this.now = () => clock.currentTimeMillisUnsafe()
    this.events = events
    this.sessionId = options.session?.sessionId ?? 0n
    this.passwd = options.session?.password ?? new Uint8Array(16)
    this.authInfo = [...options.auth]
    this.hosts = options.hosts
    this.seenRwServer = options.session !== undefined
  }

  /**
   * Replaces the server list of a live session. The connection stays where it is if its server
   * is still listed; otherwise it is dropped and the session moves to one of the new servers
   * (within its timeout, like any reconnect).
   */
  updateHosts(hosts: ReadonlyArray<HostPort>): void {
    this.hosts = hosts
    this.hostIndex = 0
    const conn = this.conn
    if (conn !== undefined && !hosts.some((h) => ConnectString.formatHost(h) === conn.address)) {
      conn.close("its server was removed from the server list")
    }
  }

  get lastZxid(): bigint {
    const live = this.conn?.lastZxid ?? 0n
    return live > this.lastZxidSeen ? live : this.lastZxidSeen
  }

  get isEnded(): boolean {
    return this.ended !== undefined
  }

  get clientId(): ClientId {
    return new ClientId({ sessionId: this.sessionId, password: this.passwd })
  }

  /** Server path for a client path. */
  serverPath(path: string): string {
    return ZNodePath.prependChroot(this.options.chroot, path)
  }

  /** Client path for a server path. */
  clientPath(path: string): string {
    return ZNodePath.stripChroot(this.options.chroot, path)
  }

  private nextXid = (): number => {
    this.xid = this.xid >= 0x7fffffff ? 1 : this.xid + 1
    return this.xid
  }

  // -- Requests -------------------------------------------------------------------------------

  /** Sends a call now, or queues it until the next connection. */
  submit(call: Call): void {
    if (this.ended !== undefined) return abortCall(call, this.ended.code, this.ended.detail)
    if (this.closing) return abortCall(call, ErrorCode.Closing, "the session is closing")
    if (this.conn !== undefined) return this.conn.send(call)
    call.sentAt = this.now()
    this.queue.push(call)
  }

  /**
   * addAuth: remembered first (so a reconnect re-sends it), then sent with xid -4. Its reply
   * comes out of band, matched in send order.
   */
  addAuth(entry: AuthEntry, done: (err: number) => void): void {
    if (this.ended !== undefined) return done(this.ended.code)
    if (this.closing) return done(ErrorCode.Closing)
    this.authInfo.push(entry)
    if (this.conn === undefined) {
      // Sent with the others on the next connection; the caller learns the outcome then.
      this.pendingAuthDone.push(done)
      return
    }
    this.authWaiters.push(done)
    this.conn.sendAuth(entry.scheme, entry.auth)
  }

  // -- Connection lifecycle -------------------------------------------------------------------

  private publish(state: SessionState, server?: string): void {
    this.state = state
    PubSub.publishUnsafe(this.events, { state, sessionId: this.sessionId, server })
  }

  /** One attempt on the next host: TCP, then the handshake. */
  private connectOnce: Effect.Effect<Connection, ZkError> = Effect.suspend(() => {
    if (this.ended !== undefined) return Effect.fail(fromCode(this.ended.code, "connect", undefined, this.ended.detail))
    const hosts = this.hosts
    const host = hosts[this.hostIndex++ % hosts.length]!
    const address = ConnectString.formatHost(host)
    // Java gives each host sessionTimeout/hostCount; at least three attempts fit in the session
    // timeout here, so one swallowed handshake cannot use up the whole session.
    const attemptTimeout = Math.max(1000, Math.floor(this.options.sessionTimeout / Math.max(3, hosts.length)))
    const conn = new Connection({
      address,
      now: this.now,
      maxFrame: this.options.maxFrame,
      maxRequest: this.options.maxRequest,
      nextXid: this.nextXid,
      stampCalls: this.options.requestTimeout !== undefined,
      events: {
        onNotification: (event) => this.onNotification(event),
        onAuthReply: (err) => this.onAuthReply(err),
        onClosed: (reason) => this.onConnectionClosed(conn, reason)
      }
    })
    return this.transport.connect(host, conn, attemptTimeout).pipe(
      Effect.mapError((e) => fromCode(ErrorCode.ConnectionLoss, "connect", undefined, e.message, e)),
      Effect.flatMap((channel) => {
        conn.attach(channel)
        return Effect.callback<Handshake>((resume) => {
          conn.startHandshake(
            {
              protocolVersion: 0,
              lastZxidSeen: this.lastZxid,
              timeOut: this.options.sessionTimeout,
              // Java's rule: a session only ever seen by read-only servers is theirs alone (the
              // quorum never heard of it), so ask a read-write server for a new one.
              sessionId: this.seenRwServer ? this.sessionId : 0n,
              passwd: this.seenRwServer ? this.passwd : new Uint8Array(16),
              readOnly: this.options.canBeReadOnly
            },
            (h) => resume(Exit.succeed(h))
          )
        }).pipe(
          Effect.timeoutOrElse({
            duration: Duration.millis(attemptTimeout),
            orElse: () => Effect.succeed<Handshake>({ _tag: "Failed", reason: "no handshake reply in time" })
          })
        )
      }),
      Effect.flatMap((h) => {
        if (h._tag === "Failed") {
          // A fresh port may accept and close before serving (server starting, follower LOOKING,
          // or we are ahead of its zxid): retryable, try the next host.
          conn.close(h.reason)
          return Effect.fail(fromCode(ErrorCode.ConnectionLoss, "connect", undefined, `${address}: ${h.reason}`, h.cause))
        }
        const response = h.response
        if (response.timeOut <= 0) {
          conn.close("session expired")
          this.expire(`the server at ${address} no longer knows session 0x${this.sessionId.toString(16)}`)
          return Effect.fail(fromCode(ErrorCode.SessionExpired, "connect", undefined, this.ended?.detail))
        }
        if (conn.isClosed) {
          return Effect.fail(fromCode(ErrorCode.ConnectionLoss, "connect", undefined, `${address}: closed after handshake`))
        }
        if (this.ended !== undefined || this.closing) {
          // Expired client-side or closed while this handshake was on its way: the session is
          // over for the caller, so a late reply must not bring it back.
          conn.close("the session ended during the handshake")
          return Effect.fail(fromCode(this.ended?.code ?? ErrorCode.Closing, "connect", undefined, this.ended?.detail ?? "the session is closing"))
        }
        const sasl = this.options.sasl
        if (sasl === undefined) {
          this.establish(conn, response)
          return Effect.succeed(conn)
        }
        return this.saslLogin(conn, sasl, attemptTimeout).pipe(
          Effect.flatMap(() => {
            if (conn.isClosed || this.ended !== undefined || this.closing) {
              return Effect.fail(fromCode(ErrorCode.ConnectionLoss, "connect", undefined, `${address}: closed during SASL`))
            }
            this.establish(conn, response)
            return Effect.succeed(conn)
          })
        )
      }),
      Effect.onInterrupt(() => Effect.sync(() => conn.close("interrupted")))
    )
  })

  /**
   * SASL DIGEST-MD5 on a fresh connection, before anything else is sent (the server answers
   * op 102 outside its pipeline, so nothing may be in flight meanwhile; Java holds its queue
   * the same way). The identity belongs to the connection, so this runs after every reconnect.
   * A rejected login is terminal (AuthFailed), as in Java.
   */
  private saslLogin(conn: Connection, sasl: SaslOptions, timeoutMillis: number): Effect.Effect<void, ZkError> {
    const exchange = (token: Uint8Array) =>
      Effect.callback<Uint8Array | null, ZkError>((resume) => {
        conn.send({
          op: Protocol.OpCode.Sasl,
          write: (w) => Protocol.writeSaslRequest(w, token),
          reply: (err, r) =>
            resume(err === 0 ? Exit.succeed(r === undefined ? null : Protocol.readBuffer(r)) : Exit.fail(fromCode(err, "sasl"))),
          abort: (code, detail, cause) => resume(Exit.fail(fromCode(code, "sasl", undefined, detail, cause))),
          sentAt: 0,
          done: false
        })
      }).pipe(
        Effect.timeoutOrElse({
          duration: Duration.millis(timeoutMillis),
          orElse: () => Effect.fail(fromCode(ErrorCode.ConnectionLoss, "sasl", undefined, "no SASL reply in time"))
        })
      )
    const rejected = (detail: string) => {
      this.end(ErrorCode.AuthFailed, `SASL ${sasl.mechanism} login of ${sasl.username} failed: ${detail}`, "AuthFailed")
      return Effect.fail(fromCode(ErrorCode.AuthFailed, "sasl", undefined, this.ended?.detail))
    }
    return Effect.gen({ self: this }, function*() {
      const credentials = { username: sasl.username, password: sasl.password }
      const options = { cnonce: yield* Sasl.makeCnonce }
      let state: Sasl.ClientState = Sasl.start
      let token = yield* exchange(Sasl.initialToken)
      for (;;) {
        const step = Sasl.step(state, token, credentials, options)
        if (Result.isFailure(step)) return yield* rejected(step.failure.message)
        state = step.success.state
        if (step.success.send === undefined) return
        token = yield* exchange(step.success.send)
      }
    }).pipe(
      Effect.catchTag("AuthFailed", (e) => this.ended === undefined ? rejected(e.message) : Effect.fail(e))
    )
  }

  private establish(conn: Connection, response: Protocol.ConnectResponse): void {
    this.sessionId = response.sessionId
    this.passwd = response.passwd
    this.negotiatedTimeout = response.timeOut
    this.readOnly = response.readOnly
    if (!response.readOnly) this.seenRwServer = true
    this.conn = conn
    this.disconnectedAt = undefined
    this.connClosed = Deferred.makeUnsafe<void>()
    // Order matters (Java primeConnection): auth first, so watches and queued requests run
    // with the caller's identity; then watches, so a queued write cannot fire one unseen.
    const fresh = this.pendingAuthDone
    this.pendingAuthDone = []
    const resent = this.authInfo.length - fresh.length
    this.authInfo.forEach((entry, i) => {
      this.authWaiters.push(i < resent ? ignoreAuth : fresh[i - resent]!)
      conn.sendAuth(entry.scheme, entry.auth)
    })
    this.sendSetWatches(conn)
    const queued = this.queue
    this.queue = []
    for (const call of queued) if (!call.done) conn.send(call)
    this.publish(response.readOnly ? "ConnectedReadOnly" : "Connected", conn.address)
    Deferred.doneUnsafe(this.firstConnect, Exit.void)
  }

  /**
   * Re-registers every watch, with `relativeZxid` = the last zxid seen, so the server fires at
   * once the one-shot watches whose node changed while we were away (docs/protocol.md#set-watches).
   * SetWatches2 (3.6+) only when persistent watches exist, so older servers keep working.
   * Batches close once their paths reach 128 KiB, in Java's order: data, exist, child,
   * persistent, recursive (standard watches before persistent ones on a path, the order 3.8
   * needs for both to survive).
   */
  private sendSetWatches(conn: Connection): void {
    const w = this.watches
    if (w.size === 0 && !w.hasPersistent) return
    const persistent = w.hasPersistent
    const lists = [w.paths("data"), w.paths("exist"), w.paths("child"), w.paths("persistent"), w.paths("recursive")]
    const relativeZxid = this.lastZxid
    let batch: Array<Array<string>> = [[], [], [], [], []]
    let length = 0
    const requests: Array<Protocol.SetWatches2> = []
    const flush = () => {
      const [dataWatches = [], existWatches = [], childWatches = [], persistentWatches = [], persistentRecursiveWatches = []] = batch
      requests.push({ relativeZxid, dataWatches, existWatches, childWatches, persistentWatches, persistentRecursiveWatches })
      batch = [[], [], [], [], []]
      length = 0
    }
    lists.forEach((paths, table) => {
      for (const path of paths) {
        batch[table]!.push(path)
        length += path.length
        if (length >= SET_WATCHES_MAX_LENGTH) flush()
      }
    })
    if (length > 0) flush()
    // Resync only once the server has the persistent watches back (the last batch's reply):
    // a subscriber that re-reads on Resync must not miss a change made before they are armed.
    // A connection lost before that reply leaves the Resync to the next connection's batches.
    const resync = persistent ? w.resyncWhenArmed() : undefined
    requests.forEach((request, i) => {
      const armed = i === requests.length - 1 ? resync : undefined
      conn.send(
        persistent
          ? internalCall(Protocol.OpCode.SetWatches2, (writer) => Protocol.writeSetWatches2(writer, request), armed)
          : internalCall(Protocol.OpCode.SetWatches, (writer) => Protocol.writeSetWatches(writer, request))
      )
    })
  }

  /**
   * Sends a request whose outcome nobody waits for (re-arming watches); dropped when no
   * connection is live, since the next connection's SetWatches covers it.
   */
  sendInternal(op: number, write: (w: JuteWriter) => void): void {
    this.conn?.send(internalCall(op, write))
  }

  private onConnectionClosed(conn: Connection, _reason: string): void {
    if (this.conn !== conn) return
    if (conn.lastZxid > this.lastZxidSeen) this.lastZxidSeen = conn.lastZxid
    this.conn = undefined
    const waiters = this.authWaiters
    this.authWaiters = []
    for (const done of waiters) done(ErrorCode.ConnectionLoss)
    if (this.ended === undefined && !this.closing) {
      // The server's expiry clock started when it last heard from us, which is about when we
      // last heard from it; a drop noticed by the read timeout is already 2/3 of a timeout late.
      this.disconnectedAt = conn.lastRecv
      this.publish("Disconnected", conn.address)
    }
    Deferred.doneUnsafe(this.connClosed, Exit.void)
  }

  private onNotification(event: Protocol.WatcherEvent): void {
    const type = WatchEvent.typeFromCode(event.type)
    if (type === undefined) return
    this.watches.dispatch(event.path, { type, path: this.clientPath(event.path) })
  }

  private onAuthReply(err: number): void {
    const done = this.authWaiters.shift()
    if (err === ErrorCode.AuthFailed) {
      // Terminal, as in Java: the server closes the connection and the identity is unusable.
      // Ended first, so the caller already sees the AuthFailed state when it resumes.
      this.end(ErrorCode.AuthFailed, "the server rejected the credentials", "AuthFailed")
      done?.(err)
      return
    }
    done?.(err)
  }

  // -- Ending ---------------------------------------------------------------------------------

  /** Ends the session as expired: every call, queued or later, and every watch fails. */
  expire(detail: string): void {
    this.end(ErrorCode.SessionExpired, detail, "Expired")
  }

  private end(code: number, detail: string, state: SessionState): void {
    if (this.ended !== undefined) return
    this.ended = { code, detail }
    const conn = this.conn
    this.conn = undefined
    conn?.close(detail)
    const queued = this.queue
    this.queue = []
    for (const call of queued) abortCall(call, code, detail)
    for (const done of this.pendingAuthDone) done(code)
    this.pendingAuthDone = []
    this.watches.failAll(fromCode(code, "watch", undefined, detail))
    this.publish(state, conn?.address)
    Deferred.doneUnsafe(this.firstConnect, Exit.fail(fromCode(code, "connect", undefined, detail)))
    Deferred.doneUnsafe(this.connClosed, Exit.void)
  }

  // -- Fibers ---------------------------------------------------------------------------------

  /** Connect, wait for the connection to drop, repeat; until the session ends. */
  private readonly loop: Effect.Effect<void> = Effect.gen({ self: this }, function*() {
    while (this.ended === undefined && !this.closing) {
      const connected = yield* Effect.result(
        this.connectOnce.pipe(
          Effect.tapError((e) => {
            this.lastAttemptError = e
            return Effect.logDebug(`ZooKeeper connection attempt failed: ${e.message}`)
          }),
          Effect.retry({
            schedule: this.options.reconnectSchedule,
            while: (e) => e._tag === "ConnectionLoss" && this.ended === undefined && !this.closing
          })
        )
      )
      if (connected._tag === "Failure") {
        if (this.ended !== undefined || this.closing || connected.failure._tag !== "ConnectionLoss") return
        // The schedule ran out while the session may still be alive: pause, then start over.
        // Only expiry or close ends the search, and a finite schedule cannot become a hot loop.
        yield* Effect.sleep(Duration.seconds(1))
        continue
      }
      yield* Deferred.await(this.connClosed)
    }
  })

  /**
   * While connected to a read-only server, look for a read-write one (Java's pingRwServer):
   * ask every other server `isro`, with a backoff from 250 ms to 5 s, and move to the first
   * that answers `rw`.
   */
  private readonly seekReadWrite: Effect.Effect<void> = Effect.gen({ self: this }, function*() {
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

  /**
   * The timeout that paces pings, the read timeout and close: the negotiated one, but never
   * more than the requested one or a minute, so a server granting an absurd timeout cannot make
   * a silent connection look alive for weeks. Client-side expiry still uses the negotiated one.
   */
  private get liveness(): number {
    const negotiated = this.negotiatedTimeout || this.options.sessionTimeout
    return Math.min(negotiated, Math.max(this.options.sessionTimeout, 60_000))
  }

  /** Timers: pings, the read timeout, request timeouts and client-side expiry. */
  private tick(): void {
    const now = this.now()
    const conn = this.conn
    const negotiated = this.negotiatedTimeout
    if (conn !== undefined && negotiated > 0) {
      const readTimeout = (this.liveness * 2) / 3
      if (now - conn.lastRecv > readTimeout) {
        // Nothing at all for 2/3 of the timeout: half-open or dead. Drop it and try another host.
        conn.close(`no reply from ${conn.address} within ${Math.round(readTimeout)} ms`)
      } else if (now - conn.lastSend >= readTimeout / 2) {
        conn.sendPing()
      }
    }
    const requestTimeout = this.options.requestTimeout
    if (requestTimeout !== undefined) {
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
    }
    // Nobody could be reached for longer than the session timeout: the ensemble has expired the
    // session by now, so say so instead of looping in Connecting (the server would say the same
    // at the next reconnect).
    if (this.disconnectedAt !== undefined && negotiated > 0 && now - this.disconnectedAt > negotiated) {
      this.expire(`nothing heard from any server for ${now - this.disconnectedAt} ms, more than the session timeout of ${negotiated} ms`)
    }
  }

  private tickInterval(): number {
    const base = this.liveness
    const candidates = [base / 12, 500]
    if (this.options.requestTimeout !== undefined) candidates.push(this.options.requestTimeout / 4)
    return Math.max(10, Math.floor(Math.min(...candidates)))
  }

  private readonly ticker: Effect.Effect<void> = Effect.suspend(() => Effect.sleep(Duration.millis(this.tickInterval()))).pipe(
    Effect.andThen(Effect.sync(() => this.tick())),
    Effect.forever
  )

  /**
   * Starts the fibers in `scope` and waits for the first connection. Fails with the terminal
   * error (e.g. SessionExpired when re-attaching to a dead session) or ConnectionLoss when no
   * server answered within `connectTimeout`.
   */
  start(scope: Scope.Scope): Effect.Effect<void, ZkError> {
    return Effect.gen({ self: this }, function*() {
      this.publish("Connecting")
      const loop = yield* Effect.forkIn(this.loop, scope)
      const ticker = yield* Effect.forkIn(this.ticker, scope)
      const fibers = [loop, ticker]
      if (this.options.canBeReadOnly) fibers.push(yield* Effect.forkIn(this.seekReadWrite, scope))
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
              fromCode(
                ErrorCode.ConnectionLoss,
                "connect",
                undefined,
                `no session with any of ${hosts} within ${this.options.connectTimeout} ms${why}`,
                last
              )
            )
          }
        })
      )
    })
  }

  /**
   * Closes the session: later calls fail with Closing, outstanding ones complete first (bounded
   * by the session timeout), then closeSession is sent and the connection closed. Idempotent;
   * never waits for a server that is gone.
   */
  readonly close: Effect.Effect<void> = Effect.suspend(() => {
    if (this.closing || this.ended !== undefined) return Effect.void
    this.closing = true
    const queued = this.queue
    this.queue = []
    for (const call of queued) abortCall(call, ErrorCode.Closing, "the session was closed before a server was reachable")
    const conn = this.conn
    const bound = Duration.millis(Math.max(1000, this.liveness))
    const drain =
      conn === undefined
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
      Effect.andThen(Effect.sync(() => this.end(ErrorCode.Closing, "the session is closed", "Closed")))
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

/** Builds a session and starts it in the current scope. */
export const make = (options: SessionOptions): Effect.Effect<Session, ZkError, Transport | Scope.Scope> =>
  Effect.gen(function*() {
    const transport = yield* Transport
    const clock = yield* Clock.Clock
    const scope = yield* Scope.Scope
    const events = yield* PubSub.unbounded<SessionEvent>()
    const session = new Session(options, transport, clock, events)
    yield* session.start(scope)
    return session
  })

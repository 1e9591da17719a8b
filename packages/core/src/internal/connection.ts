/**
 * One TCP (or TLS) connection of a session: the handshake, the xid FIFO, pings, and the
 * dispatch of incoming frames. It knows nothing of hosts, reconnects or watches: those belong
 * to the session, which owns at most one live connection at a time.
 *
 * Everything here is plain callback code driven by the transport: a reply is decoded in place
 * from the chunk it arrived in and handed straight to the waiting call. Requests written in the
 * same tick share one buffer and one socket write.
 *
 * @internal
 */
import * as Protocol from "../Protocol.ts"
import type { Channel, ChannelHandlers } from "../Transport.ts"
import { ErrorCode } from "../ZkError.ts"
import { DecodeFailure, JuteReader, JuteWriter } from "./jute.ts"

/**
 * A request in flight or waiting for a connection.
 *
 * @internal
 */
export interface Call {
  readonly op: number
  /** Writes the request body; paths are already server paths. */
  readonly write: (w: JuteWriter) => void
  /**
   * The reply: `err` 0 with a reader at the body, or a server error code and no reader. May
   * throw `DecodeFailure`, which the connection treats as a broken stream.
   */
  readonly reply: (err: number, r: JuteReader | undefined) => void
  /** Ends the call without a reply: `code` is ConnectionLoss, OperationTimeout, Closing, ... */
  readonly abort: (code: number, detail?: string, cause?: unknown) => void
  /** Set when sent, for request timeouts. */
  sentAt: number
  /** Set once replied or aborted; a late reply to a timed-out call is then ignored. */
  done: boolean
}

/** What a connection reports to its session. */
export interface ConnectionEvents {
  readonly onNotification: (event: Protocol.WatcherEvent) => void
  readonly onAuthReply: (err: number) => void
  /** The connection is gone; its pending calls are aborted right after this returns. */
  readonly onClosed: (reason: string, cause?: unknown) => void
}

/** Outcome of the handshake. */
export type Handshake =
  | { readonly _tag: "Connected"; readonly response: Protocol.ConnectResponse }
  | { readonly _tag: "Failed"; readonly reason: string; readonly cause?: unknown }

/** Write buffer bytes a connection allocates when it next has something to send (a ping, a few small requests). */
const IDLE_WRITER = 256

/** First capacity of the reply FIFO (a power of two: slots are masked, never divided). */
const FIFO_START = 16

/** @internal */
export class Connection implements ChannelHandlers {
  readonly address: string
  private readonly events: ConnectionEvents
  private readonly now: () => number
  private readonly maxRequest: number
  private readonly decoder: Protocol.FrameDecoder
  private readonly writer = new JuteWriter(IDLE_WRITER)
  /** One reader, pointed at each reply frame in turn. */
  private readonly reader = new JuteReader(new Uint8Array(0))
  private channel: Channel | undefined = undefined
  // The FIFO of calls awaiting replies: a ring of parallel arrays, so a request adds no object
  // of its own and a long pipelined burst does not grow an array (replies come in send order).
  private calls: Array<Call | undefined> = new Array(FIFO_START)
  private xids = new Int32Array(FIFO_START)
  private head = 0
  private size = 0
  private flushScheduled = false
  private handshake: ((h: Handshake) => void) | undefined = undefined
  private closed = false
  /** A closeSession was sent: the server's EOF after it is the expected end, not a loss. */
  closingSession = false
  lastSend: number
  lastRecv: number
  private nextXid: () => number
  private readonly stampCalls: boolean

  constructor(options: {
    readonly address: string
    readonly events: ConnectionEvents
    readonly now: () => number
    readonly maxFrame: number
    readonly maxRequest: number
    readonly nextXid: () => number
    /** Record when each call was sent (for request timeouts). */
    readonly stampCalls: boolean
  }) {
    this.address = options.address
    this.events = options.events
    this.now = options.now
    this.maxRequest = options.maxRequest
    this.decoder = new Protocol.FrameDecoder(options.maxFrame)
    this.nextXid = options.nextXid
    this.stampCalls = options.stampCalls
    this.lastSend = this.lastRecv = options.now()
    // No write buffer until there is something to send (see `idle`).
    this.writer.release()
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** Calls sent and not yet answered. */
  get inFlight(): number {
    return this.size
  }

  /** The calls waiting for their replies, oldest first, for request timeouts. */
  waiting(): ReadonlyArray<Call> {
    return this.takeWaiting(false)
  }

  /** The waiting calls, oldest first; `clear` also empties the FIFO. */
  private takeWaiting(clear: boolean): Array<Call> {
    const out: Array<Call> = []
    const mask = this.calls.length - 1
    for (let i = 0; i < this.size; i++) {
      const slot = (this.head + i) & mask
      const call = this.calls[slot]
      if (call !== undefined) out.push(call)
      if (clear) this.calls[slot] = undefined
    }
    if (clear) this.head = this.size = 0
    return out
  }

  private enqueue(xid: number, call: Call): void {
    if (this.size === this.calls.length) this.grow()
    const slot = (this.head + this.size) & (this.calls.length - 1)
    this.calls[slot] = call
    this.xids[slot] = xid
    this.size++
  }

  private grow(): void {
    const cap = this.calls.length * 2
    const calls: Array<Call | undefined> = new Array(cap)
    const xids = new Int32Array(cap)
    const mask = this.calls.length - 1
    for (let i = 0; i < this.size; i++) {
      const from = (this.head + i) & mask
      calls[i] = this.calls[from]
      xids[i] = this.xids[from]!
    }
    this.calls = calls
    this.xids = xids
    this.head = 0
  }

  attach(channel: Channel): void {
    this.channel = channel
    if (this.closed) channel.close()
  }

  /**
   * Sends the ConnectRequest and reports the handshake's outcome once. Nothing else may be
   * written before the response: Java holds writes too, so an RST cannot eat an expiry reply.
   */
  startHandshake(request: Protocol.ConnectRequest, done: (h: Handshake) => void): void {
    this.handshake = done
    const at = this.writer.beginFrame()
    Protocol.writeConnectRequest(this.writer, request)
    this.writer.endFrame(at)
    this.flush()
  }

  // -- ChannelHandlers ------------------------------------------------------------------------

  onData = (chunk: Uint8Array): void => {
    if (this.closed) return
    this.lastRecv = this.now()
    const error = this.decoder.push(chunk, this.onFrame)
    if (error !== undefined) this.close(error.message, error)
  }

  onClose = (cause?: unknown): void => {
    this.close(this.closingSession ? "session closed" : "connection closed by peer", cause)
  }

  private onFrame = (buf: Uint8Array, start: number, end: number): void => {
    if (this.closed) return
    if (this.handshake !== undefined) {
      const done = this.handshake
      this.handshake = undefined
      if (end - start === 16) {
        // Not a ConnectResponse but a bare ReplyHeader: the server refused the handshake with an
        // error code (a read-only server asked for a new session answers NotReadOnly).
        const header = Protocol.decodeWith(buf, Protocol.readReplyHeader, start, end)
        const reason = header instanceof Protocol.DecodeError
          ? header.message
          : `the server refused the handshake with error ${header.err}${header.err === ErrorCode.NotReadOnly ? " (read-only server, no new sessions)" : ""}`
        done({ _tag: "Failed", reason })
        this.close(reason)
        return
      }
      const response = Protocol.decodeWith(buf, Protocol.readConnectResponse, start, end)
      const size = end - start
      if (response instanceof Protocol.DecodeError) {
        done({ _tag: "Failed", reason: response.message, cause: response })
        this.close(response.message, response)
      } else if ((size !== 36 && size !== 37) || response.passwd.length !== 16) {
        // A ConnectResponse is 36 or 37 bytes with a 16-byte password, expiry answers included.
        // Anything else is garbage: it must fail this attempt (retryable), never pass for an
        // expiry answer (timeOut <= 0), which would end a live session for good.
        const reason = `malformed ConnectResponse: ${size} bytes with a ${response.passwd.length}-byte password (expected 36 or 37 bytes, 16)`
        done({ _tag: "Failed", reason })
        this.close(reason)
      } else {
        done({ _tag: "Connected", response })
      }
      return
    }
    const r = this.reader.reset(buf, start, end)
    try {
      this.dispatch(r)
    } catch (e) {
      const reason = e instanceof DecodeFailure ? `malformed reply: ${e.reason}` : `reply handler failed: ${String(e)}`
      this.close(reason, e)
    }
  }

  private dispatch(r: JuteReader): void {
    const xid = r.int()
    // The zxid as two halves: a bigint per reply is an allocation, and it is only compared.
    const zxidHigh = r.highHalf()
    const zxidLow = r.lowHalf()
    const err = r.int()
    switch (xid) {
      case Protocol.Xid.Notification:
        this.events.onNotification(Protocol.readWatcherEvent(r))
        return
      case Protocol.Xid.Ping:
        return
      case Protocol.Xid.Auth:
        this.events.onAuthReply(err)
        return
    }
    if (this.size === 0) {
      throw new DecodeFailure(`reply with xid ${xid} while no request is waiting`)
    }
    const head = this.head
    const call = this.calls[head]
    if (call === undefined || this.xids[head] !== xid) {
      // Replies come in request order; anything else means the stream cannot be trusted.
      throw new DecodeFailure(`xid out of order: got ${xid}, expected ${this.xids[head]}`)
    }
    // Cleared so a long-lived FIFO does not pin finished calls.
    this.calls[head] = undefined
    this.head = (head + 1) & (this.calls.length - 1)
    if (--this.size === 0) this.idle()
    if (zxidHigh > this.zxidHigh || (zxidHigh === this.zxidHigh && zxidLow > this.zxidLow)) {
      this.zxidHigh = zxidHigh
      this.zxidLow = zxidLow
    }
    if (call.done) return
    call.done = true
    try {
      call.reply(err, err === 0 ? r : undefined)
    } catch (e) {
      // The body did not decode: the caller still gets an answer, then the connection goes.
      call.abort(ErrorCode.ConnectionLoss, e instanceof DecodeFailure ? `malformed reply: ${e.reason}` : String(e), e)
      throw e
    }
  }

  // Highest zxid seen on this connection's FIFO replies, as signed high and unsigned low halves
  // (0 until a reply carries a positive one).
  private zxidHigh = 0
  private zxidLow = 0

  /** Highest zxid seen on this connection's FIFO replies; the session reads it after each reply. */
  get lastZxid(): bigint {
    return (BigInt(this.zxidHigh) << 32n) | BigInt(this.zxidLow)
  }

  // -- Sending --------------------------------------------------------------------------------

  /**
   * Writes a call into the shared buffer (sent at the end of the tick). A request whose frame
   * would exceed the server's limit is aborted with BadArguments and nothing of it is sent.
   */
  send(call: Call): void {
    if (this.closed) {
      call.done = true
      call.abort(ErrorCode.ConnectionLoss, "connection closed")
      return
    }
    const w = this.writer
    const at = w.beginFrame()
    const xid = this.nextXid()
    Protocol.writeRequestHeader(w, xid, call.op)
    call.write(w)
    const len = w.endFrame(at)
    if (len > this.maxRequest) {
      w.truncate(at)
      call.done = true
      call.abort(ErrorCode.BadArguments, `request of ${len} bytes exceeds the server's limit of ${this.maxRequest} (jute.maxbuffer)`)
      return
    }
    // Stamped only when request timeouts are on: a clock read per request is measurable.
    if (this.stampCalls) call.sentAt = this.now()
    this.enqueue(xid, call)
    this.scheduleFlush()
  }

  /** Sends an AuthPacket with xid -4; its reply comes out of band (docs/protocol.md#xids, #auth). */
  sendAuth(scheme: string, auth: Uint8Array): void {
    if (this.closed) return
    const w = this.writer
    const at = w.beginFrame()
    Protocol.writeRequestHeader(w, Protocol.Xid.Auth, Protocol.OpCode.Auth)
    Protocol.writeAuthPacket(w, scheme, auth)
    w.endFrame(at)
    this.scheduleFlush()
  }

  sendPing(): void {
    if (this.closed) return
    const w = this.writer
    const at = w.beginFrame()
    Protocol.writeRequestHeader(w, Protocol.Xid.Ping, Protocol.OpCode.Ping)
    w.endFrame(at)
    this.flush()
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    // A microtask runs after the current batch of fibers has written its requests.
    Promise.resolve().then(this.flush)
  }

  flush = (): void => {
    this.flushScheduled = false
    if (this.closed || this.channel === undefined || this.writer.pos === 0) return
    const w = this.writer
    w.sent(this.channel.write(w.written()) !== true)
    this.lastSend = this.now()
    this.idle()
  }

  /**
   * Nothing awaited and nothing to send: an idle connection keeps no write buffer (a process
   * may hold thousands of them). While requests are pipelined the buffer keeps its capacity;
   * a caller that sends one request at a time pays one small allocation per request.
   */
  private idle(): void {
    if (this.size === 0 && !this.flushScheduled) this.writer.release()
  }

  /**
   * Closes the connection and aborts every pending call with ConnectionLoss (the outcome of a
   * write in flight is unknown, so it is never retried behind the caller's back).
   */
  close(reason: string, cause?: unknown): void {
    if (this.closed) return
    this.closed = true
    this.channel?.close()
    if (this.handshake !== undefined) {
      const done = this.handshake
      this.handshake = undefined
      done({ _tag: "Failed", reason, cause })
    }
    const pending = this.takeWaiting(true)
    // The session first, the callers after: an aborted call resumes its fiber in place, and
    // whatever that fiber submits next must wait for the next connection, not hit this one.
    this.events.onClosed(reason, cause)
    for (const call of pending) {
      if (call.done) continue
      call.done = true
      if (this.closingSession && call.op === Protocol.OpCode.CloseSession) call.reply(0, undefined)
      else call.abort(ErrorCode.ConnectionLoss, reason, cause)
    }
  }
}

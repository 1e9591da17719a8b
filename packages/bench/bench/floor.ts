/**
 * The floor: the least a Node ZooKeeper client can do per request, written for the benchmark so
 * that every client can be reported as a ratio to it in the same run. Plain callbacks, no
 * Effect, no library. Everything a real client must do for these requests is here (framing, the
 * handshake, xids, the FIFO of pending replies, watches, pings, decoding the whole Stat); what a
 * real client adds beyond that (reconnects, SetWatches, validation, chroot, auth) is not.
 *
 * - One `FloorConnection` owns its socket, one write buffer and the FIFO of pending replies.
 * - Requests are encoded synchronously into the write buffer, which is flushed once per tick:
 *   256 pipelined requests issued from one batch of replies leave in one write.
 * - Plain TCP reads go into ONE buffer for the whole process (`onread`): every frame is decoded
 *   (and whatever is kept, copied) before the read callback returns, so no connection needs a
 *   read buffer of its own while it is idle.
 * - Replies are decoded in place from the read buffer into plain objects; strings take an ASCII
 *   fast path (child names are nearly always ASCII).
 * - One process-wide timer pings the connections that sent nothing for a third of their session
 *   timeout, instead of one timer per connection.
 *
 * The wire format is the one packages/core/src/Protocol.ts encodes: a
 * 4-byte big-endian length before every frame; requests `{xid, type}` + body; replies
 * `{xid, zxid, err}` + body (parsed only when err is 0); notifications carry xid -1, pings -2.
 */
import * as Net from "node:net"

/** A ZooKeeper error code (or a client-side failure) as an Error. */
export class FloorError extends Error {
  readonly code: number
  constructor(code: number, message?: string) {
    super(message ?? `ZooKeeper error ${code}`)
    this.code = code
  }
}

/** The codes this client produces itself. */
const CONNECTION_LOSS = -4
const SESSION_EXPIRED = -112

/** The node's Stat, all integers decoded (zxids and times fit in a double; a session id does not). */
export interface FloorStat {
  readonly czxid: number
  readonly mzxid: number
  readonly ctime: number
  readonly mtime: number
  readonly version: number
  readonly cversion: number
  readonly aversion: number
  readonly ephemeralOwner: bigint
  readonly dataLength: number
  readonly numChildren: number
  readonly pzxid: number
}

/**
 * The FIFO stores every kind of callback in one array; a method signature's parameters are
 * checked bivariantly, so each operation's own callback type fits without a cast.
 */
type Callback = { bivariant(error: FloorError | null, a?: unknown, b?: unknown): void }["bivariant"]
export type DataCallback = (error: FloorError | null, data?: Buffer | null, stat?: FloorStat) => void
export type StatCallback = (error: FloorError | null, stat?: FloorStat) => void
export type PathCallback = (error: FloorError | null, path?: string) => void
export type ChildrenCallback = (error: FloorError | null, children?: Array<string>, stat?: FloorStat) => void
export type VoidCallback = (error: FloorError | null) => void
/** A data watch: the event's type (1 created, 2 deleted, 3 data changed) and path. */
export type DataWatcher = (type: number, path: string) => void

/** Op codes used here, and how their reply bodies are decoded (the FIFO stores one of these). */
const Op = { create: 1, delete: 2, getData: 4, setData: 5, getChildren2: 12, ping: 11, closeSession: -11 } as const
const Reply = { none: 0, data: 1, stat: 2, path: 3, children: 4 } as const

// ---------------------------------------------------------------------------------------------
// Reading

const i32 = (b: Uint8Array, p: number): number => (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!

/** An i64 that fits in a double (zxids, times). */
const i64 = (b: Uint8Array, p: number): number => i32(b, p) * 4294967296 + (i32(b, p + 4) >>> 0)

const ZERO = BigInt(0)

/** An i64 that may not fit in a double (session ids); the common 0 costs nothing. */
const i64Big = (b: Buffer, p: number): bigint => (i32(b, p) === 0 && i32(b, p + 4) === 0 ? ZERO : b.readBigInt64BE(p))

const readStat = (b: Buffer, p: number): FloorStat => ({
  czxid: i64(b, p),
  mzxid: i64(b, p + 8),
  ctime: i64(b, p + 16),
  mtime: i64(b, p + 24),
  version: i32(b, p + 32),
  cversion: i32(b, p + 36),
  aversion: i32(b, p + 40),
  ephemeralOwner: i64Big(b, p + 44),
  dataLength: i32(b, p + 52),
  numChildren: i32(b, p + 56),
  pzxid: i64(b, p + 60)
})

type Slice = (this: Buffer, start: number, end: number) => string

const isSlice = (f: unknown): f is Slice => typeof f === "function"

/**
 * Buffer's own latin1 decoder, called directly: `toString("latin1", s, e)` first normalises its
 * arguments and looks the encoding up, which cost about as much as the decoding of a 15-byte name.
 */
const latin1Slice: Slice = ((f) => (isSlice(f) ? f : function(this: Buffer, s, e) {
  return this.toString("latin1", s, e)
}))(Reflect.get(Buffer.prototype, "latin1Slice"))

/** UTF-8 from `s` to `e`, one native slice; ASCII (nearly every ZooKeeper name) as latin1, which skips validation. */
const text = (b: Buffer, s: number, e: number): string => {
  for (let i = s; i < e; i++) if (b[i]! >= 0x80) return b.toString("utf8", s, e)
  return latin1Slice.call(b, s, e)
}

/** The one buffer every plain-TCP connection of the process reads into (see the module comment). */
const readBuffer = Buffer.allocUnsafe(64 * 1024)

/** The write buffer of a connection with nothing to send. */
const EMPTY = Buffer.alloc(0)

/** Frames split across reads up to this size reuse the connection's assembly buffer. */
const KEEP_ASSEMBLY = 256 * 1024

// ---------------------------------------------------------------------------------------------
// Pings: one timer for the process

const live = new Set<FloorConnection>()
const SWEEP_MS = 1000
let sweeper: ReturnType<typeof setInterval> | undefined

const sweep = (): void => {
  for (const conn of live) conn.tick(SWEEP_MS)
}

const track = (conn: FloorConnection): void => {
  live.add(conn)
  if (sweeper === undefined) {
    sweeper = setInterval(sweep, SWEEP_MS)
    sweeper.unref()
  }
}

const untrack = (conn: FloorConnection): void => {
  live.delete(conn)
  if (live.size === 0 && sweeper !== undefined) {
    clearInterval(sweeper)
    sweeper = undefined
  }
}

// ---------------------------------------------------------------------------------------------

/** One session on one TCP connection. No reconnect: a lost connection fails everything pending. */
export class FloorConnection {
  private readonly socket: Net.Socket
  private timeoutMs = 0
  private nextXid = 1
  private closed = false
  private onClosed: Array<() => void> = []

  // The write buffer: requests of the current tick, flushed together; dropped while idle.
  private out: Buffer = EMPTY
  private outLen = 0
  private flushScheduled = false
  private sentSinceTick = false
  private idleMs = 0

  // The FIFO of pending replies: a ring of parallel arrays (no object per request).
  private cap = 16
  private head = 0
  private size = 0
  private xids = new Int32Array(16)
  private kinds = new Uint8Array(16)
  private cbs: Array<Callback | undefined> = new Array(16)
  /** For a getData with a watch: the watcher to register once the reply succeeds. */
  private watchers: Array<DataWatcher | undefined> = new Array(16)
  private watchPaths: Array<string | undefined> = new Array(16)

  /** One-shot data watches by path: one function, or an array when several wait on a path. */
  private readonly dataWatches = new Map<string, DataWatcher | Array<DataWatcher>>()

  // A frame split across reads.
  private assembly: Buffer | undefined
  private partial: Buffer | undefined
  private partialLen = 0
  private prefix = EMPTY

  private onHandshake: ((error: Error | null) => void) | undefined
  /** Set when the stream is unusable: nothing more of it is decoded. */
  private aborted = false

  private constructor(host: string, port: number, requestedTimeoutMs: number, onReady: (error: Error | null) => void) {
    this.onHandshake = onReady
    this.socket = Net.connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: readBuffer,
        // Node passes `readBuffer` back; only its first n bytes are this read's.
        callback: (n: number) => {
          this.onRead(readBuffer, n)
          return true
        }
      }
    })
    this.socket.on("error", () => {})
    this.socket.on("close", () => this.lost())
    this.socket.once("connect", () => this.sendConnect(requestedTimeoutMs))
  }

  /** Connects and opens a new session; `cb` gets the connection once the server accepted it. */
  static connect(
    host: string,
    port: number,
    sessionTimeoutMs: number,
    cb: (error: Error | null, conn?: FloorConnection) => void
  ): void {
    const conn: FloorConnection = new FloorConnection(host, port, sessionTimeoutMs, (error) => (error === null ? cb(null, conn) : cb(error)))
  }

  // --- writing --------------------------------------------------------------------------------

  private ensure(n: number): void {
    if (this.outLen + n <= this.out.length) return
    const bigger = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.outLen + n, 1024))
    this.out.copy(bigger, 0, 0, this.outLen)
    this.out = bigger
  }

  private int(v: number): void {
    this.ensure(4)
    this.out.writeInt32BE(v, this.outLen)
    this.outLen += 4
  }

  /** A ustring: ASCII (every path here) is written one byte per char without a UTF-8 pass. */
  private string(s: string): void {
    const n = s.length
    this.ensure(4 + n * 3)
    const at = this.outLen
    const o = this.out
    let ascii = true
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) {
        ascii = false
        break
      }
      o[at + 4 + i] = c
    }
    const len = ascii ? n : o.write(s, at + 4, "utf8")
    o.writeInt32BE(len, at)
    this.outLen = at + 4 + len
  }

  private bytes(data: Uint8Array | null): void {
    if (data === null) return this.int(-1)
    this.ensure(4 + data.length)
    this.out.writeInt32BE(data.length, this.outLen)
    this.out.set(data, this.outLen + 4)
    this.outLen += 4 + data.length
  }

  private bool(v: boolean): void {
    this.ensure(1)
    this.out[this.outLen++] = v ? 1 : 0
  }

  /** Starts a frame: reserves the length prefix, writes the request header; returns where it starts. */
  private begin(xid: number, type: number): number {
    this.ensure(12)
    const at = this.outLen
    this.outLen += 4
    this.int(xid)
    this.int(type)
    return at
  }

  private end(at: number): void {
    this.out.writeInt32BE(this.outLen - at - 4, at)
    this.sentSinceTick = true
    if (!this.flushScheduled) {
      this.flushScheduled = true
      process.nextTick(this.flush)
    }
  }

  /** One write per tick. The buffer is reused when the kernel took it all; otherwise Node still holds it. */
  private readonly flush = (): void => {
    this.flushScheduled = false
    if (this.outLen === 0 || this.closed) return
    this.socket.write(this.out.subarray(0, this.outLen))
    this.outLen = 0
    if (this.socket.writableLength > 0) this.out = EMPTY
  }

  private sendConnect(timeoutMs: number): void {
    const at = this.outLen
    this.ensure(49)
    this.outLen += 4
    this.int(0) // protocolVersion
    this.int(0) // lastZxidSeen (i64)
    this.int(0)
    this.int(timeoutMs)
    this.int(0) // sessionId (i64): a new session
    this.int(0)
    this.bytes(new Uint8Array(16)) // passwd
    this.bool(false) // readOnly
    this.end(at)
  }

  /** Queues a request and its FIFO entry; returns the frame start for the body to follow. */
  private request(type: number, kind: number, cb: Callback | undefined, watcher?: DataWatcher, watchPath?: string): number {
    if (this.size === this.cap) this.grow()
    const xid = this.nextXid
    this.nextXid = xid === 0x7fffffff ? 1 : xid + 1
    const slot = (this.head + this.size) & (this.cap - 1)
    this.xids[slot] = xid
    this.kinds[slot] = kind
    this.cbs[slot] = cb
    if (watcher !== undefined) {
      this.watchers[slot] = watcher
      this.watchPaths[slot] = watchPath
    }
    this.size++
    return this.begin(xid, type)
  }

  private grow(): void {
    const cap = this.cap * 2
    const xids = new Int32Array(cap)
    const kinds = new Uint8Array(cap)
    const cbs: Array<Callback | undefined> = new Array(cap)
    const watchers: Array<DataWatcher | undefined> = new Array(cap)
    const watchPaths: Array<string | undefined> = new Array(cap)
    for (let i = 0; i < this.size; i++) {
      const from = (this.head + i) & (this.cap - 1)
      xids[i] = this.xids[from]!
      kinds[i] = this.kinds[from]!
      cbs[i] = this.cbs[from]
      watchers[i] = this.watchers[from]
      watchPaths[i] = this.watchPaths[from]
    }
    this.cap = cap
    this.head = 0
    this.xids = xids
    this.kinds = kinds
    this.cbs = cbs
    this.watchers = watchers
    this.watchPaths = watchPaths
  }

  private fail(cb: Callback | undefined, code: number): void {
    if (cb !== undefined) cb(new FloorError(code))
  }

  // --- operations -----------------------------------------------------------------------------

  getData(path: string, watcher: DataWatcher | undefined, cb: DataCallback): void {
    if (this.closed) return this.fail(cb, CONNECTION_LOSS)
    const at = this.request(Op.getData, Reply.data, cb, watcher, path)
    this.string(path)
    this.bool(watcher !== undefined)
    this.end(at)
  }

  /** create2 (the created path and its Stat); persistent, world-all ACL. */
  create(path: string, data: Uint8Array | null, cb: PathCallback): void {
    if (this.closed) return this.fail(cb, CONNECTION_LOSS)
    const at = this.request(15, Reply.path, cb)
    this.string(path)
    this.bytes(data)
    this.int(1) // one ACL
    this.int(31) // perms ALL
    this.string("world")
    this.string("anyone")
    this.int(0) // flags: persistent
    this.end(at)
  }

  setData(path: string, data: Uint8Array | null, version: number, cb: StatCallback): void {
    if (this.closed) return this.fail(cb, CONNECTION_LOSS)
    const at = this.request(Op.setData, Reply.stat, cb)
    this.string(path)
    this.bytes(data)
    this.int(version)
    this.end(at)
  }

  delete(path: string, version: number, cb: VoidCallback): void {
    if (this.closed) return this.fail(cb, CONNECTION_LOSS)
    const at = this.request(Op.delete, Reply.none, cb)
    this.string(path)
    this.int(version)
    this.end(at)
  }

  getChildren(path: string, cb: ChildrenCallback): void {
    if (this.closed) return this.fail(cb, CONNECTION_LOSS)
    const at = this.request(Op.getChildren2, Reply.children, cb)
    this.string(path)
    this.bool(false)
    this.end(at)
  }

  /** Ends the session (closeSession), then the connection. */
  close(cb: () => void): void {
    if (this.closed) return cb()
    this.onClosed.push(cb)
    const at = this.request(Op.closeSession, Reply.none, () => this.socket.destroy())
    this.end(at)
  }

  /** Called by the process-wide sweep: a ping after a third of the session timeout without sending. */
  tick(ms: number): void {
    if (this.sentSinceTick) {
      this.sentSinceTick = false
      this.idleMs = 0
      return
    }
    // Idle for a whole tick: an idle connection keeps no write buffer either.
    if (this.outLen === 0) this.out = EMPTY
    this.idleMs += ms
    if (this.timeoutMs > 0 && this.idleMs * 3 >= this.timeoutMs) {
      this.idleMs = 0
      this.end(this.begin(-2, Op.ping))
    }
  }

  // --- reading --------------------------------------------------------------------------------

  private onRead(b: Buffer, n: number): void {
    let pos = 0
    if (this.partial !== undefined || this.prefix.length > 0) pos = this.resume(b, n)
    while (pos < n && !this.aborted) {
      if (n - pos < 4) {
        this.prefix = Buffer.from(b.subarray(pos, n))
        return
      }
      const len = i32(b, pos)
      if (len < 0 || len > 16 * 1024 * 1024) return this.abort(`frame length ${len}`)
      pos += 4
      if (n - pos >= len) {
        this.frame(b, pos, pos + len)
        pos += len
      } else {
        this.startPartial(len)
        const take = n - pos
        this.partial!.set(b.subarray(pos, n), 0)
        this.partialLen = take
        return
      }
    }
  }

  private startPartial(len: number): void {
    if (this.assembly !== undefined && this.assembly.length >= len) {
      this.partial = this.assembly.subarray(0, len)
    } else {
      this.partial = Buffer.allocUnsafe(len)
      if (len <= KEEP_ASSEMBLY) this.assembly = this.partial
    }
    this.partialLen = 0
  }

  /** Continues a frame (or a length prefix) that began in an earlier read; returns where this read's next frame starts. */
  private resume(b: Buffer, n: number): number {
    let pos = 0
    if (this.prefix.length > 0) {
      const need = 4 - this.prefix.length
      if (n < need) {
        this.prefix = Buffer.concat([this.prefix, b.subarray(0, n)])
        return n
      }
      const len = i32(Buffer.concat([this.prefix, b.subarray(0, need)]), 0)
      this.prefix = EMPTY
      pos = need
      if (len < 0 || len > 16 * 1024 * 1024) {
        this.abort(`frame length ${len}`)
        return n
      }
      this.startPartial(len)
    }
    const partial = this.partial!
    const take = Math.min(partial.length - this.partialLen, n - pos)
    partial.set(b.subarray(pos, pos + take), this.partialLen)
    this.partialLen += take
    pos += take
    if (this.partialLen === partial.length) {
      this.partial = undefined
      this.frame(partial, 0, partial.length)
    }
    return pos
  }

  private frame(b: Buffer, s: number, e: number): void {
    if (this.onHandshake !== undefined) return this.handshake(b, s, e)
    const xid = i32(b, s)
    const err = i32(b, s + 12)
    if (xid === -1) return this.event(b, s + 16)
    if (xid === -2) return
    if (this.size === 0 || this.xids[this.head] !== xid) return this.abort(`reply xid ${xid} out of order`)
    const slot = this.head
    const kind = this.kinds[slot]!
    const cb = this.cbs[slot]
    const watcher = this.watchers[slot]
    const watchPath = this.watchPaths[slot]
    this.cbs[slot] = undefined
    if (watcher !== undefined) {
      this.watchers[slot] = undefined
      this.watchPaths[slot] = undefined
    }
    this.head = (slot + 1) & (this.cap - 1)
    this.size--
    if (cb === undefined) return
    if (err !== 0) return cb(new FloorError(err))
    const p = s + 16
    switch (kind) {
      case Reply.none:
        return cb(null)
      case Reply.data: {
        const len = i32(b, p)
        let data: Buffer | null = null
        if (len >= 0) {
          data = Buffer.allocUnsafe(len)
          b.copy(data, 0, p + 4, p + 4 + len)
        }
        const stat = readStat(b, p + 4 + Math.max(len, 0))
        if (watcher !== undefined && watchPath !== undefined) this.addDataWatch(watchPath, watcher)
        return cb(null, data, stat)
      }
      case Reply.stat:
        return cb(null, readStat(b, p))
      case Reply.path: {
        const len = i32(b, p)
        return cb(null, text(b, p + 4, p + 4 + len))
      }
      case Reply.children: {
        const count = i32(b, p)
        const names: Array<string> = new Array(Math.max(count, 0))
        let q = p + 4
        for (let i = 0; i < count; i++) {
          const len = i32(b, q)
          q += 4
          names[i] = text(b, q, q + len)
          q += len
        }
        return cb(null, names, readStat(b, q))
      }
    }
  }

  private addDataWatch(path: string, watcher: DataWatcher): void {
    const existing = this.dataWatches.get(path)
    if (existing === undefined) this.dataWatches.set(path, watcher)
    else if (typeof existing === "function") this.dataWatches.set(path, [existing, watcher])
    else existing.push(watcher)
  }

  /** A WatcherEvent `{type, state, path}`: data watches fire on created (1), deleted (2) and data changed (3). */
  private event(b: Buffer, p: number): void {
    const type = i32(b, p)
    const len = i32(b, p + 8)
    const path = text(b, p + 12, p + 12 + len)
    if (type < 1 || type > 3) return
    const watchers = this.dataWatches.get(path)
    if (watchers === undefined) return
    this.dataWatches.delete(path)
    if (typeof watchers === "function") watchers(type, path)
    else for (const w of watchers) w(type, path)
  }

  /** ConnectResponse `{protocolVersion, timeOut, sessionId, passwd[, readOnly]}`. */
  private handshake(b: Buffer, s: number, _e: number): void {
    const done = this.onHandshake!
    this.onHandshake = undefined
    const timeout = i32(b, s + 4)
    if (timeout <= 0) {
      this.socket.destroy()
      return done(new FloorError(SESSION_EXPIRED, "the server refused the session"))
    }
    this.timeoutMs = timeout
    track(this)
    done(null)
  }

  private abort(reason: string): void {
    this.aborted = true
    this.socket.destroy(new Error(reason))
  }

  private lost(): void {
    if (this.closed) return
    this.closed = true
    untrack(this)
    const handshake = this.onHandshake
    this.onHandshake = undefined
    if (handshake !== undefined) handshake(new FloorError(CONNECTION_LOSS, "connection closed before the session was established"))
    while (this.size > 0) {
      const cb = this.cbs[this.head]
      this.cbs[this.head] = undefined
      this.head = (this.head + 1) & (this.cap - 1)
      this.size--
      if (cb !== undefined) cb(new FloorError(CONNECTION_LOSS))
    }
    this.dataWatches.clear()
    for (const cb of this.onClosed) cb()
    this.onClosed = []
  }
}

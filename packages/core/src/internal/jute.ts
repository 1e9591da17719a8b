/**
 * Jute, ZooKeeper's serialization: big-endian integers, length-prefixed buffers and strings
 * (-1 = null), counted vectors, and records as their fields in order (docs/protocol.md#framing).
 *
 * The reader is bounds-checked on every read. It throws a `DecodeFailure`, which never leaves
 * the codec: `Protocol` catches it at the frame boundary and returns a typed error. Throwing
 * inside keeps the per-field code free of result plumbing on the hot path.
 *
 * @internal
 */
import * as Utf8 from "./utf8.ts"

/** Thrown by `JuteReader` on malformed input; caught by the codec, never seen by users. */
export class DecodeFailure {
  readonly reason: string
  constructor(reason: string) {
    this.reason = reason
  }
}

const fail = (reason: string): never => {
  throw new DecodeFailure(reason)
}

/**
 * Reads jute fields from `buf[pos, end)`, advancing `pos`. A connection keeps one reader and
 * points it at each frame with `reset`: a frame is a view of the chunk it arrived in, and a
 * DataView per frame cost more than decoding a small reply's header.
 */
export class JuteReader {
  buf: Uint8Array
  view: DataView
  pos: number
  end: number

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    this.pos = start
    this.end = end
  }

  /** Points the reader at `buf[start, end)`, keeping its DataView when `buf` starts where it did. */
  reset(buf: Uint8Array, start: number, end: number): this {
    if (buf !== this.buf) {
      // Every read of a connection is a fresh view of the same read buffer: same memory, same offset.
      if (buf.buffer !== this.view.buffer || buf.byteOffset !== this.view.byteOffset || buf.byteLength > this.view.byteLength) {
        this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
      }
      this.buf = buf
    }
    this.pos = start
    this.end = end
    return this
  }

  get remaining(): number {
    return this.end - this.pos
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) fail(`truncated ${what}: need ${n} bytes, ${this.end - this.pos} left`)
  }

  /** A 32-bit big-endian signed int. */
  int(): number {
    this.need(4, "int")
    const v = this.view.getInt32(this.pos)
    this.pos += 4
    return v
  }

  /** A 64-bit big-endian signed long. */
  long(): bigint {
    this.need(8, "long")
    const v = this.view.getBigInt64(this.pos)
    this.pos += 8
    return v
  }

  /**
   * The high half (signed) of a long, for comparing one without building a bigint; `lowHalf`
   * reads the rest. Checked as the whole long, so a truncated one reads as one.
   */
  highHalf(): number {
    this.need(8, "long")
    return this.int()
  }

  /** The low half (unsigned) of the long whose high half was just read. */
  lowHalf(): number {
    this.need(4, "long")
    return this.int() >>> 0
  }

  /** A one-byte boolean (any non-zero byte is true). */
  bool(): boolean {
    this.need(1, "boolean")
    return this.buf[this.pos++] !== 0
  }

  /** A length prefix: -1 (null) or a count that fits in what is left of the frame. */
  private length(what: string, minElementSize: number): number {
    const n = this.int()
    if (n < -1) fail(`negative ${what} length ${n}`)
    // Checked before any allocation, so a lying prefix cannot make us allocate beyond the frame.
    if (n > 0 && n * minElementSize > this.end - this.pos) {
      fail(`${what} length ${n} exceeds the ${this.end - this.pos} bytes left in the frame`)
    }
    return n
  }

  /**
   * A buffer, copied out of the frame so it never pins the read buffer. `null` for -1. Small
   * ones are views of a shared slab; `own` gives memory of its own, for bytes kept for a
   * session's life (its password), which would otherwise keep a whole slab alive.
   */
  buffer(own = false): Uint8Array | null {
    const n = this.length("buffer", 1)
    if (n === -1) return null
    const out = own ? this.buf.slice(this.pos, this.pos + n) : copyOut(this.buf, this.pos, n)
    this.pos += n
    return out
  }

  /** A length-prefixed UTF-8 string; length -1 reads as `null`. */
  ustring(): string | null {
    const n = this.length("string", 1)
    if (n === -1) return null
    const s = Utf8.decode(this.buf, this.pos, this.pos + n)
    this.pos += n
    return s
  }

  /** A string the protocol never sends as null; null is read as "". */
  string(): string {
    return this.ustring() ?? ""
  }

  /** A vector; null (-1) reads as empty. `minElementSize` bounds the count before allocating. */
  vector<T>(minElementSize: number, read: (r: JuteReader) => T): Array<T> {
    const n = this.length("vector", minElementSize)
    const out: Array<T> = []
    for (let i = 0; i < n; i++) out.push(read(this))
    return out
  }

  /**
   * A vector of strings (child names). A large all-ASCII one is decoded a run of names at a
   * time, each run in one native call, then sliced into names (V8 shares the characters for
   * names of 13+ chars, so a name keeps its run's string alive). Runs stay small enough for the
   * young generation: one string for a whole 10,000-name reply would be a large object that only
   * a full GC frees, which measured at +15 MB of peak RSS. Anything unusual (a non-ASCII name, a
   * null entry, a malformed length) takes the per-string path, which also produces the exact
   * decoding errors.
   */
  stringVector(): Array<string> {
    const start = this.pos
    const n = this.length("vector", 4)
    if (n >= BULK_NAMES) {
      const names = this.bulkNames(n)
      if (names !== undefined) return names
    }
    this.pos = start
    return this.vector(4, readString)
  }

  private bulkNames(n: number): Array<string> | undefined {
    const { buf, view, end } = this
    const names = new Array<string>(n)
    let runStart = this.pos
    let runFirst = 0
    let p = runStart
    for (let i = 0; i < n;) {
      if (p + 4 > end) return undefined
      const len = view.getInt32(p)
      if (len < 0 || p + 4 + len > end) return undefined
      p += 4 + len
      i++
      if (p - runStart < RUN_BYTES && i < n) continue
      const text = Utf8.asciiText(buf, runStart, p)
      if (text === undefined) return undefined
      let at = 0
      for (let k = runFirst; k < i; k++) {
        const nameLength = view.getInt32(runStart + at)
        at += 4
        names[k] = text.slice(at, at + nameLength)
        at += nameLength
      }
      runStart = p
      runFirst = i
    }
    this.pos = p
    return names
  }
}

/**
 * Small buffers are copied into a shared slab and handed out as views of it, as Node's
 * `Buffer.allocUnsafe` does with its pool: a typed array of its own over 64 bytes gets a
 * separately allocated backing store, which measured at about 0.4 us per 100-byte getData
 * reply against 0.08 us for a slab view. A held view keeps its slab (at most `SLAB_BYTES`)
 * alive; larger buffers get memory of their own.
 */
const SLAB_BYTES = 8 * 1024
const SLAB_MAX_COPY = SLAB_BYTES / 2
let slab = new Uint8Array(0)
let slabPos = 0

const copyOut = (buf: Uint8Array, start: number, n: number): Uint8Array => {
  if (n > SLAB_MAX_COPY) return buf.slice(start, start + n)
  if (slabPos + n > slab.length) {
    slab = new Uint8Array(SLAB_BYTES)
    slabPos = 0
  }
  const at = slabPos
  // 8-byte aligned, as Node aligns its pool, so a caller may put a wider typed array over it.
  slabPos = (at + n + 7) & ~7
  const out = slab.subarray(at, at + n)
  out.set(buf.subarray(start, start + n))
  return out
}

/** Below this many names a string per name costs less than decoding runs and slicing them. */
const BULK_NAMES = 64

/** Bytes per decoded run: well under V8's large-object size, so runs die young. */
const RUN_BYTES = 16 * 1024

const readString = (r: JuteReader): string => r.string()

/**
 * Appends jute fields to one growable buffer. Frames are written in place: `beginFrame`
 * reserves the length prefix and `endFrame` fills it in, so a request is encoded once, with no
 * intermediate copies, and many requests can share one buffer and one socket write.
 */
const EMPTY = new Uint8Array(0)
const EMPTY_VIEW = new DataView(EMPTY.buffer)

/**
 * Buffers released by idle writers, for the next writer that starts writing again: a
 * connection that goes idle after each request (one request at a time) then costs no fresh
 * ArrayBuffer per request, and an idle connection still holds none of its own.
 */
const spare: Array<{ readonly buf: Uint8Array; readonly view: DataView }> = []
const SPARE_MAX = 64

export class JuteWriter {
  buf: Uint8Array
  view: DataView
  pos = 0
  /** The capacity a released (empty) writer starts again with. */
  private readonly initialSize: number

  constructor(initialSize = 1024) {
    this.initialSize = initialSize
    this.buf = new Uint8Array(initialSize)
    this.view = new DataView(this.buf.buffer)
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    if (this.buf.length === 0) {
      // A released writer is empty (`pos` 0); a spare too small for `n` is simply dropped.
      const reused = spare.pop()
      if (reused !== undefined && reused.buf.length >= n) {
        this.buf = reused.buf
        this.view = reused.view
        return
      }
    }
    // At least 16: doubling a zero-capacity buffer (`new JuteWriter(0)`) would loop forever.
    let size = Math.max(this.buf.length * 2, this.initialSize, 16)
    while (size < this.pos + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  /** Appends a 32-bit big-endian int. */
  int(v: number): this {
    this.ensure(4)
    this.view.setInt32(this.pos, v)
    this.pos += 4
    return this
  }

  /** Appends a 64-bit big-endian long (wrapped to signed 64 bits). */
  long(v: bigint): this {
    this.ensure(8)
    this.view.setBigInt64(this.pos, BigInt.asIntN(64, v))
    this.pos += 8
    return this
  }

  /** Appends a one-byte boolean. */
  bool(v: boolean): this {
    this.ensure(1)
    this.buf[this.pos++] = v ? 1 : 0
    return this
  }

  /** Appends a length-prefixed byte buffer; `null` is written as length -1. */
  buffer(v: Uint8Array | null): this {
    if (v === null) return this.int(-1)
    this.ensure(4 + v.length)
    this.view.setInt32(this.pos, v.length)
    this.buf.set(v, this.pos + 4)
    this.pos += 4 + v.length
    return this
  }

  /** Appends a length-prefixed UTF-8 string; `null` is written as length -1. */
  ustring(v: string | null): this {
    if (v === null) return this.int(-1)
    // Worst case 3 bytes per UTF-16 unit; measuring first would walk the string twice.
    this.ensure(4 + v.length * 3)
    const end = Utf8.encodeInto(v, this.buf, this.pos + 4)
    this.view.setInt32(this.pos, end - this.pos - 4)
    this.pos = end
    return this
  }

  /** A vector; always a count (0 for empty), never -1: the server rejects null lists. */
  vector<T>(items: ReadonlyArray<T>, write: (w: JuteWriter, item: T) => void): this {
    this.int(items.length)
    for (const item of items) write(this, item)
    return this
  }

  /** Appends a vector of strings (a count, then each string). */
  stringVector(items: ReadonlyArray<string>): this {
    return this.vector(items, writeString)
  }

  /** Reserves the 4-byte length prefix of a frame; returns the position to pass to `endFrame`. */
  beginFrame(): number {
    const at = this.pos
    this.int(0)
    return at
  }

  /** Fills in the length prefix reserved at `at`; returns the frame's body length. */
  endFrame(at: number): number {
    const len = this.pos - at - 4
    this.view.setInt32(at, len)
    return len
  }

  /** Drops everything written after `at` (a frame that turned out too large). */
  truncate(at: number): void {
    this.pos = at
  }

  /**
   * Gives the memory back while nothing is being written, so an idle connection keeps no
   * buffer at all; the next write takes a spare buffer, or allocates `initialSize` bytes.
   */
  release(): void {
    if (this.pos !== 0 || this.buf.length === 0) return
    // Only a buffer of the starting size is pooled: one grown by a burst is let go.
    if (this.buf.length === this.initialSize && spare.length < SPARE_MAX) spare.push({ buf: this.buf, view: this.view })
    this.buf = EMPTY
    this.view = EMPTY_VIEW
  }

  /** The bytes written so far, as a view of the buffer (no copy): hand them out, then call `sent`. */
  written(): Uint8Array {
    return this.buf.subarray(0, this.pos)
  }

  /**
   * Empties the writer after `written()` went out. `kept`: the receiver still holds those
   * bytes (a socket that could not write them at once), so the next frames go into fresh
   * memory of the same size instead of over them. Otherwise the buffer is reused, so a
   * pipelined burst neither copies nor allocates per flush.
   */
  sent(kept: boolean): void {
    this.pos = 0
    if (!kept) return
    this.buf = new Uint8Array(this.buf.length)
    this.view = new DataView(this.buf.buffer)
  }

  /** The bytes written so far, copied; the writer is then empty and keeps its capacity. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.pos)
    this.pos = 0
    return out
  }
}

const writeString = (w: JuteWriter, s: string): void => {
  w.ustring(s)
}

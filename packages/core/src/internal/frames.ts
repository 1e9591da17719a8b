/**
 * Framing: the 4-byte length prefix that delimits every request and reply, and the decoder
 * that cuts a byte stream into frames. It lives apart from the record codecs in `Protocol`
 * because it is stream state (a frame split across reads, a reused assembly buffer), while
 * every record codec is a pure function of one frame's bytes. `Protocol` re-exports it.
 *
 * @internal
 */
import * as Data from "effect/Data"

/**
 * Default limit for incoming frames. A little above 1 MiB, because the server does not bound
 * its own replies: a getData of a node just under the limit comes back with a header and a
 * Stat on top (docs/protocol.md#framing).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_FRAME = 0x100000 + 64 * 1024

/**
 * A frame or record that could not be decoded: truncated, oversized or malformed. The session
 * treats it as a broken connection.
 *
 * @since 0.1.0
 * @category errors
 */
export class DecodeError extends Data.TaggedError("DecodeError")<{
  readonly reason: string
}> {
  override get message(): string {
    return `malformed ZooKeeper frame: ${this.reason}`
  }
}

/**
 * Split frames up to this size reuse one buffer (a 10,000-name getChildren reply is about
 * 190 KB); a bigger one gets its own, so a single 1 MB reply does not pin 1 MB for the rest of
 * the process's life.
 */
const KEEP_ASSEMBLY = 256 * 1024

/**
 * The process's spare assembly buffer. A decoder borrows it for one split frame and gives it
 * back once the frame was handed out, so an idle connection holds no assembly buffer at all,
 * and a busy one reuses the same memory frame after frame. Two frames split at the same time
 * (on two connections) simply make the second decoder allocate its own.
 */
let spareAssembly: Uint8Array | undefined = undefined

const borrowAssembly = (len: number): Uint8Array => {
  const spare = spareAssembly
  if (spare !== undefined && spare.length >= len) {
    spareAssembly = undefined
    return spare
  }
  return new Uint8Array(len)
}

const returnAssembly = (buffer: Uint8Array): void => {
  if (buffer.length > KEEP_ASSEMBLY) return
  if (spareAssembly === undefined || spareAssembly.length < buffer.length) spareAssembly = buffer
}

/**
 * Splits a byte stream into frames. Frames that arrive whole inside one chunk are handed out
 * as views of that chunk (no copy); only a frame split across chunks is assembled, in a buffer
 * sized once its length is known. A length prefix that is negative or above `maxFrame` is an
 * error before anything is allocated for it.
 *
 * A frame is only valid during its `onFrame` call: the assembly buffer is reused by the next
 * split frame, of this or another connection (decoders copy out what they keep). Allocating it
 * per frame cost a fresh mmap and its page faults on every large reply: 18% of a 10,000-name
 * getChildren's CPU.
 *
 * @since 0.1.0
 * @category decoding
 */
export class FrameDecoder {
  readonly maxFrame: number
  /** Bytes of a length prefix split across chunks. */
  private prefix = new Uint8Array(4)
  private prefixLen = 0
  /** The frame being assembled across chunks, if any: a view of `assembly`. */
  private partial: Uint8Array | undefined = undefined
  private partialLen = 0
  /** The borrowed buffer behind `partial`, returned once the frame is out. */
  private assembly: Uint8Array | undefined = undefined

  constructor(maxFrame: number = DEFAULT_MAX_FRAME) {
    this.maxFrame = maxFrame
  }

  /** True while a frame is only partly received. */
  get pending(): boolean {
    return this.prefixLen > 0 || this.partial !== undefined
  }

  /**
   * Feeds a chunk; calls `onFrame(buf, start, end)` for each complete frame body, in order.
   * Returns a `DecodeError` on an invalid length prefix (the stream is then unusable).
   */
  push(chunk: Uint8Array, onFrame: (buf: Uint8Array, start: number, end: number) => void): DecodeError | undefined {
    let pos = 0
    const n = chunk.length
    while (pos < n) {
      if (this.partial !== undefined) {
        const take = Math.min(this.partial.length - this.partialLen, n - pos)
        this.partial.set(chunk.subarray(pos, pos + take), this.partialLen)
        this.partialLen += take
        pos += take
        if (this.partialLen === this.partial.length) {
          const frame = this.partial
          const assembly = this.assembly ?? frame
          this.partial = undefined
          this.assembly = undefined
          this.partialLen = 0
          try {
            onFrame(frame, 0, frame.length)
          } finally {
            returnAssembly(assembly)
          }
        }
        continue
      }
      let len: number
      if (this.prefixLen > 0 || n - pos < 4) {
        while (this.prefixLen < 4 && pos < n) this.prefix[this.prefixLen++] = chunk[pos++]!
        if (this.prefixLen < 4) return undefined
        this.prefixLen = 0
        len = ((this.prefix[0]! << 24) | (this.prefix[1]! << 16) | (this.prefix[2]! << 8) | this.prefix[3]!) | 0
      } else {
        len = ((chunk[pos]! << 24) | (chunk[pos + 1]! << 16) | (chunk[pos + 2]! << 8) | chunk[pos + 3]!) | 0
        pos += 4
      }
      if (len < 0 || len > this.maxFrame) {
        return new DecodeError({ reason: `frame length ${len} outside 0..${this.maxFrame}` })
      }
      if (n - pos >= len) {
        onFrame(chunk, pos, pos + len)
        pos += len
      } else {
        const assembly = borrowAssembly(len)
        this.assembly = assembly
        this.partial = assembly.length === len ? assembly : assembly.subarray(0, len)
        this.partialLen = 0
      }
    }
    return undefined
  }
}

/**
 * The decoder fuzzer shared by `test/Fuzz.test.ts` (a few thousand cases) and the soak script
 * (`packages/node/soak/soak.ts`, 100,000 and more). Seeded, so a failure is reproducible from its
 * seed and case number.
 *
 * Four kinds of case, in rotation:
 * - decoder: random and mutated golden bodies through every record decoder (`decodeWith`);
 * - stream: random and mutated streams of golden frames, cut at random, through `FrameDecoder`;
 * - connection: a `Connection` with a fake channel, a handshake, calls in flight, and a mutated
 *   reply stream (bit flips, lying lengths, unknown or swapped xids, garbage, truncation);
 * - huge prefix: a length prefix above the maximum, which must fail before anything is allocated.
 *
 * The invariants checked on every case: no exception escapes; no decoder "crashes" (only typed
 * DecodeErrors); no frame, partial buffer or decoded field larger than the frame that carried
 * it; each call is settled at most once, and every call is settled once the connection is
 * closed; an unmutated stream decodes exactly (the oracle). Every case is timed.
 */
import * as P from "../../src/Protocol.ts"
import { type Call, Connection } from "../../src/internal/connection.ts"
import type { JuteReader } from "../../src/internal/jute.ts"
import { goldens } from "../fixtures/goldens.ts"
import { prng } from "./prng.ts"
import { concat, fromHex, toHex as hex, toHexCut, int32 } from "./bytes.ts"

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  readonly cases: number
  readonly seed?: number | undefined
  /** Stop collecting failure messages after this many (the run goes on). Default 20. */
  readonly maxFailures?: number | undefined
}

/** What a run did and what broke. `failures` is empty when every invariant held. */
export interface FuzzReport {
  readonly seed: number
  cases: number
  readonly byKind: { decoder: number; stream: number; connection: number; hugePrefix: number }
  /** decodeWith calls, and how many returned a value or a DecodeError. */
  readonly decoder: { calls: number; ok: number; rejected: number }
  readonly stream: { frames: number; rejected: number; oracleRuns: number }
  readonly connection: {
    handshakesFailed: number
    closed: number
    stayedOpen: number
    callsReplied: number
    callsAborted: number
    notifications: number
    oracleRuns: number
    /** Close reasons, by their first words ("xid out of order", "malformed reply", ...). */
    reasons: Record<string, number>
  }
  readonly hugePrefix: { rejected: number; arrayBuffersGrowthBytes: number }
  /** The largest buffer a FrameDecoder held for a partial frame, in bytes. */
  largestPartial: number
  maxCaseMillis: number
  millis: number
  failures: Array<string>
}

// ---------------------------------------------------------------------------------------------
// Bytes

const toHex = (b: Uint8Array): string => toHexCut(b, 96)

// ---------------------------------------------------------------------------------------------
// Decoders by opcode, as the ZooKeeper service reads each reply body

const none = (): undefined => undefined
const readReconfig = (r: JuteReader) => ({ config: P.readBuffer(r), stat: P.readStat(r) })

const bodyReaders: ReadonlyArray<readonly [string, (r: JuteReader) => unknown]> = [
  ["Stat", P.readStat],
  ["Id", P.readId],
  ["ACL", P.readACL],
  ["ConnectResponse", P.readConnectResponse],
  ["ReplyHeader", P.readReplyHeader],
  ["WatcherEvent", P.readWatcherEvent],
  ["Path", P.readPath],
  ["Create2Response", P.readCreate2Response],
  ["GetDataResponse", P.readGetDataResponse],
  ["GetACLResponse", P.readGetACLResponse],
  ["Children", P.readChildren],
  ["Children2Response", P.readChildren2Response],
  ["Int", P.readInt],
  ["WhoAmIResponse", P.readWhoAmIResponse],
  ["Buffer", P.readBuffer],
  ["MultiResponse", P.readMultiResponse],
  ["Reconfig", readReconfig],
  // Whole reply frames: the header, then the body the header's xid would select.
  ["ReplyHeader+GetData", (r) => [P.readReplyHeader(r), P.readGetDataResponse(r)]],
  ["ReplyHeader+Multi", (r) => [P.readReplyHeader(r), P.readMultiResponse(r)]],
  ["ReplyHeader+WatcherEvent", (r) => [P.readReplyHeader(r), P.readWatcherEvent(r)]]
]

const readerForOp: Readonly<Record<number, (r: JuteReader) => unknown>> = {
  [P.OpCode.Create]: P.readPath,
  [P.OpCode.Create2]: P.readCreate2Response,
  [P.OpCode.CreateContainer]: P.readCreate2Response,
  [P.OpCode.CreateTTL]: P.readCreate2Response,
  [P.OpCode.Delete]: none,
  [P.OpCode.Exists]: P.readStat,
  [P.OpCode.GetData]: P.readGetDataResponse,
  [P.OpCode.SetData]: P.readStat,
  [P.OpCode.GetACL]: P.readGetACLResponse,
  [P.OpCode.SetACL]: P.readStat,
  [P.OpCode.GetChildren]: P.readChildren,
  [P.OpCode.GetChildren2]: P.readChildren2Response,
  [P.OpCode.Sync]: P.readPath,
  [P.OpCode.Multi]: P.readMultiResponse,
  [P.OpCode.MultiRead]: P.readMultiResponse,
  [P.OpCode.GetAllChildrenNumber]: P.readInt,
  [P.OpCode.WhoAmI]: P.readWhoAmIResponse,
  [P.OpCode.GetEphemerals]: P.readChildren,
  [P.OpCode.SetWatches]: none,
  [P.OpCode.CloseSession]: none,
  [P.OpCode.AddWatch]: none,
  [P.OpCode.Sasl]: P.readBuffer,
  [P.OpCode.Reconfig]: readReconfig
}

/** Golden replies that answer a FIFO call: their opcode and frame. */
const fifoReplies: ReadonlyArray<{ readonly name: string; readonly op: number; readonly frame: Uint8Array }> = Object.entries(goldens)
  .flatMap(([name, g]) =>
    "op" in g && "xid" in g && g.xid > 0 && g.op !== P.OpCode.Auth && readerForOp[g.op] !== undefined
      ? [{ name, op: g.op, frame: fromHex(g.replyHex) }]
      : []
  )
const connectFrame = fromHex(goldens.connect.replyHex)
const notificationFrame = fromHex(goldens.notification.replyHex)
const pingFrame = fromHex(goldens.ping.replyHex)
const authFrame = fromHex(goldens.auth.replyHex)
const allFrames: ReadonlyArray<Uint8Array> = [
  connectFrame,
  notificationFrame,
  pingFrame,
  authFrame,
  fromHex(goldens.setWatches.replyHex),
  ...fifoReplies.map((r) => r.frame)
]
const largestGolden = Math.max(...allFrames.map((f) => f.length - 4))

// ---------------------------------------------------------------------------------------------
// Generators

type Gen = ReturnType<typeof makeGen>

const EDGE_INTS = [0, 1, -1, -2, -4, -8, 2, 3, 4, 8, 12, 15, 16, 0x7fffffff, -0x80000000, 0x7ffffffe, 0xfffff, 0x100000, 0x110000, 255, 256]
const EDGE_BYTES = [0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe]

const makeGen = (seed: number) => {
  const rand = prng(seed)
  const below = (n: number): number => Math.floor(rand() * n)
  const pick = <A>(xs: ReadonlyArray<A>): A => xs[below(xs.length)]!
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => below(256))
  /** Garbage with structure: plausible lengths, counts and types mixed with random bytes. */
  const structured = (max: number): Uint8Array => {
    const parts: Array<number> = []
    const n = below(max)
    while (parts.length < n) {
      const k = rand()
      if (k < 0.4) parts.push(...int32(pick(EDGE_INTS)))
      else if (k < 0.5) parts.push(below(2))
      else parts.push(below(256))
    }
    return Uint8Array.from(parts)
  }
  return { rand, below, pick, bytes, structured }
}

/** One random change to `input`; `starts` are frame offsets, for mutations aimed at a length or an xid. */
const mutate = (g: Gen, input: Uint8Array, starts: ReadonlyArray<number>): { readonly bytes: Uint8Array; readonly how: string } => {
  const n = input.length
  const at = n === 0 ? 0 : g.below(n)
  const copy = () => input.slice()
  switch (g.below(10)) {
    case 0: {
      const out = copy()
      const flips = 1 + g.below(4)
      for (let i = 0; i < flips && n > 0; i++) out[g.below(n)]! ^= 1 << g.below(8)
      return { bytes: out, how: `flip ${flips} bits` }
    }
    case 1: {
      const out = copy()
      if (n > 0) out[at] = g.pick(EDGE_BYTES)
      return { bytes: out, how: `edge byte at ${at}` }
    }
    case 2: {
      // A frame's length prefix (offset 0) or its xid (offset 4) replaced by an edge value.
      const out = copy()
      const start = (starts.length > 0 ? g.pick(starts) : 0) + (g.rand() < 0.5 ? 0 : 4)
      const value = g.pick(EDGE_INTS)
      if (start + 4 <= n) out.set(int32(value), start)
      return { bytes: out, how: `int ${value} at ${start}` }
    }
    case 3:
      return { bytes: input.slice(0, at), how: `truncated at ${at}` }
    case 4: {
      const garbage = g.rand() < 0.5 ? g.bytes(1 + g.below(12)) : g.structured(24)
      return { bytes: concat([input.subarray(0, at), garbage, input.subarray(at)]), how: `${garbage.length} garbage bytes at ${at}` }
    }
    case 5: {
      const len = 1 + g.below(Math.max(1, Math.min(16, n - at)))
      return { bytes: concat([input.subarray(0, at), input.subarray(at + len)]), how: `${len} bytes deleted at ${at}` }
    }
    case 6: {
      // A length prefix that claims more than any frame may hold, then a little of a body.
      const prefix = g.pick([0x7fffffff, 0x40000000, P.DEFAULT_MAX_FRAME + 1, -1, -0x80000000])
      const start = starts.length > 0 ? g.pick(starts) : 0
      return {
        bytes: concat([input.subarray(0, start), Uint8Array.from(int32(prefix)), g.bytes(g.below(8)), input.subarray(start)]),
        how: `length ${prefix} inserted at ${start}`
      }
    }
    case 7: {
      // A whole frame repeated: a duplicate reply, or one with no request waiting.
      if (starts.length === 0) return { bytes: copy(), how: "no frame to repeat" }
      const i = g.below(starts.length)
      const start = starts[i]!
      const end = starts[i + 1] ?? n
      return { bytes: concat([input.subarray(0, end), input.subarray(start, end), input.subarray(end)]), how: `frame at ${start} repeated` }
    }
    case 8: {
      // Two adjacent frames swapped: replies out of order.
      if (starts.length < 2) return { bytes: copy(), how: "no frames to swap" }
      const i = g.below(starts.length - 1)
      const a = starts[i]!
      const b = starts[i + 1]!
      const c = starts[i + 2] ?? n
      return { bytes: concat([input.subarray(0, a), input.subarray(b, c), input.subarray(a, b), input.subarray(c)]), how: `frames at ${a} and ${b} swapped` }
    }
    default: {
      const out = copy()
      const k = 1 + g.below(8)
      for (let i = 0; i < k && n > 0; i++) out[g.below(n)] = g.below(256)
      return { bytes: out, how: `${k} random bytes` }
    }
  }
}

/** Cuts `stream` into random chunks: single bytes, small pieces, or large slices. */
const chunked = (g: Gen, stream: Uint8Array): Array<Uint8Array> => {
  const chunks: Array<Uint8Array> = []
  const style = g.below(3)
  for (let at = 0; at < stream.length;) {
    const size = style === 0 ? 1 + g.below(3) : style === 1 ? 1 + g.below(40) : 1 + g.below(600)
    // Fresh copies, as a socket delivers: a frame view must not outlive its chunk unnoticed.
    chunks.push(stream.slice(at, at + size))
    at += size
  }
  return chunks
}

// ---------------------------------------------------------------------------------------------
// Invariant helpers

/** The largest string, byte array or array length anywhere in a decoded value. */
const largestField = (value: unknown, depth = 0): number => {
  if (depth > 8 || value === null || value === undefined) return 0
  if (typeof value === "string") return value.length
  if (value instanceof Uint8Array) return value.length
  if (Array.isArray(value)) return Math.max(value.length, ...value.map((v) => largestField(v, depth + 1)))
  if (typeof value === "object") return Math.max(0, ...Object.values(value).map((v) => largestField(v, depth + 1)))
  return 0
}

const partialOf = (decoder: P.FrameDecoder): number => {
  const partial: unknown = Reflect.get(decoder, "partial")
  return partial instanceof Uint8Array ? partial.length : 0
}

/** A close reason without its numbers: "xid out of order", "frame length", "truncated int", ... */
const reasonKey = (reason: string): string => {
  const bare = reason.replace(/^malformed reply: /, "").replace(/^malformed ZooKeeper frame: /, "")
  const m = /^(xid out of order|reply with xid|frame length|unknown multi result type|negative \w+ length|\w+ length|truncated \w+|the server refused the handshake|reply handler failed|test over)/.exec(bare)
  return m?.[1] ?? bare.slice(0, 40)
}

// ---------------------------------------------------------------------------------------------
// The run

/**
 * Runs `cases` fuzz cases. Async only to let the event loop breathe between batches (a soak
 * runs this next to live sessions); every case itself is synchronous.
 */
export const runFuzz = async (options: FuzzOptions): Promise<FuzzReport> => {
  const seed = options.seed ?? 1
  const maxFailures = options.maxFailures ?? 20
  const g = makeGen(seed)
  const report: FuzzReport = {
    seed,
    cases: 0,
    byKind: { decoder: 0, stream: 0, connection: 0, hugePrefix: 0 },
    decoder: { calls: 0, ok: 0, rejected: 0 },
    stream: { frames: 0, rejected: 0, oracleRuns: 0 },
    connection: { handshakesFailed: 0, closed: 0, stayedOpen: 0, callsReplied: 0, callsAborted: 0, notifications: 0, oracleRuns: 0, reasons: {} },
    hugePrefix: { rejected: 0, arrayBuffersGrowthBytes: 0 },
    largestPartial: 0,
    maxCaseMillis: 0,
    millis: 0,
    failures: []
  }
  let failed = 0
  const fail = (i: number, what: string) => {
    failed++
    if (report.failures.length < maxFailures) report.failures.push(`seed ${seed} case ${i}: ${what}`)
  }
  const hugeCases: Array<number> = []
  const started = performance.now()

  for (let i = 0; i < options.cases; i++) {
    const t0 = performance.now()
    const kind = i % 8
    try {
      if (kind === 7) hugeCases.push(i)
      else if (kind < 3) decoderCase(g, i, report, fail)
      else if (kind < 5) streamCase(g, i, report, fail)
      else connectionCase(g, i, report, fail)
    } catch (e) {
      fail(i, `exception escaped: ${e instanceof Error ? e.stack ?? e.message : String(e)}`)
    }
    const dt = performance.now() - t0
    if (dt > report.maxCaseMillis) report.maxCaseMillis = dt
    report.cases++
    if (i % 512 === 511) await new Promise<void>((resolve) => setTimeout(resolve, 0))
  }

  // The huge prefixes run as one batch, so the memory they did not allocate can be measured:
  // each one claims up to 2 GiB.
  const memory = () => globalThis.process?.memoryUsage().arrayBuffers ?? 0
  const before = memory()
  let claimed = 0
  for (const i of hugeCases) {
    const t0 = performance.now()
    try {
      claimed += hugePrefixCase(g, i, report, fail)
    } catch (e) {
      fail(i, `exception escaped: ${String(e)}`)
    }
    report.maxCaseMillis = Math.max(report.maxCaseMillis, performance.now() - t0)
  }
  report.hugePrefix.arrayBuffersGrowthBytes = Math.max(0, memory() - before)
  if (hugeCases.length > 0 && report.hugePrefix.arrayBuffersGrowthBytes > 16 * 1024 * 1024) {
    fail(-1, `huge prefixes claiming ${claimed} bytes grew ArrayBuffer memory by ${report.hugePrefix.arrayBuffersGrowthBytes} bytes`)
  }
  report.millis = performance.now() - started
  if (failed > report.failures.length) report.failures.push(`... and ${failed - report.failures.length} more`)
  return report
}

type Fail = (i: number, what: string) => void

/** Random and mutated golden bodies through every decoder. */
const decoderCase = (g: Gen, i: number, report: FuzzReport, fail: Fail): void => {
  report.byKind.decoder++
  let body: Uint8Array
  if (g.rand() < 0.5) {
    const frame = g.pick(allFrames)
    body = mutate(g, frame.subarray(4), [0]).bytes
  } else {
    body = g.rand() < 0.5 ? g.structured(160) : g.bytes(g.below(120))
  }
  // A window inside a larger buffer too: the reader must honour [start, end).
  const pad = g.below(3)
  const buf = pad === 0 ? body : concat([g.bytes(pad), body, g.bytes(pad)])
  for (const [name, read] of bodyReaders) {
    report.decoder.calls++
    const result = P.decodeWith(buf, read, pad, pad + body.length)
    if (result instanceof P.DecodeError) {
      report.decoder.rejected++
      if (result.reason.startsWith("decoder crashed")) fail(i, `${name} crashed on ${toHex(body)}: ${result.reason}`)
    } else {
      report.decoder.ok++
      const largest = largestField(result)
      if (largest > body.length) fail(i, `${name} produced a field of ${largest} from a ${body.length}-byte body`)
    }
  }
}

/** A stream of frames, maybe mutated, in random chunks, through a FrameDecoder. */
const streamCase = (g: Gen, i: number, report: FuzzReport, fail: Fail): void => {
  report.byKind.stream++
  const frames = Array.from({ length: 1 + g.below(6) }, (): Uint8Array => {
    const k = g.rand()
    if (k < 0.7) return g.pick(allFrames)
    if (k < 0.8) return Uint8Array.from(int32(0))
    const body = g.bytes(g.below(300))
    return concat([Uint8Array.from(int32(body.length)), body])
  })
  const starts: Array<number> = []
  let offset = 0
  for (const f of frames) {
    starts.push(offset)
    offset += f.length
  }
  const clean = concat(frames)
  const mutated = g.rand() < 0.8
  const stream = mutated ? mutate(g, clean, starts).bytes : clean
  const maxFrame = g.pick([P.DEFAULT_MAX_FRAME, 4096, 300, 64, 16])
  const decoder = new P.FrameDecoder(maxFrame)
  const got: Array<string> = []
  let error: P.DecodeError | undefined
  for (const chunk of chunked(g, stream)) {
    error = decoder.push(chunk, (buf, start, end) => {
      report.stream.frames++
      if (start < 0 || end < start || end > buf.length) fail(i, `frame [${start}, ${end}) outside its ${buf.length}-byte buffer`)
      if (end - start > maxFrame) fail(i, `a ${end - start}-byte frame passed maxFrame ${maxFrame}`)
      if (!mutated) got.push(hex(buf.subarray(start, end)))
    })
    report.largestPartial = Math.max(report.largestPartial, partialOf(decoder))
    if (partialOf(decoder) > maxFrame) fail(i, `a ${partialOf(decoder)}-byte partial buffer passed maxFrame ${maxFrame}`)
    if (error !== undefined) break
  }
  if (error !== undefined) {
    report.stream.rejected++
    if (!/frame length -?\d+ outside 0\.\.\d+/.test(error.reason)) fail(i, `unexpected stream error: ${error.reason}`)
  }
  // The oracle: an untouched stream whose frames all fit comes out exactly.
  if (!mutated && frames.every((f) => f.length - 4 <= maxFrame)) {
    report.stream.oracleRuns++
    const expected = frames.map((f) => hex(f.subarray(4)))
    if (error !== undefined || got.join("|") !== expected.join("|")) fail(i, `clean stream decoded wrongly: ${error?.reason ?? "frames differ"}`)
  }
}

/**
 * A Connection through its handshake with calls in flight, fed a (usually mutated) stream of
 * replies, notifications, pings and auth replies.
 */
const connectionCase = (g: Gen, i: number, report: FuzzReport, fail: Fail): void => {
  report.byKind.connection++
  const maxFrame = g.rand() < 0.8 ? P.DEFAULT_MAX_FRAME : g.pick([64, 128, 200])
  let xid = g.rand() < 0.2 ? 0x7fffffff - g.below(3) : g.below(1000)
  const nextXid = () => (xid = xid >= 0x7fffffff ? 1 : xid + 1)
  let closedCount = 0
  let closeReason = ""
  let notifications = 0
  let authReplies = 0
  let channelClosed = false
  const conn = new Connection({
    address: "fuzz:0",
    now: () => 0,
    maxFrame,
    maxRequest: P.SERVER_MAX_FRAME,
    nextXid,
    stampCalls: false,
    events: {
      onNotification: (event) => {
        notifications++
        if (typeof event.path !== "string" || !Number.isInteger(event.type)) fail(i, `odd notification ${JSON.stringify(event)}`)
      },
      onAuthReply: () => {
        authReplies++
      },
      onClosed: (reason) => {
        closedCount++
        closeReason = reason
      }
    }
  })
  conn.attach({ write: () => {}, close: () => (channelClosed = true) })
  const hs: { state: "pending" | "ok" | "failed" } = { state: "pending" }
  conn.startHandshake(
    { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false },
    (h) => (hs.state = h._tag === "Connected" ? "ok" : "failed")
  )
  const mutateHandshake = g.rand() < 0.1
  const handshakeBytes = mutateHandshake ? mutate(g, connectFrame, [0]).bytes : connectFrame
  for (const chunk of chunked(g, handshakeBytes)) conn.onData(chunk)
  if (hs.state === "pending") {
    // A handshake reply cut short: the session's attempt timeout ends it (here: now).
    conn.close("test over: handshake incomplete")
  }
  const handshake = hs.state
  if (handshake !== "ok") report.connection.handshakesFailed++
  if (!mutateHandshake && handshake !== "ok") fail(i, `a clean handshake failed: ${closeReason}`)

  // Calls, each replied by a golden frame carrying its xid.
  const picked = Array.from({ length: g.below(6) }, () => g.pick(fifoReplies))
  const settled: Array<number> = picked.map(() => 0)
  const outcomes: Array<string> = picked.map(() => "")
  const xids: Array<number> = []
  picked.forEach((golden, k) => {
    const read = readerForOp[golden.op]!
    const call: Call = {
      op: golden.op,
      write: (w) => w.ustring("/fuzz"),
      reply: (err, r) => {
        // As the service does: decode first (may throw DecodeFailure), then settle.
        const value = err === 0 && r !== undefined ? read(r) : undefined
        settled[k]!++
        outcomes[k] = `reply ${err}`
        const largest = largestField(value)
        if (largest > maxFrame) fail(i, `call ${k} decoded a field of ${largest} > maxFrame ${maxFrame}`)
      },
      abort: (code, detail) => {
        settled[k]!++
        outcomes[k] = `abort ${code} ${detail ?? ""}`
        if (code !== -4) fail(i, `call ${k} aborted with ${code} (${detail}), not ConnectionLoss`)
      },
      sentAt: 0,
      done: false
    }
    const before = xid
    conn.send(call)
    xids.push(xid === before ? -1 : xid)
  })

  // The server's side: replies in order, with notifications, pings and auth replies between.
  const frames: Array<Uint8Array> = []
  let injectedNotifications = 0
  let injectedAuth = 0
  picked.forEach((golden, k) => {
    while (g.rand() < 0.25) {
      const extra = g.pick([notificationFrame, pingFrame, authFrame])
      if (extra === notificationFrame) injectedNotifications++
      if (extra === authFrame) injectedAuth++
      frames.push(extra)
    }
    const frame = golden.frame.slice()
    frame.set(int32(xids[k]!), 4)
    frames.push(frame)
  })
  const starts: Array<number> = []
  let offset = 0
  for (const f of frames) {
    starts.push(offset)
    offset += f.length
  }
  const clean = concat(frames)
  const mutated = mutateHandshake || g.rand() < 0.85
  const stream = mutated && !mutateHandshake ? mutate(g, clean, starts).bytes : clean
  for (const chunk of chunked(g, stream)) {
    conn.onData(chunk)
    const decoder: unknown = Reflect.get(conn, "decoder")
    if (decoder instanceof P.FrameDecoder) {
      const partial = partialOf(decoder)
      report.largestPartial = Math.max(report.largestPartial, partial)
      if (partial > maxFrame) fail(i, `connection held a ${partial}-byte partial frame, maxFrame ${maxFrame}`)
    }
  }
  settled.forEach((n, k) => {
    if (n > 1) fail(i, `call ${k} settled ${n} times (${outcomes[k]})`)
  })

  const fits = frames.every((f) => f.length - 4 <= maxFrame)
  if (!mutated && handshake === "ok" && fits) {
    report.connection.oracleRuns++
    if (conn.isClosed) fail(i, `a clean reply stream closed the connection: ${closeReason}`)
    settled.forEach((n, k) => {
      if (n !== 1 || !outcomes[k]!.startsWith("reply")) fail(i, `clean stream: call ${k} (${picked[k]!.name}) ${outcomes[k] || "never settled"}`)
    })
    if (notifications !== injectedNotifications) fail(i, `clean stream: ${notifications} of ${injectedNotifications} notifications`)
    if (authReplies !== injectedAuth) fail(i, `clean stream: ${authReplies} of ${injectedAuth} auth replies`)
  }
  if (conn.isClosed) {
    report.connection.closed++
    const key = reasonKey(closeReason)
    report.connection.reasons[key] = (report.connection.reasons[key] ?? 0) + 1
    if (!channelClosed) fail(i, "closed without closing its channel")
  } else report.connection.stayedOpen++
  report.connection.notifications += notifications

  // Whatever happened, closing the connection settles every call exactly once.
  conn.close("test over")
  settled.forEach((n, k) => {
    if (n !== 1) fail(i, `call ${k} (${picked[k]!.name}) settled ${n} times after close (${outcomes[k]})`)
    else if (outcomes[k]!.startsWith("reply")) report.connection.callsReplied++
    else report.connection.callsAborted++
  })
  if (closedCount !== 1) fail(i, `onClosed ran ${closedCount} times`)
  if (conn.inFlight !== 0) fail(i, `${conn.inFlight} calls still in flight after close`)
}

/** A length prefix above maxFrame (or negative): rejected at once, nothing kept for it. */
const hugePrefixCase = (g: Gen, i: number, report: FuzzReport, fail: Fail): number => {
  report.byKind.hugePrefix++
  const maxFrame = g.pick([P.DEFAULT_MAX_FRAME, P.SERVER_MAX_FRAME, 4096])
  const len = g.rand() < 0.2 ? -1 - g.below(0x7fffffff) : maxFrame + 1 + g.below(0x7fffffff - maxFrame)
  const decoder = new P.FrameDecoder(maxFrame)
  const lead = g.rand() < 0.5 ? g.pick(allFrames) : new Uint8Array(0)
  const stream = concat([lead, Uint8Array.from(int32(len)), g.bytes(g.below(64))])
  let frames = 0
  let error: P.DecodeError | undefined
  for (const chunk of chunked(g, stream)) {
    error = decoder.push(chunk, () => frames++)
    if (partialOf(decoder) > maxFrame) fail(i, `a ${partialOf(decoder)}-byte buffer was allocated for length ${len}`)
    if (error !== undefined) break
  }
  const expectedFrames = lead.length > 0 && lead.length - 4 <= maxFrame ? 1 : 0
  if (error === undefined) fail(i, `length ${len} (maxFrame ${maxFrame}) was not rejected`)
  else if (!error.reason.includes(`frame length ${len} outside 0..${maxFrame}`)) fail(i, `length ${len}: ${error.reason}`)
  else report.hugePrefix.rejected++
  if (frames !== expectedFrames) fail(i, `${frames} frames before the bad prefix, expected ${expectedFrames}`)
  if (partialOf(decoder) !== 0) fail(i, "a partial frame is kept after the rejection")
  return Math.max(0, len)
}

/** One line per figure, for the soak's summary and for failure messages. */
export const formatReport = (r: FuzzReport): string =>
  [
    `fuzz: ${r.cases} cases (seed ${r.seed}) in ${(r.millis / 1000).toFixed(1)} s, slowest case ${r.maxCaseMillis.toFixed(2)} ms`,
    `  decoder cases ${r.byKind.decoder}: ${r.decoder.calls} decodes, ${r.decoder.ok} values, ${r.decoder.rejected} DecodeErrors`,
    `  stream cases ${r.byKind.stream}: ${r.stream.frames} frames, ${r.stream.rejected} rejected streams, ${r.stream.oracleRuns} exact clean runs`,
    `  connection cases ${r.byKind.connection}: ${r.connection.closed} closed, ${r.connection.stayedOpen} stayed open, ` +
    `${r.connection.handshakesFailed} failed handshakes, calls ${r.connection.callsReplied} replied / ${r.connection.callsAborted} aborted ` +
    `(ConnectionLoss), ${r.connection.notifications} notifications, ${r.connection.oracleRuns} exact clean runs`,
    `  close reasons: ${Object.entries(r.connection.reasons).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ")}`,
    `  huge prefixes ${r.byKind.hugePrefix}: ${r.hugePrefix.rejected} rejected, ArrayBuffer growth ${r.hugePrefix.arrayBuffersGrowthBytes} bytes; ` +
    `largest partial frame buffer ${r.largestPartial} bytes (largest golden frame ${largestGolden})`,
    `  invariant failures: ${r.failures.length === 0 ? "none" : "\n    " + r.failures.join("\n    ")}`
  ].join("\n")

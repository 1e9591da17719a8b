/**
 * Decoder fuzzing: random and mutated frames through every decoder, the frame
 * splitter and a live `Connection`. The engine is `utils/fuzz.ts`; the soak script runs the same
 * engine with 100,000+ cases. Protocol.test.ts holds the hand-written decoder edge cases.
 */
import { assert, describe, it } from "@effect/vitest"
import * as P from "../src/Protocol.ts"
import { type Call, Connection } from "../src/internal/connection.ts"
import { goldens } from "./fixtures/goldens.ts"
import { formatReport, runFuzz } from "./utils/fuzz.ts"
import { fromHex, int32 } from "./utils/bytes.ts"


/** A connection past its handshake, on a fake channel, with what it reported. */
const connected = (maxFrame = P.DEFAULT_MAX_FRAME) => {
  const seen = { closed: [] as Array<string>, notifications: [] as Array<P.WatcherEvent>, channelClosed: false }
  let xid = 0
  const conn = new Connection({
    address: "fake:1",
    now: () => 0,
    maxFrame,
    maxRequest: P.SERVER_MAX_FRAME,
    nextXid: () => ++xid,
    stampCalls: false,
    events: {
      onNotification: (e) => seen.notifications.push(e),
      onAuthReply: () => {},
      onClosed: (reason) => seen.closed.push(reason)
    }
  })
  conn.attach({ write: () => {}, close: () => (seen.channelClosed = true) })
  conn.startHandshake(
    { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false },
    () => {}
  )
  conn.onData(fromHex(goldens.connect.replyHex))
  const outcomes: Array<string> = []
  const call = (op: number, read: (r: P.JuteReader) => unknown = () => undefined): Call => ({
    op,
    write: (w) => w.ustring("/x"),
    reply: (err, r) => {
      if (err === 0 && r !== undefined) read(r)
      outcomes.push(`reply ${err}`)
    },
    abort: (code, detail) => {
      outcomes.push(`abort ${code}: ${detail}`)
    },
    sentAt: 0,
    done: false
  })
  return { conn, seen, call, outcomes }
}

describe("fuzz", () => {
  it("5,000 random and mutated cases: no exception escapes, no hang, nothing allocated beyond the frame, every call settled once", async () => {
    const report = await runFuzz({ cases: 5000, seed: 7 })
    const summary = formatReport(report)
    assert.deepStrictEqual(report.failures, [], summary)
    assert.strictEqual(report.cases, 5000)
    // Each kind of case ran, and both outcomes happened: the fuzz reaches past the first field.
    assert.isAbove(report.decoder.ok, 0, summary)
    assert.isAbove(report.decoder.rejected, 0, summary)
    assert.isAbove(report.stream.oracleRuns, 0, summary)
    assert.isAbove(report.stream.rejected, 0, summary)
    assert.isAbove(report.connection.oracleRuns, 0, summary)
    assert.isAbove(report.connection.closed, 0, summary)
    assert.isAbove(report.connection.stayedOpen, report.connection.oracleRuns, "some mutated streams are harmless")
    assert.isAbove(report.connection.callsReplied, 0, summary)
    assert.isAbove(report.connection.callsAborted, 0, summary)
    for (const reason of ["xid out of order", "reply with xid", "frame length", "truncated int"]) {
      assert.isAbove(report.connection.reasons[reason] ?? 0, 0, `some connection closed with "${reason}"\n${summary}`)
    }
    assert.strictEqual(report.hugePrefix.rejected, report.byKind.hugePrefix, summary)
    // Whatever a length prefix claims, no buffer beyond the max frame is ever allocated for it.
    assert.isAtMost(report.largestPartial, P.DEFAULT_MAX_FRAME, summary)
    assert.isBelow(report.maxCaseMillis, 1000, summary)
  })

  it("another seed, another 2,000 cases", async () => {
    const report = await runFuzz({ cases: 2000, seed: 0x5eed })
    assert.deepStrictEqual(report.failures, [], formatReport(report))
  })

  it("a 2 GiB length prefix on a live connection: refused before any allocation, calls fail with ConnectionLoss naming it", () => {
    const { conn, seen, call, outcomes } = connected()
    conn.send(call(P.OpCode.GetData, P.readGetDataResponse))
    conn.send(call(P.OpCode.Exists, P.readStat))
    const before = process.memoryUsage().arrayBuffers
    for (let i = 0; i < 50; i++) conn.onData(Uint8Array.from([...int32(0x7fffffff), 1, 2, 3]))
    assert.isBelow(process.memoryUsage().arrayBuffers - before, 1024 * 1024)
    assert.isTrue(conn.isClosed)
    assert.isTrue(seen.channelClosed)
    assert.deepStrictEqual(seen.closed, [`malformed ZooKeeper frame: frame length 2147483647 outside 0..${P.DEFAULT_MAX_FRAME}`])
    assert.deepStrictEqual(outcomes, [
      `abort -4: malformed ZooKeeper frame: frame length 2147483647 outside 0..${P.DEFAULT_MAX_FRAME}`,
      `abort -4: malformed ZooKeeper frame: frame length 2147483647 outside 0..${P.DEFAULT_MAX_FRAME}`
    ])
  })

  it("a reply whose body lies about a length: that call and the ones behind it fail with ConnectionLoss, once each", () => {
    const { conn, seen, call, outcomes } = connected()
    conn.send(call(P.OpCode.GetData, P.readGetDataResponse))
    conn.send(call(P.OpCode.Exists, P.readStat))
    // A getData reply for xid 1 whose data claims 1000 bytes in a 30-byte body.
    const body = [...int32(1), 0, 0, 0, 0, 0, 0, 0, 9, ...int32(0), ...int32(1000), ...new Array<number>(10).fill(0)]
    conn.onData(Uint8Array.from([...int32(body.length), ...body]))
    assert.isTrue(conn.isClosed)
    assert.strictEqual(outcomes.length, 2)
    assert.match(outcomes[0]!, /^abort -4: malformed reply: buffer length 1000 exceeds the 10 bytes left in the frame/)
    assert.match(outcomes[1]!, /^abort -4: malformed reply: buffer length 1000/)
    assert.strictEqual(seen.closed.length, 1)
  })

  it("a handshake frame that is not a 36/37-byte ConnectResponse fails the attempt; a real expiry answer still reads as one", () => {
    const handshake = (body: Uint8Array) => {
      const outcome: Array<string> = []
      const conn = new Connection({
        address: "fake:1",
        now: () => 0,
        maxFrame: P.DEFAULT_MAX_FRAME,
        maxRequest: P.SERVER_MAX_FRAME,
        nextXid: () => 1,
        stampCalls: false,
        events: { onNotification: () => {}, onAuthReply: () => {}, onClosed: () => {} }
      })
      conn.attach({ write: () => {}, close: () => {} })
      conn.startHandshake(
        { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30000, sessionId: 5n, passwd: new Uint8Array(16), readOnly: false },
        (h) => outcome.push(h._tag === "Connected" ? `Connected timeOut=${h.response.timeOut}` : `Failed ${h.reason}`)
      )
      conn.onData(Uint8Array.from([...int32(body.length), ...body]))
      return outcome
    }
    // Zeros of the right size read as timeOut 0, i.e. "expired", if the password is not checked.
    assert.deepStrictEqual(handshake(new Uint8Array(37)), [
      "Failed malformed ConnectResponse: 37 bytes with a 0-byte password (expected 36 or 37 bytes, 16)"
    ])
    assert.match(handshake(new Uint8Array(40))[0]!, /^Failed malformed ConnectResponse: 40 bytes/)
    const expiry = [...int32(0), ...int32(0), ...new Array<number>(8).fill(0), ...int32(16), ...new Array<number>(16).fill(0)]
    assert.deepStrictEqual(handshake(Uint8Array.from([...expiry, 0])), ["Connected timeOut=0"], "the server's expiry answer, 37 bytes")
    assert.deepStrictEqual(handshake(Uint8Array.from(expiry)), ["Connected timeOut=0"], "and 36 bytes")
    assert.deepStrictEqual(handshake(fromHex(goldens.connect.replyHex).subarray(4)), ["Connected timeOut=30000"])
  })

  it("a notification for a path never watched is passed on (the session ignores it) and the connection stays up", () => {
    const { conn, seen, call, outcomes } = connected()
    conn.send(call(P.OpCode.Exists, P.readStat))
    conn.onData(fromHex(goldens.notification.replyHex))
    const reply = fromHex(goldens.exists.replyHex)
    reply.set(int32(1), 4)
    conn.onData(reply)
    assert.isFalse(conn.isClosed)
    assert.deepStrictEqual(seen.notifications, [{ type: 3, state: 3, path: "/golden" }])
    assert.deepStrictEqual(outcomes, ["reply 0"])
  })
})

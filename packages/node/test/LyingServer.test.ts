/**
 * The server misbehaves: a lying server (test/utils/LyingServer.ts) in front of a real
 * one, or alone. For every lie the client drops that connection with a typed error naming the
 * problem, then reconnects to an honest connection, or, with no honest server at all, ends
 * cleanly when closed. No request is left hanging (each one is joined under a deadline) and no
 * promise rejection or exception goes unhandled.
 */
import { Testing } from "@effect-zk/node"
import { assert, layer } from "@effect/vitest"
import { ZooKeeperServer } from "@effect-zk/server"
import { Cause, type Duration, Effect, Exit, Fiber, Option, Stream } from "effect"
import * as LyingServer from "./utils/LyingServer.ts"
import { chrootOf, connectTo, holdsFor, record, sandbox, stateIs } from "./utils/TestZooKeeper.ts"

/** Rejections and exceptions nobody handled while the test ran; checked at its end. */
const watchUnhandled = Effect.acquireRelease(
  Effect.sync(() => {
    const seen: Array<string> = []
    const onRejection = (reason: unknown) => seen.push(`unhandledRejection: ${String(reason)}`)
    const onException = (error: unknown) => seen.push(`uncaughtException: ${String(error)}`)
    process.on("unhandledRejection", onRejection)
    process.on("uncaughtExceptionMonitor", onException)
    return { seen, off: () => (process.off("unhandledRejection", onRejection), process.off("uncaughtExceptionMonitor", onException)) }
  }),
  ({ off }) => Effect.sync(off)
).pipe(Effect.map(({ seen }) => seen))

/** A lying server forwarding to the file's real server, and a connect string through it to a fresh chroot. */
const lyingInFront = (script: ReadonlyArray<LyingServer.Behaviour>) =>
  Effect.gen(function*() {
    const servers = yield* sandbox
    const server = yield* ZooKeeperServer.ZooKeeperServer
    const lying = yield* LyingServer.make({ script, backend: { host: "127.0.0.1", port: server.port } })
    const chroot = chrootOf(servers)
    return { lying, servers: `${lying.address}${chroot}`, direct: servers }
  })


/** Runs a request to completion under a deadline: a request left hanging fails the test. */
const settles = <A, E>(effect: Effect.Effect<A, E>, deadline: Duration.Input = "15 seconds") =>
  effect.pipe(
    Effect.exit,
    Effect.timeoutOrElse({ duration: deadline, orElse: () => Effect.die(`a request was left hanging for ${String(deadline)}`) })
  )

/** The typed error of a failed request. */
const failure = <A, E>(exit: Exit.Exit<A, E>): E => {
  assert.isTrue(Exit.isFailure(exit), "the request must fail")
  const error = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : Option.none()
  assert.isTrue(Option.isSome(error), `a typed failure, not ${Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "success"}`)
  return Option.getOrThrow(error)
}


// The read timeout is 2/3 of the negotiated timeout: 3 s gives a 2 s read timeout.
const SESSION = { sessionTimeout: "3 seconds" } as const
// maxFrame = the default maxBufferSize (1,048,575) + 64 KiB.
const MAX_FRAME = 1_048_575 + 64 * 1024

layer(ZooKeeperServer.layer({ minSessionTimeout: "1 second" }), { timeout: "120 seconds", excludeTestServices: true })("lying server", (it) => {
  const requestLies: ReadonlyArray<readonly [LyingServer.Lie, RegExp]> = [
    ["garbage", /^malformed reply: truncated long: need 8 bytes, 1 left$/],
    ["hugeLength", new RegExp(`^malformed ZooKeeper frame: frame length 2147483647 outside 0\\.\\.${MAX_FRAME}$`)],
    ["unknownXid", /^malformed reply: xid out of order: got (\d+), expected (\d+)$/],
    ["truncatedThenSilence", /^no reply from 127\.0\.0\.1:\d+ within 2000 ms$/]
  ]
  for (const [lie, detail] of requestLies) {
    it.effect(`${lie}: the request fails with ConnectionLoss naming it, the session resumes on an honest connection`, () =>
      Effect.gen(function*() {
        const unhandled = yield* watchUnhandled
        const { lying, servers, direct } = yield* lyingInFront([lie])
        const zk = yield* connectTo(servers, SESSION)
        const other = yield* connectTo(direct)
        yield* other.create("/n", "real")
        const before = (yield* zk.clientId).sessionId
        const events = yield* record(zk)
        const error = failure(yield* settles(zk.get("/n")))
        assert.strictEqual(error._tag, "ConnectionLoss")
        assert.match(error.detail ?? "", detail)
        if (lie === "unknownXid") {
          const [, got, expected] = detail.exec(error.detail ?? "") ?? []
          assert.strictEqual(Number(got), Number(expected) + 1000)
        }
        // The next connection is honest: same session, requests work again.
        assert.strictEqual(new TextDecoder().decode((yield* settles(zk.get("/n")).pipe(Effect.flatten)).data), "real")
        assert.strictEqual((yield* zk.clientId).sessionId, before)
        assert.deepStrictEqual(events.map((e) => e.state), ["Disconnected", "Connected"])
        const log = yield* lying.log
        assert.strictEqual(log.length, 2)
        assert.isTrue(log[0]!.lied)
        assert.isTrue(log[0]!.closed, "the client closed the lying connection")
        assert.deepStrictEqual(unhandled, [])
      }))
  }

  it.effect("outOfOrder: the second request answered first; both fail with ConnectionLoss (xid out of order), then the session resumes", () =>
    Effect.gen(function*() {
      const unhandled = yield* watchUnhandled
      const { lying, servers } = yield* lyingInFront(["outOfOrder"])
      const zk = yield* connectTo(servers, SESSION)
      const before = (yield* zk.clientId).sessionId
      // Submitted in the same tick, so both are in flight when the lie is told.
      const [a, b] = yield* Effect.all([settles(zk.exists("/a")), settles(zk.exists("/b"))], { concurrency: "unbounded" })
      const first = failure(a)
      const second = failure(b)
      for (const e of [first, second]) {
        assert.strictEqual(e._tag, "ConnectionLoss")
        assert.match(e.detail ?? "", /^malformed reply: xid out of order: got \d+, expected \d+$/)
      }
      const [, got, expected] = /got (\d+), expected (\d+)/.exec(first.detail ?? "") ?? []
      assert.strictEqual(Number(got), Number(expected) + 1, "the second request's reply arrived where the first's was due")
      assert.isTrue(Option.isNone(yield* zk.exists("/a")))
      assert.strictEqual((yield* zk.clientId).sessionId, before)
      assert.isTrue((yield* lying.log)[0]!.lied)
      assert.deepStrictEqual(unhandled, [])
    }))

  it.effect("unwatchedNotification: events for paths never watched are ignored; the connection stays up, the real watch still fires", () =>
    Effect.gen(function*() {
      const unhandled = yield* watchUnhandled
      const { lying, servers, direct } = yield* lyingInFront(["unwatchedNotification"])
      const zk = yield* connectTo(servers, SESSION)
      const other = yield* connectTo(direct)
      const events = yield* record(zk)
      // The first request: the lie (four notifications for nobody) arrives just before its reply.
      const { stat, watch } = yield* settles(zk.existsW("/w")).pipe(Effect.flatten)
      assert.isTrue(Option.isNone(stat))
      assert.isTrue((yield* lying.log)[0]!.lied)
      assert.strictEqual(yield* zk.pendingWatches, 1, "the unsolicited events neither fired nor removed the real watch")
      assert.strictEqual(yield* zk.state, "Connected")
      // A watch on one of the lied-about paths is unaffected by the earlier lie, too.
      yield* other.create("/w", "1")
      assert.deepStrictEqual(yield* settles(Stream.runCollect(watch)).pipe(Effect.flatten), [{ type: "NodeCreated", path: "/w" }])
      assert.strictEqual(yield* zk.pendingWatches, 0)
      assert.strictEqual(yield* lying.accepted, 1, "no reconnect: the connection was never dropped")
      assert.deepStrictEqual(events.map((e) => e.state), [])
      assert.deepStrictEqual(unhandled, [])
    }))

  it.effect("replyWithoutRequest: a reply nobody asked for drops the connection; the session resumes at once", () =>
    Effect.gen(function*() {
      const unhandled = yield* watchUnhandled
      const { lying, servers } = yield* lyingInFront(["replyWithoutRequest"])
      const zk = yield* connectTo(servers, SESSION)
      const before = (yield* zk.clientId).sessionId
      yield* Testing.eventually(Effect.map(lying.accepted, (n) => n === 2))
      yield* Testing.eventually(stateIs(zk, "Connected"))
      assert.isTrue(Option.isNone(yield* settles(zk.exists("/x")).pipe(Effect.flatten)))
      assert.strictEqual((yield* zk.clientId).sessionId, before)
      const log = yield* lying.log
      assert.isTrue(log[0]!.lied && log[0]!.closed)
      assert.deepStrictEqual(log[0]!.requests.filter((r) => r.op !== 11), [], "nothing was pending on the lying connection")
      assert.deepStrictEqual(unhandled, [])
    }))

  const handshakeLies: ReadonlyArray<LyingServer.Lie> = [
    "handshakeGarbage",
    "handshakeHugeLength",
    "handshakeTruncated",
    "handshakeSilence",
    "handshakeHangUp"
  ]
  for (const lie of handshakeLies) {
    it.effect(`${lie}: the attempt fails, the next connection is honest, the session opens`, () =>
      Effect.gen(function*() {
        const unhandled = yield* watchUnhandled
        const { lying, servers } = yield* lyingInFront([lie])
        const zk = yield* connectTo(servers, { ...SESSION, connectTimeout: "10 seconds" })
        assert.strictEqual(yield* zk.state, "Connected")
        assert.isTrue(Option.isNone(yield* settles(zk.exists("/x")).pipe(Effect.flatten)))
        const log = yield* lying.log
        assert.strictEqual(log.length, 2)
        assert.isTrue(log[0]!.lied)
        yield* Testing.eventually(Effect.map(lying.log, (l) => l[0]!.closed), { timeout: "5 seconds" })
        assert.deepStrictEqual(unhandled, [])
      }))
  }

  it.effect("handshakeZeros on the first connection: garbage is not an expiry, the session opens on the next one", () =>
    Effect.gen(function*() {
      const unhandled = yield* watchUnhandled
      const { lying, servers } = yield* lyingInFront(["handshakeZeros"])
      const zk = yield* connectTo(servers, { ...SESSION, connectTimeout: "10 seconds" })
      assert.strictEqual(yield* zk.state, "Connected")
      assert.isTrue(Option.isNone(yield* settles(zk.exists("/x")).pipe(Effect.flatten)))
      assert.strictEqual(yield* lying.accepted, 2)
      assert.deepStrictEqual(unhandled, [])
    }))

  it.effect("handshakeZeros on a reconnect: the live session is not declared expired, it resumes on the next connection", () =>
    Effect.gen(function*() {
      const unhandled = yield* watchUnhandled
      const { lying, servers, direct } = yield* lyingInFront(["replyWithoutRequest", "handshakeZeros"])
      const zk = yield* connectTo(servers, SESSION)
      const before = (yield* zk.clientId).sessionId
      const events = yield* record(zk)
      const other = yield* connectTo(direct)
      yield* Testing.eventually(Effect.map(lying.accepted, (n) => n === 3), { timeout: "10 seconds" })
      yield* Testing.eventually(stateIs(zk, "Connected"), { timeout: "10 seconds" })
      yield* other.create("/r", "1")
      assert.strictEqual(new TextDecoder().decode((yield* settles(zk.get("/r")).pipe(Effect.flatten)).data), "1")
      assert.strictEqual((yield* zk.clientId).sessionId, before)
      assert.notInclude(events.map((e) => e.state), "Expired")
      assert.deepStrictEqual(unhandled, [])
    }))

  it.effect("no honest server at all (every connection lies): each request fails with ConnectionLoss, close ends it cleanly", () =>
    Effect.gen(function*() {
      const unhandled = yield* watchUnhandled
      const lying = yield* LyingServer.make({ script: [], then: "garbage" })
      const zk = yield* connectTo(lying.address, SESSION)
      for (let i = 0; i < 5; i++) {
        const error = failure(yield* settles(zk.set(`/n${i}`, "x")))
        assert.strictEqual(error._tag, "ConnectionLoss")
        assert.match(error.detail ?? "", /^malformed reply: truncated long/)
      }
      assert.isAtLeast(yield* lying.accepted, 5)
      // A request made now waits for a connection that keeps lying; close must not wait forever.
      const pending = yield* Effect.forkChild(settles(zk.get("/p")), { startImmediately: true })
      const closed = yield* settles(zk.close, "5 seconds")
      assert.isTrue(Exit.isSuccess(closed))
      assert.strictEqual(yield* zk.state, "Closed")
      const last = failure(yield* Fiber.join(pending))
      assert.include(["ConnectionLoss", "Closing"], last._tag)
      assert.strictEqual(failure(yield* settles(zk.exists("/")))._tag, "Closing")
      // No connection left open, and no new attempt after the close.
      yield* Testing.eventually(Effect.map(lying.open, (n) => n === 0), { timeout: "5 seconds" })
      const attempts = yield* lying.accepted
      yield* holdsFor(Effect.map(lying.accepted, (n) => n === attempts), "500 millis", "no attempt after the close")
      assert.deepStrictEqual(unhandled, [])
    }))

  it.effect("no honest server, and a connection gone silent mid-reply: the read timeout frees the request, close ends cleanly", () =>
    Effect.gen(function*() {
      const unhandled = yield* watchUnhandled
      const lying = yield* LyingServer.make({ script: [], then: "truncatedThenSilence" })
      const zk = yield* connectTo(lying.address, SESSION)
      const error = failure(yield* settles(zk.get("/x")))
      assert.strictEqual(error._tag, "ConnectionLoss")
      assert.match(error.detail ?? "", /^no reply from 127\.0\.0\.1:\d+ within 2000 ms$/)
      // Now with a request held by the silent connection when close is called.
      yield* Testing.eventually(stateIs(zk, "Connected"))
      const held = yield* Effect.forkChild(settles(zk.get("/y")), { startImmediately: true })
      yield* Testing.eventually(Effect.map(lying.log, (l) => l.some((c) => c.lied && !c.closed)), { timeout: "5 seconds" })
      const closed = yield* settles(zk.close, "6 seconds")
      assert.isTrue(Exit.isSuccess(closed))
      assert.strictEqual(yield* zk.state, "Closed")
      assert.include(["ConnectionLoss", "Closing"], failure(yield* Fiber.join(held))._tag)
      yield* Testing.eventually(Effect.map(lying.open, (n) => n === 0), { timeout: "5 seconds" })
      assert.deepStrictEqual(unhandled, [])
    }))

  it.effect("no honest server, every handshake lies: the layer build fails with a typed ConnectionLoss and stops trying", () =>
    Effect.gen(function*() {
      const unhandled = yield* watchUnhandled
      const lying = yield* LyingServer.make({ script: ["handshakeHugeLength", "handshakeGarbage", "handshakeHangUp"], then: "handshakeTruncated" })
      const exit = yield* settles(Effect.scoped(connectTo(lying.address, { ...SESSION, connectTimeout: "3 seconds" })))
      const error = failure(exit)
      assert.isTrue(typeof error === "object" && error !== null && "_tag" in error && error._tag === "ConnectionLoss", String(error))
      assert.isAtLeast(yield* lying.accepted, 4)
      yield* Testing.eventually(Effect.map(lying.open, (n) => n === 0), { timeout: "5 seconds" })
      const attempts = yield* lying.accepted
      yield* holdsFor(Effect.map(lying.accepted, (n) => n === attempts), "1500 millis", "no attempt after the build failed")
      assert.deepStrictEqual(unhandled, [])
    }))
})

/**
 * The session's timers (pings, read timeout, client-side expiry, reconnect pacing, request
 * timeouts) driven by the TestClock over a scripted in-memory server: deterministic, no JVM,
 * no real time. Every check of "not yet" is followed by one of "now", a tick later.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import { SessionClock } from "../src/internal/supervisor.ts"
import * as Protocol from "../src/Protocol.ts"
import { make, type ZooKeeperConfig, type ZooKeeperService } from "../src/ZooKeeper.ts"
import * as Scripted from "./utils/scripted.ts"

/** Runs `body` on a session over `server`, its timers on the test's TestClock. */
const withSession = <A, E>(
  server: Scripted.ScriptedServer,
  config: Partial<ZooKeeperConfig>,
  body: (zk: ZooKeeperService) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    const clock = yield* Clock.Clock
    return yield* Effect.scoped(
      Effect.flatMap(make({ servers: "127.0.0.1:2181", sessionTimeout: "3 seconds", ...config }), body)
    ).pipe(Effect.provide(server.layer), Effect.provideService(SessionClock, clock))
  })

/**
 * Lets the session react (replies arrive in microtasks, fibers resume) without moving the
 * clock: yields to the event loop until `condition` holds, failing after many rounds.
 */
const until = (what: string, condition: () => boolean): Effect.Effect<void> =>
  Effect.gen(function*() {
    for (let i = 0; i < 200; i++) {
      if (condition()) return
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
    }
    return yield* Effect.die(new Error(`never happened: ${what}`))
  })

/** Lets pending work run: a few event-loop turns, no clock movement. */
const settle = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve))).pipe(Effect.repeat({ times: 5 }))

const pings = (connection: Scripted.ServerConnection | undefined): number =>
  connection?.received.filter((op) => op === Protocol.OpCode.Ping).length ?? 0

describe("session timers (TestClock, scripted server)", () => {
  // Granted 3 s: read timeout 2 s, a ping once nothing was sent for 1 s, a tick every 250 ms.
  it.effect("pings an idle connection every third of the timeout, and the answers keep it alive", () => {
    const server = Scripted.make()
    return withSession(server, {}, (zk) =>
      Effect.gen(function*() {
        yield* TestClock.adjust("750 millis")
        yield* settle
        assert.strictEqual(pings(server.connections[0]), 0)
        yield* TestClock.adjust("250 millis")
        yield* until("the first ping", () => pings(server.connections[0]) === 1)
        for (let i = 0; i < 40; i++) yield* TestClock.adjust("250 millis")
        yield* settle
        assert.strictEqual(yield* zk.state, "Connected")
        assert.strictEqual(server.connections.length, 1, "the connection was never dropped")
        assert.isAtLeast(pings(server.connections[0]), 9)
        assert.isAtMost(pings(server.connections[0]), 11)
      }))
  })

  it.effect("drops a silent connection after 2/3 of the timeout, then resumes the session elsewhere", () => {
    const server = Scripted.make()
    return withSession(server, {}, (zk) =>
      Effect.gen(function*() {
        const id = (yield* zk.clientId).sessionId
        server.connections[0]!.silent = true
        yield* TestClock.adjust("2 seconds")
        yield* settle
        assert.isFalse(server.connections[0]!.closed, "2 s of silence is not yet more than the read timeout")
        yield* TestClock.adjust("250 millis")
        yield* until("the silent connection is dropped", () => server.connections[0]!.closed)
        yield* until("connected again", () => Effect.runSync(zk.state) === "Connected")
        assert.strictEqual(yield* zk.state, "Connected")
        assert.strictEqual((yield* zk.clientId).sessionId, id)
        assert.strictEqual(server.connections.length, 2)
        assert.strictEqual(yield* Effect.flip(zk.get("/x")).pipe(Effect.map((e) => e._tag)), "NoNode", "requests flow again")
      }))
  })

  it.effect("expires the session client-side once no server was heard for the negotiated timeout", () => {
    const server = Scripted.make()
    return withSession(server, {}, (zk) =>
      Effect.gen(function*() {
        const events: Array<string> = []
        yield* Effect.forkChild(Stream.runForEach(zk.sessionEvents, (e) => Effect.sync(() => events.push(e.state))), {
          startImmediately: true
        })
        const { watch } = yield* zk.existsW("/missing").pipe(Effect.catchTag("NoNode", () => Effect.die("unreachable")))
        server.refuse = true
        server.connections[0]!.drop()
        yield* until("Disconnected", () => Effect.runSync(zk.state) === "Disconnected")
        const pending = yield* Effect.forkChild(Effect.exit(zk.get("/queued")))
        yield* TestClock.adjust("3 seconds")
        yield* settle
        assert.strictEqual(yield* zk.state, "Disconnected", "exactly the timeout is not more than it")
        yield* TestClock.adjust("250 millis")
        yield* until("Expired", () => Effect.runSync(zk.state) === "Expired")
        const exit = yield* Fiber.join(pending)
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit)) assert.include(String(exit.cause), "SessionExpired")
        assert.strictEqual((yield* Effect.flip(Stream.runDrain(watch)))._tag, "SessionExpired")
        yield* until("the Expired event", () => events.length === 2)
        assert.deepStrictEqual(events, ["Disconnected", "Expired"])
        const attempts = server.attempts
        yield* TestClock.adjust("10 seconds")
        yield* settle
        assert.strictEqual(server.attempts, attempts, "an expired session stops looking for servers")
      }))
  })

  it.effect("paces reconnect attempts by the schedule, and pauses a second when a finite one runs out", () => {
    const spaced = Scripted.make()
    const finite = Scripted.make()
    return Effect.gen(function*() {
      yield* withSession(spaced, { reconnectSchedule: Schedule.spaced("100 millis") }, () =>
        Effect.gen(function*() {
          spaced.refuse = true
          spaced.connections[0]!.drop()
          yield* until("the first reconnect attempt", () => spaced.attempts === 2)
          for (let i = 1; i <= 5; i++) {
            yield* TestClock.adjust("100 millis")
            yield* until(`attempt ${i + 2}`, () => spaced.attempts === i + 2)
          }
          yield* TestClock.adjust("99 millis")
          yield* settle
          assert.strictEqual(spaced.attempts, 7, "no attempt before its delay")
        }))
      yield* withSession(finite, { reconnectSchedule: Schedule.recurs(2) }, () =>
        Effect.gen(function*() {
          finite.refuse = true
          finite.connections[0]!.drop()
          // One attempt and two retries at once, then a one-second pause before the next round.
          yield* until("three attempts", () => finite.attempts === 4)
          yield* TestClock.adjust("999 millis")
          yield* settle
          assert.strictEqual(finite.attempts, 4)
          yield* TestClock.adjust("1 millis")
          yield* until("the next round", () => finite.attempts === 7)
        }))
    })
  })

  it.effect("fails a request with no reply within requestTimeout, sent or queued", () => {
    const server = Scripted.make()
    server.answer = "hold"
    return withSession(server, { requestTimeout: "500 millis" }, (zk) =>
      Effect.gen(function*() {
        // A tick every 125 ms (a quarter of the request timeout).
        const sent = yield* Effect.forkChild(Effect.exit(zk.get("/held")))
        yield* until("the request reached the server", () => server.connections[0]!.received.includes(Protocol.OpCode.GetData))
        yield* TestClock.adjust("500 millis")
        yield* settle
        assert.isUndefined(sent.pollUnsafe(), "500 ms is not more than the timeout")
        yield* TestClock.adjust("125 millis")
        const exit = yield* Fiber.join(sent)
        assert.isTrue(Exit.isFailure(exit) && String(exit.cause).includes("OperationTimeout"))
        assert.strictEqual(yield* zk.state, "Connected", "a request timeout does not drop the connection")

        server.refuse = true
        server.connections[0]!.drop()
        yield* until("Disconnected", () => Effect.runSync(zk.state) === "Disconnected")
        const queued = yield* Effect.forkChild(Effect.exit(zk.get("/queued")))
        yield* settle
        yield* TestClock.adjust("625 millis")
        const queuedExit = yield* Fiber.join(queued)
        assert.isTrue(Exit.isFailure(queuedExit) && String(queuedExit.cause).includes("no connection within 500 ms"))
      }))
  })

  it.effect("without SessionClock the timers run on real time, even under it.effect's TestClock", () => {
    const server = Scripted.make()
    server.answer = "hold"
    return Effect.scoped(
      Effect.gen(function*() {
        const zk = yield* make({ servers: "127.0.0.1:2181", requestTimeout: "40 millis" })
        // Nobody adjusts the TestClock: only the real clock can time this request out.
        const error = yield* Effect.flip(zk.get("/held"))
        assert.strictEqual(error._tag, "OperationTimeout")
        // The held request still counts as in flight: drop the connection so close need not wait.
        server.connections[0]!.drop()
      })
    ).pipe(Effect.provide(server.layer))
  })
})

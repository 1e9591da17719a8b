/**
 * Session resilience, through a fault proxy in front of a real server: stalls and
 * partitions, cuts in the middle of a reply, requests caught by a cut or made while
 * disconnected, reconnect pacing, client-side expiry, and SetWatches batching.
 */
import { assert, layer } from "@effect/vitest"
import { Acl, CreateMode, Perms, type SessionEvent, type ZooKeeperService } from "@effect-zk/core"
import { FaultProxy, Testing } from "@effect-zk/node"
import { FourLetterWord, ZooKeeperServer } from "@effect-zk/server"
import { type Duration, Effect, Exit, Fiber, Option, Redacted, Schedule, Stream } from "effect"
import { chrootOf, connectTo, holdsFor, record, sandbox, stateIs } from "./utils/TestZooKeeper.ts"

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

/** A sandboxed connect string through a fault proxy, and the same chroot reached directly. */
const proxied = Effect.gen(function*() {
  const servers = yield* sandbox
  const server = yield* ZooKeeperServer.ZooKeeperServer
  const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
  const chroot = chrootOf(servers)
  return { proxy, servers: `${proxy.address}${chroot}`, direct: servers, chroot }
})

/**
 * Session events from now on, with the states in order and when each first arrived. `arrived`
 * waits for the recorder's copy of an event: `zk.state` changes a moment before the event
 * reaches the recorder, so waiting on the state and then reading the record is a race.
 */
const recording = (zk: ZooKeeperService) =>
  Effect.map(record(zk), (log) => {
    const at = (state: SessionEvent["state"]) => log.find((e) => e.state === state)?.at
    return {
      states: () => log.map((e) => e.state),
      at,
      arrived: (state: SessionEvent["state"], timeout: Duration.Input = "10 seconds") =>
        Testing.eventually(Effect.sync(() => at(state) !== undefined), { timeout, what: `the recorded ${state}` })
    }
  })


// A long tick: the server rounds a session's expiry up to the next tick, so it often outlives
// the client-side verdict by seconds (what the late-handshake test needs).
layer(ZooKeeperServer.layer({ tickTime: "4 seconds", minSessionTimeout: "1 second" }), { timeout: "90 seconds", excludeTestServices: true })(
  "session resilience",
  (it) => {
    it.effect("a stall longer than the read timeout: the read in flight fails with ConnectionLoss, the session resumes with its watch and ephemeral", () =>
      Effect.gen(function*() {
        const { proxy, servers, direct } = yield* proxied
        const zk = yield* connectTo(servers, { sessionTimeout: "3 seconds" })
        const other = yield* connectTo(direct)
        yield* zk.create("/alive", "", { mode: CreateMode.Ephemeral })
        yield* zk.create("/w", "1")
        const { watch } = yield* zk.getW("/w")
        const before = (yield* zk.clientId).sessionId
        const events = yield* recording(zk)
        yield* zk.exists("/w") // the last bytes heard before the stall
        const stalledAt = Date.now()
        yield* proxy.setMode("pause")
        const inFlight = yield* Effect.forkChild(zk.get("/w"), { startImmediately: true })
        yield* events.arrived("Disconnected", "6 seconds")
        // Only the read timeout (2/3 of 3 s) can notice held bytes without a FIN.
        const noticed = events.at("Disconnected")! - stalledAt
        assert.isAtLeast(noticed, 1800)
        assert.isAtMost(noticed, 3500)
        const lost = yield* Effect.flip(Fiber.join(inFlight))
        assert.strictEqual(lost._tag, "ConnectionLoss")
        yield* proxy.setMode("pass")
        yield* events.arrived("Connected")
        assert.deepStrictEqual(events.states(), ["Disconnected", "Connected"])
        assert.strictEqual((yield* zk.clientId).sessionId, before)
        assert.isTrue(Option.isSome(yield* other.exists("/alive")))
        assert.strictEqual(yield* zk.pendingWatches, 1)
        yield* other.set("/w", "2")
        assert.deepStrictEqual(yield* Stream.runCollect(watch), [{ type: "NodeDataChanged", path: "/w" }])
      }))

    it.effect("a partition longer than the session timeout: Expired one timeout after the last reply, watches fail, no new session", () =>
      Effect.gen(function*() {
        const { proxy, servers, direct } = yield* proxied
        const timeout = 3000
        const zk = yield* connectTo(servers, { sessionTimeout: `${timeout} millis` })
        const other = yield* connectTo(direct)
        yield* zk.create("/eph", "", { mode: CreateMode.Ephemeral })
        const data = yield* zk.getW("/eph")
        const missing = yield* zk.existsW("/missing")
        const children = yield* zk.childrenW("/")
        const events = yield* recording(zk)
        yield* zk.exists("/eph") // the last bytes heard before the partition
        const partitionedAt = Date.now()
        yield* proxy.setMode("blackhole")
        yield* events.arrived("Expired")
        const expiredAfter = events.at("Expired")! - partitionedAt
        // Not before the server can have expired it, and not a read timeout (2/3) later either.
        assert.isAtLeast(expiredAfter, timeout * 0.9)
        assert.isAtMost(expiredAfter, timeout + 1500)
        assert.deepStrictEqual(events.states(), ["Disconnected", "Expired"])
        for (const watch of [data.watch, missing.watch, children.watch]) {
          assert.strictEqual((yield* Effect.flip(Stream.runCollect(watch)))._tag, "SessionExpired")
        }
        assert.strictEqual(yield* zk.pendingWatches, 0)
        assert.strictEqual((yield* Effect.flip(zk.get("/eph")))._tag, "SessionExpired")
        assert.strictEqual((yield* Effect.flip(zk.create("/after")))._tag, "SessionExpired")
        // The network heals: no attempt is made, no session is opened behind the caller's back.
        yield* proxy.setMode("pass")
        yield* Testing.eventually(Effect.map(proxy.connections, (n) => n === 0), { timeout: "5 seconds" })
        const attempts = yield* proxy.accepted
        yield* holdsFor(
          Effect.map(Effect.all([zk.state, proxy.accepted]), ([s, n]) => s === "Expired" && n === attempts),
          "1 second",
          "an expired session must stay expired, with no new connection"
        )
        // The server agrees: it expired the session too, and its ephemeral went with it.
        yield* Testing.eventually(Effect.map(other.exists("/eph"), Option.isNone), { timeout: "10 seconds" })
      }))

    it.effect("a handshake answered after client-side expiry does not bring the session back", () =>
      Effect.gen(function*() {
        const { proxy, servers } = yield* proxied
        // Attempts back to back (1 s each), each held by the paused proxy: one is almost always
        // in flight at expiry. A cut, not the read timeout, ends the connection, so the attempts
        // do not end on the ticker's beat, where expiry is checked.
        const zk = yield* connectTo(servers, { sessionTimeout: "3 seconds", reconnectSchedule: Schedule.spaced("10 millis") })
        const { watch } = yield* zk.existsW("/never")
        yield* proxy.setMode("pause")
        yield* proxy.cut
        yield* Testing.eventually(stateIs(zk, "Expired"), { timeout: "10 seconds" })
        // The held ConnectRequest now reaches a server that (rounding expiry up to its 4 s tick)
        // most likely still knows the session and accepts it: the client must close that connection.
        yield* proxy.setMode("pass")
        yield* Testing.eventually(Effect.map(proxy.connections, (n) => n === 0), { timeout: "2 seconds" })
        assert.strictEqual(yield* zk.state, "Expired")
        assert.strictEqual((yield* Effect.flip(zk.exists("/never")))._tag, "SessionExpired")
        assert.strictEqual((yield* Effect.flip(Stream.runCollect(watch)))._tag, "SessionExpired")
      }))

    it.effect("closing while a reconnect's handshake is held back: Closed stays Closed", () =>
      Effect.gen(function*() {
        const { proxy, servers } = yield* proxied
        const zk = yield* connectTo(servers, { sessionTimeout: "10 seconds" })
        const events = yield* recording(zk)
        yield* proxy.setMode("pause")
        yield* proxy.cut
        yield* Testing.eventually(stateIs(zk, "Disconnected"))
        yield* Testing.eventually(Effect.map(proxy.connections, (n) => n === 1)) // the next attempt, held
        yield* zk.close.pipe(Effect.timeout("2 seconds"))
        assert.strictEqual(yield* zk.state, "Closed")
        yield* proxy.setMode("pass")
        // The late ConnectResponse arrives; the connection is dropped at once (its own attempt
        // timeout is 3.3 s away).
        yield* Testing.eventually(Effect.map(proxy.connections, (n) => n === 0), { timeout: "2 seconds" })
        assert.strictEqual(yield* zk.state, "Closed")
        assert.deepStrictEqual(events.states(), ["Disconnected", "Closed"])
        assert.strictEqual((yield* Effect.flip(zk.get("/")))._tag, "Closing")
      }))

    it.effect("requests in flight at a cut fail with ConnectionLoss and are never re-sent, applied or not", () =>
      Effect.gen(function*() {
        const { proxy, servers, direct } = yield* proxied
        const zk = yield* connectTo(servers)
        const other = yield* connectTo(direct)
        yield* zk.create("/applied")
        yield* zk.create("/dropped")
        const count = (parent: string) => Effect.map(other.children(parent), ({ children }) => children.length)

        // The request reaches the server, its reply is held: the create happened, once.
        yield* proxy.setMode("pause", "toClient")
        const applied = yield* Effect.forkChild(zk.create("/applied/seq-", "x", { mode: CreateMode.PersistentSequential }), {
          startImmediately: true
        })
        yield* Testing.eventually(Effect.map(count("/applied"), (n) => n === 1))
        yield* proxy.cut
        assert.strictEqual((yield* Effect.flip(Fiber.join(applied)))._tag, "ConnectionLoss")
        yield* proxy.setMode("pass")
        yield* Testing.eventually(stateIs(zk, "Connected"))
        // A re-sent request would have gone out before this one, on the same FIFO connection.
        yield* zk.sync("/")
        assert.strictEqual((yield* zk.children("/applied")).children.length, 1)

        // The request never reaches the server: nothing happened, and nothing happens later.
        yield* proxy.setMode("blackhole", "toServer")
        const dropped = yield* Effect.forkChild(zk.create("/dropped/seq-", "x", { mode: CreateMode.PersistentSequential }), {
          startImmediately: true
        })
        yield* proxy.cut
        assert.strictEqual((yield* Effect.flip(Fiber.join(dropped)))._tag, "ConnectionLoss")
        yield* proxy.setMode("pass")
        yield* Testing.eventually(stateIs(zk, "Connected"))
        yield* zk.sync("/")
        assert.strictEqual((yield* zk.children("/dropped")).children.length, 0)
        assert.strictEqual(yield* count("/dropped"), 0)
      }))

    it.effect("requests made while disconnected wait, then run in order, after the auth and the watches", () =>
      Effect.gen(function*() {
        const { proxy, servers, direct } = yield* proxied
        const owner = yield* connectTo(direct, { auth: [{ scheme: "digest", credential: Redacted.make("joe:passwd") }] })
        yield* owner.create("/secret", "s", { acl: Acl.auth(Perms.All) })
        yield* owner.create("/q", "v0")
        yield* owner.create("/w", "old")
        const zk = yield* connectTo(servers)
        yield* zk.addAuth("digest", Redacted.make("joe:passwd"))
        const { watch } = yield* zk.getW("/w")
        const before = (yield* zk.clientId).sessionId
        yield* proxy.setRefuse(true)
        yield* proxy.cut
        yield* Testing.eventually(stateIs(zk, "Disconnected"))
        // Each fiber submits synchronously when started, so `submitted` is the queue's order.
        const submitted: Array<string> = []
        const submit = <A>(label: string, effect: Effect.Effect<A, unknown>) =>
          Effect.forkChild(Effect.andThen(Effect.sync(() => submitted.push(label)), effect), { startImmediately: true })
        const creates = []
        for (let i = 0; i < 5; i++) {
          creates.push(yield* submit(`create ${i}`, zk.create("/q/n-", `${i}`, { mode: CreateMode.PersistentSequential })))
        }
        const setFirst = yield* submit("set v1", zk.set("/q", "v1"))
        const readBetween = yield* submit("get /q", zk.get("/q"))
        const setSecond = yield* submit("set v2", zk.set("/q", "v2"))
        const secret = yield* submit("get /secret", zk.get("/secret"))
        // Replaced while queued: if these ran before SetWatches, the server would see a newer
        // /w and fire NodeDataChanged; re-armed first, the watch sees the delete.
        const deleted = yield* submit("delete /w", zk.delete("/w"))
        const recreated = yield* submit("create /w", zk.create("/w", "new"))
        // Nothing can complete while every connection is refused.
        assert.isTrue(creates.every((fiber) => fiber.pollUnsafe() === undefined))
        yield* proxy.setRefuse(false)
        const paths = yield* Effect.forEach(creates, (fiber) => Fiber.join(fiber))
        // Sequence numbers follow submission order.
        assert.deepStrictEqual([...paths].sort(), paths)
        assert.deepStrictEqual(
          yield* Effect.forEach(paths, (path) => Effect.map(zk.get(path), ({ data }) => text(data))),
          ["0", "1", "2", "3", "4"]
        )
        assert.strictEqual((yield* Fiber.join(setFirst)).version, 1)
        assert.strictEqual(text((yield* Fiber.join(readBetween)).data), "v1")
        assert.strictEqual((yield* Fiber.join(setSecond)).version, 2)
        // The queued read of an auth-only node succeeded: the auth went out first.
        assert.strictEqual(text((yield* Fiber.join(secret)).data), "s")
        yield* Fiber.join(deleted)
        assert.strictEqual(yield* Fiber.join(recreated), "/w")
        assert.deepStrictEqual(yield* Stream.runCollect(watch), [{ type: "NodeDeleted", path: "/w" }])
        assert.strictEqual(submitted.length, 11)
        assert.strictEqual((yield* zk.clientId).sessionId, before)
      }))

    it.effect("each session shuffles its hosts: sessions spread over the connect string", () =>
      Effect.gen(function*() {
        const servers = yield* sandbox
        const server = yield* ZooKeeperServer.ZooKeeperServer
        const chroot = chrootOf(servers)
        const proxies = yield* Effect.forEach([1, 2, 3], () => FaultProxy.make({ host: "127.0.0.1", port: server.port }))
        const connectString = `${proxies.map((p) => p.address).join(",")}${chroot}`
        // Twelve sessions, in order: unshuffled, every one would start with the first host.
        yield* Effect.forEach(Array.from({ length: 12 }), () => Effect.scoped(connectTo(connectString)), { discard: true })
        const firsts = yield* Effect.forEach(proxies, (p) => p.accepted)
        assert.strictEqual(firsts.reduce((a, b) => a + b, 0), 12)
        assert.isAtLeast(firsts.filter((n) => n > 0).length, 2, `first connections per host: ${firsts.join(", ")}`)
      }))

    it.effect("every host down: reconnects are paced, rotate over the hosts, never a hot loop", () =>
      Effect.gen(function*() {
        const servers = yield* sandbox
        const server = yield* ZooKeeperServer.ZooKeeperServer
        const chroot = chrootOf(servers)
        const proxies = yield* Effect.forEach([1, 2, 3], () => FaultProxy.make({ host: "127.0.0.1", port: server.port }))
        const zk = yield* connectTo(`${proxies.map((p) => p.address).join(",")}${chroot}`)
        const before = (yield* zk.clientId).sessionId
        yield* Effect.forEach(proxies, (p) => Effect.andThen(p.setRefuse(true), p.cut))
        yield* Testing.eventually(stateIs(zk, "Disconnected"))
        const counts = Effect.forEach(proxies, (p) => p.accepted)
        const start = yield* counts
        const windowStart = Date.now()
        yield* Effect.sleep("2 seconds") // the measurement window
        const elapsed = Date.now() - windowStart
        const attempts = (yield* counts).map((n, i) => n - start[i]!)
        const total = attempts.reduce((a, b) => a + b, 0)
        // Default pacing: 20 ms doubling to 1 s, so about 7 attempts in 2 s; a hot loop makes thousands.
        assert.isBelow(total, 50, `attempts in ${elapsed} ms: ${attempts.join(", ")}`)
        assert.isAtLeast(total, 3)
        for (const n of attempts) assert.isAtLeast(n, 1, `every host is tried: ${attempts.join(", ")}`)
        yield* Effect.forEach(proxies, (p) => p.setRefuse(false))
        yield* Testing.eventually(stateIs(zk, "Connected"))
        assert.strictEqual((yield* zk.clientId).sessionId, before)
      }))

    it.effect("a custom reconnectSchedule is the one that paces the attempts", () =>
      Effect.gen(function*() {
        const fast = yield* proxied
        const paced = yield* proxied
        const custom = yield* connectTo(fast.servers, { reconnectSchedule: Schedule.spaced("50 millis") })
        const standard = yield* connectTo(paced.servers)
        for (const { proxy } of [fast, paced]) {
          yield* proxy.setRefuse(true)
          yield* proxy.cut
        }
        yield* Testing.eventually(Effect.map(Effect.all([custom.state, standard.state]), (s) => s.every((x) => x === "Disconnected")))
        const start = yield* Effect.all([fast.proxy.accepted, paced.proxy.accepted])
        yield* Effect.sleep("1500 millis") // the measurement window, both clients side by side
        const [customAttempts, standardAttempts] = (yield* Effect.all([fast.proxy.accepted, paced.proxy.accepted])).map((n, i) =>
          n - start[i]!
        )
        // Every 50 ms: about 30 attempts; the default (20 ms doubling to 1 s): about 7.
        assert.isAtLeast(customAttempts!, 15, `custom ${customAttempts}, default ${standardAttempts}`)
        assert.isAtMost(customAttempts!, 40, `custom ${customAttempts}`)
        assert.isAtMost(standardAttempts!, 10, `default ${standardAttempts}`)
      }))

    it.effect("a cut in the middle of a reply: ConnectionLoss, then the same read succeeds on the same session", () =>
      Effect.gen(function*() {
        const { proxy, servers } = yield* proxied
        const zk = yield* connectTo(servers)
        const big = new Uint8Array(500_000).map((_, i) => (i * 31) & 0xff)
        yield* zk.create("/big", big)
        const before = (yield* zk.clientId).sessionId
        // The reply is 4 (length) + 16 (header) + 4 + 500,000 (data) + 68 (Stat) bytes.
        const reply = 4 + 16 + 4 + big.length + 68
        for (const cutAt of [2, 10, 20, 30, 250_000, reply - 1]) {
          yield* proxy.cutAfter(cutAt)
          const error = yield* Effect.flip(zk.get("/big"))
          assert.strictEqual(error._tag, "ConnectionLoss", `cut after ${cutAt} bytes`)
          yield* Testing.eventually(stateIs(zk, "Connected"))
        }
        const { data } = yield* zk.get("/big")
        assert.strictEqual(data.length, big.length)
        assert.isTrue(data.every((b, i) => b === big[i]))
        assert.strictEqual((yield* zk.clientId).sessionId, before)
      }))

    it.effect("more than 1 MiB of watched paths: SetWatches in batches re-arms every watch, changes made meanwhile fire", () =>
      Effect.gen(function*() {
        const { proxy, servers, direct, chroot } = yield* proxied
        const server = yield* ZooKeeperServer.ZooKeeperServer
        const zk = yield* connectTo(servers)
        const other = yield* connectTo(direct)
        yield* zk.create("/w", "d0")
        // 4,500 paths of ~250 characters with the chroot: ~1.1 MB, more than one frame may carry.
        const count = 4500
        const prefix = `/w/${"x".repeat(230)}-`
        const paths = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(5, "0")}`)
        assert.isAbove((chroot.length + paths[0]!.length) * count, 1_048_576)
        const watches = yield* Effect.forEach(paths, (path) => Effect.map(zk.existsW(path), ({ watch }) => watch), {
          concurrency: 256
        })
        const dataWatch = (yield* zk.getW("/w")).watch
        const childWatch = (yield* zk.childrenW("/w")).watch
        assert.strictEqual(yield* zk.pendingWatches, count + 2)
        const fired = yield* Effect.forEach(watches, (watch) => Effect.forkChild(Stream.runHead(watch)))

        yield* proxy.setRefuse(true)
        yield* proxy.cut
        yield* Testing.eventually(stateIs(zk, "Disconnected"))
        const early = paths.filter((_, i) => i % 50 === 0)
        yield* Effect.forEach(early, (path) => other.create(path), { concurrency: 64, discard: true })
        yield* proxy.setRefuse(false)
        yield* Testing.eventually(stateIs(zk, "Connected"))

        // Changed while away: fired right after the reconnect.
        for (let i = 0; i < count; i += 50) {
          const event = yield* Fiber.join(fired[i]!).pipe(Effect.timeout("10 seconds"))
          assert.deepStrictEqual(event, Option.some({ type: "NodeCreated" as const, path: paths[i]! }))
        }
        assert.deepStrictEqual(yield* Stream.runCollect(childWatch), [{ type: "NodeChildrenChanged", path: "/w" }])
        // Unchanged: re-armed on the server, not fired.
        const rearmed = count - early.length + 1
        yield* Testing.eventually(Effect.map(zk.pendingWatches, (n) => n === rearmed))
        assert.isTrue(fired.every((fiber, i) => i % 50 === 0 || fiber.pollUnsafe() === undefined))
        const summary = yield* FourLetterWord.wchs(server.port)
        assert.isAtLeast(summary.totalWatches, rearmed)

        // And each of them still fires.
        yield* Effect.forEach(paths.filter((_, i) => i % 50 !== 0), (path) => other.create(path), {
          concurrency: 64,
          discard: true
        })
        const rest = yield* Effect.forEach(fired, (fiber) => Fiber.join(fiber)).pipe(Effect.timeout("30 seconds"))
        assert.isTrue(rest.every((event, i) => Option.isSome(event) && event.value.path === paths[i] && event.value.type === "NodeCreated"))
        yield* other.set("/w", "d1")
        assert.deepStrictEqual(yield* Stream.runCollect(dataWatch), [{ type: "NodeDataChanged", path: "/w" }])
        assert.strictEqual(yield* zk.pendingWatches, 0)
        assert.isTrue(Exit.isSuccess(yield* Effect.exit(zk.exists("/w"))))
      }))
  }
)

/**
 * ZooKeeper 3.6+ features against a real 3.8 server: transactions, create2, TTL and container
 * nodes, persistent watches, continuous watches, watch removal and the small extras.
 */
import { assert, layer } from "@effect/vitest"
import { Acl, CreateMode, Op, Perms } from "@effect-zk/core"
import { FaultProxy } from "@effect-zk/node"
import { FourLetterWord, ZooKeeperServer } from "@effect-zk/server"
import { Effect, Fiber, Metric, Option, Queue, Redacted, Stream, Tracer } from "effect"
import { chrootOf, client, connectTo, eventually, sandbox, watchedOnServer } from "./utils/TestZooKeeper.ts"

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

layer(ZooKeeperServer.layer(), { timeout: "60 seconds", excludeTestServices: true })("modern", (it) => {
  it.effect("multi applies every op or none; the failure carries every op's result", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const zk = yield* connectTo(servers)
      const observer = yield* connectTo(servers)
      yield* zk.create("/config", "v1")
      const results = yield* zk.multi([
        Op.check("/config", 0),
        Op.set("/config", "v2", { version: 0 }),
        Op.create("/config/h-", "v1", { mode: CreateMode.PersistentSequential }),
        Op.create("/tmp"),
        Op.delete("/tmp")
      ])
      assert.deepStrictEqual(results.map((r) => r._tag), ["Check", "Set", "Create", "Create", "Delete"])
      const [, set, created] = results
      assert.isTrue(set?._tag === "Set" && set.stat.version === 1)
      assert.isTrue(created?._tag === "Create" && /^\/config\/h-\d{10}$/.test(created.path))
      assert.strictEqual(text((yield* observer.get("/config")).data), "v2")

      const error = yield* Effect.flip(zk.multi([
        Op.create("/a"),
        Op.set("/config", "v3", { version: 0 }),
        Op.create("/b")
      ]))
      assert.strictEqual(error._tag, "BadVersion")
      assert.strictEqual(error.op, "multi")
      assert.strictEqual(error.path, "/config")
      // Each entry names its op's path and the error's tag, with the protocol code kept.
      assert.deepStrictEqual(error.results, [
        { _tag: "Error", path: "/a", code: 0, error: "Ok" },
        { _tag: "Error", path: "/config", code: -103, error: "BadVersion" },
        { _tag: "Error", path: "/b", code: -2, error: "RuntimeInconsistency" }
      ])
      // Rolled back: seen from another session, nothing of it applied.
      assert.isTrue(Option.isNone(yield* observer.exists("/a")))
      assert.isTrue(Option.isNone(yield* observer.exists("/b")))
      assert.strictEqual(text((yield* observer.get("/config")).data), "v2")
      const exists = yield* Effect.flip(zk.multi([Op.create("/config")]))
      assert.strictEqual(exists._tag, "NodeExists")
    }))

  it.effect("multi and multiRead check their input before sending", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      assert.strictEqual((yield* Effect.flip(zk.multi([])))._tag, "BadArguments")
      assert.strictEqual((yield* Effect.flip(zk.multiRead([])))._tag, "BadArguments")
      assert.strictEqual((yield* Effect.flip(zk.multi([Op.create("/ok"), Op.create("bad")])))._tag, "BadArguments")
      assert.strictEqual((yield* Effect.flip(zk.multi([Op.check("/ok", -5)])))._tag, "BadArguments")
      assert.isTrue(Option.isNone(yield* zk.exists("/ok")))
    }))

  it.effect("multiRead reads several nodes in one round trip, errors per op, each result with its path", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      yield* zk.create("/r", "data")
      yield* zk.create("/r/c1")
      const results = yield* zk.multiRead([Op.get("/r"), Op.children("/r"), Op.get("/missing")])
      const [get, children, missing] = results
      assert.isTrue(get?._tag === "Get" && get.path === "/r" && text(get.data) === "data" && get.stat.numChildren === 1)
      assert.deepStrictEqual(children, { _tag: "Children", path: "/r", children: ["c1"] })
      assert.deepStrictEqual(missing, { _tag: "Error", path: "/missing", code: -101, error: "NoNode" })
    }))

  it.effect("create2 returns the Stat; TTL and container nodes disappear on the server's schedule", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      const { path, stat } = yield* zk.create2("/ttl", "x", { mode: CreateMode.PersistentWithTtl, ttl: 500 })
      assert.strictEqual(path, "/ttl")
      assert.strictEqual(stat.dataLength, 1)
      const seq = yield* zk.create("/ttl-seq-", "", { mode: CreateMode.PersistentSequentialWithTtl, ttl: 500 })
      assert.match(seq, /^\/ttl-seq-\d{10}$/)
      yield* zk.create("/box", "", { mode: CreateMode.Container })
      yield* zk.create("/box/item")
      yield* zk.delete("/box/item")
      yield* eventually(
        Effect.map(
          Effect.all([zk.exists("/ttl"), zk.exists(seq), zk.exists("/box")]),
          (all) => all.every(Option.isNone)
        ),
        "20 seconds"
      )
      for (const ttl of [0, 2 ** 40, -1, 1.5]) {
        const error = yield* Effect.flip(zk.create("/bad-ttl", "", { mode: CreateMode.PersistentWithTtl, ttl }))
        assert.strictEqual(error._tag, "BadArguments")
      }
      assert.strictEqual((yield* Effect.flip(zk.create("/no-ttl-mode", "", { ttl: 1000 })))._tag, "BadArguments")
    }))

  it.effect("persistent watch: every event of the path; removed on the server when the stream ends", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const zk = yield* connectTo(servers)
      const other = yield* connectTo(servers)
      const server = yield* ZooKeeperServer.ZooKeeperServer
      const received = yield* Queue.unbounded<string>()
      const fiber = yield* Effect.forkChild(
        zk.addWatch("/p").pipe(
          Stream.runForEach((e) => Queue.offer(received, `${e.type} ${e.path}`)),
          Effect.scoped
        )
      )
      yield* watchedOnServer(server.port, zk, `${chrootOf(servers)}/p`)
      yield* other.create("/p", "1")
      yield* other.set("/p", "2")
      yield* other.create("/p/child")
      yield* other.set("/p/child", "not seen: not the watched path")
      yield* other.delete("/p/child")
      yield* other.delete("/p")
      const events = yield* Effect.all(Array.from({ length: 5 }, () => Queue.take(received)))
      assert.deepStrictEqual(events, [
        "NodeCreated /p",
        "NodeDataChanged /p",
        "NodeChildrenChanged /p",
        "NodeChildrenChanged /p",
        "NodeDeleted /p"
      ])
      const before = yield* FourLetterWord.wchs(server.port)
      yield* Fiber.interrupt(fiber)
      // The server-side watch is gone once the stream's scope closed.
      yield* eventually(Effect.map(FourLetterWord.wchs(server.port), (w) => w.totalWatches < before.totalWatches))
    }))

  it.effect("recursive watch: the path and every descendant, never NodeChildrenChanged", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const zk = yield* connectTo(servers)
      const other = yield* connectTo(servers)
      yield* zk.create("/tree")
      const collected = yield* Effect.forkChild(
        zk.addWatch("/tree", { recursive: true }).pipe(Stream.take(4), Stream.runCollect)
      )
      yield* watchedOnServer((yield* ZooKeeperServer.ZooKeeperServer).port, zk, `${chrootOf(servers)}/tree`)
      yield* other.create("/tree/a")
      yield* other.create("/tree/a/b", "x")
      yield* other.set("/tree/a/b", "y")
      yield* other.delete("/tree/a/b")
      const events = yield* Fiber.join(collected)
      assert.deepStrictEqual(events, [
        { type: "NodeCreated", path: "/tree/a" },
        { type: "NodeCreated", path: "/tree/a/b" },
        { type: "NodeDataChanged", path: "/tree/a/b" },
        { type: "NodeDeleted", path: "/tree/a/b" }
      ])
    }))

  it.effect("persistent watches survive a reconnect (SetWatches2) and announce it with Resync", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const chroot = chrootOf(servers)
      const server = yield* ZooKeeperServer.ZooKeeperServer
      const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
      const zk = yield* connectTo(`${proxy.address}${chroot}`)
      const other = yield* connectTo(servers)
      yield* zk.create("/kept")
      const received = yield* Queue.unbounded<string>()
      yield* Effect.forkChild(
        Effect.scoped(zk.addWatch("/kept", { recursive: true }).pipe(Stream.runForEach((e) => Queue.offer(received, `${e.type} ${e.path}`))))
      )
      yield* watchedOnServer(server.port, zk, `${chroot}/kept`)
      yield* other.set("/kept", "before")
      assert.strictEqual(yield* Queue.take(received), "NodeDataChanged /kept")
      // A slow link from here on: SetWatches2 reaches the server well after the ConnectResponse
      // reached the client, so a Resync sent on reconnect rather than on the re-arm shows.
      yield* proxy.setDelay("400 millis")
      yield* proxy.cut
      assert.strictEqual(yield* Queue.take(received), "Resync /kept")
      // Resync means armed: the server already holds the watch, so the change below cannot slip by.
      assert.include((yield* FourLetterWord.wchc(server.port)).get((yield* zk.clientId).hex) ?? [], `${chroot}/kept`)
      yield* other.create("/kept/after")
      assert.strictEqual(yield* Queue.take(received), "NodeCreated /kept/after")
    }))

  it.effect("updateServers moves a live session only when its server is no longer listed", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const chroot = chrootOf(servers)
      const server = yield* ZooKeeperServer.ZooKeeperServer
      const a = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
      const b = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
      const zk = yield* connectTo(`${a.address}${chroot}`)
      yield* zk.create("/moving", "", { mode: CreateMode.Ephemeral })
      const { sessionId } = yield* zk.clientId
      yield* zk.updateServers(`${a.address},${b.address}`)
      assert.strictEqual(yield* a.connections, 1, "still listed: the connection stays")
      yield* zk.updateServers(`${b.address}${chroot}`)
      yield* eventually(Effect.map(Effect.all([a.connections, b.connections]), ([x, y]) => x === 0 && y === 1))
      yield* eventually(Effect.map(zk.state, (s) => s === "Connected"))
      assert.strictEqual((yield* zk.clientId).sessionId, sessionId)
      assert.isTrue(Option.isSome(yield* zk.exists("/moving")))
      const error = yield* Effect.flip(zk.updateServers(`${b.address}/elsewhere`))
      assert.strictEqual(error._tag, "BadArguments")
      assert.strictEqual((yield* Effect.flip(zk.updateServers("")))._tag, "BadArguments")
    }))

  it.effect("a slow consumer fails the stream with WatchOverflow instead of losing events", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const zk = yield* connectTo(servers)
      const other = yield* connectTo(servers)
      yield* zk.create("/busy", "0")
      let consumed = 0
      const fiber = yield* Effect.forkChild(
        zk.addWatch("/busy", { bufferSize: 3 }).pipe(
          Stream.mapEffect(() => Effect.sleep("200 millis").pipe(Effect.andThen(Effect.sync(() => consumed++)))),
          Stream.runDrain
        )
      )
      yield* watchedOnServer((yield* ZooKeeperServer.ZooKeeperServer).port, zk, `${chrootOf(servers)}/busy`)
      for (let i = 1; i <= 10; i++) yield* other.set("/busy", String(i))
      // What was buffered is still delivered, then the stream fails: nothing is skipped silently.
      const error = yield* Effect.flip(Fiber.join(fiber)).pipe(Effect.timeout("10 seconds"))
      assert.strictEqual(error._tag, "WatchOverflow")
      assert.isAtMost(consumed, 4)
      assert.isAtLeast(consumed, 3)
    }))

  it.effect("a standard watch on a persistently watched path keeps both working (3.8 quirk)", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const zk = yield* connectTo(servers)
      const other = yield* connectTo(servers)
      yield* zk.create("/both", "0")
      const persistent = yield* Effect.forkChild(zk.addWatch("/both").pipe(Stream.take(3), Stream.runCollect))
      yield* watchedOnServer((yield* ZooKeeperServer.ZooKeeperServer).port, zk, `${chrootOf(servers)}/both`)
      const { watch } = yield* zk.getW("/both")
      yield* other.set("/both", "1")
      assert.deepStrictEqual(yield* Stream.runCollect(watch), [{ type: "NodeDataChanged", path: "/both" }])
      yield* other.set("/both", "2")
      yield* other.set("/both", "3")
      assert.deepStrictEqual((yield* Fiber.join(persistent)).map((e) => e.type), ["NodeDataChanged", "NodeDataChanged", "NodeDataChanged"])
    }))

  it.effect("watchData: the current value, then every change, including deletion and re-creation", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const zk = yield* connectTo(servers)
      const other = yield* connectTo(servers)
      const seen = yield* Queue.unbounded<string>()
      yield* Effect.forkChild(zk.watchData("/v").pipe(
        Stream.runForEach((v) => Queue.offer(seen, Option.match(v, { onNone: () => "none", onSome: (n) => text(n.data) })))
      ))
      assert.strictEqual(yield* Queue.take(seen), "none")
      yield* other.create("/v", "a")
      assert.strictEqual(yield* Queue.take(seen), "a")
      yield* other.set("/v", "b")
      assert.strictEqual(yield* Queue.take(seen), "b")
      yield* other.delete("/v")
      assert.strictEqual(yield* Queue.take(seen), "none")
      yield* other.create("/v", "c")
      assert.strictEqual(yield* Queue.take(seen), "c")
    }))

  it.effect("watchChildren: the current children, then every change", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const zk = yield* connectTo(servers)
      const other = yield* connectTo(servers)
      const seen = yield* Queue.unbounded<string>()
      yield* Effect.forkChild(zk.watchChildren("/kids").pipe(
        Stream.runForEach((c) => Queue.offer(seen, [...c].sort().join(",")))
      ))
      assert.strictEqual(yield* Queue.take(seen), "")
      yield* other.create("/kids")
      assert.strictEqual(yield* Queue.take(seen), "")
      yield* other.create("/kids/a")
      assert.strictEqual(yield* Queue.take(seen), "a")
      yield* other.create("/kids/b")
      assert.strictEqual(yield* Queue.take(seen), "a,b")
    }))

  it.effect("removeWatches and checkWatches", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      yield* zk.create("/rw")
      const data = yield* zk.getW("/rw")
      const kids = yield* zk.childrenW("/rw")
      yield* zk.checkWatches("/rw", "data")
      yield* zk.checkWatches("/rw", "children")
      yield* zk.removeWatches("/rw", "data")
      assert.deepStrictEqual(yield* Stream.runCollect(data.watch), [])
      assert.strictEqual(yield* zk.pendingWatches, 1)
      assert.strictEqual((yield* Effect.flip(zk.checkWatches("/rw", "data")))._tag, "NoWatcher")
      yield* zk.checkWatches("/rw", "children")
      yield* zk.removeWatches("/rw", "any")
      assert.deepStrictEqual(yield* Stream.runCollect(kids.watch), [])
      assert.strictEqual(yield* zk.pendingWatches, 0)
      assert.strictEqual((yield* Effect.flip(zk.removeWatches("/rw", "any")))._tag, "NoWatcher")
    }))

  it.effect("getEphemerals, getAllChildrenNumber, whoAmI, getConfig", () =>
    Effect.gen(function*() {
      const zk = yield* client({ auth: [{ scheme: "digest", credential: "alice:secret" }] })
      yield* zk.create("/e")
      yield* zk.create("/e/one", "", { mode: CreateMode.Ephemeral })
      yield* zk.create("/e/two", "", { mode: CreateMode.EphemeralSequential, acl: Acl.creatorAll })
      yield* zk.create("/e/persistent")
      const ephemerals = [...(yield* zk.getEphemerals())].sort()
      assert.strictEqual(ephemerals.length, 2)
      assert.strictEqual(ephemerals[0], "/e/one")
      assert.match(ephemerals[1]!, /^\/e\/two\d{10}$/)
      assert.deepStrictEqual(yield* zk.getEphemerals("/e/o"), ["/e/one"])
      assert.strictEqual(yield* zk.getAllChildrenNumber("/e"), 3)
      assert.strictEqual((yield* Effect.flip(zk.getAllChildrenNumber("/none")))._tag, "NoNode")
      const identities = yield* zk.whoAmI()
      assert.deepInclude(identities, { scheme: "digest", id: "alice" })
      assert.isTrue(identities.some((i) => i.scheme === "ip"))
      const config = yield* zk.getConfig()
      assert.strictEqual(typeof config.config, "string")
      assert.strictEqual(config.stat.aversion, -1)
      void Perms
    }))
})

layer(ZooKeeperServer.layer(), { timeout: "60 seconds", excludeTestServices: true })("observability", (it) => {
  it.effect("opt-in spans per operation, with the path and without credentials", () =>
    Effect.gen(function*() {
      const spans: Array<{ name: string; attributes: string }> = []
      const tracer = Tracer.make({
        ...Tracer.nativeTracer,
        span(options) {
          const span = Tracer.nativeTracer.span.call(Tracer.nativeTracer, options)
          const attribute = span.attribute.bind(span)
          const entry = { name: options.name, attributes: "" }
          spans.push(entry)
          span.attribute = (key, value) => {
            entry.attributes += `${key}=${String(value)};`
            attribute(key, value)
          }
          return span
        }
      })
      const zk = yield* client({ tracing: true, auth: [{ scheme: "digest", credential: Redacted.make("joe:passwd") }] })
      yield* Effect.gen(function*() {
        yield* zk.create("/traced", "x")
        yield* zk.get("/traced")
        yield* Effect.flip(zk.get("/missing"))
      }).pipe(Effect.provideService(Tracer.Tracer, tracer))
      assert.deepStrictEqual(spans.map((s) => s.name), ["zookeeper.create", "zookeeper.get", "zookeeper.get"])
      assert.include(spans[1]!.attributes, "zookeeper.path=/traced")
      assert.notInclude(JSON.stringify(spans), "passwd")
      const untraced = yield* client()
      yield* untraced.get("/").pipe(Effect.provideService(Tracer.Tracer, tracer))
      assert.strictEqual(spans.length, 3, "no span without the option")
    }))

  it.effect("opt-in metrics: requests by op and outcome, latency, outstanding", () =>
    Effect.gen(function*() {
      const zk = yield* client({ metrics: true })
      yield* zk.create("/m")
      yield* zk.get("/m")
      yield* Effect.flip(zk.get("/none"))
      const snapshot = yield* Metric.snapshot
      const count = (op: string, outcome: string) =>
        snapshot
          .filter((m) => m.id === "zookeeper_requests_total" && m.attributes?.["op"] === op && m.attributes?.["outcome"] === outcome)
          .reduce((n, m) => n + Number((m.state as { count: number }).count), 0)
      assert.isAtLeast(count("get", "ok"), 1)
      assert.isAtLeast(count("get", "NoNode"), 1)
      assert.isAtLeast(count("create", "ok"), 1)
      assert.isTrue(snapshot.some((m) => m.id === "zookeeper_request_duration_ms"))
      assert.isTrue(snapshot.some((m) => m.id === "zookeeper_outstanding_requests"))
    }))
})

layer(ZooKeeperServer.layer({ extraConfig: { extendedTypesEnabled: false } }), { timeout: "60 seconds", excludeTestServices: true })(
  "without extended types",
  (it) => {
    it.effect("TTL nodes are refused with Unimplemented and the session carries on", () =>
      Effect.gen(function*() {
        const zk = yield* client()
        const error = yield* Effect.flip(zk.create("/ttl", "", { mode: CreateMode.PersistentWithTtl, ttl: 1000 }))
        assert.strictEqual(error._tag, "Unimplemented")
        assert.strictEqual(yield* zk.create("/plain"), "/plain")
      }))
  }
)

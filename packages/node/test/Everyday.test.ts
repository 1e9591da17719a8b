/**
 * The everyday helpers against a real server: parents and ensurePath, recursive delete while
 * others write, the chroot made on connect (and named when missing), protected creates across
 * a lost reply, typed and text data, children with data, the scoped constructor, durations,
 * what a ClientId and a Stat print, and the session's log level.
 */
import { assert, layer } from "@effect/vitest"
import { ClientId, CreateMode, JsonData, Op, ZNodePath } from "@effect-zk/core"
import { FaultProxy, NodeZooKeeper, Testing } from "@effect-zk/node"
import { FourLetterWord, ZooKeeperServer } from "@effect-zk/server"
import { Console, DateTime, LogLevel, Duration, Effect, Exit, Fiber, Formatter, Logger, Option, References, Schema, Scope } from "effect"
import * as Util from "node:util"
import { chrootOf, client, connectTo, record, sandbox } from "./utils/TestZooKeeper.ts"

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

/** Every log line (level and message text) the effect writes, with the session's own defaults. */
const capturingLogs = <A, E, R>(effect: Effect.Effect<A, E, R>, minimum: LogLevel.LogLevel = "Info") =>
  Effect.gen(function*() {
    const lines: Array<{ readonly level: string; readonly message: string }> = []
    const capture = Logger.make(({ logLevel, message }) => {
      const parts = Array.isArray(message) ? message : [message]
      lines.push({ level: logLevel, message: parts.map((p) => typeof p === "string" ? p : Formatter.format(p)).join(" ") })
    })
    const result = yield* effect.pipe(
      Effect.provideService(References.CurrentLoggers, new Set([capture])),
      Effect.provideService(References.MinimumLogLevel, minimum)
    )
    return { result, lines }
  })

/** What `loggers` write to the console (rendered with `util.inspect`, as Node's console does) while `effect` runs. */
const printedBy = <A, E, R>(loggers: ReadonlyArray<Logger.Logger<unknown, unknown>>, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const out: Array<string> = []
    const write = (...args: ReadonlyArray<unknown>) => {
      out.push(args.map((a) => typeof a === "string" ? a : Util.inspect(a, { depth: 10 })).join(" "))
    }
    const testConsole: Console.Console = Object.assign(Object.create(console), { log: write, error: write, group: () => {}, groupEnd: () => {} })
    yield* effect.pipe(
      Effect.provideService(Console.Console, testConsole),
      Effect.provideService(References.CurrentLoggers, new Set(loggers))
    )
    return out
  })

/** A client in a fresh chroot that talks through a FaultProxy, and an observer that does not. */
const throughProxy = Effect.gen(function*() {
  const servers = yield* sandbox
  const server = yield* ZooKeeperServer.ZooKeeperServer
  const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
  const zk = yield* connectTo(`${proxy.address}${chrootOf(servers)}`)
  const observer = yield* connectTo(servers)
  return { server, proxy, zk, observer }
})

layer(ZooKeeperServer.layer(), { timeout: "60 seconds", excludeTestServices: true })("everyday helpers", (it) => {
  it.effect("create with parents makes the missing ones (persistent or container); ensurePath is idempotent", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      assert.strictEqual((yield* Effect.flip(zk.create("/a/b/c", "x")))._tag, "NoNode")
      assert.strictEqual(yield* zk.create("/a/b/c", "x", { parents: true }), "/a/b/c")
      assert.strictEqual(yield* zk.getText("/a/b/c"), "x")
      assert.strictEqual((yield* zk.get("/a/b")).data.length, 0)
      // Existing parents are fine, and a sequential child gets its suffix.
      assert.match(yield* zk.create("/a/b/s-", "", { parents: true, mode: CreateMode.PersistentSequential }), /^\/a\/b\/s-\d{10}$/)
      yield* zk.create("/box/item", "", { parents: true, parentMode: "container" })
      yield* zk.delete("/box/item")
      // The server reaps an empty container on its own schedule; a persistent parent stays.
      yield* Testing.eventually(Effect.map(zk.exists("/box"), Option.isNone), { timeout: "20 seconds", what: "the empty container to be reaped" })
      yield* zk.ensurePath("/e/f/g")
      yield* zk.ensurePath("/e/f/g")
      yield* zk.ensurePath("/e")
      assert.isTrue(Option.isSome(yield* zk.exists("/e/f/g")))
      // Ten sessions' worth of concurrent ensurePaths over the same chain all succeed.
      yield* Effect.forEach(Array.from({ length: 10 }, (_, i) => `/race/x/y/n${i % 2}`), (p) => zk.ensurePath(p), {
        concurrency: "unbounded"
      })
      assert.deepStrictEqual([...(yield* zk.children("/race/x/y")).children].sort(), ["n0", "n1"])
    }))

  it.effect("recursive delete removes a subtree in batches while other sessions write into it and delete it too", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const zk = yield* connectTo(servers)
      const writer = yield* connectTo(servers)
      const rival = yield* connectTo(servers)
      // 620 nodes: more than one multi batch.
      yield* zk.ensurePath("/t/a")
      for (let i = 0; i < 20; i++) {
        yield* zk.multi(Array.from({ length: 30 }, (_, j) => Op.create(j === 0 ? `/t/n${i}` : `/t/n${i}/c${j}`)))
      }
      assert.strictEqual(yield* zk.getAllChildrenNumber("/t"), 601)
      // A writer that adds up to 100 children as fast as it can, until the parent is gone. (A
      // writer that never stops would win every round; the delete then gives up with NotEmpty.)
      let written = 0
      const writing = yield* Effect.forkChild(
        Effect.gen(function*() {
          for (; written < 100; written++) yield* writer.create("/t/a/w-", "", { mode: CreateMode.PersistentSequential })
          return "done"
        }).pipe(Effect.catchTag("NoNode", () => Effect.succeed("parent gone"))),
        { startImmediately: true }
      )
      yield* Testing.eventually(Effect.sync(() => written > 0))
      const [mine, theirs] = yield* Effect.all([
        Effect.exit(zk.delete("/t", { recursive: true })),
        Effect.exit(rival.delete("/t", { recursive: true }))
      ], { concurrency: 2 })
      // Both succeed (nodes the other deleted are skipped), except that one may find /t already
      // gone when it starts, which is NoNode as for a plain delete.
      assert.isTrue(Exit.isSuccess(mine) || Exit.isSuccess(theirs), `${String(mine)} ${String(theirs)}`)
      for (const exit of [mine, theirs]) {
        if (Exit.isFailure(exit)) assert.include(String(exit.cause), "NoNode")
      }
      const ended = yield* Fiber.join(writing)
      assert.include(["done", "parent gone"], ended)
      assert.isTrue(Option.isNone(yield* zk.exists("/t")))
      // A missing node fails like delete; the root and bad input are refused before sending.
      assert.strictEqual((yield* Effect.flip(zk.delete("/t", { recursive: true })))._tag, "NoNode")
      assert.strictEqual((yield* Effect.flip(zk.delete("/", { recursive: true })))._tag, "BadArguments")
      assert.strictEqual((yield* Effect.flip(zk.delete("/x", { recursive: true, version: -5 })))._tag, "BadArguments")
    }))

  it.effect("createChroot makes the chroot on connect; without it a missing chroot is named in the error", () =>
    Effect.gen(function*() {
      const address = yield* (yield* ZooKeeperServer.ZooKeeperServer).address
      const { chroot: base } = yield* Testing.sandbox(address)
      const servers = `${address}${base}/app/env`
      const bare = yield* connectTo(servers)
      const missing = yield* Effect.flip(bare.create("/config", "v1"))
      assert.strictEqual(missing._tag, "NoNode")
      assert.include(missing.message, `the chroot "${base}/app/env" does not exist`)
      assert.include((yield* Effect.flip(bare.ensurePath("/workers")))._tag, "NoNode")
      // Twice, as an application's restart would.
      for (let run = 0; run < 2; run++) {
        yield* Effect.scoped(Effect.gen(function*() {
          const zk = yield* connectTo(servers, { createChroot: true })
          yield* zk.ensurePath("/workers")
        }))
      }
      const root = yield* connectTo(address)
      assert.deepStrictEqual((yield* root.children(`${base}/app/env`)).children, ["workers"])
      // A NoNode under an existing chroot keeps the plain message.
      const plain = yield* Effect.flip(bare.create("/nope/x"))
      assert.strictEqual(plain.message, `zookeeper: create "/nope/x": no node`)
    }))

  it.effect("a protected sequential create whose reply is lost finds its node instead of making a second", () =>
    Effect.gen(function*() {
      const { proxy, zk, observer } = yield* throughProxy
      yield* observer.ensurePath("/locks")
      // Requests reach the server, replies are held: the create is applied, its answer never comes.
      yield* proxy.setMode("pause", "toClient")
      const creating = yield* Effect.forkChild(
        zk.create("/locks/lock-", "me", { mode: CreateMode.EphemeralSequential, protected: true }),
        { startImmediately: true }
      )
      yield* Testing.eventually(Effect.map(observer.children("/locks"), ({ children }) => children.length === 1))
      yield* proxy.cut
      yield* proxy.setMode("pass")
      const path = yield* Fiber.join(creating)
      const { children } = yield* observer.children("/locks")
      assert.strictEqual(children.length, 1)
      assert.strictEqual(path, `/locks/${children[0]}`)
      // Curator's layout: _c_<uuid>-<name><sequence>.
      assert.match(path, /^\/locks\/_c_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-lock-\d{10}$/)
      assert.strictEqual(ZNodePath.protectedId(path), path.slice("/locks/_c_".length, "/locks/_c_".length + 36))
      assert.strictEqual(ZNodePath.unprotectedName(path), path.slice(-15))
      assert.strictEqual(ZNodePath.sequenceNumber(path), 0)
      assert.strictEqual(yield* observer.getText(path), "me")
      // Every sequential and ephemeral mode works; with parents too; other modes are refused before sending.
      const plain = yield* zk.create2("/q/e", "", { mode: CreateMode.Ephemeral, protected: true, parents: true })
      assert.match(plain.path, /^\/q\/_c_[0-9a-f-]{36}-e$/)
      assert.strictEqual(plain.stat.ephemeralOwner, (yield* zk.clientId).sessionId)
      assert.match(yield* zk.create("/q/p-", "", { mode: CreateMode.PersistentSequential, protected: true }), /-p-\d{10}$/)
      const refused = yield* Effect.flip(zk.create("/q/x", "", { protected: true }))
      assert.strictEqual(refused._tag, "BadArguments")
      // Another client's layout (kazoo's lock nodes: the uuid's hex digits); one that drops the uuid is refused.
      const kazoo: ZNodePath.ProtectedLayout = (uuid) => uuid.replaceAll("-", "")
      assert.match(yield* zk.create("/q/__lock__", "", { mode: CreateMode.EphemeralSequential, protected: kazoo }), /^\/q\/[0-9a-f]{32}__lock__\d{10}$/)
      const lost = yield* Effect.flip(zk.create("/q/y-", "", { mode: CreateMode.EphemeralSequential, protected: () => "same-" }))
      assert.strictEqual(lost._tag, "BadArguments")
      assert.strictEqual(ZNodePath.protectedId("lock-0000000001"), undefined)
    }))

  it.effect("typed and text data: setAs/getAs through a Schema, typed decoding errors, children with their data", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      const Config = Schema.Struct({ url: Schema.String, retries: Schema.Number })
      yield* zk.create("/config")
      const stat = yield* zk.setAs("/config", { url: "http://x", retries: 3 }, Config)
      assert.strictEqual(stat.version, 1)
      assert.strictEqual(yield* zk.getText("/config"), `{"url":"http://x","retries":3}`)
      assert.deepStrictEqual(yield* zk.getAs("/config", Config), { url: "http://x", retries: 3 })
      // A Schema with an encoding: a date travels as its ISO string.
      const Stamped = Schema.Struct({ at: Schema.DateTimeUtcFromString })
      yield* zk.create("/stamp")
      yield* zk.setAs("/stamp", { at: DateTime.makeUnsafe("2026-12-06T20:00:00.000Z") }, Stamped)
      assert.strictEqual(yield* zk.getText("/stamp"), `{"at":"2026-12-06T20:00:00.000Z"}`)
      yield* zk.create("/junk", "not json")
      const notJson = yield* Effect.flip(zk.getAs("/junk", Config))
      assert.isTrue(notJson._tag === "JsonDataError" && notJson.reason === "json" && notJson.path === "/junk")
      yield* zk.create("/other", `{"url":1}`)
      const mismatch = yield* Effect.flip(zk.getAs("/other", Config))
      assert.isTrue(mismatch._tag === "JsonDataError" && mismatch.reason === "schema")
      assert.instanceOf(mismatch, JsonData.JsonDataError)
      assert.strictEqual((yield* Effect.flip(zk.getAs("/absent", Config)))._tag, "NoNode")
      // Children with data: sorted, in batches of 100 (250 children: three round trips).
      yield* zk.create("/kids")
      for (let i = 0; i < 5; i++) {
        yield* zk.multi(Array.from({ length: 50 }, (_, j) => Op.create(`/kids/k${String(i * 50 + j).padStart(3, "0")}`, `v${i * 50 + j}`)))
      }
      const kids = yield* zk.childrenData("/kids")
      assert.strictEqual(kids.length, 250)
      assert.deepStrictEqual(kids.slice(0, 2).map(({ name, path, data }) => [name, path, text(data)]), [
        ["k000", "/kids/k000", "v0"],
        ["k001", "/kids/k001", "v1"]
      ])
      assert.strictEqual(kids[249]?.stat.dataLength, 4)
      assert.deepStrictEqual(yield* zk.childrenData("/config"), [])
    }))

  it.effect("childrenData leaves out a child deleted between the listing and the read", () =>
    Effect.gen(function*() {
      const { server, proxy, zk, observer } = yield* throughProxy
      yield* observer.multi([Op.create("/p"), Op.create("/p/a", "A"), Op.create("/p/b", "B")])
      const hex = (yield* zk.clientId).hex
      yield* zk.exists("/p")
      // The listing reaches the server and is answered; its reply is held until /p/b is gone.
      yield* proxy.setMode("pause", "toClient")
      const reading = yield* Effect.forkChild(zk.childrenData("/p"), { startImmediately: true })
      const lastOp = Effect.map(
        FourLetterWord.cons(server.port),
        (connections) => connections.find((c) => Option.getOrUndefined(c.sessionId) === hex)?.fields.get("lop")
      )
      yield* Testing.eventually(Effect.map(lastOp, (op) => op !== undefined && op !== "EXIS" && op !== "PING"))
      yield* observer.delete("/p/b")
      yield* proxy.setMode("pass")
      const kids = yield* Fiber.join(reading)
      assert.deepStrictEqual(kids.map(({ name, data }) => [name, text(data)]), [["a", "A"]])
    }))

  it.effect("NodeZooKeeper.make: sessions as scoped values, two at once, closed with their scope", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const scope = yield* Scope.make()
      const [a, b] = yield* Effect.all([
        NodeZooKeeper.make({ servers, logLevel: "None" }),
        NodeZooKeeper.make({ servers, logLevel: "None" })
      ]).pipe(Scope.provide(scope))
      assert.notStrictEqual((yield* a.clientId).sessionId, (yield* b.clientId).sessionId)
      yield* a.create("/from-a", "", { mode: CreateMode.Ephemeral })
      assert.isTrue(Option.isSome(yield* b.exists("/from-a")))
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(yield* a.state, "Closed")
      assert.strictEqual(yield* b.state, "Closed")
      const failed = yield* Effect.flip(Effect.scoped(NodeZooKeeper.make({ servers, sessionTimeout: Duration.infinity })))
      assert.strictEqual(failed._tag, "BadArguments")
    }))

  it.effect("durations: ttl takes any Duration input, in create and in multi", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      yield* zk.create("/ttl", "", { mode: CreateMode.PersistentWithTtl, ttl: "1 second" })
      yield* zk.multi([Op.create("/ttl2", "", { mode: CreateMode.PersistentWithTtl, ttl: "1 second" })])
      yield* Testing.eventually(Effect.map(Effect.all([zk.exists("/ttl"), zk.exists("/ttl2")]), (all) => all.every(Option.isNone)), {
        timeout: "20 seconds",
        what: "the expired TTL nodes to be reaped"
      })
      assert.strictEqual((yield* Effect.flip(zk.create("/ttl3", "", { mode: CreateMode.PersistentWithTtl, ttl: Duration.infinity })))._tag, "BadArguments")
    }))

  it.effect("a ClientId prints without its password everywhere; a Stat serializes; toJson still re-attaches", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      const id = yield* zk.clientId
      const secrets = [Buffer.from(id.password).toString("base64"), Buffer.from(id.password).toString("hex"), [...id.password].join(",")]
      const json = JSON.stringify(id)
      assert.deepStrictEqual(JSON.parse(json), { sessionId: id.sessionId.toString(), hex: id.hex, password: "<redacted>" })
      // Every built-in logger, writing to a console that renders as Node's does.
      const consoleLines = yield* printedBy(
        [Logger.defaultLogger, Logger.consolePretty({ colors: false }), Logger.consoleJson, Logger.consoleLogFmt],
        Effect.log("session", id, { nested: { id } })
      )
      assert.isAtLeast(consoleLines.length, 4)
      const printed = [
        json,
        String(id),
        `${id}`,
        Util.inspect(id),
        Util.inspect({ deep: { id } }, { depth: 5 }),
        Formatter.format(id),
        Formatter.formatJson({ id }),
        ...consoleLines
      ]
      for (const form of printed) {
        for (const secret of secrets) assert.notInclude(form, secret, form)
      }
      assert.include(Util.inspect(id), "<redacted>")
      assert.strictEqual(String(id), `ClientId(${id.hex})`)
      // The redacted form cannot be used to re-attach, and says so.
      const redacted = yield* Effect.flip(ClientId.fromJson(json))
      assert.include(redacted.message, "ClientId.toJson")
      const again = yield* ClientId.fromJson(ClientId.toJson(id))
      assert.strictEqual(again.sessionId, id.sessionId)
      assert.deepStrictEqual([...again.password], [...id.password])
      // A Stat: bigints as decimal strings, numbers as numbers.
      const stat = yield* zk.set("/", "x")
      const statJson = JSON.parse(JSON.stringify(stat))
      assert.strictEqual(statJson.mzxid, stat.mzxid.toString())
      assert.strictEqual(statJson.version, stat.version)
      assert.strictEqual(JSON.parse(JSON.stringify({ data: "x", stat })).stat.czxid, stat.czxid.toString())
    }))

  it.effect("two live clients sharing one ClientId bounce between Disconnected and Connected; operations fail with ConnectionLoss", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const first = yield* connectTo(servers)
      const events = yield* record(first)
      const id = yield* ClientId.fromJson(ClientId.toJson(yield* first.clientId))
      const second = yield* connectTo(servers, { session: id })
      assert.strictEqual((yield* second.clientId).sessionId, id.sessionId)
      const failures = new Set<string>()
      let quiet = 0
      yield* Testing.eventually(
        Effect.gen(function*() {
          let failed = false
          for (const zk of [first, second]) {
            const error = yield* Effect.flip(zk.exists("/")).pipe(Effect.option)
            if (Option.isSome(error)) {
              failures.add(error.value._tag)
              failed = true
            }
          }
          // The server closes the session's previous connection when another one takes the
          // session, but two takeovers racing on the server can leave both connections open,
          // and the bouncing stops (seen in about 3 % of runs). Another client taking the
          // session starts it again.
          quiet = failed ? 0 : quiet + 1
          if (quiet >= 100) {
            quiet = 0
            yield* connectTo(servers, { session: id })
          }
          const states = events.map((e) => e.state)
          return failures.has("ConnectionLoss") && states.includes("Disconnected") &&
            states.lastIndexOf("Connected") > states.indexOf("Disconnected")
        }),
        { timeout: "30 seconds", what: "a ConnectionLoss and a reconnect after a Disconnected" }
      )
      // A request caught on the connection the session just left may see SessionMoved instead.
      for (const tag of failures) assert.include(["ConnectionLoss", "SessionMoved"], tag)
      yield* second.close
    }))

  it.effect("the session's log level: Info by default, configurable, or none at all", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const session = (config: Parameters<typeof NodeZooKeeper.make>[0]) =>
        Effect.scoped(Effect.asVoid(NodeZooKeeper.make(config)))
      const byDefault = yield* capturingLogs(session({ servers }))
      assert.deepInclude(byDefault.lines, { level: "Info", message: "ZooKeeper session Connected" })
      const silent = yield* capturingLogs(session({ servers, logLevel: "None" }), "All")
      assert.deepStrictEqual(silent.lines, [])
      // Debug lines stay out of an Info application's log, and show when it asks for them.
      const debugAtInfo = yield* capturingLogs(session({ servers, logLevel: "Debug" }), "Info")
      assert.deepStrictEqual(debugAtInfo.lines, [])
      const debug = yield* capturingLogs(session({ servers, logLevel: "Debug" }), "Debug")
      assert.deepInclude(debug.lines, { level: "Debug", message: "ZooKeeper session Connected" })
      // The application's own Info lines are untouched by a silent session.
      const mixed = yield* capturingLogs(Effect.andThen(session({ servers, logLevel: "None" }), Effect.logInfo("app line")))
      assert.deepStrictEqual(mixed.lines, [{ level: "Info", message: "app line" }])
    }))
})

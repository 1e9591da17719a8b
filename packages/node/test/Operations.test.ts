/**
 * gozk's zk_test.go, behaviour by behaviour, against a real ZooKeeper server. Each test works in
 * a chroot of its own on the file's shared server.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Acl, ClientId, CreateMode, Perms, ZkError } from "@effect-zk/core"
import { FaultProxy } from "@effect-zk/node"
import { ZooKeeperServer } from "@effect-zk/server"
import { Effect, Exit, Fiber, Option, Redacted, Stream } from "effect"
import { chrootOf, client, connectTo, sandbox } from "./utils/TestZooKeeper.ts"

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

layer(ZooKeeperServer.layer(), { timeout: "60 seconds", excludeTestServices: true })("operations", (it) => {
  it.effect("stat of / on the real root", () =>
    Effect.gen(function*() {
      const server = yield* ZooKeeperServer.ZooKeeperServer
      const zk = yield* connectTo(yield* server.address)
      const stat = yield* zk.exists("/")
      assert.isTrue(Option.isSome(stat))
      if (Option.isSome(stat)) {
        assert.strictEqual(stat.value.czxid, 0n)
        assert.isAtLeast(stat.value.numChildren, 1) // /zookeeper
      }
      const { children } = yield* zk.children("/")
      assert.include(children, "zookeeper")
    }))

  it.effect("get of a missing node fails with NoNode in gozk's format", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      const error = yield* Effect.flip(zk.get("/non-existent"))
      assert.strictEqual(error._tag, "NoNode")
      assert.strictEqual(error.code, -101)
      assert.strictEqual(error.op, "get")
      assert.strictEqual(error.path, "/non-existent")
      assert.strictEqual(error.message, `zookeeper: get "/non-existent": no node`)
      const recovered = yield* zk.get("/non-existent").pipe(Effect.catchTag("NoNode", () => Effect.succeed("recovered")))
      assert.strictEqual(recovered, "recovered")
    }))

  it.effect("sequential create, then get", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      const path = yield* zk.create("/seq-", "data", { mode: CreateMode.PersistentSequential })
      assert.match(path, /^\/seq-\d{10}$/)
      const { data, stat } = yield* zk.get(path)
      assert.strictEqual(text(data), "data")
      assert.strictEqual(stat.version, 0)
      const second = yield* zk.create("/seq-", "", { mode: CreateMode.PersistentSequential })
      assert.isTrue(second > path)
    }))

  it.effect("the service is used like a plain object: detached operations and a spread copy work", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      const { create, getText } = zk
      assert.strictEqual(yield* create("/detached", "d"), "/detached")
      assert.strictEqual(yield* getText("/detached"), "d")
      // A wrapper as tests and tracing layers write them: every member copied, one replaced.
      let sets = 0
      const counted = {
        ...zk,
        set: (...args: Parameters<typeof zk.set>) =>
          Effect.tap(zk.set(...args), () =>
            Effect.sync(() => {
              sets++
            }))
      }
      yield* counted.set("/detached", "e")
      assert.strictEqual(sets, 1)
      assert.strictEqual(yield* counted.getText("/detached"), "e")
      assert.strictEqual(yield* counted.state, "Connected")
    }))

  it.effect("create, set, get: times inside the test's window, versions bump", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      const start = BigInt(Date.now() - 1000)
      assert.strictEqual(yield* zk.create("/node", "v1"), "/node")
      const first = yield* zk.get("/node")
      assert.strictEqual(text(first.data), "v1")
      assert.strictEqual(first.stat.version, 0)
      assert.strictEqual(first.stat.dataLength, 2)
      assert.strictEqual(first.stat.ephemeralOwner, 0n)
      const stat = yield* zk.set("/node", "value two", { version: 0 })
      const end = BigInt(Date.now() + 1000)
      assert.strictEqual(stat.version, 1)
      assert.strictEqual(stat.dataLength, 9)
      assert.isTrue(stat.ctime >= start && stat.ctime <= end)
      assert.isTrue(stat.mtime >= stat.ctime && stat.mtime <= end)
      assert.isTrue(stat.mzxid > stat.czxid)
      const second = yield* zk.get("/node")
      assert.strictEqual(text(second.data), "value two")
      assert.strictEqual(second.stat.version, 1)
      const conflict = yield* Effect.flip(zk.set("/node", "stale", { version: 0 }))
      assert.strictEqual(conflict._tag, "BadVersion")
      const bytes = new Uint8Array([0, 1, 2, 255])
      yield* zk.set("/node", bytes)
      assert.deepStrictEqual(Array.from((yield* zk.get("/node")).data), [0, 1, 2, 255])
    }))

  it.effect("get and watch, twice in a row", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      yield* zk.create("/watched", "one")
      for (const next of ["two", "three"]) {
        const { watch } = yield* zk.getW("/watched")
        assert.strictEqual(yield* zk.pendingWatches, 1)
        yield* zk.set("/watched", next)
        const event = yield* Stream.runCollect(watch)
        assert.deepStrictEqual(event, [{ type: "NodeDataChanged", path: "/watched" }])
        assert.strictEqual(yield* zk.pendingWatches, 0)
        assert.strictEqual(text((yield* zk.get("/watched")).data), next)
      }
    }))

  it.effect("a watch fires for a change made by another session", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const zk = yield* connectTo(servers)
      const other = yield* connectTo(servers)
      yield* zk.create("/shared", "a")
      const { watch } = yield* zk.getW("/shared")
      const fiber = yield* Effect.forkChild(Stream.runHead(watch))
      yield* other.delete("/shared")
      assert.deepStrictEqual(yield* Fiber.join(fiber), Option.some({ type: "NodeDeleted" as const, path: "/shared" }))
    }))

  it.effect("watching a missing node: get fails with no watch, exists watches for the create", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      const error = yield* Effect.flip(zk.getW("/missing"))
      assert.strictEqual(error._tag, "NoNode")
      assert.strictEqual(yield* zk.pendingWatches, 0)
      const childrenError = yield* Effect.flip(zk.childrenW("/missing"))
      assert.strictEqual(childrenError._tag, "NoNode")
      assert.strictEqual(yield* zk.pendingWatches, 0)
      const { stat, watch } = yield* zk.existsW("/missing")
      assert.isTrue(Option.isNone(stat))
      assert.strictEqual(yield* zk.pendingWatches, 1)
      yield* zk.create("/missing", "now")
      assert.deepStrictEqual(yield* Stream.runCollect(watch), [{ type: "NodeCreated", path: "/missing" }])
    }))

  it.effect("exists and exists-watch: create, data change, delete", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      assert.isTrue(Option.isNone(yield* zk.exists("/e")))
      const created = yield* zk.existsW("/e")
      yield* zk.create("/e", "x")
      assert.deepStrictEqual(yield* Stream.runCollect(created.watch), [{ type: "NodeCreated", path: "/e" }])
      const changed = yield* zk.existsW("/e")
      assert.isTrue(Option.isSome(changed.stat))
      yield* zk.set("/e", "y")
      assert.deepStrictEqual(yield* Stream.runCollect(changed.watch), [{ type: "NodeDataChanged", path: "/e" }])
      const deleted = yield* zk.existsW("/e")
      yield* zk.delete("/e")
      assert.deepStrictEqual(yield* Stream.runCollect(deleted.watch), [{ type: "NodeDeleted", path: "/e" }])
      assert.strictEqual(yield* zk.pendingWatches, 0)
    }))

  it.effect("children and children-watch", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      yield* zk.create("/parent")
      yield* zk.create("/parent/a")
      yield* zk.create("/parent/b")
      const { children, stat, watch } = yield* zk.childrenW("/parent")
      assert.deepStrictEqual([...children].sort(), ["a", "b"])
      assert.strictEqual(stat.numChildren, 2)
      yield* zk.create("/parent/c")
      assert.deepStrictEqual(yield* Stream.runCollect(watch), [{ type: "NodeChildrenChanged", path: "/parent" }])
      assert.deepStrictEqual([...(yield* zk.children("/parent")).children].sort(), ["a", "b", "c"])
      const deleted = yield* zk.childrenW("/parent/a")
      yield* zk.delete("/parent/a")
      assert.deepStrictEqual(yield* Stream.runCollect(deleted.watch), [{ type: "NodeDeleted", path: "/parent/a" }])
    }))

  it.effect("delete with versions", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      yield* zk.create("/d", "x")
      yield* zk.set("/d", "y")
      const wrong = yield* Effect.flip(zk.delete("/d", { version: 0 }))
      assert.strictEqual(wrong._tag, "BadVersion")
      assert.strictEqual(wrong.message, `zookeeper: delete "/d": bad version`)
      yield* zk.delete("/d", { version: 1 })
      assert.isTrue(Option.isNone(yield* zk.exists("/d")))
      assert.strictEqual((yield* Effect.flip(zk.delete("/d")))._tag, "NoNode")
      yield* zk.create("/full")
      yield* zk.create("/full/child")
      assert.strictEqual((yield* Effect.flip(zk.delete("/full")))._tag, "NotEmpty")
    }))

  it.effect("create errors: exists, missing parent, ephemeral parent", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      yield* zk.create("/c")
      const exists = yield* Effect.flip(zk.create("/c"))
      assert.strictEqual(exists._tag, "NodeExists")
      assert.strictEqual(exists.message, `zookeeper: create "/c": node exists`)
      assert.strictEqual((yield* Effect.flip(zk.create("/no/parent")))._tag, "NoNode")
      yield* zk.create("/eph", "", { mode: CreateMode.Ephemeral })
      assert.strictEqual((yield* Effect.flip(zk.create("/eph/child")))._tag, "NoChildrenForEphemerals")
      const node = yield* zk.create2("/c2", "abc")
      assert.strictEqual(node.path, "/c2")
      assert.strictEqual(node.stat.dataLength, 3)
    }))

  it.effect("an ephemeral node is gone once its session closes", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const observer = yield* connectTo(servers)
      const stat = yield* Effect.scoped(
        Effect.gen(function*() {
          const owner = yield* connectTo(servers)
          yield* owner.create("/eph", "", { mode: CreateMode.Ephemeral })
          const { sessionId } = yield* owner.clientId
          const stat = yield* observer.exists("/eph")
          assert.isTrue(Option.isSome(stat) && stat.value.ephemeralOwner === sessionId)
          return stat
        })
      )
      assert.isTrue(Option.isSome(stat))
      assert.isTrue(Option.isNone(yield* observer.exists("/eph")))
    }))

  it.effect("client id: re-attach keeps the session; JSON round trip", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const chroot = chrootOf(servers)
      const server = yield* ZooKeeperServer.ZooKeeperServer
      // The first client reaches the server through a proxy, so it can vanish without closing
      // its session; otherwise both clients would keep taking the session from each other.
      const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
      const first = yield* connectTo(`${proxy.address}${chroot}`)
      yield* first.create("/mine", "", { mode: CreateMode.Ephemeral })
      const id = yield* first.clientId
      yield* proxy.setRefuse(true)
      yield* proxy.cut
      const json = ClientId.toJson(id)
      const parsed = yield* ClientId.fromJson(json)
      assert.strictEqual(parsed.sessionId, id.sessionId)
      assert.deepStrictEqual(Array.from(parsed.password), Array.from(id.password))
      const second = yield* connectTo(servers, { session: parsed })
      assert.strictEqual((yield* second.clientId).sessionId, id.sessionId)
      const stat = yield* second.exists("/mine")
      assert.isTrue(Option.isSome(stat) && stat.value.ephemeralOwner === id.sessionId)
      const garbage = yield* Effect.flip(ClientId.fromJson("{\"sessionId\":\"x\"}"))
      assert.strictEqual(garbage._tag, "BadArguments")
    }))

  it.effect("ACL and setAcl", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      yield* zk.create("/acl", "x", { acl: Acl.world(Perms.All) })
      const { acl, stat } = yield* zk.getAcl("/acl")
      assert.deepStrictEqual(acl, [{ perms: Perms.All, id: { scheme: "world", id: "anyone" } }])
      assert.strictEqual(stat.aversion, 0)
      const updated = yield* zk.setAcl("/acl", Acl.world(Perms.Read), { version: 0 })
      assert.strictEqual(updated.aversion, 1)
      assert.deepStrictEqual((yield* zk.getAcl("/acl")).acl, [{ perms: Perms.Read, id: { scheme: "world", id: "anyone" } }])
      assert.strictEqual((yield* Effect.flip(zk.set("/acl", "y")))._tag, "NoAuth")
      assert.strictEqual((yield* Effect.flip(zk.setAcl("/acl", Acl.world(Perms.All), { version: 0 })))._tag, "NoAuth")
      const empty = yield* Effect.flip(zk.create("/acl2", "", { acl: [] }))
      assert.strictEqual(empty._tag, "InvalidACL")
    }))

  it.effect("addAuth with digest: NoAuth before, allowed after", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const owner = yield* connectTo(servers, { auth: [{ scheme: "digest", credential: Redacted.make("joe:passwd") }] })
      yield* owner.create("/secret", "s", { acl: Acl.auth(Perms.All) })
      const { acl } = yield* owner.getAcl("/secret")
      assert.deepStrictEqual(acl, Acl.digest("joe", "passwd", Perms.All))
      const stranger = yield* connectTo(servers)
      const denied = yield* Effect.flip(stranger.get("/secret"))
      assert.strictEqual(denied._tag, "NoAuth")
      assert.strictEqual(denied.message, `zookeeper: get "/secret": not authenticated`)
      yield* stranger.addAuth("digest", Redacted.make("joe:passwd"))
      assert.strictEqual(text((yield* stranger.get("/secret")).data), "s")
      const wrong = yield* connectTo(servers)
      yield* wrong.addAuth("digest", "joe:wrong")
      assert.strictEqual((yield* Effect.flip(wrong.get("/secret")))._tag, "NoAuth")
    }))

  it.effect("an unknown auth scheme ends the session with AuthFailed", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      const error = yield* Effect.flip(zk.addAuth("nosuchscheme", "x"))
      assert.strictEqual(error._tag, "AuthFailed")
      assert.strictEqual(yield* zk.state, "AuthFailed")
      assert.strictEqual((yield* Effect.flip(zk.exists("/")))._tag, "AuthFailed")
    }))

  it.effect("sync returns the path", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      yield* zk.create("/s")
      assert.strictEqual(yield* zk.sync("/s"), "/s")
    }))

  it.effect("replies bigger than a socket read come out whole, pipelined among small ones", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      // 150 KB of data and 84 KB of child names: each reply spans reads of 64 KiB, and the
      // transport reads every chunk into the same buffer, so a frame kept as a view would rot.
      const pattern = (seed: number) => Uint8Array.from({ length: 150_000 }, (_, j) => (j * 31 + seed * 7) & 255)
      const seeds = [1, 2, 3, 4, 5, 6]
      yield* Effect.forEach(seeds, (seed) => zk.create(`/big-${seed}`, pattern(seed)), { concurrency: "unbounded" })
      yield* zk.create("/small", "small")
      yield* zk.create("/names")
      const names = Array.from({ length: 3_000 }, (_, i) => `child-${String(i).padStart(18, "0")}`)
      yield* Effect.forEach(names, (name) => zk.create(`/names/${name}`), { concurrency: 64, discard: true })
      // Checked only once every reply is in, so a value still pointing into a reused buffer shows.
      const reads = seeds.flatMap((seed) => [
        Effect.map(zk.get(`/big-${seed}`), ({ data }) => () => data.length === 150_000 && data.every((b, j) => b === ((j * 31 + seed * 7) & 255))),
        Effect.map(zk.get("/small"), ({ data }) => () => text(data) === "small"),
        Effect.map(zk.children("/names"), ({ children }) => () => [...children].sort().join() === names.join())
      ])
      const checks = yield* Effect.all([...reads, ...reads], { concurrency: "unbounded" })
      assert.deepStrictEqual(checks.map((check) => check()), checks.map(() => true))
    }), { timeout: 60_000 })

  it.effect("bad input is a typed BadArguments error and nothing is sent", () =>
    Effect.gen(function*() {
      const zk = yield* client()
      const cases = [
        zk.get("relative"),
        zk.create("/trailing/"),
        zk.set("/a//b", "x"),
        zk.delete("/a/../b"),
        zk.exists("/nul\u0000"),
        zk.delete("/x", { version: -2 }),
        zk.set("/x", "y", { version: 1.5 }),
        zk.create("/ttl", "", { mode: CreateMode.PersistentWithTtl }),
        zk.create("/big", new Uint8Array(1_100_000))
      ]
      for (const effect of cases) {
        const error = yield* Effect.flip(effect)
        assert.strictEqual(error._tag, "BadArguments", error.message)
        assert.match(error.message, /^zookeeper: \w+ .*bad arguments: /)
      }
      // The session is intact afterwards: nothing malformed reached the server.
      assert.strictEqual(yield* zk.state, "Connected")
      assert.strictEqual(yield* zk.create("/queue/", "", { mode: CreateMode.PersistentSequential }).pipe(
        Effect.catchTag("NoNode", () => Effect.succeed("sequential trailing slash is valid")),
        Effect.map((p) => p.startsWith("/queue/") ? "sequential trailing slash is valid" : p)
      ), "sequential trailing slash is valid")
    }))

  it.effect("a bad connect string fails the layer build with BadArguments", () =>
    Effect.gen(function*() {
      for (const servers of ["", "127.0.0.1:notaport", "127.0.0.1:2181/bad//chroot", "127.0.0.1:70000"]) {
        const exit = yield* Effect.exit(connectTo(servers))
        assert.isTrue(Exit.isFailure(exit))
        const error = yield* Effect.flip(connectTo(servers))
        assert.isTrue(ZkError.isZkError(error) && error._tag === "BadArguments", String(error))
      }
    }))

  it.effect("chroot: paths in, paths out, events", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const chroot = chrootOf(servers)
      const zk = yield* connectTo(servers)
      const server = yield* ZooKeeperServer.ZooKeeperServer
      const root = yield* connectTo(yield* server.address)
      const { watch } = yield* zk.existsW("/inside")
      assert.strictEqual(yield* zk.create("/inside", "in"), "/inside")
      assert.deepStrictEqual(yield* Stream.runCollect(watch), [{ type: "NodeCreated", path: "/inside" }])
      assert.strictEqual(text((yield* root.get(`${chroot}/inside`)).data), "in")
      const seq = yield* zk.create("/inside/s-", "", { mode: CreateMode.EphemeralSequential })
      assert.match(seq, /^\/inside\/s-\d{10}$/)
      assert.deepStrictEqual((yield* zk.children("/")).children, ["inside"])
      const rootWatch = yield* zk.childrenW("/")
      yield* root.create(`${chroot}/second`)
      assert.deepStrictEqual(yield* Stream.runCollect(rootWatch.watch), [{ type: "NodeChildrenChanged", path: "/" }])
      assert.strictEqual(yield* zk.sync("/inside"), "/inside")
    }))
})

describe("closing", () => {
  layer(ZooKeeperServer.layer(), { timeout: "60 seconds", excludeTestServices: true })("close", (it) => {
    it.effect("close releases watches, fails their streams with Closing, later calls with Closing", () =>
      Effect.gen(function*() {
        const zk = yield* client()
        yield* zk.create("/w")
        const a = yield* zk.getW("/w")
        const b = yield* zk.existsW("/none")
        const c = yield* zk.childrenW("/w")
        assert.strictEqual(yield* zk.pendingWatches, 3)
        yield* zk.close
        assert.strictEqual(yield* zk.pendingWatches, 0)
        for (const watch of [a.watch, b.watch, c.watch]) {
          const error = yield* Effect.flip(Stream.runCollect(watch))
          assert.strictEqual(error._tag, "Closing")
        }
        assert.strictEqual(yield* zk.state, "Closed")
        const after = yield* Effect.flip(zk.get("/w"))
        assert.strictEqual(after._tag, "Closing")
        assert.strictEqual(after.message, `zookeeper: get "/w": zookeeper is closing: the session is closed`)
      }))

    it.effect("closing twice is a no-op", () =>
      Effect.gen(function*() {
        const zk = yield* client()
        yield* zk.close
        yield* zk.close
        assert.strictEqual(yield* zk.state, "Closed")
      }))

    it.effect("sessionEvents ends with Closed", () =>
      Effect.gen(function*() {
        const zk = yield* client()
        // Started at once, so the subscription exists before the close.
        const fiber = yield* Effect.forkChild(Stream.runCollect(zk.sessionEvents), { startImmediately: true })
        yield* zk.close
        const events = yield* Fiber.join(fiber)
        assert.deepStrictEqual(events.map((e) => e.state), ["Closed"])
        const late = yield* Stream.runCollect(zk.sessionEvents)
        assert.deepStrictEqual(late.map((e) => e.state), ["Closed"])
      }))
  })
})

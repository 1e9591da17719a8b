/**
 * TreeCache against a real server: what each change becomes in the mirror and its events, the
 * options, and a closed scope leaving no watch behind.
 */
import { assert, layer } from "@effect/vitest"
import { ZooKeeper } from "@effect-zk/core"
import { TreeCache } from "@effect-zk/recipes"
import { ZooKeeperServer } from "@effect-zk/server"
import { Effect, Exit, Option, Scope, Stream } from "effect"
import { connectTo, eventually, sandbox, text, twoSessions } from "./utils.ts"

const describeEvent = (e: TreeCache.TreeEvent): string => {
  switch (e._tag) {
    case "NodeAdded":
      return `+${e.path}=${text(e.node.data)}`
    case "NodeUpdated":
      return `~${e.path}=${text(e.previous.data)}>${text(e.node.data)}`
    case "NodeRemoved":
      return `-${e.path}=${text(e.previous.data)}`
    default:
      return e._tag
  }
}

layer(ZooKeeperServer.layer(), { timeout: "60 seconds", excludeTestServices: true })("TreeCache", (it) => {
  it.effect("mirrors a subtree: initial load, then each change as one event with old and new values", () =>
    Effect.gen(function*() {
      const { writer, zk } = yield* twoSessions
      yield* writer.create("/app", "root")
      yield* writer.create("/app/db", "")
      yield* writer.create("/app/db/host", "h1")
      const tree = yield* TreeCache.make("/app").pipe(Effect.provideService(ZooKeeper, zk))
      const log: Array<string> = []
      yield* Effect.forkChild(Stream.runForEach(tree.events, (e) => Effect.sync(() => log.push(describeEvent(e)))), {
        startImmediately: true
      })
      yield* tree.initialized
      yield* eventually(Effect.sync(() => log.includes("Initialized")))
      assert.deepStrictEqual(log, ["+/app=root", "+/app/db=", "+/app/db/host=h1", "Initialized"])
      assert.deepStrictEqual(yield* tree.children("/app/db"), ["host"])

      yield* writer.set("/app/db/host", "h2")
      yield* writer.create("/app/db/port", "5432")
      yield* writer.delete("/app/db/port")
      yield* writer.create("/app/db/port", "6543")
      yield* eventually(Effect.map(tree.get("/app/db/port"), (n) => Option.isSome(n) && text(n.value.data) === "6543"))
      assert.isTrue(Option.exists(yield* tree.get("/app/db/host"), (n) => text(n.data) === "h2"))
      // The subscriber's queue may still hold the last events.
      yield* eventually(Effect.sync(() => log.includes("+/app/db/port=6543")))
      const after = log.slice(4)
      assert.strictEqual(after[0], "~/app/db/host=h1>h2")
      // A create, delete and re-create in quick succession may be seen as its last value only;
      // whatever is seen must be a value the node really had, and end at the last one.
      assert.strictEqual(after.at(-1), "+/app/db/port=6543")
      for (const e of after.slice(1)) assert.include(["+/app/db/port=5432", "-/app/db/port=5432", "+/app/db/port=6543"], e)

      yield* writer.delete("/app/db/host")
      yield* eventually(Effect.sync(() => log.at(-1)?.startsWith("-/app/db/host") === true))
      assert.deepStrictEqual(yield* tree.children("/app/db"), ["port"])
      assert.strictEqual(log.at(-1), "-/app/db/host=h2")
      const snapshot = yield* tree.snapshot
      assert.deepStrictEqual(Array.from(snapshot.keys()).sort(), ["/app", "/app/db", "/app/db/port"])
    }))

  it.effect("a root that does not exist yet: empty, then filled when it is created", () =>
    Effect.gen(function*() {
      const { writer, zk } = yield* twoSessions
      const tree = yield* TreeCache.make("/later").pipe(Effect.provideService(ZooKeeper, zk))
      yield* tree.initialized
      assert.strictEqual(yield* tree.size, 0)
      yield* writer.create("/later", "x")
      yield* writer.create("/later/child", "y")
      yield* eventually(Effect.map(tree.size, (n) => n === 2))
    }))

  it.effect("maxDepth, filter and keepData: what is left out is neither stored nor reported", () =>
    Effect.gen(function*() {
      const { writer, zk } = yield* twoSessions
      for (const p of ["/r", "/r/a", "/r/a/deep", "/r/skip", "/r/skip/x", "/r/b"]) yield* writer.create(p, "data")
      const tree = yield* TreeCache.make("/r", { maxDepth: 1, filter: (p) => !p.endsWith("/skip"), keepData: false }).pipe(
        Effect.provideService(ZooKeeper, zk)
      )
      yield* tree.initialized
      const keys = Array.from((yield* tree.snapshot).keys()).sort()
      assert.deepStrictEqual(keys, ["/r", "/r/a", "/r/b"])
      const a = yield* tree.get("/r/a")
      assert.isTrue(Option.isSome(a) && a.value.data.length === 0 && a.value.stat.dataLength === 4)
      yield* writer.create("/r/a/deep2", "")
      yield* writer.create("/r/skip/y", "")
      yield* writer.create("/r/c", "")
      yield* eventually(Effect.map(tree.size, (n) => n === 4))
      assert.deepStrictEqual(Array.from((yield* tree.snapshot).keys()).sort(), ["/r", "/r/a", "/r/b", "/r/c"])
    }))

  it.effect("bad options fail before anything is sent; closing the scope removes the watch", () =>
    Effect.gen(function*() {
      const zk = yield* connectTo(yield* sandbox)
      const bad = yield* Effect.flip(TreeCache.make("/x", { maxDepth: -1 }).pipe(Effect.provideService(ZooKeeper, zk)))
      assert.strictEqual(bad._tag, "BadArguments")
      const badPath = yield* Effect.flip(TreeCache.make("x/").pipe(Effect.provideService(ZooKeeper, zk)))
      assert.strictEqual(badPath._tag, "BadArguments")

      const scope = yield* Scope.make()
      const tree = yield* TreeCache.make("/x").pipe(Effect.provideService(ZooKeeper, zk), Scope.provide(scope))
      yield* tree.initialized
      yield* zk.checkWatches("/x", "any")
      yield* Scope.close(scope, Exit.void)
      yield* eventually(Effect.map(Effect.flip(zk.checkWatches("/x", "any")), (e) => e._tag === "NoWatcher"))
      const dead = yield* Effect.flip(tree.get("/x"))
      assert.strictEqual(dead._tag, "Closing")
    }))
})

/**
 * NodeCache against a real server: the current value first, every change after, absence as
 * None, and a cache that fails once its scope is closed.
 */
import { assert, layer } from "@effect/vitest"
import { ZooKeeper } from "@effect-zk/core"
import { NodeCache } from "@effect-zk/recipes"
import { ZooKeeperServer } from "@effect-zk/server"
import { Effect, Exit, Option, Scope, Stream } from "effect"
import { connectTo, eventually, sandbox, text, twoSessions } from "./utils.ts"

const show = (value: Option.Option<{ readonly data: Uint8Array }>): string =>
  Option.match(value, { onNone: () => "none", onSome: (n) => text(n.data) })

layer(ZooKeeperServer.layer(), { timeout: "60 seconds", excludeTestServices: true })("NodeCache", (it) => {
  it.effect("get and changes: current value first, then sets, a delete and a re-create", () =>
    Effect.gen(function*() {
      const { writer, zk } = yield* twoSessions
      yield* writer.create("/flag", "off")
      const scope = yield* Scope.make()
      const cache = yield* NodeCache.make("/flag").pipe(Effect.provideService(ZooKeeper, zk), Scope.provide(scope))
      assert.strictEqual(show(yield* cache.get), "off")
      const seen: Array<string> = []
      yield* Effect.forkChild(Stream.runForEach(cache.changes, (v) => Effect.sync(() => seen.push(show(v)))), { startImmediately: true })
      yield* eventually(Effect.sync(() => seen.length === 1))
      yield* writer.set("/flag", "on")
      yield* eventually(Effect.sync(() => seen.at(-1) === "on"))
      yield* writer.delete("/flag")
      yield* eventually(Effect.sync(() => seen.at(-1) === "none"))
      assert.isTrue(Option.isNone(yield* cache.get))
      yield* writer.create("/flag", "again")
      yield* eventually(Effect.sync(() => seen.at(-1) === "again"))
      assert.deepStrictEqual(seen, ["off", "on", "none", "again"])
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual((yield* Effect.flip(cache.get))._tag, "Closing")
    }))

  it.effect("a node that does not exist yet starts as None; a bad path fails before anything is sent", () =>
    Effect.gen(function*() {
      const zk = yield* connectTo(yield* sandbox)
      const cache = yield* NodeCache.make("/nothing").pipe(Effect.provideService(ZooKeeper, zk))
      assert.isTrue(Option.isNone(yield* cache.get))
      const bad = yield* Effect.flip(NodeCache.make("nope").pipe(Effect.provideService(ZooKeeper, zk)))
      assert.strictEqual(bad._tag, "BadArguments")
    }))
})

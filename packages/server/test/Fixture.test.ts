/**
 * The server as a test fixture in users' projects: the documented `@effect/vitest` example, the
 * fixtures under `it.effect`'s TestClock, and fixtures that are interrupted or time out while
 * the JVM starts, which must leave neither a JVM nor its directory behind.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Clock, Effect, Fiber, Option } from "effect"
import { ZooKeeperServer } from "@effect-zk/server"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { exists, freshPath, jvmsOf, waitUntil } from "./utils/helpers.ts"

/** The pid a starting server wrote into its run directory, once it is there. */
const pidFileOf = (runDir: string) =>
  Effect.promise(() => fs.readFile(path.join(runDir, "zookeeper.pid"), "utf8").then((t) => Number(t.trim()), () => 0))

// The example of the ZooKeeperServer service's doc comment, as written there.
layer(ZooKeeperServer.layer(), { excludeTestServices: true })("with a server", (it) => {
  it.effect("serves", () =>
    Effect.gen(function*() {
      const server = yield* ZooKeeperServer.ZooKeeperServer
      assert.isTrue(Option.isSome(yield* server.status))
      // connect a client to (yield* server.address)
    }))
})

// No excludeTestServices: the tests run on the TestClock, the fixture in real time.
layer(ZooKeeperServer.layer())("a server layer under the TestClock", (it) => {
  it.effect("was started although the test's clock stands still", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* Clock.currentTimeMillis, 0, "this test runs on the TestClock")
      const server = yield* ZooKeeperServer.ZooKeeperServer
      assert.strictEqual(Option.getOrThrow(yield* server.status).mode, "standalone")
    }))
})

describe("ZooKeeperServer fixtures", () => {
  it.effect("scoped under it.effect starts, and closing the scope stops the JVM and removes the directory", () =>
    Effect.gen(function*() {
      const { runDir, pid } = yield* Effect.scoped(Effect.gen(function*() {
        const server = yield* ZooKeeperServer.scoped()
        const pid = Option.getOrThrow(yield* server.pid)
        assert.deepStrictEqual(yield* jvmsOf(server.runDir), [pid])
        return { runDir: server.runDir, pid }
      }))
      assert.notInclude(yield* jvmsOf(runDir), pid)
      assert.isFalse(yield* exists(runDir))
    }))

  it.live("interrupted while the JVM starts: the JVM is stopped and the directory removed", () =>
    Effect.gen(function*() {
      const runDir = yield* freshPath
      let served = false
      const fixture = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
        yield* ZooKeeperServer.scoped({ runDir })
        served = true
        return yield* Effect.never
      })))
      // The pid file is written right after the spawn, long before the JVM serves.
      yield* waitUntil("the JVM to be spawned", Effect.map(pidFileOf(runDir), (pid) => pid > 0), 30_000)
      const pid = yield* pidFileOf(runDir)
      yield* Fiber.interrupt(fixture)
      assert.isFalse(served, "interrupted before the server served")
      assert.deepStrictEqual(yield* jvmsOf(runDir), [], `JVM ${pid} is gone`)
      assert.isFalse(yield* exists(runDir))
    }))

  it.live("a start that times out: NotReadyError, no JVM and no directory left", () =>
    Effect.gen(function*() {
      const runDir = yield* freshPath
      const error = yield* Effect.flip(Effect.scoped(ZooKeeperServer.scoped({ runDir, startTimeout: "200 millis" })))
      assert.strictEqual(error._tag, "NotReadyError")
      assert.deepStrictEqual(yield* jvmsOf(runDir), [])
      assert.isFalse(yield* exists(runDir))
    }))
})

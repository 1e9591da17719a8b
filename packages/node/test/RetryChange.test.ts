/**
 * gozk's retry_test.go, case by case, against a real server: `retryChange` reads, calls the
 * function, then creates or sets at the read version, and starts over only on a conflict. The
 * conflicts are made by a second session from inside the function, on its first call, exactly
 * where gozk makes them; the failures come from ACLs that deny read, write or create.
 */
import { assert, layer } from "@effect/vitest"
import { Acl, CreateMode, type NodeData, Perms, type ZooKeeperService } from "@effect-zk/core"
import { ZooKeeperServer } from "@effect-zk/server"
import { Data, Effect, Option, Schedule } from "effect"
import { connectTo, sandbox } from "./utils/TestZooKeeper.ts"

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

/** Two sessions on the same fresh chroot: the one under test and a rival that makes conflicts. */
const sessions = Effect.gen(function*() {
  const servers = yield* sandbox
  return { zk: yield* connectTo(servers), rival: yield* connectTo(servers) }
})

/** The function's arguments as gozk's tests look at them: the data and the version, if any. */
const seen = (current: Option.Option<NodeData>): { readonly data: string; readonly version: number | undefined } =>
  Option.match(current, {
    onNone: () => ({ data: "", version: undefined }),
    onSome: ({ data, stat }) => ({ data: text(data), version: stat.version })
  })

class Boom extends Data.TaggedError("Boom")<{ readonly message: string }> {}

/** A counting change function: `steps[i]` answers the i-th call; calls past the end fail the test. */
const scripted = <E = never>(
  steps: ReadonlyArray<(current: Option.Option<NodeData>) => Effect.Effect<string, E>>
) => {
  const calls: Array<{ readonly data: string; readonly version: number | undefined }> = []
  const f = (current: Option.Option<NodeData>) =>
    Effect.suspend(() => {
      const step = steps[calls.length]
      calls.push(seen(current))
      return step === undefined ? Effect.die(new Error(`unexpected call ${calls.length} with ${JSON.stringify(seen(current))}`)) : step(current)
    })
  return { f, calls }
}

const expectNode = (zk: ZooKeeperService, path: string, data: string, version: number) =>
  Effect.gen(function*() {
    const node = yield* zk.get(path)
    assert.strictEqual(text(node.data), data)
    assert.strictEqual(node.stat.version, version)
  })

layer(ZooKeeperServer.layer(), { timeout: "60 seconds", excludeTestServices: true })("retryChange (gozk retry_test.go)", (it) => {
  it.effect("TestRetryChangeCreating: a missing node is created with the given mode and ACL", () =>
    Effect.gen(function*() {
      const { zk } = yield* sessions
      const { f, calls } = scripted([() => Effect.succeed("new")])
      yield* zk.retryChange("/test", f, { mode: CreateMode.Ephemeral, acl: Acl.world(Perms.All) })
      assert.deepStrictEqual(calls, [{ data: "", version: undefined }])
      yield* expectNode(zk, "/test", "new", 0)
      const { acl, stat } = yield* zk.getAcl("/test")
      assert.deepStrictEqual(acl, Acl.world(Perms.All))
      assert.strictEqual(stat.ephemeralOwner, (yield* zk.clientId).sessionId)
    }))

  it.effect("TestRetryChangeSetting: an existing node is set at the read version; mode and ACL are not applied", () =>
    Effect.gen(function*() {
      const { zk } = yield* sessions
      yield* zk.create("/test", "old", { mode: CreateMode.Ephemeral, acl: Acl.world(Perms.All) })
      const { f, calls } = scripted([() => Effect.succeed("brand new")])
      yield* zk.retryChange("/test", f, { mode: CreateMode.Ephemeral, acl: Acl.world(Perms.Read) })
      assert.deepStrictEqual(calls, [{ data: "old", version: 0 }])
      yield* expectNode(zk, "/test", "brand new", 1)
      assert.deepStrictEqual((yield* zk.getAcl("/test")).acl, Acl.world(Perms.All))
    }))

  it.effect("TestRetryChangeUnchangedValueDoesNothing: the same value is not written", () =>
    Effect.gen(function*() {
      const { zk } = yield* sessions
      yield* zk.create("/test", "old", { mode: CreateMode.Ephemeral })
      const { f, calls } = scripted([() => Effect.succeed("old")])
      yield* zk.retryChange("/test", f, { mode: CreateMode.Ephemeral })
      assert.strictEqual(calls.length, 1)
      yield* expectNode(zk, "/test", "old", 0)
    }))

  it.effect("TestRetryChangeConflictOnCreate: NodeExists starts over with the other session's value", () =>
    Effect.gen(function*() {
      const { zk, rival } = yield* sessions
      const { f, calls } = scripted([
        () => Effect.as(rival.create("/test", "conflict"), "new"),
        () => Effect.succeed("brand new")
      ])
      yield* zk.retryChange("/test", f, { mode: CreateMode.Ephemeral })
      assert.deepStrictEqual(calls, [{ data: "", version: undefined }, { data: "conflict", version: 0 }])
      yield* expectNode(zk, "/test", "brand new", 1)
    }))

  it.effect("TestRetryChangeConflictOnSetDueToChange: BadVersion starts over with the new value", () =>
    Effect.gen(function*() {
      const { zk, rival } = yield* sessions
      yield* zk.create("/test", "old")
      const { f, calls } = scripted([
        () => Effect.as(rival.set("/test", "conflict", { version: 0 }), "new"),
        () => Effect.succeed("brand new")
      ])
      yield* zk.retryChange("/test", f)
      assert.deepStrictEqual(calls, [{ data: "old", version: 0 }, { data: "conflict", version: 1 }])
      yield* expectNode(zk, "/test", "brand new", 2)
    }))

  it.effect("TestRetryChangeConflictOnSetDueToDelete: NoNode on set starts over and creates, with the given ACL", () =>
    Effect.gen(function*() {
      const { zk, rival } = yield* sessions
      yield* zk.create("/test", "old")
      const { f, calls } = scripted([
        () => Effect.as(rival.delete("/test", { version: 0 }), "new"),
        () => Effect.succeed("brand new")
      ])
      yield* zk.retryChange("/test", f, { mode: CreateMode.Ephemeral, acl: Acl.world(Perms.Read | Perms.Write) })
      assert.deepStrictEqual(calls, [{ data: "old", version: 0 }, { data: "", version: undefined }])
      yield* expectNode(zk, "/test", "brand new", 0)
      assert.deepStrictEqual((yield* zk.getAcl("/test")).acl, Acl.world(Perms.Read | Perms.Write))
    }))

  it.effect("TestRetryChangeErrorInCallback: the function's own error stops it, typed, and nothing is written", () =>
    Effect.gen(function*() {
      const { zk } = yield* sessions
      const { f, calls } = scripted([() => Effect.fail(new Boom({ message: "BOOM!" }))])
      const error = yield* Effect.flip(zk.retryChange("/test", f))
      assert.instanceOf(error, Boom)
      assert.strictEqual(calls.length, 1)
      assert.strictEqual((yield* Effect.flip(zk.get("/test")))._tag, "NoNode")
    }))

  it.effect("TestRetryChangeFailsReading: NoAuth on the read stops it before the function runs", () =>
    Effect.gen(function*() {
      const { zk } = yield* sessions
      yield* zk.create("/test", "old", { acl: Acl.world(Perms.Write) })
      const { f, calls } = scripted([])
      const error = yield* Effect.flip(zk.retryChange("/test", f))
      assert.strictEqual(error._tag, "NoAuth")
      assert.strictEqual(calls.length, 0)
    }))

  it.effect("TestRetryChangeFailsSetting: NoAuth on the set stops it", () =>
    Effect.gen(function*() {
      const { zk } = yield* sessions
      yield* zk.create("/test", "old", { acl: Acl.world(Perms.Read) })
      const { f, calls } = scripted([() => Effect.succeed("brand new")])
      const error = yield* Effect.flip(zk.retryChange("/test", f))
      assert.strictEqual(error._tag, "NoAuth")
      assert.deepStrictEqual(calls, [{ data: "old", version: 0 }])
      yield* expectNode(zk, "/test", "old", 0)
    }))

  it.effect("TestRetryChangeFailsCreating: NoAuth on the create stops it", () =>
    Effect.gen(function*() {
      const { zk } = yield* sessions
      yield* zk.create("/test", "old", { acl: Acl.world(Perms.Read) }) // no CREATE below it
      const { f, calls } = scripted([() => Effect.succeed("")])
      const error = yield* Effect.flip(zk.retryChange("/test/sub", f, { mode: CreateMode.Ephemeral, acl: Acl.world(Perms.All) }))
      assert.strictEqual(error._tag, "NoAuth")
      assert.deepStrictEqual(calls, [{ data: "", version: undefined }])
    }))

  it.effect("a schedule that gives up: the last conflict is the error, after 1 + recurs calls", () =>
    Effect.gen(function*() {
      const { zk, rival } = yield* sessions
      yield* zk.create("/test", "0")
      // The rival bumps the version on every call, so every set conflicts.
      const bump = (current: Option.Option<NodeData>) => Effect.as(rival.set("/test", `rival ${seen(current).version}`), "mine")
      const { f, calls } = scripted([bump, bump, bump])
      const error = yield* Effect.flip(zk.retryChange("/test", f, { schedule: Schedule.recurs(2) }))
      assert.strictEqual(error._tag, "BadVersion")
      assert.deepStrictEqual(calls.map((c) => c.version), [0, 1, 2])
      yield* expectNode(zk, "/test", "rival 2", 3)
    }))

  // A create that fails with NoNode (its parent is missing) is not a conflict for retryChange:
  // gozk returns it at once, and retrying cannot make a missing parent appear.
  it.effect("a missing parent is not a conflict: NoNode at once, the function called once", () =>
    Effect.gen(function*() {
      const { zk } = yield* sessions
      const { f, calls } = scripted([() => Effect.succeed("x")])
      const started = Date.now()
      const error = yield* Effect.flip(zk.retryChange("/missing/child", f))
      assert.strictEqual(error._tag, "NoNode")
      assert.strictEqual(calls.length, 1)
      assert.isBelow(Date.now() - started, 2000)
    }))
})

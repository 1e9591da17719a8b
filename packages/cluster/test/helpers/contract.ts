/**
 * The RunnerStorage contract, written once and run against every storage: a storage is given
 * as a fixture that opens one runner's view of a shared cluster (for ZooKeeper, a session of
 * its own; for the in-memory storage, the one shared instance).
 */
import { assert } from "@effect/vitest"
import { Effect, type Scope } from "effect"
import { Runner, RunnerAddress, type RunnerStorage, ShardId } from "effect/cluster"

/** One runner's view of the storage under test. */
export type Storage = RunnerStorage.RunnerStorage["Service"]

/** The part of @effect/vitest's `it` the contract uses, with the services `R` of its layer. */
export interface Tester<R> {
  readonly effect: (name: string, self: () => Effect.Effect<void, unknown, R | Scope.Scope>) => void
}

export interface ContractFixture<R> {
  /** A fresh cluster for one test: returns how to open a runner's view of it. */
  readonly cluster: Effect.Effect<Effect.Effect<Storage, unknown, Scope.Scope>, unknown, R | Scope.Scope>
  /**
   * Whether a shard lock excludes other runners (acquire, refresh and release are per runner).
   * The in-memory storage is single-process by design: its `acquire` grants every shard asked
   * for and `release` is a no-op, so the exclusivity tests do not apply to it.
   */
  readonly exclusive: boolean
}

export const address = (port: number) => RunnerAddress.make("127.0.0.1", port)
export const runner = (port: number) => Runner.make({ address: address(port), groups: ["default"], weight: 1 })
export const shards = (...ids: ReadonlyArray<number>) => ids.map((id) => ShardId.make("default", id))
const sorted = (ids: ReadonlyArray<ShardId.ShardId>) => ids.map(String).sort()

/** Registers the contract's tests with `it`. */
export const runnerStorageContract = <R>(it: Tester<R>, fixture: ContractFixture<R>) => {
  it.effect("register gives distinct machine ids, also after a runner leaves and comes back", () =>
    Effect.gen(function*() {
      const open = yield* fixture.cluster
      const a = yield* open
      const b = yield* open
      const idA = yield* a.register(runner(1001), true)
      const idB = yield* b.register(runner(1002), true)
      yield* a.unregister(address(1001))
      const idA2 = yield* a.register(runner(1001), true)
      assert.strictEqual(new Set([idA, idB, idA2]).size, 3)
      const listed = (yield* b.getRunners).map(([r]) => r.address.port).sort()
      assert.deepStrictEqual(listed, [1001, 1002])
    }))

  it.effect("getRunners reports health, setRunnerHealth changes it, unregister removes the runner", () =>
    Effect.gen(function*() {
      const open = yield* fixture.cluster
      const a = yield* open
      const b = yield* open
      yield* a.register(runner(2001), true)
      yield* b.register(runner(2002), false)
      const health = (rs: ReadonlyArray<readonly [Runner.Runner, boolean]>) =>
        Object.fromEntries(rs.map(([r, healthy]) => [r.address.port, healthy]))
      assert.deepStrictEqual(health(yield* a.getRunners), { 2001: true, 2002: false })
      // Any runner may mark another one (the cluster does this after failed pings).
      yield* a.setRunnerHealth(address(2002), true)
      yield* b.setRunnerHealth(address(2001), false)
      assert.deepStrictEqual(health(yield* a.getRunners), { 2001: false, 2002: true })
      yield* b.unregister(address(2002))
      assert.deepStrictEqual(health(yield* b.getRunners), { 2001: false })
    }))

  it.effect("acquire returns the shards now held, refresh the ones still held", () =>
    Effect.gen(function*() {
      const open = yield* fixture.cluster
      const a = yield* open
      yield* a.register(runner(3001), true)
      assert.deepStrictEqual(sorted(yield* a.acquire(address(3001), shards(1, 2, 3))), sorted(shards(1, 2, 3)))
      assert.deepStrictEqual(sorted(yield* a.refresh(address(3001), shards(1, 2, 3))), sorted(shards(1, 2, 3)))
      assert.deepStrictEqual(yield* a.acquire(address(3001), []), [])
    }))

  if (!fixture.exclusive) return

  it.effect("a held shard is not granted to another runner until released", () =>
    Effect.gen(function*() {
      const open = yield* fixture.cluster
      const a = yield* open
      const b = yield* open
      // Acquiring again what one already holds is idempotent.
      assert.deepStrictEqual(sorted(yield* a.acquire(address(4001), shards(1, 2))), sorted(shards(1, 2)))
      assert.deepStrictEqual(sorted(yield* a.acquire(address(4001), shards(1, 2))), sorted(shards(1, 2)))
      assert.deepStrictEqual(sorted(yield* b.acquire(address(4002), shards(2, 3))), sorted(shards(3)))
      assert.deepStrictEqual(sorted(yield* b.refresh(address(4002), shards(2, 3))), sorted(shards(3)))
      // Releasing what another runner holds changes nothing.
      yield* b.release(address(4002), ShardId.make("default", 1))
      assert.deepStrictEqual(sorted(yield* a.refresh(address(4001), shards(1, 2))), sorted(shards(1, 2)))
      yield* a.release(address(4001), ShardId.make("default", 2))
      assert.deepStrictEqual(sorted(yield* a.refresh(address(4001), shards(1, 2))), sorted(shards(1)))
      assert.deepStrictEqual(sorted(yield* b.acquire(address(4002), shards(2))), sorted(shards(2)))
      yield* b.releaseAll(address(4002))
      assert.deepStrictEqual(yield* b.refresh(address(4002), shards(2, 3)), [])
      assert.deepStrictEqual(sorted(yield* a.acquire(address(4001), shards(2, 3))), sorted(shards(2, 3)))
    }))

  it.effect("two runners racing for the same shards split them: every shard to exactly one", () =>
    Effect.gen(function*() {
      const open = yield* fixture.cluster
      const a = yield* open
      const b = yield* open
      const all = shards(...Array.from({ length: 50 }, (_, i) => i + 1))
      const [wonA, wonB] = yield* Effect.all([
        a.acquire(address(5001), all),
        b.acquire(address(5002), [...all].reverse())
      ], { concurrency: 2 })
      const a2 = sorted(wonA)
      const b2 = sorted(wonB)
      assert.deepStrictEqual([...a2, ...b2].sort(), sorted(all))
      assert.isTrue(a2.every((s) => !b2.includes(s)))
      assert.deepStrictEqual(sorted(yield* a.refresh(address(5001), all)), a2)
      assert.deepStrictEqual(sorted(yield* b.refresh(address(5002), all)), b2)
    }))
}

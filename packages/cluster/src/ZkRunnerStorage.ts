/**
 * Effect Cluster's `RunnerStorage` on ZooKeeper: runners and shard locks are ephemeral nodes of
 * the runner's own session, so a dead runner's shards free themselves when the ensemble expires
 * its session (seconds), instead of waiting for an expiry column (`SqlRunnerStorage`: 35 s by
 * default).
 *
 * Layout under `basePath`:
 * - `runners/<address>-<seq>`: one ephemeral sequential node per runner, holding the encoded
 *   runner and its health. `<seq>` is the MachineId: the parent's sequence counter never goes
 *   back, so it is unique among live and past runners.
 * - `shards/<shardId>`: a shard lock, an ephemeral node created by the holder's session. A
 *   create fails while the node exists, so two live sessions never hold the same shard.
 *
 * Lapse (the recipes' `{ grace }` policy, measured from the last confirmation): a runner vouches
 * for its shards only on what the ensemble confirmed. `refresh` on a `Connected` session asks the
 * ensemble; without quorum (disconnected, reconnecting, read-only) it answers from the last
 * confirmation for at most `grace` (at most a third of the session timeout) after the
 * confirming request was sent, then fails with {@link ShardLocksLapsed}, and the sharding
 * interrupts the runner's entities. `acquire` never claims a shard without quorum. A short
 * disconnection, such as a leader election, thus costs no shards.
 *
 * Why this is safe. Let `T` be the negotiated session timeout, `c` the moment the last
 * confirming request was sent, `g` the grace (`<= T/3`), `R` the sharding's lock refresh
 * interval (the smaller of `shardLockRefreshInterval` and `shardLockExpiration / 3`), and `S`
 * the time the runner's entities need to stop. The ensemble cannot expire the session before
 * `c + T` (each request it receives pushes the deadline to a full `T` later, rounded up to a
 * tick, and a new leader grants every session a fresh `T`), and another runner can only create
 * a shard's node after that. The last refresh that vouches without quorum runs before `c + g`;
 * the next one, at most `R` later, fails at once (lapsed) or hangs on a silent connection until
 * the sharding's own timeout of `R`; then 5 retries 50 ms apart; then the entities stop. So the
 * runner has stopped by `c + g + 2R + 0.25 s + S`, and the settings must keep
 * `g + 2R + 0.25 s + S < T`. With the defaults `g = T/3` and the recommended
 * `shardLockExpiration = T`, `shardLockRefreshInterval = T/9` (`ZkCluster.safeShardingConfig`):
 * `S < 4T/9 - 0.25 s`, e.g. `T = 9 s`: stopped within 5.25 s + `S`, leaving `S` up to 3.75 s.
 * A killed runner's shards move after `T` plus at most one `refreshAssignmentsInterval`.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { NodeZooKeeper } from "@effect-zk/node"
 * import { ZkRunnerStorage } from "@effect-zk/cluster"
 *
 * const storage = ZkRunnerStorage.layer({ basePath: "/cluster/orders" }).pipe(
 *   Layer.provide(NodeZooKeeper.layer({ servers: "127.0.0.1:2181", sessionTimeout: "9 seconds" }))
 * )
 * ```
 *
 * @since 0.1.0
 */
import { type NodeData, type SessionState, type Stat, ZkError, ZNodePath, ZooKeeper, type ZooKeeperService } from "@effect-zk/core"
import { LapseReason, Recipes } from "@effect-zk/recipes"
import type { NonEmptyArray } from "effect/Array"
import { PersistenceError } from "effect/cluster/ClusterError"
import * as RunnerStorage from "effect/cluster/RunnerStorage"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"

/**
 * Options of {@link layer}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ZkRunnerStorageOptions {
  /** The cluster's root node; every runner of one cluster must use the same one. */
  readonly basePath: string
  /**
   * How long after the ensemble last confirmed our shards a runner that lost its connection
   * (e.g. during a leader election) still vouches for them. Capped at, and by default, a third
   * of the negotiated session timeout; `0` gives up the shards the moment the connection drops.
   */
  readonly grace?: Duration.Input | undefined
}

/**
 * Why `acquire` or `refresh` refused: the session is not `Connected` (it is disconnected,
 * read-only, or gone), so the shard locks can no longer be vouched for. Carried as the cause of
 * the cluster's `PersistenceError`.
 *
 * @since 0.1.0
 * @category errors
 */
export class ShardLocksLapsed extends Schema.TaggedError<ShardLocksLapsed>()("ShardLocksLapsed", {
  state: Schema.String,
  reason: LapseReason
}) {}

/** A runner node's data: the encoded runner and its health. */
const RunnerData = Schema.fromJsonString(Schema.Struct({ runner: Schema.String, healthy: Schema.Boolean }))
const encodeRunnerData = Schema.encodeSync(RunnerData)
const decodeRunnerData = Schema.decodeUnknownOption(RunnerData)
const text = new TextDecoder()

/** Node names keep addresses and shard ids readable but free of `/`. */
const nodeName = (key: string): string => encodeURIComponent(key)

/** The runner node name prefix of an address: `<address>-`, then ZooKeeper's 10-digit sequence. */
const runnerPrefix = (address: string): string => `${nodeName(address)}-`

const isTerminal = (state: SessionState): boolean => state === "Expired" || state === "Closed" || state === "AuthFailed"

const toPersistence = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, PersistenceError, R> =>
  Effect.mapError(effect, (cause) => new PersistenceError({ cause }))

const ignoreNoNode = <A, R>(effect: Effect.Effect<A, ZkError, R>): Effect.Effect<Option.Option<A>, ZkError, R> =>
  effect.pipe(
    Effect.map(Option.some),
    Effect.catchTag("NoNode", () => Effect.succeed(Option.none()))
  )

/** The storage operations over one session (`Encoded`: addresses and shard ids as strings). */
const makeEncoded = (zk: ZooKeeperService, options: ZkRunnerStorageOptions): RunnerStorage.Encoded => {
  const basePath = options.basePath
  const runnersDir = ZNodePath.join(basePath, "runners")
  const shardsDir = ZNodePath.join(basePath, "shards")
  const shardPath = (shardId: string) => ZNodePath.join(shardsDir, nodeName(shardId))

  // Validate once, before anything is sent: a bad basePath fails every operation the same way.
  const validPath = ZNodePath.check("cluster", basePath)

  const ensure = (path: string): Effect.Effect<void, ZkError> =>
    zk.create(path).pipe(
      Effect.asVoid,
      Effect.catchTag("NodeExists", () => Effect.void),
      Effect.catchTag("NoNode", () => Effect.andThen(ensure(ZNodePath.parent(path)), ensure(path)))
    )
  let ensured = false
  const layout = Effect.suspend(() =>
    ensured ? Effect.void : validPath.pipe(
      Effect.andThen(Effect.all([ensure(runnersDir), ensure(shardsDir)], { concurrency: 2 })),
      Effect.tap(() => Effect.sync(() => { ensured = true }))
    )
  )

  const sessionId = Effect.map(zk.clientId, (id) => id.sessionId)

  // Claims need quorum: only a Connected session may create shard locks.
  const live = Effect.flatMap(zk.state, (state) =>
    state === "Connected"
      ? Effect.void
      : Effect.fail(new ShardLocksLapsed({ state, reason: isTerminal(state) ? "SessionEnded" : "Disconnected" })))

  const ownedBy = (owner: bigint) => (stat: Option.Option<Stat>): boolean =>
    Option.isSome(stat) && stat.value.ephemeralOwner === owner

  /** Runner nodes (names) of `address`. */
  const runnerNodes = (address: string) =>
    zk.children(runnersDir).pipe(
      Effect.map(({ children }) => children.filter((name) => name.startsWith(runnerPrefix(address)))),
      Effect.catchTag("NoNode", () => Effect.succeed<ReadonlyArray<string>>([]))
    )

  const deleteIfPresent = (path: string, version?: number) =>
    zk.delete(path, version === undefined ? {} : { version }).pipe(
      Effect.catchTags({ NoNode: () => Effect.void, BadVersion: () => Effect.void })
    )

  const unregister = (address: string) =>
    Effect.flatMap(runnerNodes(address), (names) =>
      Effect.forEach(names, (name) => deleteIfPresent(ZNodePath.join(runnersDir, name)), { concurrency: "unbounded", discard: true }))

  const register = (address: string, runner: string, healthy: boolean) =>
    Effect.gen(function*() {
      yield* layout
      // A runner registering again (e.g. after its node vanished) replaces its old entry.
      yield* unregister(address)
      const path = yield* zk.create(
        ZNodePath.join(runnersDir, runnerPrefix(address)),
        encodeRunnerData({ runner, healthy }),
        { mode: "EphemeralSequential" }
      )
      const seq = ZNodePath.sequenceNumber(ZNodePath.basename(path))
      if (seq === undefined) return yield* new ZkError.MarshallingError({ op: "register", path, detail: "no sequence number in the created name" })
      return seq
    })

  const readRunner = (name: string): Effect.Effect<Option.Option<NodeData>, ZkError> =>
    ignoreNoNode(zk.get(ZNodePath.join(runnersDir, name)))

  const getRunners = Effect.gen(function*() {
    const names = yield* zk.children(runnersDir).pipe(
      Effect.map(({ children }) => children),
      Effect.catchTag("NoNode", () => Effect.succeed<ReadonlyArray<string>>([]))
    )
    const nodes = yield* Effect.forEach(names, readRunner, { concurrency: "unbounded" })
    const runners: Array<readonly [string, boolean]> = []
    for (const node of nodes) {
      if (Option.isNone(node)) continue
      const data = decodeRunnerData(text.decode(node.value.data))
      if (Option.isSome(data)) runners.push([data.value.runner, data.value.healthy])
    }
    return runners
  })

  const setRunnerHealth = (address: string, healthy: boolean) =>
    Effect.flatMap(runnerNodes(address), (names) =>
      Effect.forEach(names, (name) =>
        Effect.flatMap(readRunner(name), (node) => {
          if (Option.isNone(node)) return Effect.void
          const data = decodeRunnerData(text.decode(node.value.data))
          if (Option.isNone(data) || data.value.healthy === healthy) return Effect.void
          // Versioned, so a runner that re-registered meanwhile is not overwritten with stale data.
          return zk.set(ZNodePath.join(runnersDir, name), encodeRunnerData({ runner: data.value.runner, healthy }), {
            version: node.value.stat.version
          }).pipe(Effect.asVoid, Effect.catchTags({ NoNode: () => Effect.void, BadVersion: () => Effect.void }))
        }), { concurrency: "unbounded", discard: true }))

  /** Claims one shard: ours if our create succeeds, or if the existing lock is our session's. */
  const claim = (owner: bigint, address: string) => (shardId: string) =>
    zk.create(shardPath(shardId), address, { mode: "Ephemeral" }).pipe(
      Effect.as(true),
      Effect.catchTag("NodeExists", () => Effect.map(zk.exists(shardPath(shardId)), ownedBy(owner)))
    )

  const acquire = (address: string, shardIds: NonEmptyArray<string>) =>
    Effect.gen(function*() {
      yield* layout
      yield* live
      const sentAt = yield* Clock.currentTimeMillis
      const owner = yield* sessionId
      const won = yield* Effect.forEach(shardIds, claim(owner, address), { concurrency: "unbounded" })
      const ours = shardIds.filter((_, i) => won[i])
      for (const id of ours) confirmed.add(id)
      confirmedAt = sentAt
      return ours
    })

  // What the ensemble last confirmed: the shards ours and when the confirming request was sent.
  // The ensemble cannot expire the session earlier than that moment plus the session timeout.
  const confirmed = new Set<string>()
  let confirmedAt = Number.NEGATIVE_INFINITY

  /** How long after the last confirmation a disconnected runner may still vouch for its shards. */
  const graceMillis = Effect.map(zk.sessionTimeout, (timeout) => {
    const cap = Math.floor(timeout / 3)
    const wanted = options.grace === undefined ? cap : Duration.toMillis(Duration.fromInputUnsafe(options.grace))
    return Math.max(0, Math.min(wanted, cap))
  })

  /** Refresh without quorum: vouch from the last confirmation while within the grace, else lapse. */
  const refreshUnconfirmed = (state: SessionState, shardIds: Array<string>) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const grace = yield* graceMillis
      if (isTerminal(state) || now - confirmedAt >= grace) {
        return yield* new ShardLocksLapsed({ state, reason: isTerminal(state) ? "SessionEnded" : grace === 0 ? "Disconnected" : "GraceExpired" })
      }
      return shardIds.filter((id) => confirmed.has(id))
    })

  const refreshConfirmed = (shardIds: Array<string>) =>
    Effect.gen(function*() {
      const sentAt = yield* Clock.currentTimeMillis
      const owner = yield* sessionId
      if (shardIds.length === 0) {
        // A probe: one round trip proves the ensemble still knows our session.
        yield* zk.exists(basePath)
        confirmedAt = sentAt
        return []
      }
      const stats = yield* Effect.forEach(shardIds, (id) => zk.exists(shardPath(id)), { concurrency: "unbounded" })
      const ours = shardIds.filter((_, i) => ownedBy(owner)(stats[i]!))
      for (const id of shardIds) confirmed.delete(id)
      for (const id of ours) confirmed.add(id)
      confirmedAt = sentAt
      return ours
    })

  const refresh = (_address: string, shardIds: Array<string>): Effect.Effect<Array<string>, ZkError | ShardLocksLapsed> =>
    Effect.andThen(validPath, Effect.flatMap(zk.state, (state): Effect.Effect<Array<string>, ZkError | ShardLocksLapsed> =>
      state === "Connected" ? refreshConfirmed(shardIds) : refreshUnconfirmed(state, shardIds)))

  /** Releasing after the session ended is done: its ephemeral locks went with it. */
  const releasing = <E>(body: Effect.Effect<void, E>) =>
    Effect.flatMap(zk.state, (state) => isTerminal(state) ? Effect.void : Effect.andThen(validPath, body))

  const release = (_address: string, shardId: string) =>
    releasing(Effect.gen(function*() {
      const owner = yield* sessionId
      const stat = yield* zk.exists(shardPath(shardId))
      confirmed.delete(shardId)
      if (ownedBy(owner)(stat) && Option.isSome(stat)) yield* deleteIfPresent(shardPath(shardId), stat.value.version)
    }))

  const releaseAll = (_address: string) =>
    releasing(Effect.gen(function*() {
      // The server lists this session's own ephemerals: exactly the locks to drop, one round trip.
      confirmed.clear()
      const ours = yield* zk.getEphemerals(`${shardsDir}/`)
      yield* Effect.forEach(ours, (path) => deleteIfPresent(path), { concurrency: "unbounded", discard: true })
    }))

  return {
    register: (address, runner, healthy) => toPersistence(Effect.andThen(validPath, register(address, runner, healthy))),
    unregister: (address) => toPersistence(Effect.andThen(validPath, unregister(address))),
    getRunners: toPersistence(Effect.andThen(validPath, getRunners)),
    setRunnerHealth: (address, healthy) => toPersistence(Effect.andThen(validPath, setRunnerHealth(address, healthy))),
    acquire: (address, shardIds) => toPersistence(Effect.andThen(validPath, acquire(address, shardIds))),
    refresh: (address, shardIds) => toPersistence(refresh(address, shardIds)),
    release: (address, shardId) => toPersistence(release(address, shardId)),
    releaseAll: (address) => toPersistence(releaseAll(address))
  }
}

/**
 * A `RunnerStorage` over the given session.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: ZkRunnerStorageOptions): Effect.Effect<RunnerStorage.RunnerStorage["Service"], never, ZooKeeper> =>
  Effect.map(ZooKeeper, (zk) => RunnerStorage.makeEncoded(makeEncoded(zk, options)))

/**
 * The cluster's `RunnerStorage` on the `ZooKeeper` session of the context. Provide a session
 * whose timeout satisfies the inequality in this module's documentation. It lives and dies with
 * that session: after an expiry the runner must be restarted, unless you use
 * {@link layerResilient}, which opens a new session and goes on.
 *
 * @example
 * ```ts
 * const storage = ZkRunnerStorage.layer({ basePath: "/cluster/orders" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: ZkRunnerStorageOptions): Layer.Layer<RunnerStorage.RunnerStorage, never, ZooKeeper> =>
  Layer.effect(RunnerStorage.RunnerStorage, make(options))

/** Whether a failure means the session is gone or unreachable, so that a new one may work. */
const sessionLost = (error: unknown): boolean => ZkError.isZkError(error) && (error._tag === "SessionExpired" || ZkError.isRetryable(error))

/** Every operation on whatever storage `current` gives at the time of the call. */
const delegate = (current: () => RunnerStorage.Encoded): RunnerStorage.Encoded => ({
  register: (address, runner, healthy) => Effect.suspend(() => current().register(address, runner, healthy)),
  unregister: (address) => Effect.suspend(() => current().unregister(address)),
  getRunners: Effect.suspend(() => current().getRunners),
  setRunnerHealth: (address, healthy) => Effect.suspend(() => current().setRunnerHealth(address, healthy)),
  acquire: (address, shardIds) => Effect.suspend(() => current().acquire(address, shardIds)),
  refresh: (address, shardIds) => Effect.suspend(() => current().refresh(address, shardIds)),
  release: (address, shardId) => Effect.suspend(() => current().release(address, shardId)),
  releaseAll: (address) => Effect.suspend(() => current().releaseAll(address))
})

/**
 * A `RunnerStorage` that outlives session expiry: it opens its own session from `session` and,
 * when that session expires, opens a new one (`Recipes.resilient`, paced by `resilience`) and
 * carries on over it. Succeeds once the first session is open, and fails as opening a plain
 * session would when that first one cannot be opened.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeResilient = <E>(
  options: ZkRunnerStorageOptions,
  session: Layer.Layer<ZooKeeper, E>,
  resilience?: Recipes.ResilientOptions
): Effect.Effect<RunnerStorage.RunnerStorage["Service"], E | ZkError, Scope.Scope> =>
  Effect.gen(function*() {
    const first = yield* Deferred.make<RunnerStorage.Encoded, E | ZkError>()
    let latest: RunnerStorage.Encoded | undefined
    const overSession = Effect.gen(function*() {
      latest = makeEncoded(yield* ZooKeeper, options)
      if (!(yield* Deferred.succeed(first, latest))) {
        yield* Effect.logWarning("ZooKeeper session expired; the runner storage goes on over a new session")
      }
      return yield* Effect.never
    })
    // The first session is the layer's to open or fail (a connect string that reaches no server
    // fails after the connect timeout, as a plain session does); after it, a new session is
    // always worth trying. A failure that no new session mends (say, authentication) leaves the
    // dead session's storage in place, failing every call loudly.
    const retryWhile = resilience?.while ?? sessionLost
    const pacing: Recipes.ResilientOptions = {
      ...resilience,
      while: (error) => Deferred.isDoneUnsafe(first) && retryWhile(error)
    }
    yield* Recipes.resilient(overSession, session, pacing).pipe(
      Effect.catchCause((cause) => Deferred.failCause(first, cause)),
      Effect.forkScoped
    )
    const initial = yield* Deferred.await(first)
    return RunnerStorage.makeEncoded(delegate(() => latest ?? initial))
  })

/**
 * The cluster's `RunnerStorage` with sessions of its own, from `session`: when one expires, it
 * opens a new one and goes on, so the runner needs no restart.
 *
 * What happens to the runner meanwhile is effect's sharding doing what it does on any storage
 * failure: the dead session's `refresh` fails ({@link ShardLocksLapsed}), so the sharding stops
 * the runner's entities and probes the storage; the first probe over the new session succeeds;
 * the runner's node went with the old session, so the sharding registers the runner again (a new
 * MachineId, which it adopts) and acquires its shards anew, with locks of the new session. Shards
 * that other runners took meanwhile stay theirs: a lock counts as ours only when its node's
 * owner is the current session.
 *
 * @example
 * ```ts
 * import { NodeZooKeeper } from "@effect-zk/node"
 * import { ZkRunnerStorage } from "@effect-zk/cluster"
 *
 * const storage = ZkRunnerStorage.layerResilient(
 *   { basePath: "/cluster/orders" },
 *   NodeZooKeeper.layer({ servers: "127.0.0.1:2181", sessionTimeout: "9 seconds" })
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerResilient = <E>(
  options: ZkRunnerStorageOptions,
  session: Layer.Layer<ZooKeeper, E>,
  resilience?: Recipes.ResilientOptions
): Layer.Layer<RunnerStorage.RunnerStorage, E | ZkError> =>
  Layer.effect(RunnerStorage.RunnerStorage, makeResilient(options, session, resilience))

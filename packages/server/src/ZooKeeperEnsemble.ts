/**
 * An N-member ZooKeeper ensemble on 127.0.0.1, for failover tests: stop a member (the leader,
 * say), watch the rest keep serving, start it again and see it rejoin.
 *
 * Each member is an ordinary `ZooKeeperServer` in `runDir/n<myid>` with three ports of its own
 * (client, quorum, election). The ensemble is ready when every member serves, with exactly one
 * leader. Formation takes about 2 s with tickTime 2000 (up to ~6 s when a follower tries the
 * leader before its quorum port is open and backs off); a shorter tickTime makes it faster.
 *
 * When the leader dies the followers drop their clients while they elect a new one (about 0.5 s),
 * so clients see a disconnect even though the ensemble keeps its quorum.
 *
 * @example
 * import { Effect } from "effect"
 * import { ZooKeeperEnsemble } from "@effect-zk/server"
 *
 * Effect.scoped(Effect.gen(function*() {
 *   const ensemble = yield* ZooKeeperEnsemble.scoped({ size: 3 })
 *   const leader = yield* ensemble.leader          // Option.some(2)
 *   yield* ensemble.stop(2)                         // the others elect a new leader
 *   yield* ensemble.start(2)                        // rejoins as a follower
 * }))
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as path from "node:path"
import type * as FourLetterWord from "./FourLetterWord.ts"
import type * as ServerConfig from "./ServerConfig.ts"
import { InvalidOptionsError, NotReadyError, RunDirNotEmptyError, type ServerError } from "./ServerError.ts"
import * as ZooKeeperServer from "./ZooKeeperServer.ts"
import { listDir, makeDir, quietly, removeDir, tempRunDir } from "./internal/fs.ts"
import { onLiveClock } from "./internal/liveClock.ts"
import { freePorts } from "./internal/ports.ts"

/**
 * A running ensemble.
 *
 * @since 0.1.0
 * @category models
 */
export interface Ensemble {
  /** The directory holding the members' run directories. */
  readonly runDir: string
  /** "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3", every member's client address. */
  readonly connectString: string
  /** The members, index i having myid i + 1. */
  readonly members: ReadonlyArray<ZooKeeperServer.ServerHandle>
  /** Stops member i (0-based); a no-op when it is stopped. */
  readonly stop: (index: number) => Effect.Effect<void, ServerError>
  /** Starts member i (0-based) and waits until it serves, which needs a quorum of the others. */
  readonly start: (index: number) => Effect.Effect<void, ServerError>
  /** Each member's current mode; `None` when down or not serving. */
  readonly modes: Effect.Effect<ReadonlyArray<Option.Option<FourLetterWord.Mode>>>
  /** Index of the current leader, if there is one. */
  readonly leader: Effect.Effect<Option.Option<number>>
  /**
   * Waits until every running member serves and exactly one of them leads, e.g. after stopping
   * the leader. Default timeout: the start timeout.
   */
  readonly awaitQuorum: (timeout?: Duration.Input) => Effect.Effect<void, NotReadyError>
}

/**
 * The service key of an ensemble provided by {@link layer}.
 *
 * @since 0.1.0
 * @category services
 */
export class ZooKeeperEnsemble extends Context.Service<ZooKeeperEnsemble, Ensemble>()("@effect-zk/server/ZooKeeperEnsemble") {}

/**
 * Options of {@link scoped}; all optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface EnsembleOptions extends Omit<ZooKeeperServer.ScopedOptions, "port" | "quorum" | "tls"> {
  /** Number of members, default 3. */
  readonly size?: number | undefined
}

/** An empty or missing directory given by the caller, removed when the scope closes. */
const claimDir = (dir: string): Effect.Effect<string, ServerError, Scope.Scope> =>
  Effect.gen(function*() {
    const runDir = path.resolve(dir)
    const entries = yield* listDir(runDir)
    if (Option.isSome(entries) && entries.value.length > 0) return yield* new RunDirNotEmptyError({ runDir })
    return yield* Effect.acquireRelease(
      Effect.as(makeDir(runDir), runDir),
      () => quietly(`removing ${runDir}`, removeDir(runDir))
    )
  })

const ACTIVE_MODES: ReadonlySet<string> = new Set(["leader", "follower", "observer"])

/**
 * Creates `size` members, starts them together and waits for the quorum. Closing the scope
 * stops every member and removes the directory.
 *
 * @since 0.1.0
 * @category constructors
 */
export const scoped = (options: EnsembleOptions = {}): Effect.Effect<Ensemble, ServerError, Scope.Scope> =>
  Effect.gen(function*() {
    const size = options.size ?? 3
    if (!Number.isInteger(size) || size < 1 || size > 255) {
      return yield* new InvalidOptionsError({ detail: `ensemble size ${size} is not in 1..255` })
    }
    // Claimed before the members exist, so its removal is the last finalizer to run.
    const runDir = options.runDir === undefined ? yield* tempRunDir("effect-zk-ensemble-") : yield* claimDir(options.runDir)
    const ports = yield* freePorts(3 * size)
    const port = (i: number) => ports[i] ?? 0
    const servers: ReadonlyArray<ServerConfig.QuorumMember> = Array.from({ length: size }, (_, i) => ({
      id: i + 1,
      quorumPort: port(size + i),
      electionPort: port(2 * size + i)
    }))
    const { size: _size, ...serverOptions } = options
    // One finalizer destroys every member created so far, concurrently: sequential SIGTERMs
    // would add ~0.35 s per member to every test that uses an ensemble.
    const created: Array<ZooKeeperServer.ServerHandle> = []
    yield* Effect.addFinalizer(() =>
      Effect.forEach(created, (server) => quietly(`destroying ${server.runDir}`, server.destroy), {
        concurrency: "unbounded",
        discard: true
      })
    )
    const members = yield* Effect.forEach(servers, (member, i) =>
      Effect.tap(
        ZooKeeperServer.create({
          ...serverOptions,
          port: port(i),
          runDir: path.join(runDir, `n${member.id}`),
          quorum: { id: member.id, servers }
        }),
        (server) => Effect.sync(() => created.push(server))
      ))
    const startTimeout = options.startTimeout === undefined ? 60_000 : Duration.toMillis(options.startTimeout)
    const member = (index: number) =>
      Option.match(Option.fromNullishOr(members[index]), {
        onNone: () => Effect.fail(new InvalidOptionsError({ detail: `member index ${index} is not in 0..${size - 1}` })),
        onSome: Effect.succeed
      })
    const modes = Effect.forEach(members, (server) =>
      Effect.map(server.status, Option.map((stats) => stats.mode)), { concurrency: "unbounded" })
    const leader = Effect.map(modes, (all) => {
      const index = all.findIndex((mode) => Option.getOrUndefined(mode) === "leader")
      return index < 0 ? Option.none<number>() : Option.some(index)
    })
    // Real time, whatever clock the caller's test runs on: the members are JVMs.
    const awaitQuorum = (timeout?: Duration.Input): Effect.Effect<void, NotReadyError> =>
      onLiveClock(Effect.gen(function*() {
        const timeoutMillis = timeout === undefined ? startTimeout : Duration.toMillis(timeout)
        const deadline = Date.now() + timeoutMillis
        while (true) {
          const running = yield* Effect.forEach(members, (server) => Effect.map(server.pid, Option.isSome), {
            concurrency: "unbounded"
          }).pipe(Effect.orElseSucceed(() => members.map(() => true)))
          const current = yield* modes
          const leaders = current.filter((mode) => Option.getOrUndefined(mode) === "leader").length
          const serving = current.every((mode, i) =>
            running[i] !== true ||
            (Option.isSome(mode) && (size === 1 || ACTIVE_MODES.has(mode.value)))
          )
          if (serving && (size === 1 || leaders === 1)) return
          if (Date.now() >= deadline) {
            return yield* new NotReadyError({
              runDir,
              port: port(0),
              timeoutMillis,
              lastState: current.map((mode, i) =>
                `n${i + 1}: ${running[i] === true ? Option.getOrElse(mode, () => "not serving") : "stopped"}`
              ).join(", "),
              logTail: (yield* Effect.forEach(members, (server, i) =>
                Effect.map(server.logTail(8), (tail) => tail === "" ? "" : `--- n${i + 1}\n${tail}`))).filter((t) => t !== "").join("\n")
            })
          }
          yield* Effect.sleep(50)
        }
      }))

    // Each start waits for its own member to serve, which happens only once a quorum is up,
    // so the members must start concurrently.
    yield* Effect.forEach(members, (server) => server.start, { concurrency: "unbounded", discard: true })
    yield* awaitQuorum()

    return {
      runDir,
      connectString: members.map((server) => `127.0.0.1:${server.port}`).join(","),
      members,
      stop: (index) => Effect.flatMap(member(index), (server) => server.stop),
      start: (index) => Effect.flatMap(member(index), (server) => server.start),
      modes,
      leader,
      awaitQuorum
    } satisfies Ensemble
  })

/**
 * {@link scoped} as a layer, for fixtures shared by a test file.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: EnsembleOptions = {}): Layer.Layer<ZooKeeperEnsemble, ServerError> =>
  Layer.effect(ZooKeeperEnsemble, scoped(options))

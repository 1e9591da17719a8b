/**
 * A real Apache ZooKeeper server in a directory of its own: gozk's `Server`, Effect-native.
 *
 * `create` writes a run directory (zoo.cfg, data, logs, metadata); `start` spawns the JVM and
 * returns once it serves requests; the JVM outlives the caller, and `attach(runDir)` lets any
 * process start, stop or address it later. `scoped` and `layer` are the test-fixture forms: a
 * free port, a temporary directory, and on release SIGTERM (then SIGKILL) and removal.
 *
 * It only ever binds 127.0.0.1 and is meant for tests, demos and benchmarks, not production.
 * Its waits (readiness, start and stop timeouts) always keep real time, so the fixtures work
 * under `it.effect`'s TestClock as under `it.live`.
 *
 * @example
 * import { Effect } from "effect"
 * import { ZooKeeperServer } from "@effect-zk/server"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const server = yield* ZooKeeperServer.scoped()
 *   console.log(yield* server.address)       // "127.0.0.1:41873"
 * }))
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import * as path from "node:path"
import * as FourLetterWord from "./FourLetterWord.ts"
import * as Installation from "./Installation.ts"
import * as ServerConfig from "./ServerConfig.ts"
import {
  InvalidOptionsError,
  RunDirNotEmptyError,
  type NotARunDirError,
  type ServerError,
  type ServerIoError
} from "./ServerError.ts"
import { listDir, makeDir, quietly, removeDir, tempRunDir, writeText } from "./internal/fs.ts"
import * as Lifecycle from "./internal/lifecycle.ts"
import { freePorts } from "./internal/ports.ts"
import * as RunDir from "./internal/runDir.ts"

/**
 * A server, identified by its run directory. It holds no process state of its own: every member
 * reads the pid file, so two handles on the same directory (even in two processes) agree.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerHandle {
  /** Absolute path of the run directory. */
  readonly runDir: string
  /** The client port on 127.0.0.1 (fixed at `create`, also across restarts). */
  readonly port: number
  /** The TLS client port, when TLS was configured. */
  readonly securePort: Option.Option<number>
  /** "127.0.0.1:PORT", the connect string of this server. */
  readonly address: Effect.Effect<string>
  /** The JVM's pid while it runs. */
  readonly pid: Effect.Effect<Option.Option<number>, ServerError>
  /** Spawns the JVM and returns once it serves requests (`srvr` shows a `Mode:`). Fails if it runs already. */
  readonly start: Effect.Effect<void, ServerError>
  /** SIGTERM, then SIGKILL after the stop timeout; a no-op when the server does not run. */
  readonly stop: Effect.Effect<void, ServerError>
  /** Stops the server, then removes the run directory. */
  readonly destroy: Effect.Effect<void, ServerError>
  /** `srvr` right now: the stats while serving, `None` while down or not serving. */
  readonly status: Effect.Effect<Option.Option<FourLetterWord.ServerStats>>
  /** The last lines of `zookeeper.log` and `out.log`, e.g. to attach to a failed test. */
  readonly logTail: (lines?: number) => Effect.Effect<string>
}

/**
 * The service key of a server provided by {@link layer}.
 *
 * A `layer(...)` block of `@effect/vitest` offers `it.effect` (there is no `it.live` inside
 * one); its tests run on the TestClock unless the block says `excludeTestServices: true`. The
 * server keeps real time either way; pass `excludeTestServices: true` when the tests also wait
 * in real time themselves (sessions, timeouts, polling).
 *
 * @example
 * ```ts
 * import { assert, layer } from "@effect/vitest"
 * import { Effect, Option } from "effect"
 * import { ZooKeeperServer } from "@effect-zk/server"
 *
 * layer(ZooKeeperServer.layer(), { excludeTestServices: true })("with a server", (it) => {
 *   it.effect("serves", () =>
 *     Effect.gen(function*() {
 *       const server = yield* ZooKeeperServer.ZooKeeperServer
 *       assert.isTrue(Option.isSome(yield* server.status))
 *       // connect a client to (yield* server.address)
 *     }))
 * })
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class ZooKeeperServer extends Context.Service<ZooKeeperServer, ServerHandle>()("@effect-zk/server/ZooKeeperServer") {}

/**
 * SASL DIGEST-MD5 users accepted by the server (user name → password).
 *
 * @since 0.1.0
 * @category models
 */
export interface SaslOptions {
  /** Written to the JAAS `Server` section as `user_<name>="<password>"`; names are `[A-Za-z0-9_.-]+`. */
  readonly users: Readonly<Record<string, string>>
}

/**
 * Membership of an ensemble, for servers that are one of several. `ZooKeeperEnsemble` fills this
 * in; set it yourself only to build unusual topologies (observers, mixed versions).
 *
 * @since 0.1.0
 * @category models
 */
export interface QuorumOptions {
  /** This server's `myid`; must match one entry of `servers`. */
  readonly id: number
  /** Every member of the ensemble, this one included. */
  readonly servers: ReadonlyArray<ServerConfig.QuorumMember>
}

/**
 * Options of {@link create}.
 *
 * @since 0.1.0
 * @category models
 */
export interface CreateOptions {
  /** Client port on 127.0.0.1; 0 picks a free port once, at create time. */
  readonly port: number
  /** Must be missing or empty. */
  readonly runDir: string
  /** A ZooKeeper directory; otherwise ZOOKEEPER_HOME, then the system install (see `Installation`). */
  readonly installDir?: string | undefined
  /** Default 2 seconds. Session timeouts default to 2-20 ticks. */
  readonly tickTime?: Duration.Input | undefined
  /** The shortest session timeout the server grants; ZooKeeper's default is 2 ticks. */
  readonly minSessionTimeout?: Duration.Input | undefined
  /** The longest session timeout the server grants; ZooKeeper's default is 20 ticks. */
  readonly maxSessionTimeout?: Duration.Input | undefined
  /** Extra zoo.cfg lines; a key that is also a default overrides it. */
  readonly extraConfig?: Readonly<Record<string, ServerConfig.Value>> | undefined
  /**
   * Extra JVM flags, after the defaults (`-Xmx512m`, container check interval) so they win,
   * e.g. `["-Dreadonlymode.enabled=true"]` or `["-Dzookeeper.DigestAuthenticationProvider.superDigest=..."]`.
   */
  readonly jvmFlags?: ReadonlyArray<string> | undefined
  /**
   * How often TTL and container nodes are reaped (`-Dznode.container.checkIntervalMs`, a JVM
   * flag, not a zoo.cfg key). Default 1 second, so tests can observe reaping; ZooKeeper's is 60 s.
   */
  readonly containerCheckInterval?: Duration.Input | undefined
  /** Maximum packet size in bytes (`-Djute.maxbuffer`; a zoo.cfg line would be ignored). */
  readonly juteMaxBuffer?: number | undefined
  /** Enables a TLS client port next to the plain one. */
  readonly tls?: ServerConfig.TlsOptions | undefined
  /** Enables SASL DIGEST-MD5 authentication for these users. */
  readonly sasl?: SaslOptions | undefined
  /** Ensemble membership; absent for a standalone server. */
  readonly quorum?: QuorumOptions | undefined
  /** How long `start` waits for the server to serve. Default 60 seconds. */
  readonly startTimeout?: Duration.Input | undefined
  /** How long `stop` waits after SIGTERM before SIGKILL. Default 5 seconds. */
  readonly stopTimeout?: Duration.Input | undefined
}

/**
 * Options of {@link scoped} and {@link layer}: all optional (port 0, a fresh temporary runDir).
 *
 * @since 0.1.0
 * @category models
 */
export type ScopedOptions = Partial<CreateOptions>

const millis = (input: Duration.Input | undefined, fallback: number): number =>
  input === undefined ? fallback : Duration.toMillis(input)

const isPort = (port: number, allowZero: boolean) => Number.isInteger(port) && port >= (allowZero ? 0 : 1) && port <= 65535

const handleOf = (l: RunDir.Layout, metadata: RunDir.Metadata): ServerHandle => {
  // Serialises start/stop/destroy on this handle; other handles and processes rely on the pid file.
  const lock = Semaphore.makeUnsafe(1)
  const stop = Lifecycle.stop(l, metadata)
  return {
    runDir: l.runDir,
    port: metadata.clientPort,
    securePort: Option.fromNullishOr(metadata.securePort),
    address: Effect.succeed(`127.0.0.1:${metadata.clientPort}`),
    pid: Lifecycle.runningPid(l),
    start: Semaphore.withPermit(lock, Effect.asVoid(Lifecycle.start(l, metadata))),
    stop: Semaphore.withPermit(lock, stop),
    destroy: Semaphore.withPermit(lock, Effect.andThen(stop, removeDir(l.runDir))),
    status: Effect.orElseSucceed(FourLetterWord.srvr(metadata.clientPort, { timeout: "2 seconds" }), () => Option.none()),
    logTail: (lines = 40) => Lifecycle.recentLog(l, lines)
  }
}

const jvmFlagsOf = (l: RunDir.Layout, options: CreateOptions, sasl: boolean): ReadonlyArray<string> => [
  "-Xmx512m",
  `-Dznode.container.checkIntervalMs=${millis(options.containerCheckInterval, 1000)}`,
  // Both configurations are passed; whichever logging backend is on the classpath picks its own.
  `-Dlog4j.configuration=file:${l.log4j}`,
  `-Dlogback.configurationFile=${l.logback}`,
  ...(options.juteMaxBuffer === undefined ? [] : [`-Djute.maxbuffer=${options.juteMaxBuffer}`]),
  ...(sasl ? [`-Djava.security.auth.login.config=${l.jaas}`] : []),
  ...(options.jvmFlags ?? [])
]

const invalid = (detail: string) => Effect.fail(new InvalidOptionsError({ detail }))

/**
 * Writes a new run directory (zoo.cfg, data/, log configuration, server.json) without starting
 * anything. Fails with `RunDirNotEmptyError` when `runDir` already holds files.
 *
 * @example
 * const server = yield* ZooKeeperServer.create({ port: 0, runDir: "/tmp/zk-1" })
 * yield* server.start
 *
 * @since 0.1.0
 * @category constructors
 */
export const create = (options: CreateOptions): Effect.Effect<ServerHandle, ServerError> =>
  Effect.gen(function*() {
    if (!isPort(options.port, true)) return yield* invalid(`port ${options.port} is not in 0..65535`)
    if (options.tls?.securePort !== undefined && !isPort(options.tls.securePort, true)) {
      return yield* invalid(`tls.securePort ${options.tls.securePort} is not in 0..65535`)
    }
    for (const [name, value] of [["startTimeout", options.startTimeout], ["stopTimeout", options.stopTimeout]] as const) {
      if (value !== undefined && !Number.isFinite(Duration.toMillis(value))) return yield* invalid(`${name} must be finite`)
    }
    for (const user of Object.keys(options.sasl?.users ?? {})) {
      if (!/^[A-Za-z0-9_.\-]+$/.test(user)) return yield* invalid(`SASL user name ${JSON.stringify(user)} has unsupported characters`)
    }
    const quorum = options.quorum
    const self = quorum?.servers.find((member) => member.id === quorum.id)
    if (quorum !== undefined && self === undefined) {
      return yield* invalid(`quorum.id ${quorum.id} is not one of the quorum's servers`)
    }

    const l = RunDir.layout(options.runDir)
    const entries = yield* listDir(l.runDir)
    if (Option.isSome(entries) && entries.value.length > 0) return yield* new RunDirNotEmptyError({ runDir: l.runDir })

    const installation = yield* Installation.locate({ installDir: options.installDir })
    // Port 0 means "any free port", chosen once here so that restarts keep the address.
    const requested = [options.port, ...(options.tls === undefined ? [] : [options.tls.securePort ?? 0])]
    const fresh = yield* freePorts(requested.filter((port) => port === 0).length)
    let nextFresh = 0
    const [clientPort = 0, securePort] = requested.map((port) => (port === 0 ? fresh[nextFresh++] ?? 0 : port))

    const extra: Record<string, ServerConfig.Value> = {}
    if (options.minSessionTimeout !== undefined) extra["minSessionTimeout"] = millis(options.minSessionTimeout, 0)
    if (options.maxSessionTimeout !== undefined) extra["maxSessionTimeout"] = millis(options.maxSessionTimeout, 0)
    const sasl = options.sasl !== undefined
    const config = ServerConfig.make({
      dataDir: l.dataDir,
      clientPort,
      tickTime: millis(options.tickTime, 2000),
      servers: quorum?.servers,
      tls: options.tls === undefined || securePort === undefined
        ? undefined
        : {
          ...options.tls,
          keyStore: path.resolve(options.tls.keyStore),
          ...(options.tls.trustStore === undefined ? {} : { trustStore: path.resolve(options.tls.trustStore) }),
          securePort
        },
      sasl,
      extra: { ...extra, ...options.extraConfig }
    })
    const problems = ServerConfig.validate(config)
    if (problems.length > 0) return yield* invalid(problems.join("; "))

    const metadata = RunDir.makeMetadata({
      clientPort,
      securePort: securePort ?? null,
      peerPorts: self === undefined ? [] : [self.quorumPort, self.electionPort],
      java: installation.java,
      classpath: installation.classpath,
      jvmFlags: jvmFlagsOf(l, options, sasl),
      startTimeoutMillis: millis(options.startTimeout, 60_000),
      stopTimeoutMillis: millis(options.stopTimeout, 5_000)
    })

    yield* makeDir(l.dataDir)
    if (quorum !== undefined) yield* writeText(path.join(l.dataDir, "myid"), `${quorum.id}\n`)
    yield* writeText(l.zooCfg, ServerConfig.render(config))
    yield* writeText(l.log4j, ServerConfig.renderLog4j(l.logFile))
    yield* writeText(l.logback, ServerConfig.renderLogback(l.logFile))
    if (options.sasl !== undefined) yield* writeText(l.jaas, ServerConfig.renderJaas(options.sasl.users), 0o600)
    // Written last: a directory without it is not attachable, so a half-written one is never used.
    yield* RunDir.writeMetadata(l, metadata)
    return handleOf(l, metadata)
  })

/**
 * A handle on a run directory made by {@link create}, possibly in another process, whether its
 * server runs or not (e.g. to stop a server a previous test run left behind).
 *
 * @example
 * const server = yield* ZooKeeperServer.attach("/tmp/zk-1")
 * yield* server.stop
 *
 * @since 0.1.0
 * @category constructors
 */
export const attach = (runDir: string): Effect.Effect<ServerHandle, NotARunDirError | ServerIoError> =>
  Effect.gen(function*() {
    const l = RunDir.layout(runDir)
    const metadata = yield* RunDir.readMetadata(l)
    return handleOf(l, metadata)
  })

const createScoped = (options: ScopedOptions): Effect.Effect<ServerHandle, ServerError, Scope.Scope> =>
  Effect.gen(function*() {
    const runDir = options.runDir ?? (yield* tempRunDir("effect-zk-"))
    return yield* Effect.acquireRelease(
      create({ ...options, port: options.port ?? 0, runDir }),
      (server) => quietly(`destroying ${server.runDir}`, server.destroy)
    )
  })

/**
 * Creates and starts a server for the lifetime of the scope; closing the scope stops the JVM
 * (SIGKILL if SIGTERM is not enough) and removes the run directory.
 *
 * @example
 * Effect.scoped(Effect.gen(function*() {
 *   const server = yield* ZooKeeperServer.scoped({ tickTime: "500 millis" })
 *   // ... use (yield* server.address)
 * }))
 *
 * @since 0.1.0
 * @category constructors
 */
export const scoped = (options: ScopedOptions = {}): Effect.Effect<ServerHandle, ServerError, Scope.Scope> =>
  Effect.tap(createScoped(options), (server) => server.start)

/**
 * {@link scoped} as a layer, for fixtures shared by a test file.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: ScopedOptions = {}): Layer.Layer<ZooKeeperServer, ServerError> =>
  Layer.effect(ZooKeeperServer, scoped(options))

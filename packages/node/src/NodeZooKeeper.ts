/**
 * `ZooKeeper` over Node.js TCP/TLS: the one layer most applications need.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { NodeRuntime } from "@effect/platform-node"
 * import { ZooKeeper } from "@effect-zk/core"
 * import { NodeZooKeeper } from "@effect-zk/node"
 *
 * const program = Effect.gen(function*() {
 *   const zk = yield* ZooKeeper
 *   yield* zk.create("/config", "v1")
 * })
 * program.pipe(Effect.provide(NodeZooKeeper.layer({ servers: "127.0.0.1:2181" })), NodeRuntime.runMain)
 * ```
 *
 * @since 0.1.0
 */
import { ZooKeeper } from "@effect-zk/core/ZooKeeper"
import * as ZooKeepers from "@effect-zk/core/ZooKeeper"
import type { ZooKeeperConfig, ZooKeeperService } from "@effect-zk/core/ZooKeeper"
import { Transport } from "@effect-zk/core/Transport"
import type { ZkError } from "@effect-zk/core/ZkError"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as NodeTransport from "./NodeTransport.ts"

/**
 * Session settings plus the transport's (TLS).
 *
 * @since 0.1.0
 * @category models
 */
export interface NodeZooKeeperConfig extends ZooKeeperConfig, NodeTransport.NodeTransportOptions {}

/**
 * A `ZooKeeper` session over TCP, or TLS with `tls`. Building it connects (or fails with a
 * typed `ZkError`); closing its scope closes the session.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (config: NodeZooKeeperConfig): Layer.Layer<ZooKeeper, ZkError> =>
  // One layer, not the session's layer provided with the transport's: each layer built keeps
  // its own scope and memo entries for as long as the session lives.
  Layer.effect(ZooKeeper, make(config))

/**
 * A session as a scoped value instead of a layer: for a session whose settings are only known
 * at run time (re-attaching with a `ClientId` read from a file), or for holding two sessions at
 * once. It connects now (or fails with a typed `ZkError`) and closes with the scope.
 *
 * @example
 * ```ts
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const session = yield* ClientId.fromJson(yield* readSavedId)
 *   const zk = yield* NodeZooKeeper.make({ servers: "127.0.0.1:2181", session })
 *   const other = yield* NodeZooKeeper.make({ servers: "127.0.0.1:2181" })
 *   yield* zk.getText("/config")
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: NodeZooKeeperConfig): Effect.Effect<ZooKeeperService, ZkError, Scope.Scope> =>
  ZooKeepers.make(config).pipe(Effect.provideService(Transport, transportFor(config.tls)))

/** Plain TCP needs no settings, so every such session shares one transport. */
const plainTcp = NodeTransport.make()

const transportFor = (tls: NodeTransport.TlsOptions | undefined): Transport["Service"] =>
  tls === undefined ? plainTcp : NodeTransport.make({ tls })

/**
 * The settings `layerConfig` reads, with their default names: `ZK_SERVERS` (required),
 * `ZK_SESSION_TIMEOUT`, `ZK_CONNECT_TIMEOUT`, `ZK_REQUEST_TIMEOUT` (durations such as
 * "10 seconds"), `ZK_CAN_BE_READ_ONLY`.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<NodeZooKeeperConfig> = Config.all({
  servers: Config.String("ZK_SERVERS"),
  sessionTimeout: Config.Duration("ZK_SESSION_TIMEOUT").pipe(Config.option),
  connectTimeout: Config.Duration("ZK_CONNECT_TIMEOUT").pipe(Config.option),
  requestTimeout: Config.Duration("ZK_REQUEST_TIMEOUT").pipe(Config.option),
  canBeReadOnly: Config.Boolean("ZK_CAN_BE_READ_ONLY").pipe(Config.withDefault(false))
}).pipe(
  Config.map((c) => ({
    servers: c.servers,
    sessionTimeout: c.sessionTimeout._tag === "Some" ? c.sessionTimeout.value : undefined,
    connectTimeout: c.connectTimeout._tag === "Some" ? c.connectTimeout.value : undefined,
    requestTimeout: c.requestTimeout._tag === "Some" ? c.requestTimeout.value : undefined,
    canBeReadOnly: c.canBeReadOnly
  }))
)

/**
 * `layer` with its settings read from `Config` (environment variables by default, see
 * `config`), or from the config you pass.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  settings: Config.Config<NodeZooKeeperConfig> = config
): Layer.Layer<ZooKeeper, ZkError | Config.ConfigError> =>
  Layer.unwrap(Effect.gen(function*() {
    return layer(yield* settings)
  }))

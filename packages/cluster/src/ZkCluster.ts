/**
 * A whole Effect Cluster runner from a connect string: effect's socket runner
 * (`NodeClusterSocket`), runner storage on ZooKeeper ({@link ZkRunnerStorage}) that opens a new
 * session when one expires, volatile messaging (no message storage), and sharding settings
 * derived from the session timeout so that a cut-off runner stops its entities before its shard
 * locks can expire.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { NodeRuntime } from "@effect/platform-node"
 * import { ZkCluster } from "@effect-zk/cluster"
 *
 * // CounterEntityLayer: your entities (`Entity.toLayer`)
 * declare const CounterEntityLayer: Layer.Layer<never, never, import("effect/cluster").Sharding>
 * Layer.launch(CounterEntityLayer.pipe(
 *   Layer.provide(ZkCluster.layer({ servers: "127.0.0.1:2181", basePath: "/cluster/demo", port: 34431 }))
 * )).pipe(NodeRuntime.runMain)
 * ```
 *
 * @since 0.1.0
 */
import { NodeClusterSocket } from "@effect/platform-node"
import type { ZkError } from "@effect-zk/core"
import { NodeZooKeeper } from "@effect-zk/node"
import type { ConfigError } from "effect/Config"
import * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as MessageStorage from "effect/cluster/MessageStorage"
import * as RunnerAddress from "effect/cluster/RunnerAddress"
import type * as Runners from "effect/cluster/Runners"
import type { Sharding } from "effect/cluster/Sharding"
import type * as ShardingConfig from "effect/cluster/ShardingConfig"
import type * as SocketServer from "effect/socket/SocketServer"
import * as ZkRunnerStorage from "./ZkRunnerStorage.ts"

/**
 * Options of {@link layer}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ZkClusterOptions {
  /** ZooKeeper connect string, e.g. `"127.0.0.1:2181,127.0.0.1:2182/apps"`. */
  readonly servers: string
  /** The cluster's root node; the same for every runner and client of one cluster. */
  readonly basePath: string
  /**
   * The session timeout to ask for. Default 9 seconds. The ensemble may negotiate it into its
   * own bounds (by default 2 to 20 ticks, i.e. 4 s to 40 s): keep the requested value inside.
   */
  readonly sessionTimeout?: Duration.Input | undefined
  /** Host other runners reach this one at. Default `"127.0.0.1"`. */
  readonly host?: string | undefined
  /** Port this runner listens on (and advertises). Required unless `clientOnly`. */
  readonly port?: number | undefined
  /** A process that only sends messages to entities and hosts none. Default false. */
  readonly clientOnly?: boolean | undefined
  /** Further sharding settings; they win over the derived ones below, so mind the inequality. */
  readonly shardingConfig?: Partial<ShardingConfig.ShardingConfig["Service"]> | undefined
}

/**
 * Sharding settings that are safe for a session timeout `T` (see {@link ZkRunnerStorage}):
 * `shardLockExpiration = T`, `shardLockRefreshInterval = T / 9` (so a cut-off runner starts
 * stopping its entities by `5T/9 + 0.25 s` after its last confirmation, and the ensemble cannot
 * expire its session before `T`),
 * and runner lists re-read at the same pace so a dead runner's shards are reassigned soon after
 * its session expires.
 *
 * @example
 * ```ts
 * ZkCluster.safeShardingConfig("9 seconds") // refresh every 1 s, expiration 9 s
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const safeShardingConfig = (sessionTimeout: Duration.Input): Partial<ShardingConfig.ShardingConfig["Service"]> => {
  const timeout = Duration.fromInputUnsafe(sessionTimeout)
  const refresh = Duration.divideUnsafe(timeout, 9)
  return {
    shardLockExpiration: timeout,
    shardLockRefreshInterval: refresh,
    refreshAssignmentsInterval: refresh
  }
}

const DEFAULT_SESSION_TIMEOUT: Duration.Input = "9 seconds"

/**
 * A runner (or, with `clientOnly`, a client) of a cluster coordinated by ZooKeeper: provide it
 * to your entity layers and launch. Messages are volatile (sent over the network only). After
 * its session expires, the runner goes on over a new one (`ZkRunnerStorage.layerResilient`): it
 * registers again and takes shards anew, with no restart.
 *
 * @example
 * ```ts
 * const runner = ZkCluster.layer({ servers: "127.0.0.1:2181", basePath: "/cluster/demo", port: 34431 })
 * const client = ZkCluster.layer({ servers: "127.0.0.1:2181", basePath: "/cluster/demo", clientOnly: true })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: ZkClusterOptions
): Layer.Layer<Sharding | Runners.Runners, SocketServer.SocketServerError | ConfigError | ZkError> => {
  const sessionTimeout = options.sessionTimeout ?? DEFAULT_SESSION_TIMEOUT
  const address = options.port === undefined
    ? Option.none()
    : Option.some(RunnerAddress.make(options.host ?? "127.0.0.1", options.port))
  const shardingConfig: Partial<ShardingConfig.ShardingConfig["Service"]> = {
    ...safeShardingConfig(sessionTimeout),
    runnerAddress: address,
    ...options.shardingConfig
  }
  const socket = options.clientOnly === true
    ? NodeClusterSocket.layer({ clientOnly: true, storage: "byo", shardingConfig })
    : NodeClusterSocket.layer({ storage: "byo", shardingConfig })
  return socket.pipe(
    Layer.provide(MessageStorage.layerNoop),
    Layer.provide(ZkRunnerStorage.layerResilient(
      { basePath: options.basePath },
      NodeZooKeeper.layer({ servers: options.servers, sessionTimeout })
    ))
  )
}

/**
 * effect-zk cluster: Effect Cluster's runner storage on ZooKeeper, where a runner and its shard
 * locks are ephemeral nodes of its session, and a layer that runs a socket runner on it.
 *
 * @since 0.1.0
 */

/** `RunnerStorage` whose shard locks are ZooKeeper sessions. @since 0.1.0 */
export * as ZkRunnerStorage from "./ZkRunnerStorage.ts"

/** A socket runner (or client) coordinated by ZooKeeper, from a connect string. @since 0.1.0 */
export * as ZkCluster from "./ZkCluster.ts"

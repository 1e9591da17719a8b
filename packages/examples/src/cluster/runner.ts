/**
 * One runner of the counter cluster. Run three, each on its own port, against one ZooKeeper:
 *
 *   ZK_SERVERS=127.0.0.1:2181 PORT=34431 pnpm --filter @effect-zk/examples cluster:runner
 *   ZK_SERVERS=127.0.0.1:2181 PORT=34432 pnpm --filter @effect-zk/examples cluster:runner
 *   ZK_SERVERS=127.0.0.1:2181 PORT=34433 pnpm --filter @effect-zk/examples cluster:runner
 *
 * Stop one with Ctrl-C (its shards are released at once) or kill -9 (they move once its session
 * expires) and watch the others take its counters over.
 */
import { NodeRuntime } from "@effect/platform-node"
import { ZkCluster } from "@effect-zk/cluster"
import { Duration, Layer } from "effect"
import { CounterEntityLayer } from "./Counter.ts"

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback
  if (value === undefined) throw new Error(`set ${name}`)
  return value
}

const cluster = ZkCluster.layer({
  servers: env("ZK_SERVERS", "127.0.0.1:2181"),
  basePath: env("CLUSTER_PATH", "/effect-cluster/counters"),
  sessionTimeout: Duration.millis(Number(env("ZK_SESSION_TIMEOUT_MS", "9000"))),
  port: Number(env("PORT", "34431"))
})

Layer.launch(CounterEntityLayer.pipe(Layer.provide(cluster))).pipe(NodeRuntime.runMain)

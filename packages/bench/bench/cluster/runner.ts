/**
 * One runner of the cluster benchmark: the counter example's entity on effect's socket runner,
 * its shards coordinated either by ZooKeeper (`STORAGE=zk`: `ZkCluster.layer` with its defaults,
 * T = 9 s) or by PostgreSQL (`STORAGE=sql`: effect's `SqlRunnerStorage` with every sharding
 * setting at its default, i.e. `shardLockExpiration` 35 s). Messages are volatile in both.
 *
 * It prints `{"event":"boot"}` once its modules are loaded, then one JSON line `{"event":"shards","held":[...],"at":...}` each time the set of shards
 * it holds changes (sampled every 20 ms), so the parent can time start-up and failover from the
 * runner's own view. Environment: STORAGE, PORT, ZK_SERVERS + CLUSTER_PATH, or PG_URL + PREFIX.
 */
import { NodeClusterSocket, NodeRuntime } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { ZkCluster } from "@effect-zk/cluster"
import { Effect, Layer, Option, Redacted, Schedule } from "effect"
import { MessageStorage, RunnerAddress, ShardId, Sharding, ShardingConfig, SqlRunnerStorage } from "effect/cluster"
import { CounterEntityLayer } from "../../../examples/src/cluster/Counter.ts"

// When this module runs: node's own start-up and module loading are behind us.
process.stdout.write(`${JSON.stringify({ event: "boot", at: Date.now() })}\n`)

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`set ${name}`)
  return value
}
const port = Number(env("PORT"))
const shardsPerGroup = 300

const zk = () =>
  ZkCluster.layer({ servers: env("ZK_SERVERS"), basePath: env("CLUSTER_PATH"), port })

const sql = () => {
  // Every setting at its default but the address; the storage reads the same settings.
  const shardingConfig = { runnerAddress: Option.some(RunnerAddress.make("127.0.0.1", port)) }
  return NodeClusterSocket.layer({ storage: "byo", shardingConfig }).pipe(
    Layer.provide(MessageStorage.layerNoop),
    Layer.provide(Layer.orDie(SqlRunnerStorage.layerWith({ prefix: env("PREFIX") }))),
    Layer.provide(ShardingConfig.layerFromEnv(shardingConfig)),
    Layer.provide(Layer.orDie(PgClient.layer({ url: Redacted.make(env("PG_URL")) })))
  )
}

const allShards = Array.from({ length: shardsPerGroup }, (_, i) => ShardId.make("default", i + 1))

/** Prints the held shards whenever they change. */
const monitor = Layer.effectDiscard(Effect.gen(function*() {
  const sharding = yield* Sharding.Sharding
  let last = ""
  const sample = Effect.sync(() => {
    const held = allShards.filter((id) => sharding.hasShardId(id)).map(String)
    const key = held.join(",")
    if (key === last) return
    last = key
    process.stdout.write(`${JSON.stringify({ event: "shards", held, at: Date.now() })}\n`)
  })
  yield* Effect.forkScoped(Effect.repeat(sample, Schedule.spaced("20 millis")))
}))

const cluster: Layer.Layer<Sharding.Sharding, unknown> = env("STORAGE") === "sql" ? sql() : zk()

Layer.launch(Layer.mergeAll(CounterEntityLayer, monitor).pipe(Layer.provide(cluster))).pipe(NodeRuntime.runMain)

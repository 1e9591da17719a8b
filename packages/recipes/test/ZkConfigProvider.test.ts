/**
 * ZkConfigProvider against a real server: a program reads typed config (numbers, booleans,
 * durations, nested structs, arrays) from znodes, sees a change made by another session, and
 * gets Effect's usual ConfigError for a missing key, which withZnodePaths makes name the znode.
 */
import { assert, layer } from "@effect/vitest"
import { ZooKeeper } from "@effect-zk/core"
import { ZkConfigProvider } from "@effect-zk/recipes"
import { ZooKeeperServer } from "@effect-zk/server"
import { Config, Duration, Effect, Layer, Option, Schema } from "effect"
import { eventually, twoSessions } from "./utils.ts"

const Db = Config.schema(
  Schema.Struct({ host: Schema.String, port: Schema.Int, pool: Schema.Struct({ size: Schema.Int }) }),
  "db"
)

const AppConfig = Config.all({
  host: Config.String("db.host"),
  port: Config.Port("db.port"),
  debug: Config.Boolean("debug"),
  timeout: Config.Duration("timeout"),
  replicas: Config.Array(Schema.String, "replicas"),
  db: Db,
  missing: Config.String("nope").pipe(Config.withDefault("fallback"))
})

layer(ZooKeeperServer.layer(), { timeout: "60 seconds", excludeTestServices: true })("ZkConfigProvider", (it) => {
  it.effect("typed config from znodes, changes seen by later reads, a missing key named", () =>
    Effect.gen(function*() {
      const { writer, zk } = yield* twoSessions
      const tree: ReadonlyArray<readonly [string, string]> = [
        ["/config", ""], ["/config/app", ""], ["/config/app/db", ""], ["/config/app/db/host", "db.local"],
        ["/config/app/db/port", "5432\n"], ["/config/app/db/pool", ""], ["/config/app/db/pool/size", "8"],
        ["/config/app/debug", "true"], ["/config/app/timeout", "5 seconds"], ["/config/app/replicas", ""],
        ["/config/app/replicas/0", "r0.local"], ["/config/app/replicas/1", "r1.local"]
      ]
      for (const [p, v] of tree) yield* writer.create(p, v)
      const live = ZkConfigProvider.layer("/config/app").pipe(Layer.provide(Layer.succeed(ZooKeeper, zk)))
      const context = yield* Layer.build(live)
      const read = <A, E>(effect: Effect.Effect<A, E>) => Effect.provide(effect, context)

      const config = yield* read(AppConfig)
      assert.deepStrictEqual(config.host, "db.local")
      assert.strictEqual(config.port, 5432)
      assert.strictEqual(config.debug, true)
      assert.strictEqual(Duration.toMillis(config.timeout), 5000)
      assert.deepStrictEqual(config.replicas, ["r0.local", "r1.local"])
      assert.deepStrictEqual(config.db, { host: "db.local", port: 5432, pool: { size: 8 } })
      assert.strictEqual(config.missing, "fallback")

      // Another session changes the tree: later reads see it.
      yield* writer.set("/config/app/db/port", "6543")
      yield* writer.create("/config/app/replicas/2", "r2.local")
      yield* eventually(Effect.map(read(Config.Port("db.port")), (p) => p === 6543))
      yield* eventually(Effect.map(read(Config.Array(Schema.String, "replicas")), (r) => r.length === 3))

      const error = yield* Effect.flip(read(Config.Int("db.timeout")))
      assert.strictEqual(error._tag, "ConfigError")
      assert.include(error.message, "db.timeout")
      const notANumber = yield* Effect.flip(read(Config.Int("db.host")))
      assert.include(notANumber.message, "db.host")
      assert.strictEqual(ZkConfigProvider.znodePath("/config/app", ["db.timeout"]), "/config/app/db/timeout")

      // The same reads through withZnodePaths: the message names the znode, defaults still apply.
      const named = <A>(config: Config.Config<A>) =>
        read(ZkConfigProvider.withZnodePaths("/config/app")(Effect.gen(function*() {
          return yield* config
        })))
      const missing = yield* Effect.flip(named(Config.String("db.user")))
      assert.strictEqual(missing._tag, "ConfigError")
      assert.include(missing.message, `["/config/app/db/user"]`)
      assert.notInclude(missing.message, `["db.user"]`)
      const inStruct = yield* Effect.flip(named(Config.schema(Schema.Struct({ host: Schema.String, user: Schema.String }), "db")))
      assert.include(inStruct.message, `["/config/app/db/user"]`)
      const nested = yield* Effect.flip(named(Config.nested("db")(Config.Int("host"))))
      assert.include(nested.message, `["/config/app/db/host"]`)
      assert.strictEqual(yield* named(Config.String("db.user").pipe(Config.withDefault("admin"))), "admin")
      assert.deepStrictEqual(yield* named(Config.option(Config.String("db.user"))), Option.none())
    }))
})

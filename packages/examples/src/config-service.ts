/**
 * A config-driven service: its settings live in ZooKeeper under /config/greeter and are read
 * through Effect's `Config`, live. Another session changes a setting while it runs, and the
 * service's next read uses the new value, with no restart and no polling of ZooKeeper.
 *
 *   node --conditions=@effect-zk/source src/config-service.ts      (from packages/examples)
 */
import { ZooKeeper } from "@effect-zk/core"
import { NodeZooKeeper } from "@effect-zk/node"
import { ZkConfigProvider } from "@effect-zk/recipes"
import { ZooKeeperServer } from "@effect-zk/server"
import { Cause, Config, Console, Context, Effect, Exit, Layer, References, Schedule, Schema } from "effect"

/** The service's settings: /config/greeter/greeting, /repeat, /pause, /audience/0, /1, ... */
const Settings = Config.all({
  greeting: Config.String("greeting"),
  repeat: Config.Int("repeat").pipe(Config.withDefault(1)),
  pause: Config.Duration("pause"),
  audience: Config.Array(Schema.String, "audience")
})

/** One unit of the service's work, with the settings as they are now. */
const greetOnce = Effect.gen(function*() {
  const { greeting, repeat, audience } = yield* Settings
  for (let i = 0; i < repeat; i++) yield* Console.log(`${greeting}, ${audience.join(" and ")}!`)
})

const program = Effect.gen(function*() {
  const server = yield* ZooKeeperServer.scoped()
  const servers = yield* server.address
  const session = NodeZooKeeper.layer({ servers, sessionTimeout: "10 seconds" })
  const admin = Context.get(yield* Layer.build(session), ZooKeeper)
  for (const [path, value] of [
    ["/config", ""], ["/config/greeter", ""], ["/config/greeter/greeting", "Hello"], ["/config/greeter/pause", "50 millis"],
    ["/config/greeter/audience", ""], ["/config/greeter/audience/0", "Ada"], ["/config/greeter/audience/1", "Grace"]
  ] as const) yield* admin.create(path, value)

  // The service: its ConfigProvider is the live tree.
  const service = Effect.gen(function*() {
    yield* greetOnce
    yield* admin.set("/config/greeter/greeting", "Bonjour")
    yield* admin.set("/config/greeter/audience/1", "Barbara")
    // Config reads are served from memory; the change arrives within milliseconds.
    yield* Effect.repeat(Config.String("audience.1"), { schedule: Schedule.spaced("5 millis"), until: (v) => v === "Barbara" })
    yield* Console.log("-- changed by another session --")
    yield* greetOnce
    // Effect names the config path in a missing key's error; withZnodePaths names the znode.
    const farewell = Effect.gen(function*() {
      return yield* Config.String("farewell")
    })
    const missing = yield* Effect.flip(farewell.pipe(ZkConfigProvider.withZnodePaths("/config/greeter")))
    yield* Console.log(`a missing key: ${missing.message.replace(/\s+/g, " ")}`)
  })
  yield* service.pipe(
    Effect.provide(ZkConfigProvider.layer("/config/greeter")),
    Effect.provide(session)
  )
})

const exit = await Effect.runPromiseExit(
  program.pipe(Effect.scoped, Effect.provideService(References.MinimumLogLevel, "Warn"))
)
if (Exit.isFailure(exit)) {
  console.error(Cause.pretty(exit.cause))
  process.exitCode = 1
}

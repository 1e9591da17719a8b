/**
 * A client that load-balances over discovered instances: three "api" instances register in a
 * Curator-compatible registry (each with a typed payload), a client asks a round-robin provider
 * for a target per request, and keeps working while an instance goes away and a new one comes.
 *
 *   node --conditions=@effect-zk/source src/discovery-client.ts      (from packages/examples)
 */
import { NodeZooKeeper } from "@effect-zk/node"
import { ServiceDiscovery } from "@effect-zk/recipes"
import { ZooKeeperServer } from "@effect-zk/server"
import { Cause, Console, Effect, Exit, Fiber, Layer, Option, References, Schedule, Schema, Scope, Stream } from "effect"

const Payload = Schema.Struct({ zone: Schema.String })
const registry = ServiceDiscovery.make({ basePath: "/services", payload: Payload })

/** Sends one request to whichever instance the provider picks. */
const request = (provider: ServiceDiscovery.Provider<{ readonly zone: string }>, n: number) =>
  Effect.gen(function*() {
    const target = yield* provider.instance
    yield* Option.match(target, {
      onNone: () => Console.log(`request ${n}: no instance registered`),
      onSome: (i) => Console.log(`request ${n} -> ${Option.getOrElse(ServiceDiscovery.uri(i), () => i.address)} (${i.payload?.zone})`)
    })
  })

const program = Effect.gen(function*() {
  const server = yield* ZooKeeperServer.scoped()
  const session = NodeZooKeeper.layer({ servers: yield* server.address, sessionTimeout: "10 seconds" })
  yield* Effect.gen(function*() {
    // Three instances, each registered for as long as its own scope lives.
    const scopes = yield* Effect.forEach(["eu-1", "eu-2", "us-1"], (zone, i) =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        yield* registry.register({
          name: "api", id: `api-${zone}`, address: `10.0.0.${i + 1}`, port: 8080, payload: { zone },
          uriSpec: "{scheme}://{address}:{port}/v1"
        }).pipe(Scope.provide(scope))
        return scope
      }))
    const provider = yield* registry.provider("api", { strategy: "roundRobin" })
    for (let n = 1; n <= 4; n++) yield* request(provider, n)

    // An instance shuts down: the watch sees it, and the provider stops picking it.
    const gone = registry.watch("api").pipe(Stream.filter((list) => !list.some((i) => i.id === "api-eu-1")), Stream.runHead)
    const seen = yield* Effect.forkChild(gone, { startImmediately: true })
    yield* Scope.close(scopes[0]!, Exit.void)
    yield* Effect.flatMap(Fiber.join(seen), () => Console.log("-- api-eu-1 unregistered --"))
    yield* Effect.repeat(provider.all, { schedule: Schedule.spaced("5 millis"), until: (all) => all.length === 2 })
    for (let n = 5; n <= 8; n++) yield* request(provider, n)
  }).pipe(Effect.provide(Layer.fresh(session)))
})

const exit = await Effect.runPromiseExit(
  program.pipe(Effect.scoped, Effect.provideService(References.MinimumLogLevel, "Warn"))
)
if (Exit.isFailure(exit)) {
  console.error(Cause.pretty(exit.cause))
  process.exitCode = 1
}

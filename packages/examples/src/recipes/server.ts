/**
 * What every recipe example shares: a throw-away ZooKeeper server and sessions to it.
 * Run any example with `node --conditions=@effect-zk/source packages/examples/src/recipes/<name>.ts`.
 */
import { ZooKeeper, type ZooKeeperService } from "@effect-zk/core"
import { NodeZooKeeper } from "@effect-zk/node"
import { ZooKeeperServer } from "@effect-zk/server"
import { Context, Effect, Layer, References, type Scope } from "effect"

/** A session to `servers`, for the rest of the current scope. */
export const connect = (servers: string): Effect.Effect<ZooKeeperService, unknown, Scope.Scope> =>
  Effect.map(Layer.build(NodeZooKeeper.layer({ servers, sessionTimeout: "5 seconds" })), (ctx) => Context.get(ctx, ZooKeeper))

/** Runs `example` with a fresh server's connect string, then stops the server. */
export const runExample = (example: (servers: string) => Effect.Effect<unknown, unknown, Scope.Scope>) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const server = yield* ZooKeeperServer.scoped()
      yield* example(yield* server.address)
    }).pipe(Effect.scoped, Effect.provideService(References.MinimumLogLevel, "Warn"))
  ).catch((e) => {
    console.error(e)
    process.exitCode = 1
  })

/** Runs `effect` as the given session. */
export const as = (zk: ZooKeeperService) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provideService(effect, ZooKeeper, zk)

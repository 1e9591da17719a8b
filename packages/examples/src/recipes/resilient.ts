/** Recipes.resilient: a leader that comes back with a new session after its session expires. */
import { ZooKeeper } from "@effect-zk/core"
import { NodeZooKeeper, Testing } from "@effect-zk/node"
import { Leader, Recipes } from "@effect-zk/recipes"
import { Console, Deferred, Effect, Fiber } from "effect"
import { runExample } from "./server.ts"

runExample((servers) =>
  Effect.gen(function*() {
    const terms = yield* Deferred.make<void>()
    let term = 0
    const component = Effect.gen(function*() {
      const zk = yield* ZooKeeper
      return yield* Leader.run("/election/svc", Effect.gen(function*() {
        term++
        yield* Console.log(`term ${term}: leading with session ${(yield* zk.clientId).hex}`)
        if (term === 1) {
          yield* Console.log("expiring that session, as the ensemble would")
          yield* Effect.forkDetach(Testing.expireSession(zk, servers))
        } else {
          yield* Deferred.succeed(terms, undefined)
        }
        return yield* Effect.never
      }), { id: "svc" })
    })
    const service = yield* Effect.forkChild(Recipes.resilient(component, NodeZooKeeper.layer({ servers, sessionTimeout: "2 seconds" })))
    yield* Deferred.await(terms)
    yield* Fiber.interrupt(service)
  }))

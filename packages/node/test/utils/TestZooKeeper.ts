/**
 * Test fixtures: a client of the file's shared server, isolated in a chroot of its own, so tests
 * in one file can run concurrently without seeing each other's nodes (kazoo's harness does the
 * same).
 */
import { type SessionEvent, ZooKeeper, type ZooKeeperService } from "@effect-zk/core"
import { NodeZooKeeper } from "@effect-zk/node"
import type { NodeZooKeeperConfig } from "@effect-zk/node/NodeZooKeeper"
import { FourLetterWord, ZooKeeperServer } from "@effect-zk/server"
import { Context, Duration, Effect, Layer, LogLevel, References, type Scope, Stream } from "effect"

let counter = 0

/**
 * Session logs in tests: errors only, unless a test asks for more itself or
 * `ZK_TEST_LOG_LEVEL` (e.g. `Debug`) says otherwise; hundreds of sessions logging every
 * Connected would bury the test report.
 */
const testLogLevel: LogLevel.LogLevel = LogLevel.values.find((l) => l === process.env["ZK_TEST_LOG_LEVEL"]) ?? "Error"

const quiet = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(References.MinimumLogLevel, (level) =>
    level === "Info" ? Effect.provideService(effect, References.MinimumLogLevel, testLogLevel) : effect)

/** A session to `servers`, open for the current scope. */
export const connectTo = (
  servers: string,
  config: Partial<NodeZooKeeperConfig> = {}
): Effect.Effect<ZooKeeperService, unknown, Scope.Scope> =>
  quiet(Layer.build(NodeZooKeeper.layer({ sessionTimeout: "10 seconds", ...config, servers }))).pipe(
    Effect.map((context) => Context.get(context, ZooKeeper))
  )

/** A fresh chroot made through `servers`: its path (`/test-N-...`), to append to a connect string. */
export const newChroot = (servers: string): Effect.Effect<string, unknown> =>
  Effect.scoped(Effect.gen(function*() {
    const root = yield* connectTo(servers)
    return yield* root.create(`/test-${++counter}-${Math.random().toString(36).slice(2, 8)}`)
  }))

/** A fresh chroot on the shared server: its connect string (`host:port/test-N-...`). */
export const sandbox: Effect.Effect<string, unknown, ZooKeeperServer.ZooKeeperServer> = Effect.gen(function*() {
  const address = yield* (yield* ZooKeeperServer.ZooKeeperServer).address
  return `${address}${yield* newChroot(address)}`
})

/** Whether the session is in `state` now; for {@link eventually}. */
export const stateIs = (zk: ZooKeeperService, state: SessionEvent["state"]): Effect.Effect<boolean> =>
  Effect.map(zk.state, (s) => s === state)

/** The chroot part of a {@link sandbox} connect string (`/test-N-...`). */
export const chrootOf = (servers: string): string => servers.slice(servers.indexOf("/"))

/** A client in a fresh chroot on the shared server. */
export const client = (
  config: Partial<NodeZooKeeperConfig> = {}
): Effect.Effect<ZooKeeperService, unknown, ZooKeeperServer.ZooKeeperServer | Scope.Scope> =>
  Effect.flatMap(sandbox, (servers) => connectTo(servers, config))

/**
 * Waits until the server at `port` lists `serverPath` (chroot included) among the watches of
 * `zk`'s session. A watch stream forked in a test is only in place once the server has it; a
 * change made before then is, rightly, never reported.
 */
export const watchedOnServer = (port: number, zk: ZooKeeperService, serverPath: string) =>
  Effect.flatMap(zk.clientId, (id) =>
    eventually(FourLetterWord.wchc(port).pipe(Effect.map((watches) => watches.get(id.hex)?.includes(serverPath) === true))))

/** Polls `condition` every 20 ms until it holds or `timeout` passes (then fails). */
export const eventually = <E, R>(
  condition: Effect.Effect<boolean, E, R>,
  timeout: Duration.Input = "10 seconds"
): Effect.Effect<void, E | string, R> =>
  Effect.gen(function*() {
    const deadline = Date.now() + Duration.toMillis(timeout)
    while (!(yield* condition)) {
      if (Date.now() > deadline) return yield* Effect.fail(`condition not met within ${Duration.format(Duration.fromInputUnsafe(timeout))}`)
      yield* Effect.sleep("20 millis")
    }
  })

/**
 * Every session event from now on, stamped with the wall clock when it arrived. The recorder
 * starts at once, so its subscription exists before the caller's next step.
 */
export const record = (zk: ZooKeeperService) =>
  Effect.gen(function*() {
    const log: Array<SessionEvent & { readonly at: number }> = []
    yield* Effect.forkChild(
      Stream.runForEach(zk.sessionEvents, (event) => Effect.sync(() => log.push({ ...event, at: Date.now() }))),
      { startImmediately: true }
    )
    return log
  })

/**
 * Test fixtures: a client of the file's shared server, isolated in a chroot of its own, so tests
 * in one file can run concurrently without seeing each other's nodes (kazoo's harness does the
 * same).
 */
import { type SessionEvent, ZooKeeper, type ZooKeeperService } from "@effect-zk/core"
import { NodeZooKeeper, Testing } from "@effect-zk/node"
import type { NodeZooKeeperConfig } from "@effect-zk/node/NodeZooKeeper"
import { FourLetterWord, ZooKeeperServer } from "@effect-zk/server"
import { assert } from "@effect/vitest"
import { Context, Duration, Effect, Layer, LogLevel, References, Schedule, type Scope, Stream } from "effect"

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

/** A fresh chroot on the shared server, removed after the test: its connect string (`host:port/sandbox-...`). */
export const sandbox: Effect.Effect<string, unknown, ZooKeeperServer.ZooKeeperServer | Scope.Scope> = Effect.gen(function*() {
  const address = yield* (yield* ZooKeeperServer.ZooKeeperServer).address
  return (yield* Testing.sandbox(address)).servers
})

/** Whether the session is in `state` now; for `Testing.eventually`. */
export const stateIs = (zk: ZooKeeperService, state: SessionEvent["state"]): Effect.Effect<boolean> =>
  Effect.map(zk.state, (s) => s === state)

/** The chroot part of a {@link sandbox} connect string (`/sandbox-...`). */
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
    Testing.eventually(FourLetterWord.wchc(port).pipe(Effect.map((watches) => watches.get(id.hex)?.includes(serverPath) === true))))

/**
 * Asserts that `condition` keeps holding for `window`, checking it every 25 ms and failing at the
 * first false: an absence check ("no reconnect happens", "the request stays pending"), which a
 * poll until something happens cannot express. Not a way to wait for a state: that is
 * `Testing.eventually`.
 */
export const holdsFor = <E, R>(condition: Effect.Effect<boolean, E, R>, window: Duration.Input, what: string) =>
  Effect.repeat(
    Effect.flatMap(condition, (ok) => Effect.sync(() => assert.isTrue(ok, what))),
    Schedule.spaced("25 millis").pipe(Schedule.upTo({ duration: window }))
  ).pipe(Effect.asVoid)

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

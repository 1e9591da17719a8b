/**
 * Helpers for users' own tests of code built on effect-zk (the fault proxy is in `FaultProxy`,
 * real servers are in `@effect-zk/server`):
 * - `sandbox`: a chroot of its own per test, removed with everything under it afterwards, so
 *   tests sharing one server can run concurrently without seeing each other's nodes;
 * - `eventually`: polls a condition on a Schedule until it holds or a deadline passes, the one
 *   way to wait for a server or a session to reach a state (never a fixed sleep);
 * - `expireSession`: expires a live session the way an ensemble would.
 *
 * All three keep real time even under `it.effect`'s TestClock: they wait on servers and sockets,
 * which the TestClock does not move.
 *
 * @example
 * ```ts
 * import { assert, layer } from "@effect/vitest"
 * import { Context, Effect, Layer } from "effect"
 * import { ZooKeeper } from "@effect-zk/core"
 * import { NodeZooKeeper, Testing } from "@effect-zk/node"
 * import { ZooKeeperServer } from "@effect-zk/server"
 *
 * layer(ZooKeeperServer.layer(), { excludeTestServices: true })("my service", (it) => {
 *   it.effect("registers a worker", () =>
 *     Effect.gen(function*() {
 *       const server = yield* ZooKeeperServer.ZooKeeperServer
 *       const { servers } = yield* Testing.sandbox(yield* server.address)
 *       const zk = Context.get(yield* Layer.build(NodeZooKeeper.layer({ servers })), ZooKeeper)
 *       yield* zk.create("/workers")
 *       yield* Testing.eventually(Effect.map(zk.children("/workers"), (r) => r.children.length === 0))
 *     }))
 * })
 * ```
 *
 * @since 0.1.0
 */
import type { ZkError, ZooKeeperService } from "@effect-zk/core"
import { ZooKeeper } from "@effect-zk/core/ZooKeeper"
import { SessionMoved } from "@effect-zk/core/ZkError"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as References from "effect/References"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { randomUUID } from "node:crypto"
import { onLiveClock } from "./internal/liveClock.ts"
import * as NodeZooKeeper from "./NodeZooKeeper.ts"

/**
 * Expires a live session the way an ensemble would, without touching the client's internals:
 * a second connection takes the session over with its id and password, then closes it. The
 * server ends the session and its ephemeral nodes; the original client learns it when it next
 * talks to the server (its state becomes `Expired`).
 *
 * `servers` must reach the same ensemble (a chroot suffix is allowed and irrelevant).
 *
 * @example
 * ```ts
 * yield* Testing.expireSession(zk, "127.0.0.1:2181")
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export const expireSession = (zk: ZooKeeperService, servers: string): Effect.Effect<void, ZkError> =>
  Effect.gen(function*() {
    const session = yield* zk.clientId
    // The original client may take the session back between our takeover and our
    // closeSession (it reconnects at once), so repeat until the server says it is gone.
    for (let attempt = 1; attempt <= 20; attempt++) {
      const exit = yield* Effect.exit(Effect.scoped(Layer.build(NodeZooKeeper.layer({ servers, session }))))
      if (Exit.isFailure(exit)) {
        const error = Cause.findErrorOption(exit.cause)
        if (Option.isSome(error) && error.value._tag === "SessionExpired") return
      }
    }
    return yield* new SessionMoved({ op: "expireSession", detail: "the session kept being taken back; it is still alive" })
  })

// -- eventually ----------------------------------------------------------------------------------

/**
 * {@link eventually}'s condition did not hold before its deadline (or before its schedule ended).
 *
 * @since 0.1.0
 * @category errors
 */
export class EventuallyTimeout extends Schema.TaggedError<EventuallyTimeout>()("EventuallyTimeout", {
  /** What was awaited, as the caller described it. */
  what: Schema.String,
  /** The deadline that passed, in milliseconds. */
  timeoutMillis: Schema.Number,
  /** How many times the condition was checked (and was false). */
  checks: Schema.Number
}) {
  override get message(): string {
    return `${this.what}: still false after ${this.checks} checks in ${Duration.format(Duration.millis(this.timeoutMillis))}`
  }
}

/**
 * Options of {@link eventually}.
 *
 * @since 0.1.0
 * @category models
 */
export interface EventuallyOptions {
  /** Give up after this long. Default 10 seconds. */
  readonly timeout?: Duration.Input | undefined
  /** When to check again after a false answer. Default every 20 milliseconds. */
  readonly schedule?: Schedule.Schedule<unknown, boolean> | undefined
  /** What is awaited, for the failure message. Default "the condition". */
  readonly what?: string | undefined
}

/**
 * Checks `condition` until it is true, then succeeds. It fails with {@link EventuallyTimeout}
 * when `timeout` passes (or the schedule ends) first, and with the condition's own error at once
 * if the condition fails: an error is not "not yet".
 *
 * The waiting keeps real time even under the TestClock, because what a test waits for (a
 * server, a session, a socket) moves in real time; the condition itself runs with the caller's
 * services.
 *
 * @example
 * ```ts
 * yield* Testing.eventually(Effect.map(zk.state, (s) => s === "Connected"), {
 *   timeout: "5 seconds",
 *   what: "the session to reconnect"
 * })
 * // with backoff instead of a fixed pace:
 * yield* Testing.eventually(isLeader, { schedule: Schedule.exponential("10 millis") })
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export const eventually = <E, R>(
  condition: Effect.Effect<boolean, E, R>,
  options: EventuallyOptions = {}
): Effect.Effect<void, E | EventuallyTimeout, R> =>
  Clock.clockWith((callerClock) => {
    const timeoutMillis = Duration.toMillis(options.timeout ?? "10 seconds")
    let checks = 0
    const check = Effect.provideService(condition, Clock.Clock, callerClock).pipe(
      Effect.tap(() =>
        Effect.sync(() => {
          checks++
        })
      )
    )
    const timedOut = Effect.suspend(() =>
      Effect.fail(new EventuallyTimeout({ what: options.what ?? "the condition", timeoutMillis, checks }))
    )
    return onLiveClock(
      Effect.repeat(check, { schedule: options.schedule ?? Schedule.spaced("20 millis"), until: (ok) => ok }).pipe(
        Effect.flatMap((ok) => (ok ? Effect.void : timedOut)),
        Effect.timeoutOrElse({ duration: timeoutMillis, orElse: () => timedOut })
      )
    )
  })

// -- sandbox -------------------------------------------------------------------------------------

/**
 * A chroot of its own, made by {@link sandbox}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Sandbox {
  /** The connect string to give a client: the `servers` passed in, plus the chroot. */
  readonly servers: string
  /** The chroot (`/sandbox-...`), as seen from the `servers` passed in. */
  readonly chroot: string
}

/**
 * Options of {@link sandbox}.
 *
 * @since 0.1.0
 * @category models
 */
export interface SandboxOptions {
  /** The chroot's name before its random part. Default "sandbox". */
  readonly prefix?: string | undefined
  /** Settings of the sandbox's own sessions (TLS, credentials) when the server needs them. */
  readonly config?: Omit<NodeZooKeeper.NodeZooKeeperConfig, "servers"> | undefined
}

/** The sandbox's own short sessions: errors and warnings only, so a test's output is its own. */
const withBookkeepingSession = <A>(
  servers: string,
  options: SandboxOptions,
  use: (zk: ZooKeeperService) => Effect.Effect<A, ZkError>
): Effect.Effect<A, ZkError> =>
  Effect.scoped(
    Effect.flatMap(Layer.build(NodeZooKeeper.layer({ ...options.config, servers })), (context) => use(Context.get(context, ZooKeeper)))
  ).pipe(Effect.provideService(References.MinimumLogLevel, "Warn"), onLiveClock)

/**
 * A fresh chroot under `servers` for one test: it exists when this returns, and it is deleted
 * with everything under it when the scope closes. Tests that share a server then never see each
 * other's nodes and leave nothing behind (kazoo's and Curator's harnesses do the same).
 *
 * The chroot is made and removed through short sessions of the sandbox's own. When the server
 * is gone by the time the scope closes (a test that stopped it), the removal is skipped with a
 * warning instead of failing the test.
 *
 * @example
 * ```ts
 * const { servers, chroot } = yield* Testing.sandbox("127.0.0.1:2181")
 * // servers: "127.0.0.1:2181/sandbox-3f2a...", chroot: "/sandbox-3f2a..."
 * const zk = Context.get(yield* Layer.build(NodeZooKeeper.layer({ servers })), ZooKeeper)
 * yield* zk.create("/jobs")   // "/sandbox-3f2a.../jobs" on the server
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export const sandbox = (servers: string, options: SandboxOptions = {}): Effect.Effect<Sandbox, ZkError, Scope.Scope> =>
  Effect.acquireRelease(
    withBookkeepingSession(servers, options, (zk) => zk.create(`/${options.prefix ?? "sandbox"}-${randomUUID()}`)).pipe(
      Effect.map((chroot) => ({ servers: `${servers}${chroot}`, chroot }))
    ),
    ({ chroot }) =>
      withBookkeepingSession(servers, { ...options, config: { connectTimeout: "5 seconds", ...options.config } }, (zk) =>
        zk.delete(chroot, { recursive: true }).pipe(Effect.catchTag("NoNode", () => Effect.void))).pipe(
          Effect.catch((error) => Effect.logWarning(`Testing.sandbox: ${chroot} was not removed: ${error.message}`))
        )
  )

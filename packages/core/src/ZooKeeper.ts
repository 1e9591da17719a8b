/**
 * The `ZooKeeper` service: one session, every operation as an `Effect<A, ZkError>`, watches as
 * `Stream`s. Build it with `ZooKeeper.layer(config)` plus a transport (`@effect-zk/node`'s
 * `NodeZooKeeper.layer` provides both).
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { ZooKeeper } from "@effect-zk/core"
 * import { NodeZooKeeper } from "@effect-zk/node"
 *
 * const program = Effect.gen(function*() {
 *   const zk = yield* ZooKeeper
 *   yield* zk.create("/config", "v1")
 *   const { data, watch } = yield* zk.getW("/config")
 *   const event = yield* Stream.runHead(watch)
 * }).pipe(Effect.provide(NodeZooKeeper.layer({ servers: "127.0.0.1:2181" })))
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import type * as Acl from "./Acl.ts"
import * as ConnectString from "./ConnectString.ts"
import type { CreateMode } from "./CreateMode.ts"
import type { JsonDataError } from "./JsonData.ts"
import * as Observability from "./internal/observability.ts"
import * as Service from "./internal/service.ts"
import * as Supervisor from "./internal/supervisor.ts"
import type * as Op from "./Op.ts"
import * as Protocol from "./Protocol.ts"
import type { ClientId, SessionEvent, SessionState } from "./Session.ts"
import type { Stat } from "./Stat.ts"
import type { Transport } from "./Transport.ts"
import type { PersistentWatchEvent, WatchEvent, WatchOverflow } from "./WatchEvent.ts"
import type * as ZNodePath from "./ZNodePath.ts"
import { BadArguments, type ZkError } from "./ZkError.ts"

/**
 * Node data: bytes, or a string (sent as UTF-8).
 *
 * @since 0.1.0
 * @category models
 */
export type Data = Uint8Array | string

/**
 * A credential for `addAuth` and the `auth` option; wrap secrets in `Redacted` so they never
 * show up in logs or error messages.
 *
 * @since 0.1.0
 * @category models
 */
export type Credential = string | Uint8Array | Redacted.Redacted<string> | Redacted.Redacted<Uint8Array>

/**
 * Settings of a session.
 *
 * @since 0.1.0
 * @category models
 */
export interface ZooKeeperConfig {
  /** Connect string, `host:port[,host:port...][/chroot]`. */
  readonly servers: string
  /** Requested session timeout; the server clamps it to its min/max. Default 10 seconds. */
  readonly sessionTimeout?: Duration.Input | undefined
  /** How long building the layer may take to reach a server. Default 15 seconds. */
  readonly connectTimeout?: Duration.Input | undefined
  /** An operation that gets no reply in time fails with `OperationTimeout`. Default: none. */
  readonly requestTimeout?: Duration.Input | undefined
  /**
   * Re-attach to this session (gozk's Redial) instead of opening a new one: a hand-over from a
   * client that is gone. Two live clients with one ClientId take the session from each other
   * on every connect, bouncing between Disconnected and Connected, their operations failing
   * with ConnectionLoss (see `ClientId`).
   */
  readonly session?: ClientId | undefined
  /** Accept a read-only server (state `ConnectedReadOnly`) when no read-write one answers. */
  readonly canBeReadOnly?: boolean | undefined
  /**
   * SASL login (DIGEST-MD5) on every connection, before anything else: the server must have a
   * SASL auth provider and a JAAS `Server` section with this user. The session then has the
   * identity `sasl:<username>` (ACLs like `sasl:alice:cdrwa`). A rejected login is terminal
   * (`AuthFailed`).
   */
  readonly sasl?: {
    readonly mechanism?: "DIGEST-MD5" | undefined
    readonly username: string
    readonly password: string | Redacted.Redacted<string>
  } | undefined
  /** Credentials sent on every connection, before anything else. */
  readonly auth?: ReadonlyArray<{ readonly scheme: string; readonly credential: Credential }> | undefined
  /**
   * Largest request the server accepts (its `jute.maxbuffer`, default 1,048,575 bytes). Larger
   * requests fail with `BadArguments` before anything is sent; replies may be up to 64 KiB more.
   */
  readonly maxBufferSize?: number | undefined
  /**
   * Delay between connection attempts; each attempt tries the next host. A schedule that ends
   * starts over after a one-second pause: the session keeps looking for a server until it
   * expires (after the session timeout without one) or is closed.
   */
  readonly reconnectSchedule?: Schedule.Schedule<unknown, ZkError> | undefined
  /**
   * Run every operation in a span named `zookeeper.<op>` with the path as an attribute. Off by
   * default: a span per request about doubles the client's CPU per operation.
   */
  readonly tracing?: boolean | undefined
  /**
   * Record `zookeeper_requests_total{op,outcome}`, `zookeeper_request_duration_ms{op}`,
   * `zookeeper_outstanding_requests` and `zookeeper_reconnects_total` as Effect metrics. Off by
   * default. Session changes are logged (at `logLevel`) either way.
   */
  readonly metrics?: boolean | undefined
  /**
   * Create the connect string's chroot (and its parents) on connect when it is missing, as
   * Curator's namespaces do: through a short-lived session of its own outside the chroot,
   * before this session is opened, so the service is never handed out over a missing chroot.
   * Default false: a missing chroot makes creates fail with NoNode, whose message then says
   * that the chroot is missing.
   *
   * @example
   * ```ts
   * NodeZooKeeper.layer({ servers: "127.0.0.1:2181/app", createChroot: true })
   * ```
   */
  readonly createChroot?: boolean | undefined
  /**
   * The level of the session's routine log lines (`ZooKeeper session Connected`, `Closed`,
   * ...). `Disconnected` is logged at `Warn` and `Expired`/`AuthFailed` at `Error` whatever
   * this level is. `"None"` logs nothing at all, so a command-line tool stays quiet without
   * raising the whole application's `MinimumLogLevel`. Default `"Info"`.
   *
   * @example
   * ```ts
   * NodeZooKeeper.layer({ servers, logLevel: "Debug" })  // routine lines only at Debug
   * NodeZooKeeper.layer({ servers, logLevel: "None" })   // silent
   * ```
   */
  readonly logLevel?: LogLevel.Severity | "None" | undefined
}

/**
 * Options of `create` and `create2`.
 *
 * @since 0.1.0
 * @category models
 */
export interface CreateOptions {
  /** Default `CreateMode.Persistent`. */
  readonly mode?: CreateMode | undefined
  /** Default `Acl.openUnsafe` (world:anyone, all permissions), as gozk's examples use. */
  readonly acl?: ReadonlyArray<Acl.Acl> | undefined
  /**
   * For the TTL modes only: a `Duration.Input` ("60 seconds", a `Duration`, or milliseconds
   * as a number), 1 ms .. 2^40-1 ms.
   */
  readonly ttl?: Duration.Input | undefined
  /**
   * Create missing parents first (Curator's `creatingParentsIfNeeded`, kazoo's `makepath`),
   * empty, with the default ACL, as `parentMode`. A parent that someone else creates meanwhile
   * is fine. Default false: a missing parent fails with NoNode.
   *
   * @example
   * ```ts
   * yield* zk.create("/app/jobs/j1", "data", { parents: true })
   * ```
   */
  readonly parents?: boolean | undefined
  /**
   * What the parents made by `parents: true` are: `"persistent"` (default), or `"container"`,
   * which the server deletes once their last child is gone.
   */
  readonly parentMode?: "persistent" | "container" | undefined
  /**
   * Curator's protection, for sequential and ephemeral modes (any other mode is
   * `BadArguments`): the node's name gets the prefix `_c_<uuid>-` (for `/a/lock-` the node is
   * `/a/_c_<uuid>-lock-0000000007`). After a ConnectionLoss (or a request timeout), which
   * leaves open whether the create was applied, the client lists the parent and returns the
   * node with its uuid if there is one, and only otherwise creates again: exactly one node, and
   * the returned path is it. `ZNodePath.protectedId` reads the uuid back. A
   * `ZNodePath.ProtectedLayout` instead of `true` lays the name out another client's way.
   *
   * @example
   * ```ts
   * const me = yield* zk.create("/locks/lock-", "", { mode: CreateMode.EphemeralSequential, protected: true })
   * ```
   */
  readonly protected?: boolean | ZNodePath.ProtectedLayout | undefined
}

/**
 * Options of `delete`.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeleteOptions extends VersionOptions {
  /**
   * Delete the whole subtree: children first, deepest first, in `multi` batches, then the node
   * (at `version`). Correct while other sessions write into the subtree: a child added
   * meanwhile (NotEmpty) makes it list again, a node someone else deleted (NoNode) is skipped;
   * it gives up with NotEmpty after about 20 rounds of that. A node missing from the start
   * fails with NoNode, as a plain delete does. `/` is refused (`BadArguments`).
   *
   * @example
   * ```ts
   * yield* zk.delete("/app/jobs", { recursive: true })
   * ```
   */
  readonly recursive?: boolean | undefined
}

/**
 * Options of `ensurePath`.
 *
 * @since 0.1.0
 * @category models
 */
export interface EnsurePathOptions {
  /** What the nodes it creates are: `"persistent"` (default) or `"container"`. */
  readonly mode?: "persistent" | "container" | undefined
}

/**
 * One child with its data, as `childrenData` returns it.
 *
 * @since 0.1.0
 * @category models
 */
export interface ChildData {
  /** The child's name (last segment). */
  readonly name: string
  /** The child's full path (client side, without the chroot). */
  readonly path: string
  readonly data: Uint8Array
  readonly stat: Stat
}

/**
 * A version guard: -1 (the default) matches any version.
 *
 * @since 0.1.0
 * @category models
 */
export interface VersionOptions {
  readonly version?: number | undefined
}

/**
 * The result of `get`.
 *
 * @since 0.1.0
 * @category models
 */
export interface NodeData {
  readonly data: Uint8Array
  readonly stat: Stat
}

/**
 * Which watches `removeWatches` / `checkWatches` address: data (and exists) watches, child
 * watches, or both.
 *
 * @since 0.1.0
 * @category models
 */
export type WatchKind = "data" | "children" | "any"

/**
 * Options of `retryChange`.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryChangeOptions {
  readonly mode?: CreateMode | undefined
  readonly acl?: ReadonlyArray<Acl.Acl> | undefined
  /** When to try again after a conflict. Default: up to 100 retries with a short jittered backoff. */
  readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
}

/**
 * The operations of one session.
 *
 * @since 0.1.0
 * @category models
 */
export interface ZooKeeperService {
  /**
   * Creates a node; returns its path (with the sequence suffix for sequential modes, and the
   * `_c_<uuid>-` prefix for `protected`). `parents: true` creates missing parents first.
   */
  readonly create: (path: string, data?: Data, options?: CreateOptions) => Effect.Effect<string, ZkError>
  /** Creates a node; returns its path and Stat. */
  readonly create2: (
    path: string,
    data?: Data,
    options?: CreateOptions
  ) => Effect.Effect<{ readonly path: string; readonly stat: Stat }, ZkError>
  /**
   * Deletes a node. With `version`, only if the node is still at that version (an optimistic
   * lock: `BadVersion` otherwise); a node with children fails with `NotEmpty`, a missing one
   * with `NoNode`. With `recursive: true`, its whole subtree first (see `DeleteOptions`).
   *
   * @example
   * ```ts
   * const { stat } = yield* zk.get("/job")
   * yield* zk.delete("/job", { version: stat.version }) // BadVersion if someone changed it
   * yield* zk.delete("/scratch", { recursive: true })
   * ```
   */
  readonly delete: (path: string, options?: DeleteOptions) => Effect.Effect<void, ZkError>
  /**
   * Makes sure `path` exists: creates it and its missing ancestors (empty, default ACL),
   * succeeds if they exist, also when another session creates them at the same moment
   * (kazoo's `ensure_path`, Curator's `EnsureContainers`).
   *
   * @example
   * ```ts
   * yield* zk.ensurePath("/app/workers")   // idempotent
   * ```
   */
  readonly ensurePath: (path: string, options?: EnsurePathOptions) => Effect.Effect<void, ZkError>
  /** The node's Stat, or `None` when it does not exist. */
  readonly exists: (path: string) => Effect.Effect<Option.Option<Stat>, ZkError>
  /**
   * Like `exists`, plus a watch: it fires NodeCreated if the node is missing, NodeDataChanged or
   * NodeDeleted if it exists.
   */
  readonly existsW: (
    path: string
  ) => Effect.Effect<{ readonly stat: Option.Option<Stat>; readonly watch: Stream.Stream<WatchEvent, ZkError> }, ZkError>
  /**
   * The node's data and Stat; `NoNode` when it does not exist. The Stat's `version` is what
   * `set` and `delete` take to change the node only if nobody else did meanwhile.
   *
   * @example
   * ```ts
   * const { data, stat } = yield* zk.get("/config")
   * const text = new TextDecoder().decode(data)
   * ```
   */
  readonly get: (path: string) => Effect.Effect<NodeData, ZkError>
  /** Like `get`, plus a watch that fires NodeDataChanged or NodeDeleted. */
  readonly getW: (
    path: string
  ) => Effect.Effect<NodeData & { readonly watch: Stream.Stream<WatchEvent, ZkError> }, ZkError>
  /**
   * Replaces the node's data and returns its new Stat. With `version`, only if the node is
   * still at that version (`BadVersion` otherwise), so a read-modify-write cannot lose a
   * concurrent update; see also `retryChange`.
   *
   * @example
   * ```ts
   * const { stat } = yield* zk.get("/counter")
   * yield* zk.set("/counter", "42", { version: stat.version })
   * ```
   */
  readonly set: (path: string, data: Data, options?: VersionOptions) => Effect.Effect<Stat, ZkError>
  /** The node's data as text (UTF-8). */
  readonly getText: (path: string) => Effect.Effect<string, ZkError>
  /**
   * The node's data decoded as JSON with `schema` (Curator's ModeledFramework). Data that is
   * not JSON, or does not match, fails with `JsonDataError` (not a `ZkError`: see there).
   *
   * @example
   * ```ts
   * const Config = Schema.Struct({ url: Schema.String })
   * const config = yield* zk.getAs("/config", Config)
   * ```
   */
  readonly getAs: <A, I>(path: string, schema: Schema.Codec<A, I>) => Effect.Effect<A, ZkError | JsonDataError>
  /**
   * Encodes `value` with `schema` and sets it as JSON text (at `version`, default any); returns
   * the new Stat. A value that does not encode fails with `JsonDataError` before anything is sent.
   */
  readonly setAs: <A, I>(
    path: string,
    value: A,
    schema: Schema.Codec<A, I>,
    options?: VersionOptions
  ) => Effect.Effect<Stat, ZkError | JsonDataError>
  /** Child names (unordered, as the server keeps them) and the parent's Stat. */
  readonly children: (
    path: string
  ) => Effect.Effect<{ readonly children: ReadonlyArray<string>; readonly stat: Stat }, ZkError>
  /**
   * The children with their data, sorted by name: the names, then their data in `multiRead`
   * batches (one round trip per 100 children). A child deleted between the listing and the read
   * is left out. Mind the size: each batch's reply must fit the server's `jute.maxbuffer`.
   *
   * @example
   * ```ts
   * for (const { name, data } of yield* zk.childrenData("/workers")) ...
   * ```
   */
  readonly childrenData: (path: string) => Effect.Effect<ReadonlyArray<ChildData>, ZkError>
  /** Like `children`, plus a watch that fires NodeChildrenChanged or NodeDeleted. */
  readonly childrenW: (path: string) => Effect.Effect<
    {
      readonly children: ReadonlyArray<string>
      readonly stat: Stat
      readonly watch: Stream.Stream<WatchEvent, ZkError>
    },
    ZkError
  >
  /**
   * The node's ACL and Stat. The Stat's `aversion` is the version `setAcl` compares, so an
   * ACL change can be made conditional on nobody else having changed it.
   *
   * @example
   * ```ts
   * const { acl, stat } = yield* zk.getAcl("/secrets")
   * yield* zk.setAcl("/secrets", [...acl, ...Acl.digest("bob", "pw", Acl.Perms.Read)], { version: stat.aversion })
   * ```
   */
  readonly getAcl: (path: string) => Effect.Effect<{ readonly acl: ReadonlyArray<Acl.Acl>; readonly stat: Stat }, ZkError>
  /** Replaces the ACL; `version` is compared with the node's aversion. */
  readonly setAcl: (path: string, acl: ReadonlyArray<Acl.Acl>, options?: VersionOptions) => Effect.Effect<Stat, ZkError>
  /** Adds an identity to the session (e.g. `digest`, `user:password`); re-sent after every reconnect. */
  readonly addAuth: (scheme: string, credential: Credential) => Effect.Effect<void, ZkError>
  /** Waits until the server this session talks to has caught up with the leader; returns the path. */
  readonly sync: (path: string) => Effect.Effect<string, ZkError>
  /**
   * Applies write ops atomically. Succeeds with one result per op, in order; if any op fails,
   * nothing is applied and the effect fails with the first failing op's error (its `_tag`,
   * e.g. `BadVersion`), whose `results` holds every op's outcome (`Error` entries with the
   * error's tag in `error`, e.g. `"BadVersion"`, `"Ok"` for the ops before it). An empty list is
   * `BadArguments` (nothing is sent).
   */
  readonly multi: (ops: ReadonlyArray<Op.Op>) => Effect.Effect<ReadonlyArray<Op.OpResult>, ZkError>
  /**
   * Runs read ops in one round trip; not atomic, each result is a value or an `Error` entry,
   * and each carries the `path` it answers.
   */
  readonly multiRead: (ops: ReadonlyArray<Op.ReadOp>) => Effect.Effect<ReadonlyArray<Op.OpResult>, ZkError>
  /** This session's ephemeral nodes whose path starts with `prefix` (a plain string prefix; default all). */
  readonly getEphemerals: (prefix?: string) => Effect.Effect<ReadonlyArray<string>, ZkError>
  /** How many descendants a node has (not counting itself). */
  readonly getAllChildrenNumber: (path: string) => Effect.Effect<number, ZkError>
  /** The identities the server associates with this session, e.g. `[{ scheme: "ip", id: "127.0.0.1" }]`. */
  readonly whoAmI: () => Effect.Effect<ReadonlyArray<{ readonly scheme: string; readonly id: string }>, ZkError>
  /** The ensemble's dynamic configuration (`/zookeeper/config`, read outside any chroot). */
  readonly getConfig: () => Effect.Effect<{ readonly config: string; readonly stat: Stat }, ZkError>
  /**
   * gozk's RetryChange: read the node, compute the new value with `f`, create it if missing or
   * set it at the read version unless unchanged; on a conflict (`NodeExists`, `BadVersion`,
   * `NoNode`) start over per the schedule. Any other error, or `f`'s own, stops it.
   */
  readonly retryChange: <E>(
    path: string,
    f: (current: Option.Option<NodeData>) => Effect.Effect<Data, E>,
    options?: RetryChangeOptions
  ) => Effect.Effect<void, ZkError | E>
  /**
   * A persistent watch (ZooKeeper 3.6+): every event on `path`, or with `recursive` on `path`
   * and all its descendants (recursive watches never see NodeChildrenChanged). Registered when
   * the stream starts; the server-side watch is removed when the stream's scope closes. After a
   * reconnect the stream emits `{ type: "Resync" }` once the server has the watch back: the
   * server does not replay what changed meanwhile, and every change after the Resync is
   * reported, so re-reading on Resync misses nothing. A consumer more than `bufferSize` (default 1024) events behind fails the stream
   * with `WatchOverflow`; events are never dropped silently.
   */
  readonly addWatch: (
    path: string,
    options?: { readonly recursive?: boolean | undefined; readonly bufferSize?: number | undefined }
  ) => Stream.Stream<PersistentWatchEvent, ZkError | WatchOverflow>
  /**
   * The node's value now (`None` when missing), then after every change: one-shot watches
   * re-armed after each read, so nothing changed is missed across reconnects (intermediate
   * values of rapid changes may be coalesced into the latest).
   */
  readonly watchData: (path: string) => Stream.Stream<Option.Option<NodeData>, ZkError>
  /** The node's children now (empty while the node is missing), then after every change. */
  readonly watchChildren: (path: string) => Stream.Stream<ReadonlyArray<string>, ZkError>
  /**
   * Removes this session's watches of a kind at a path, on the server and locally (their
   * one-shot streams end without an event). Fails with `NoWatcher` when there is none.
   */
  readonly removeWatches: (path: string, kind: WatchKind) => Effect.Effect<void, ZkError>
  /** Succeeds if the server holds a watch of this kind for the session at `path`, else `NoWatcher`. */
  readonly checkWatches: (path: string, kind: WatchKind) => Effect.Effect<void, ZkError>
  /**
   * Changes the servers of the live session (e.g. after the ensemble grew or moved). The
   * connection moves only if its server is no longer listed. The chroot cannot change: a
   * connect string with a different chroot is `BadArguments`.
   */
  readonly updateServers: (servers: string) => Effect.Effect<void, BadArguments>
  /** One-shot watches registered and not yet fired. */
  readonly pendingWatches: Effect.Effect<number>
  /** State changes from the moment of subscription; ends after a terminal state. */
  readonly sessionEvents: Stream.Stream<SessionEvent>
  /**
   * The session's state right now (see `SessionState`): to decide whether to wait, e.g. in a
   * health check. To react to changes, follow `sessionEvents` instead of polling this.
   *
   * @example
   * ```ts
   * const healthy = (yield* zk.state) === "Connected"
   * ```
   */
  readonly state: Effect.Effect<SessionState>
  /**
   * The session's id and password: pass it as `session` to another layer (in this or another
   * process, via `ClientId.toJson`) to take the same session over, ephemeral nodes and all.
   *
   * @example
   * ```ts
   * const id = yield* zk.clientId
   * yield* Effect.log(`session ${id.hex}`)
   * ```
   */
  readonly clientId: Effect.Effect<ClientId>
  /** The session timeout the server granted, in milliseconds. */
  readonly sessionTimeout: Effect.Effect<number>
  /**
   * Closes the session now (the layer's scope does this too): outstanding requests complete,
   * later calls fail with `Closing`, watch streams fail with `Closing`. Idempotent.
   */
  readonly close: Effect.Effect<void>
}

/**
 * The ZooKeeper service tag.
 *
 * @since 0.1.0
 * @category services
 */
export class ZooKeeper extends Context.Service<ZooKeeper, ZooKeeperService>()("@effect-zk/core/ZooKeeper") {
  /**
   * The service as a layer: building it opens the session (first `Connected`) or fails;
   * closing its scope closes the session. Needs a `Transport` (see `@effect-zk/node`).
   */
  static readonly layer = (config: ZooKeeperConfig): Layer.Layer<ZooKeeper, ZkError, Transport> =>
    Layer.effect(ZooKeeper, make(config))
}

const DEFAULT_SESSION_TIMEOUT = 10_000
const DEFAULT_CONNECT_TIMEOUT = 15_000

/**
 * The default reconnect pacing: 20 ms doubling up to 500 ms, jittered. Each attempt moves to
 * the next host, so a healthy member is found quickly (a new leader is usually ready within
 * about half a second), and a dead ensemble is never hammered.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultReconnectSchedule: Schedule.Schedule<unknown, ZkError> = Schedule.min([
  Schedule.exponential("20 millis", 2),
  Schedule.spaced("500 millis")
]).pipe(Schedule.jittered)

const millis = (
  name: string,
  input: Duration.Input | undefined,
  fallback: number | undefined
): Effect.Effect<number | undefined, BadArguments> => {
  if (input === undefined) return Effect.succeed(fallback)
  const d = Duration.fromInput(input)
  if (Option.isNone(d) || !Duration.isFinite(d.value) || Duration.toMillis(d.value) <= 0) {
    return Effect.fail(new BadArguments({ op: "connect", detail: `${name} must be a positive duration, got ${String(input)}` }))
  }
  return Effect.succeed(Math.round(Duration.toMillis(d.value)))
}

/**
 * Opens a session in the current scope and returns the service. Fails with `BadArguments` for
 * an invalid configuration, or the connect error when no server answers in time.
 *
 * @example
 * ```ts
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const zk = yield* ZooKeeper.make({ servers: "127.0.0.1:2181" })
 *   yield* zk.create("/app", "v1")
 * })).pipe(Effect.provide(NodeTransport.layer()))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (config: ZooKeeperConfig) => Effect.Effect<ZooKeeperService, ZkError, Transport | Scope.Scope> =
  Effect.fnUntraced(function*(config: ZooKeeperConfig) {
    const { hosts, chroot } = yield* ConnectString.parse(config.servers)
    if (config.createChroot === true && chroot !== undefined) yield* createChroot(config, chroot)
    const sessionTimeout = (yield* millis("sessionTimeout", config.sessionTimeout, DEFAULT_SESSION_TIMEOUT))!
    const connectTimeout = (yield* millis("connectTimeout", config.connectTimeout, DEFAULT_CONNECT_TIMEOUT))!
    const requestTimeout = yield* millis("requestTimeout", config.requestTimeout, undefined)
    const maxRequest = config.maxBufferSize ?? Protocol.SERVER_MAX_FRAME
    if (!Number.isInteger(maxRequest) || maxRequest < 1024) {
      return yield* new BadArguments({ op: "connect", detail: `maxBufferSize must be an integer >= 1024, got ${maxRequest}` })
    }
    for (const { scheme } of config.auth ?? []) {
      if (scheme.length === 0) return yield* new BadArguments({ op: "connect", detail: "auth scheme must not be empty" })
    }
    const session = yield* Supervisor.make({
      hosts: yield* ConnectString.shuffled(hosts),
      chroot,
      sessionTimeout,
      connectTimeout,
      requestTimeout,
      canBeReadOnly: config.canBeReadOnly ?? false,
      maxFrame: maxRequest + 64 * 1024,
      maxRequest,
      session: config.session,
      auth: (config.auth ?? []).map(({ scheme, credential }) => ({ scheme, auth: Service.credentialBytes(credential) })),
      reconnectSchedule: config.reconnectSchedule ?? defaultReconnectSchedule,
      sasl: config.sasl === undefined ? undefined : {
        mechanism: "DIGEST-MD5",
        username: config.sasl.username,
        password: typeof config.sasl.password === "string" ? Redacted.make(config.sasl.password) : config.sasl.password
      }
    })
    const logLevel = config.logLevel ?? "Info"
    const observability = { tracing: config.tracing ?? false, metrics: config.metrics ?? false, logLevel }
    yield* Observability.logSessionState(logLevel, { state: session.state, sessionId: session.clientId.sessionId, server: session.server })
    yield* Observability.logSessionEvents(session, observability)
    return new Service.Client(session, Observability.makeInstrument(observability))
  })

/**
 * Makes the connect string's chroot exist through a short-lived session outside it (the same
 * hosts, credentials and timeouts; a fresh session, and silent).
 */
const createChroot = (config: ZooKeeperConfig, chroot: string): Effect.Effect<void, ZkError, Transport> =>
  Effect.scoped(
    Effect.flatMap(
      make({ ...config, servers: config.servers.slice(0, config.servers.indexOf("/")), session: undefined, createChroot: false, logLevel: "None" }),
      (root) => root.ensurePath(chroot)
    )
  )



/**
 * The service as a layer (same as `ZooKeeper.layer`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (config: ZooKeeperConfig): Layer.Layer<ZooKeeper, ZkError, Transport> => ZooKeeper.layer(config)

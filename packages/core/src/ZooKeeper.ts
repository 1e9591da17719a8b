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
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import type * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Acl from "./Acl.ts"
import * as ConnectString from "./ConnectString.ts"
import * as CreateModes from "./CreateMode.ts"
import type * as Op from "./Op.ts"
import { CreateMode } from "./CreateMode.ts"
import * as Everyday from "./internal/everyday.ts"
import * as Utf8 from "./internal/utf8.ts"
import type { JsonDataError } from "./JsonData.ts"
import type { Call } from "./internal/connection.ts"
import type { JuteReader, JuteWriter } from "./internal/jute.ts"
import * as Observability from "./internal/observability.ts"
import * as Session from "./internal/session.ts"
import type { PersistentListener, PersistentMode, WatchListener, WatchTable } from "./internal/watches.ts"
import * as Protocol from "./Protocol.ts"
import type { ClientId, SessionEvent, SessionState } from "./Session.ts"
import { isTerminal } from "./Session.ts"
import type { Stat } from "./Stat.ts"
import type { Transport } from "./Transport.ts"
import type { PersistentWatchEvent, WatchEvent, WatchOverflow } from "./WatchEvent.ts"
import * as ZNodePath from "./ZNodePath.ts"
import { BadArguments, ErrorCode, fromCode, nameOf, type ZkError } from "./ZkError.ts"

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
   * default. Session changes are logged through Effect's logger either way.
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
   * For the TTL modes only: any `Duration.Input` ("60 seconds", a `Duration`, or milliseconds
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
   * the returned path is it. `ZNodePath.protectedId` reads the uuid back.
   *
   * @example
   * ```ts
   * const me = yield* zk.create("/locks/lock-", "", { mode: CreateMode.EphemeralSequential, protected: true })
   * ```
   */
  readonly protected?: boolean | undefined
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
  /** Deletes a node (at `version`, default any); with `recursive: true` its subtree too. */
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
  readonly get: (path: string) => Effect.Effect<NodeData, ZkError>
  /** Like `get`, plus a watch that fires NodeDataChanged or NodeDeleted. */
  readonly getW: (
    path: string
  ) => Effect.Effect<NodeData & { readonly watch: Stream.Stream<WatchEvent, ZkError> }, ZkError>
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
  readonly state: Effect.Effect<SessionState>
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
const CONFIG_NODE = "/zookeeper/config"
const DEFAULT_WATCH_BUFFER = 1024

const addWatchMode: Record<PersistentMode, number> = {
  persistent: Protocol.AddWatchMode.Persistent,
  recursive: Protocol.AddWatchMode.PersistentRecursive
}

const watcherType: Record<WatchKind, number> = {
  data: Protocol.WatcherType.Data,
  children: Protocol.WatcherType.Children,
  any: Protocol.WatcherType.Any
}
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

const defaultRetryChangeSchedule: Schedule.Schedule<unknown, unknown> = Schedule.max([
  Schedule.min([Schedule.exponential("5 millis", 2), Schedule.spaced("200 millis")]).pipe(Schedule.jittered),
  Schedule.recurs(100)
])

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

const credentialBytes = (credential: Credential): Uint8Array => {
  const value: string | Uint8Array = Redacted.isRedacted(credential)
    ? Redacted.value<string | Uint8Array>(credential)
    : credential
  return typeof value === "string" ? Utf8.encode(value) : value
}

const toBytes = (data: Data | undefined): Uint8Array => (data === undefined ? new Uint8Array(0) : typeof data === "string" ? Utf8.encode(data) : data)

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Opens a session in the current scope and returns the service. Fails with `BadArguments` for
 * an invalid configuration, or the connect error when no server answers in time.
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
  const session = yield* Session.make({
    hosts: yield* ConnectString.shuffled(hosts),
    chroot,
    sessionTimeout,
    connectTimeout,
    requestTimeout,
    canBeReadOnly: config.canBeReadOnly ?? false,
    maxFrame: maxRequest + 64 * 1024,
    maxRequest,
    session: config.session,
    auth: (config.auth ?? []).map(({ scheme, credential }) => ({ scheme, auth: credentialBytes(credential) })),
    reconnectSchedule: config.reconnectSchedule ?? defaultReconnectSchedule,
    sasl: config.sasl === undefined ? undefined : {
      mechanism: "DIGEST-MD5",
      username: config.sasl.username,
      password: typeof config.sasl.password === "string" ? Redacted.make(config.sasl.password) : config.sasl.password
    }
  })
  const logLevel = config.logLevel ?? "Info"
  const observability = { tracing: config.tracing ?? false, metrics: config.metrics ?? false, logLevel }
  yield* Observability.logSessionState(logLevel, { state: session.state, sessionId: session.clientId.sessionId, server: session.conn?.address })
  yield* Observability.logSessionEvents(session.events, observability)
  return Everyday.extend(makeService(session, Observability.makeInstrument(observability)), chroot)
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
 * The service over a running session.
 */
const makeService = (session: Session.Session, instrument: Observability.Instrument | undefined): Everyday.CoreService => {
  /**
   * Submits one request. `onReply` turns the reply into the result (err 0 with a reader at the
   * body, or a server error code); `resume` is called once, from the socket callback, with no
   * fiber or queue in between.
   */
  const request = <A>(
    op: number,
    opName: string,
    path: string | undefined,
    write: (w: JuteWriter) => void,
    onReply: (err: number, r: JuteReader | undefined) => Exit.Exit<A, ZkError>
  ): Effect.Effect<A, ZkError> => {
    const effect = Effect.callback<A, ZkError>((resume) => {
      const call: Call = {
        op,
        write,
        reply: (err, r) => resume(onReply(err, r)),
        abort: (code, detail, cause) => resume(Exit.fail(fromCode(code, opName, path, detail, cause))),
        sentAt: 0,
        done: false
      }
      session.submit(call)
    })
    return instrument === undefined ? effect : instrument(opName, path, effect)
  }

  /** The common reply shape: a server error fails, success decodes the body. */
  const decoded = <A>(opName: string, path: string | undefined, read: (r: JuteReader) => A) =>
  (err: number, r: JuteReader | undefined): Exit.Exit<A, ZkError> =>
    err !== 0 || r === undefined ? Exit.fail(fromCode(err, opName, path)) : Exit.succeed(read(r))

  const badPath = (op: string, path: string, sequential = false): BadArguments | undefined => {
    const detail = ZNodePath.validationError(path, { sequential })
    return detail === undefined ? undefined : new BadArguments({ op, path, detail })
  }

  /**
   * A request about one node: the path is validated (with `extra`, e.g. a version check), put
   * under the chroot, and handed to `write` and `onReply` as the server path.
   */
  const atPath = <A>(
    op: number,
    opName: string,
    path: string,
    write: (w: JuteWriter, serverPath: string) => void,
    onReply: (err: number, r: JuteReader | undefined, serverPath: string) => Exit.Exit<A, ZkError>,
    extra?: ZkError
  ): Effect.Effect<A, ZkError> => {
    const bad = badPath(opName, path) ?? extra
    if (bad !== undefined) return Effect.fail(bad)
    const serverPath = session.serverPath(path)
    return request(op, opName, path, (w) => write(w, serverPath), (err, r) => onReply(err, r, serverPath))
  }

  /** A request whose body is just the path: getACL, sync, getAllChildrenNumber. */
  const pathRequest = <A>(op: number, opName: string, path: string, read: (r: JuteReader) => A): Effect.Effect<A, ZkError> =>
    atPath(op, opName, path, Protocol.writePath, decoded(opName, path, read))

  const badVersion = (op: string, path: string, version: number): BadArguments | undefined =>
    Number.isInteger(version) && version >= -1 && version <= 0x7fffffff
      ? undefined
      : new BadArguments({ op, path, detail: `version must be an integer >= -1, got ${version}` })

  const watchStream = (table: WatchTable, serverPath: string, listener: WatchListener): Stream.Stream<WatchEvent, ZkError> =>
    Stream.fromEffect(
      Deferred.await(listener).pipe(
        // An interrupted stream forgets its watch, so pendingWatches only counts live ones.
        Effect.onInterrupt(() => Effect.sync(() => session.watches.remove(table, serverPath, listener)))
      )
    ).pipe(Stream.filter((event): event is WatchEvent => event !== undefined))

  /**
   * A create's record with its mode, path (sequential suffix allowed only for sequential
   * modes), TTL and ACL checked, or why it cannot be sent; shared by create and multi.
   */
  const createRecord = (
    opName: string,
    path: string,
    data: Uint8Array,
    options: CreateOptions | undefined
  ): { readonly mode: CreateMode; readonly record: Protocol.CreateTTLRequest } | ZkError => {
    const mode = options?.mode ?? CreateMode.Persistent
    const bad = badPath(opName, path, CreateModes.isSequential(mode))
    if (bad !== undefined) return bad
    const ttl = options?.ttl === undefined ? undefined : CreateModes.ttlMillis(options.ttl)
    const ttlError = CreateModes.ttlError(mode, ttl)
    if (ttlError !== undefined) return new BadArguments({ op: opName, path, detail: ttlError })
    const acl = options?.acl ?? Acl.openUnsafe
    const aclError = Acl.validate(acl)
    if (aclError !== undefined) return fromCode(ErrorCode.InvalidACL, opName, path, aclError)
    const record = { path: session.serverPath(path), data, acl, flags: CreateModes.flags(mode), ttl: BigInt(ttl ?? 0) }
    return { mode, record }
  }

  const createWith = <A>(
    opName: string,
    path: string,
    data: Data | undefined,
    options: CreateOptions | undefined,
    read: (r: JuteReader) => A,
    opcodeFor: (mode: CreateMode) => number
  ): Effect.Effect<A, ZkError> => {
    const checked = createRecord(opName, path, toBytes(data), options)
    if ("_tag" in checked) return Effect.fail(checked)
    const { mode, record } = checked
    const op = opcodeFor(mode)
    return request(
      op,
      opName,
      path,
      op === Protocol.OpCode.CreateTTL
        ? (w) => Protocol.writeCreateTTLRequest(w, record)
        : (w) => Protocol.writeCreateRequest(w, record),
      decoded(opName, path, read)
    )
  }

  const readCreatedPath = (r: JuteReader): string => session.clientPath(Protocol.readPath(r))
  const readCreated2 = (r: JuteReader) => {
    const { path, stat } = Protocol.readCreate2Response(r)
    return { path: session.clientPath(path), stat }
  }
  const readNodeData = (r: JuteReader): NodeData => {
    const { data, stat } = Protocol.readGetDataResponse(r)
    return { data: data ?? new Uint8Array(0), stat }
  }

  const create: ZooKeeperService["create"] = (path, data, options) =>
    createWith("create", path, data, options, (r) => {
      // Container and TTL opcodes always answer in the create2 layout.
      const mode = options?.mode ?? CreateMode.Persistent
      return CreateModes.opcodeFor(mode) === Protocol.OpCode.Create2 ? readCreatedPath(r) : readCreated2(r).path
    }, (mode) => (CreateModes.opcodeFor(mode) === Protocol.OpCode.Create2 ? Protocol.OpCode.Create : CreateModes.opcodeFor(mode)))

  const create2: ZooKeeperService["create2"] = (path, data, options) =>
    createWith("create2", path, data, options, readCreated2, CreateModes.opcodeFor)

  const del: ZooKeeperService["delete"] = (path, options) => {
    const version = options?.version ?? -1
    return atPath(
      Protocol.OpCode.Delete,
      "delete",
      path,
      (w, serverPath) => Protocol.writePathVersion(w, serverPath, version),
      decoded("delete", path, () => undefined),
      badVersion("delete", path, version)
    )
  }

  /**
   * A read that leaves a one-shot watch (exists, getData, getChildren2). The watch is
   * registered when the reply arrives, in the table the reply implies (Java's ZKWatchManager):
   * `parse` says which, or fails, and a failed read leaves no watch. `result` shapes the
   * caller's value and its watch stream into what the operation returns.
   */
  const watchableRead = <A, B>(
    op: number,
    opName: string,
    path: string,
    parse: (err: number, r: JuteReader | undefined) => Parsed<A>,
    result: (value: A, watch: Stream.Stream<WatchEvent, ZkError>) => B
  ): Effect.Effect<B, ZkError> =>
    atPath(op, opName, path, (w, serverPath) => Protocol.writePathWatch(w, serverPath, true), (err, r, serverPath) => {
      const parsed = parse(err, r)
      if (!parsed.ok) return Exit.fail(fromCode(parsed.code, opName, path))
      const watch = watchStream(parsed.table, serverPath, session.watches.add(parsed.table, serverPath))
      // ZooKeeper 3.8 keeps one watch mode per (path, table): this standard watch just replaced
      // a persistent one at the same path. Re-adding it restores both (fixed in 3.9).
      for (const mode of session.watches.persistentModesAt(serverPath)) sendAddWatch(serverPath, mode)
      return Exit.succeed(result(parsed.value, watch))
    })

  /** NoNode is a result of exists, not an error, and still leaves a watch (for the create). */
  const parseExists = (err: number, r: JuteReader | undefined): Parsed<Option.Option<Stat>> =>
    err === 0 && r !== undefined
      ? { ok: true, value: Option.some(Protocol.readStat(r)), table: "data" }
      : err === ErrorCode.NoNode
      ? { ok: true, value: Option.none(), table: "exist" }
      : { ok: false, code: err }

  const parseGet = (err: number, r: JuteReader | undefined): Parsed<NodeData> =>
    err === 0 && r !== undefined ? { ok: true, value: readNodeData(r), table: "data" } : { ok: false, code: err }

  const parseChildren = (
    err: number,
    r: JuteReader | undefined
  ): Parsed<{ readonly children: ReadonlyArray<string>; readonly stat: Stat }> =>
    err === 0 && r !== undefined ? { ok: true, value: Protocol.readChildren2Response(r), table: "child" } : { ok: false, code: err }

  /** The same reads without a watch: no stream, no extra mapping on the hot path. */
  const plainRead = <A>(
    op: number,
    opName: string,
    path: string,
    parse: (err: number, r: JuteReader | undefined) => Parsed<A>
  ): Effect.Effect<A, ZkError> =>
    atPath(op, opName, path, (w, serverPath) => Protocol.writePathWatch(w, serverPath, false), (err, r) => {
      const parsed = parse(err, r)
      return parsed.ok ? Exit.succeed(parsed.value) : Exit.fail(fromCode(parsed.code, opName, path))
    })

  const exists: ZooKeeperService["exists"] = (path) => plainRead(Protocol.OpCode.Exists, "exists", path, parseExists)

  const existsW: ZooKeeperService["existsW"] = (path) =>
    watchableRead(Protocol.OpCode.Exists, "existsW", path, parseExists, (stat, watch) => ({ stat, watch }))

  const get: ZooKeeperService["get"] = (path) => plainRead(Protocol.OpCode.GetData, "get", path, parseGet)

  const getW: ZooKeeperService["getW"] = (path) =>
    watchableRead(Protocol.OpCode.GetData, "getW", path, parseGet, (node, watch) => ({ ...node, watch }))

  const set: ZooKeeperService["set"] = (path, data, options) => {
    const version = options?.version ?? -1
    const bytes = toBytes(data)
    return atPath(
      Protocol.OpCode.SetData,
      "set",
      path,
      (w, serverPath) => Protocol.writeSetDataRequest(w, serverPath, bytes, version),
      decoded("set", path, Protocol.readStat),
      badVersion("set", path, version)
    )
  }

  const children: ZooKeeperService["children"] = (path) =>
    plainRead(Protocol.OpCode.GetChildren2, "children", path, parseChildren)

  const childrenW: ZooKeeperService["childrenW"] = (path) =>
    watchableRead(Protocol.OpCode.GetChildren2, "childrenW", path, parseChildren, (listing, watch) => ({ ...listing, watch }))

  const getAcl: ZooKeeperService["getAcl"] = (path) =>
    pathRequest(Protocol.OpCode.GetACL, "getAcl", path, Protocol.readGetACLResponse)

  const setAcl: ZooKeeperService["setAcl"] = (path, acl, options) => {
    const version = options?.version ?? -1
    const aclError = Acl.validate(acl)
    return atPath(
      Protocol.OpCode.SetACL,
      "setAcl",
      path,
      (w, serverPath) => Protocol.writeSetACLRequest(w, serverPath, acl, version),
      decoded("setAcl", path, Protocol.readStat),
      badVersion("setAcl", path, version) ??
        (aclError === undefined ? undefined : fromCode(ErrorCode.InvalidACL, "setAcl", path, aclError))
    )
  }

  const addAuth: ZooKeeperService["addAuth"] = (scheme, credential) => {
    if (scheme.length === 0) return Effect.fail(new BadArguments({ op: "addAuth", detail: "scheme must not be empty" }))
    const auth = credentialBytes(credential)
    return Effect.callback<void, ZkError>((resume) => {
      session.addAuth({ scheme, auth }, (err) =>
        resume(err === 0 ? Exit.void : Exit.fail(fromCode(err, "addAuth", undefined, `scheme ${scheme}`))))
    })
  }

  const sync: ZooKeeperService["sync"] = (path) =>
    pathRequest(Protocol.OpCode.Sync, "sync", path, (r) => session.clientPath(Protocol.readPath(r)))

  const multiOp = (op: Op.Op): Protocol.MultiOp | BadArguments | ZkError => {
    switch (op._tag) {
      case "Create": {
        const checked = createRecord("multi", op.path, op.data, op)
        if ("_tag" in checked) return checked
        const { mode, record } = checked
        const opcode = CreateModes.opcodeFor(mode)
        return opcode === Protocol.OpCode.CreateTTL
          ? { type: Protocol.OpCode.CreateTTL, request: record }
          : { type: opcode === Protocol.OpCode.CreateContainer ? Protocol.OpCode.CreateContainer : Protocol.OpCode.Create, request: record }
      }
      case "Delete":
      case "Set":
      case "Check": {
        const bad = badPath("multi", op.path) ?? badVersion("multi", op.path, op.version)
        if (bad !== undefined) return bad
        const path = session.serverPath(op.path)
        return op._tag === "Delete"
          ? { type: Protocol.OpCode.Delete, path, version: op.version }
          : op._tag === "Set"
          ? { type: Protocol.OpCode.SetData, path, data: op.data, version: op.version }
          : { type: Protocol.OpCode.Check, path, version: op.version }
      }
    }
  }

  /** One result, with the path of the op it answers (`path`, the op's own, for all but a create). */
  const toOpResult = (result: Protocol.MultiResult, path: string): Op.OpResult => {
    switch (result.type) {
      case Protocol.OpCode.Create:
      case Protocol.OpCode.Create2:
        return { _tag: "Create", path: session.clientPath(result.path) }
      case Protocol.OpCode.Delete:
        return { _tag: "Delete", path }
      case Protocol.OpCode.Check:
        return { _tag: "Check", path }
      case Protocol.OpCode.SetData:
        return { _tag: "Set", path, stat: result.stat }
      case Protocol.OpCode.GetData:
        return { _tag: "Get", path, data: result.data ?? new Uint8Array(0), stat: result.stat }
      case Protocol.OpCode.GetChildren:
        return { _tag: "Children", path, children: result.children }
      case Protocol.OpCode.Error:
        return { _tag: "Error", path, code: result.err, error: nameOf(result.err) }
    }
  }

  const toOpResults = (results: ReadonlyArray<Protocol.MultiResult>, ops: ReadonlyArray<{ readonly path: string }>) =>
    results.map((result, i) => toOpResult(result, ops[i]?.path ?? ""))

  const multi: ZooKeeperService["multi"] = (ops) => {
    if (ops.length === 0) return Effect.fail(new BadArguments({ op: "multi", detail: "a transaction needs at least one op" }))
    const encoded: Array<Protocol.MultiOp> = []
    for (const op of ops) {
      const result = multiOp(op)
      if ("_tag" in result) return Effect.fail(result)
      encoded.push(result)
    }
    return request(
      Protocol.OpCode.Multi,
      "multi",
      undefined,
      (w) => Protocol.writeMultiRequest(w, encoded),
      (err, r) => {
        if (err !== 0 || r === undefined) return Exit.fail(fromCode(err, "multi"))
        const results = toOpResults(Protocol.readMultiResponse(r), ops)
        // The header says OK even when the transaction failed: the codes are in the results.
        for (let i = 0; i < results.length; i++) {
          const result = results[i]!
          if (result._tag === "Error" && result.code !== 0) {
            return Exit.fail(fromCode(result.code, "multi", ops[i]?.path, undefined, undefined, results))
          }
        }
        return Exit.succeed(results)
      }
    )
  }

  const multiRead: ZooKeeperService["multiRead"] = (ops) => {
    if (ops.length === 0) return Effect.fail(new BadArguments({ op: "multiRead", detail: "needs at least one op" }))
    const encoded: Array<Protocol.MultiOp> = []
    for (const op of ops) {
      const bad = badPath("multiRead", op.path)
      if (bad !== undefined) return Effect.fail(bad)
      const path = session.serverPath(op.path)
      encoded.push(op._tag === "Get" ? { type: Protocol.OpCode.GetData, path } : { type: Protocol.OpCode.GetChildren, path })
    }
    return request(
      Protocol.OpCode.MultiRead,
      "multiRead",
      undefined,
      (w) => Protocol.writeMultiRequest(w, encoded),
      decoded("multiRead", undefined, (r) => toOpResults(Protocol.readMultiResponse(r), ops))
    )
  }

  const getEphemerals: ZooKeeperService["getEphemerals"] = (prefix = "/") => {
    if (!prefix.startsWith("/")) {
      return Effect.fail(new BadArguments({ op: "getEphemerals", path: prefix, detail: 'prefix must start with "/"' }))
    }
    // A plain string prefix on the server's side: "/" under a chroot means the chroot itself.
    const serverPrefix = session.options.chroot === undefined ? prefix : session.options.chroot + (prefix === "/" ? "" : prefix)
    return request(
      Protocol.OpCode.GetEphemerals,
      "getEphemerals",
      prefix,
      (w) => Protocol.writePath(w, serverPrefix),
      decoded("getEphemerals", prefix, (r) => Protocol.readChildren(r).map((p) => session.clientPath(p)))
    )
  }

  const getAllChildrenNumber: ZooKeeperService["getAllChildrenNumber"] = (path) =>
    pathRequest(Protocol.OpCode.GetAllChildrenNumber, "getAllChildrenNumber", path, Protocol.readInt)

  const whoAmI: ZooKeeperService["whoAmI"] = () =>
    request(
      Protocol.OpCode.WhoAmI,
      "whoAmI",
      undefined,
      () => {},
      decoded("whoAmI", undefined, (r) => Protocol.readWhoAmIResponse(r).map((c) => ({ scheme: c.authScheme, id: c.user })))
    )

  const getConfig: ZooKeeperService["getConfig"] = () =>
    request(
      Protocol.OpCode.GetData,
      "getConfig",
      CONFIG_NODE,
      // The config node lives outside every chroot.
      (w) => Protocol.writePathWatch(w, CONFIG_NODE, false),
      decoded("getConfig", CONFIG_NODE, (r) => {
        const { data, stat } = Protocol.readGetDataResponse(r)
        return { config: data === null ? "" : Utf8.decode(data, 0, data.length), stat }
      })
    )

  const sendAddWatch = (serverPath: string, mode: PersistentMode): void =>
    session.sendInternal(Protocol.OpCode.AddWatch, (w) => Protocol.writeAddWatchRequest(w, serverPath, addWatchMode[mode]))

  const addWatch: ZooKeeperService["addWatch"] = (path, options) => {
    const mode: PersistentMode = options?.recursive === true ? "recursive" : "persistent"
    const capacity = options?.bufferSize ?? DEFAULT_WATCH_BUFFER
    return Stream.callback<PersistentWatchEvent, ZkError | WatchOverflow>((queue) => {
      const bad = badPath("addWatch", path) ??
        (Number.isInteger(capacity) && capacity > 0
          ? undefined
          : new BadArguments({ op: "addWatch", path, detail: `bufferSize must be a positive integer, got ${capacity}` }))
      if (bad !== undefined) return Effect.fail(bad)
      const serverPath = session.serverPath(path)
      const listener: PersistentListener = { clientPath: path, queue, capacity }
      return Effect.acquireRelease(
        Effect.suspend(() => {
          if (!session.watches.addPersistent(mode, serverPath, listener)) return Effect.void
          return request(
            Protocol.OpCode.AddWatch,
            "addWatch",
            path,
            (w) => Protocol.writeAddWatchRequest(w, serverPath, addWatchMode[mode]),
            decoded("addWatch", path, () => undefined)
          ).pipe(Effect.tapError(() => Effect.sync(() => session.watches.removePersistent(mode, serverPath, listener))))
        }),
        () => Effect.sync(() => {
          if (session.watches.removePersistent(mode, serverPath, listener)) dropServerWatch(serverPath)
        })
      )
    }, { bufferSize: capacity, strategy: "suspend" })
  }

  /**
   * Removes the server-side watches at a path once its last persistent subscriber is gone.
   * removeWatches can only remove everything at a path (Any), so whatever still needs a watch
   * there is re-armed right after: the other persistent mode, and one-shot watches via
   * SetWatches at the current zxid (nothing is replayed for them).
   */
  const dropServerWatch = (serverPath: string): void => {
    if (session.isEnded) return
    session.sendInternal(Protocol.OpCode.RemoveWatches, (w) => Protocol.writeWatcherRequest(w, serverPath, Protocol.WatcherType.Any))
    const w = session.watches
    const rearm = {
      relativeZxid: session.lastZxid,
      dataWatches: w.data.has(serverPath) ? [serverPath] : [],
      existWatches: w.exist.has(serverPath) ? [serverPath] : [],
      childWatches: w.child.has(serverPath) ? [serverPath] : []
    }
    if (rearm.dataWatches.length + rearm.existWatches.length + rearm.childWatches.length > 0) {
      session.sendInternal(Protocol.OpCode.SetWatches, (writer) => Protocol.writeSetWatches(writer, rearm))
    }
    for (const mode of w.persistentModesAt(serverPath)) sendAddWatch(serverPath, mode)
  }

  const watcherRequest = (op: number, opName: string, path: string, kind: WatchKind, onOk: (serverPath: string) => void) =>
    atPath(
      op,
      opName,
      path,
      (w, serverPath) => Protocol.writeWatcherRequest(w, serverPath, watcherType[kind]),
      (err, _r, serverPath): Exit.Exit<void, ZkError> => {
        if (err !== 0) return Exit.fail(fromCode(err, opName, path))
        onOk(serverPath)
        return Exit.void
      }
    )

  const removeWatches: ZooKeeperService["removeWatches"] = (path, kind) =>
    watcherRequest(Protocol.OpCode.RemoveWatches, "removeWatches", path, kind, (serverPath) => {
      const w = session.watches
      w.clear(kind === "data" ? ["data", "exist"] : kind === "children" ? ["child"] : ["data", "exist", "child"], serverPath)
      if (kind === "any") w.endPersistentAt(serverPath)
    })

  const checkWatches: ZooKeeperService["checkWatches"] = (path, kind) =>
    watcherRequest(Protocol.OpCode.CheckWatches, "checkWatches", path, kind, () => {})

  /**
   * Read, emit, wait for the one-shot watch the read left, repeat. The watch is set by the
   * read itself, so no change between a read and the next is lost.
   */
  const watchLoop = <A>(read: WatchedRead<A>): Stream.Stream<A, ZkError> => {
    return Stream.unfold<Stream.Stream<WatchEvent, ZkError> | undefined, A, ZkError, never>(
      undefined,
      (pending) =>
        Effect.gen(function*() {
          if (pending !== undefined) yield* Stream.runDrain(pending)
          const { value, watch } = yield* read
          return [value, watch] as const
        })
    )
  }

  /**
   * `read`, or while the node is missing `missing` with an exists watch (for the create); an
   * exists-then-read race loops back to `read`.
   */
  const orWhenMissing = <A>(path: string, read: WatchedRead<A>, missing: A): WatchedRead<A> => {
    const self: WatchedRead<A> = read.pipe(
      Effect.catchTag("NoNode", () =>
        Effect.flatMap(existsW(path), ({ stat, watch }) =>
          Option.isNone(stat) ? Effect.succeed({ value: missing, watch }) : Effect.suspend(() => self)))
    )
    return self
  }

  const watchData: ZooKeeperService["watchData"] = (path) =>
    watchLoop(orWhenMissing(
      path,
      Effect.map(getW(path), ({ data, stat, watch }) => ({ value: Option.some({ data, stat }), watch })),
      Option.none<NodeData>()
    ))

  const watchChildren: ZooKeeperService["watchChildren"] = (path) =>
    watchLoop(orWhenMissing<ReadonlyArray<string>>(
      path,
      Effect.map(childrenW(path), ({ children, watch }) => ({ value: children, watch })),
      []
    ))

  const updateServers: ZooKeeperService["updateServers"] = (servers) =>
    Effect.gen(function*() {
      const parsed = yield* ConnectString.parse(servers)
      if (parsed.chroot !== undefined && parsed.chroot !== session.options.chroot) {
        return yield* new BadArguments({
          op: "updateServers",
          detail: `the chroot cannot change (${session.options.chroot ?? "none"} -> ${parsed.chroot})`
        })
      }
      const hosts = yield* ConnectString.shuffled(parsed.hosts)
      session.updateHosts(hosts)
    })

  const retryChange: ZooKeeperService["retryChange"] = (path, f, options) =>
    Effect.suspend(() => {
      // Only a conflict of the step that lost a race is retried: NodeExists from the create,
      // BadVersion or NoNode from the set. The same tags from anywhere else (a create under a
      // missing parent, the function's own error) end it, as in gozk.
      let step: "read" | "change" | "create" | "set" = "read"
      const attempt = Effect.gen(function*() {
        step = "read"
        const current = yield* get(path).pipe(
          Effect.map(Option.some),
          Effect.catchTag("NoNode", () => Effect.succeed(Option.none<NodeData>()))
        )
        step = "change"
        const next = toBytes(yield* f(current))
        if (Option.isNone(current)) {
          step = "create"
          yield* create(path, next, { mode: options?.mode, acl: options?.acl })
          return
        }
        if (sameBytes(current.value.data, next)) return
        step = "set"
        yield* set(path, next, { version: current.value.stat.version })
      })
      return Effect.retry(attempt, {
        schedule: options?.schedule ?? defaultRetryChangeSchedule,
        while: (e) => step === "create" ? hasTag(e, "NodeExists") : step === "set" && (hasTag(e, "BadVersion") || hasTag(e, "NoNode"))
      })
    })

  const sessionEvents: Stream.Stream<SessionEvent> = Stream.unwrap(
    Effect.sync(() =>
      isTerminal(session.state)
        ? Stream.make<[SessionEvent]>({ state: session.state, sessionId: session.sessionId })
        : Stream.fromPubSub(session.events).pipe(Stream.takeUntil((e) => isTerminal(e.state)))
    )
  )

  return {
    create,
    create2,
    delete: del,
    exists,
    existsW,
    get,
    getW,
    set,
    children,
    childrenW,
    getAcl,
    setAcl,
    addAuth,
    sync,
    multi,
    multiRead,
    getEphemerals,
    getAllChildrenNumber,
    whoAmI,
    getConfig,
    retryChange,
    addWatch,
    watchData,
    watchChildren,
    removeWatches,
    checkWatches,
    updateServers,
    pendingWatches: Effect.sync(() => session.watches.size),
    sessionEvents,
    state: Effect.sync(() => session.state),
    clientId: Effect.sync(() => session.clientId),
    sessionTimeout: Effect.sync(() => session.negotiatedTimeout),
    close: session.close
  }
}

/** A read that returns a value and the one-shot watch it left. */
type WatchedRead<A> = Effect.Effect<{ readonly value: A; readonly watch: Stream.Stream<WatchEvent, ZkError> }, ZkError>

/** What a watchable read's reply means: a value and the watch table it implies, or an error code. */
type Parsed<A> =
  | { readonly ok: true; readonly value: A; readonly table: WatchTable }
  | { readonly ok: false; readonly code: number }

const hasTag = (e: unknown, tag: string): boolean => typeof e === "object" && e !== null && "_tag" in e && e._tag === tag

/**
 * The service as a layer (same as `ZooKeeper.layer`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (config: ZooKeeperConfig): Layer.Layer<ZooKeeper, ZkError, Transport> => ZooKeeper.layer(config)

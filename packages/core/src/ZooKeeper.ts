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
import { Context, Deferred, Duration, Effect, Exit, Layer, Option, Redacted, Schedule, Stream } from "effect"
import * as Acl from "./Acl.ts"
import * as ConnectString from "./ConnectString.ts"
import * as CreateModes from "./CreateMode.ts"
import { CreateMode } from "./CreateMode.ts"
import * as Utf8 from "./internal/utf8.ts"
import type { Call } from "./internal/connection.ts"
import type { JuteReader, JuteWriter } from "./internal/jute.ts"
import * as Session from "./internal/session.ts"
import type { WatchListener, WatchTable } from "./internal/watches.ts"
import * as Protocol from "./Protocol.ts"
import type { ClientId, SessionEvent, SessionState } from "./Session.ts"
import { isTerminal } from "./Session.ts"
import type { Stat } from "./Stat.ts"
import type { Transport } from "./Transport.ts"
import type { WatchEvent } from "./WatchEvent.ts"
import * as ZNodePath from "./ZNodePath.ts"
import { BadArguments, ErrorCode, fromCode, type ZkError } from "./ZkError.ts"

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
  /** Re-attach to this session (gozk's Redial) instead of opening a new one. */
  readonly session?: ClientId | undefined
  /** Accept a read-only server (state `ConnectedReadOnly`) when no read-write one answers. */
  readonly canBeReadOnly?: boolean | undefined
  /** Credentials sent on every connection, before anything else. */
  readonly auth?: ReadonlyArray<{ readonly scheme: string; readonly credential: Credential }> | undefined
  /**
   * Largest request the server accepts (its `jute.maxbuffer`, default 1,048,575 bytes). Larger
   * requests fail with `BadArguments` before anything is sent; replies may be up to 64 KiB more.
   */
  readonly maxBufferSize?: number | undefined
  /** Delay between connection attempts; each attempt tries the next host. */
  readonly reconnectSchedule?: Schedule.Schedule<unknown, ZkError> | undefined
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
  /** Milliseconds, for the TTL modes only (1 .. 2^40-1). */
  readonly ttl?: number | undefined
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
  /** Creates a node; returns its path (with the sequence suffix for sequential modes). */
  readonly create: (path: string, data?: Data, options?: CreateOptions) => Effect.Effect<string, ZkError>
  /** Creates a node; returns its path and Stat. */
  readonly create2: (
    path: string,
    data?: Data,
    options?: CreateOptions
  ) => Effect.Effect<{ readonly path: string; readonly stat: Stat }, ZkError>
  readonly delete: (path: string, options?: VersionOptions) => Effect.Effect<void, ZkError>
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
  /** Child names (unordered, as the server keeps them) and the parent's Stat. */
  readonly children: (
    path: string
  ) => Effect.Effect<{ readonly children: ReadonlyArray<string>; readonly stat: Stat }, ZkError>
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
   * gozk's RetryChange: read the node, compute the new value with `f`, create it if missing or
   * set it at the read version unless unchanged; on a conflict (`NodeExists`, `BadVersion`,
   * `NoNode`) start over per the schedule. Any other error, or `f`'s own, stops it.
   */
  readonly retryChange: <E>(
    path: string,
    f: (current: Option.Option<NodeData>) => Effect.Effect<Data, E>,
    options?: RetryChangeOptions
  ) => Effect.Effect<void, ZkError | E>
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
const DEFAULT_CONNECT_TIMEOUT = 15_000

/**
 * The default reconnect pacing: 20 ms doubling up to 1 s, jittered. Each attempt moves to the
 * next host, so a healthy member is found quickly, and a dead ensemble is never hammered.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultReconnectSchedule: Schedule.Schedule<unknown, ZkError> = Schedule.min([
  Schedule.exponential("20 millis", 2),
  Schedule.spaced("1 second")
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
export const make = Effect.fnUntraced(function*(config: ZooKeeperConfig) {
  const { hosts, chroot } = yield* ConnectString.parse(config.servers)
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
    reconnectSchedule: config.reconnectSchedule ?? defaultReconnectSchedule
  })
  return makeService(session)
})

/**
 * The service over a running session.
 */
const makeService = (session: Session.Session): ZooKeeperService => {
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
  ): Effect.Effect<A, ZkError> =>
    Effect.callback<A, ZkError>((resume) => {
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

  /** The common reply shape: a server error fails, success decodes the body. */
  const decoded = <A>(opName: string, path: string | undefined, read: (r: JuteReader) => A) =>
  (err: number, r: JuteReader | undefined): Exit.Exit<A, ZkError> =>
    err !== 0 || r === undefined ? Exit.fail(fromCode(err, opName, path)) : Exit.succeed(read(r))

  const badPath = (op: string, path: string, sequential = false): BadArguments | undefined => {
    const detail = ZNodePath.validationError(path, { sequential })
    return detail === undefined ? undefined : new BadArguments({ op, path, detail })
  }

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
    )

  const createWith = <A>(
    opName: string,
    path: string,
    data: Data | undefined,
    options: CreateOptions | undefined,
    read: (r: JuteReader) => A,
    opcodeFor: (mode: CreateMode) => number
  ): Effect.Effect<A, ZkError> => {
    const mode = options?.mode ?? CreateMode.Persistent
    const bad = badPath(opName, path, CreateModes.isSequential(mode))
    if (bad !== undefined) return Effect.fail(bad)
    const ttlError = CreateModes.ttlError(mode, options?.ttl)
    if (ttlError !== undefined) return Effect.fail(new BadArguments({ op: opName, path, detail: ttlError }))
    const acl = options?.acl ?? Acl.openUnsafe
    const aclError = Acl.validate(acl)
    if (aclError !== undefined) return Effect.fail(fromCode(ErrorCode.InvalidACL, opName, path, aclError))
    const op = opcodeFor(mode)
    const record: Protocol.CreateTTLRequest = {
      path: session.serverPath(path),
      data: toBytes(data),
      acl,
      flags: CreateModes.flags(mode),
      ttl: BigInt(options?.ttl ?? 0)
    }
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
    const bad = badPath("delete", path) ?? badVersion("delete", path, version)
    if (bad !== undefined) return Effect.fail(bad)
    const serverPath = session.serverPath(path)
    return request(
      Protocol.OpCode.Delete,
      "delete",
      path,
      (w) => Protocol.writePathVersion(w, serverPath, version),
      decoded("delete", path, () => undefined)
    )
  }

  /**
   * A read that can leave a one-shot watch (exists, getData, getChildren2). The watch is
   * registered when the reply arrives, in the table the reply implies (Java's ZKWatchManager):
   * `parse` says which, or fails, and a failed read leaves no watch.
   */
  const watchableRead = <A>(
    op: number,
    opName: string,
    path: string,
    setWatch: boolean,
    parse: (err: number, r: JuteReader | undefined) => Parsed<A>
  ): Effect.Effect<{ readonly value: A; readonly watch: Stream.Stream<WatchEvent, ZkError> }, ZkError> => {
    const bad = badPath(opName, path)
    if (bad !== undefined) return Effect.fail(bad)
    const serverPath = session.serverPath(path)
    return request(
      op,
      opName,
      path,
      (w) => Protocol.writePathWatch(w, serverPath, setWatch),
      (err, r) => {
        const parsed = parse(err, r)
        if (!parsed.ok) return Exit.fail(fromCode(parsed.code, opName, path))
        const watch = setWatch ? watchStream(parsed.table, serverPath, session.watches.add(parsed.table, serverPath)) : Stream.empty
        return Exit.succeed({ value: parsed.value, watch })
      }
    )
  }

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

  const exists: ZooKeeperService["exists"] = (path) =>
    Effect.map(watchableRead(Protocol.OpCode.Exists, "exists", path, false, parseExists), (r) => r.value)

  const existsW: ZooKeeperService["existsW"] = (path) =>
    Effect.map(watchableRead(Protocol.OpCode.Exists, "existsW", path, true, parseExists), ({ value, watch }) => ({ stat: value, watch }))

  const get: ZooKeeperService["get"] = (path) =>
    Effect.map(watchableRead(Protocol.OpCode.GetData, "get", path, false, parseGet), (r) => r.value)

  const getW: ZooKeeperService["getW"] = (path) =>
    Effect.map(watchableRead(Protocol.OpCode.GetData, "getW", path, true, parseGet), ({ value, watch }) => ({ ...value, watch }))

  const set: ZooKeeperService["set"] = (path, data, options) => {
    const version = options?.version ?? -1
    const bad = badPath("set", path) ?? badVersion("set", path, version)
    if (bad !== undefined) return Effect.fail(bad)
    const serverPath = session.serverPath(path)
    const bytes = toBytes(data)
    return request(
      Protocol.OpCode.SetData,
      "set",
      path,
      (w) => Protocol.writeSetDataRequest(w, serverPath, bytes, version),
      decoded("set", path, Protocol.readStat)
    )
  }

  const children: ZooKeeperService["children"] = (path) =>
    Effect.map(watchableRead(Protocol.OpCode.GetChildren2, "children", path, false, parseChildren), (r) => r.value)

  const childrenW: ZooKeeperService["childrenW"] = (path) =>
    Effect.map(
      watchableRead(Protocol.OpCode.GetChildren2, "childrenW", path, true, parseChildren),
      ({ value, watch }) => ({ ...value, watch })
    )

  const getAcl: ZooKeeperService["getAcl"] = (path) => {
    const bad = badPath("getAcl", path)
    if (bad !== undefined) return Effect.fail(bad)
    const serverPath = session.serverPath(path)
    return request(
      Protocol.OpCode.GetACL,
      "getAcl",
      path,
      (w) => Protocol.writePath(w, serverPath),
      decoded("getAcl", path, Protocol.readGetACLResponse)
    )
  }

  const setAcl: ZooKeeperService["setAcl"] = (path, acl, options) => {
    const version = options?.version ?? -1
    const bad = badPath("setAcl", path) ?? badVersion("setAcl", path, version)
    if (bad !== undefined) return Effect.fail(bad)
    const aclError = Acl.validate(acl)
    if (aclError !== undefined) return Effect.fail(fromCode(ErrorCode.InvalidACL, "setAcl", path, aclError))
    const serverPath = session.serverPath(path)
    return request(
      Protocol.OpCode.SetACL,
      "setAcl",
      path,
      (w) => Protocol.writeSetACLRequest(w, serverPath, acl, version),
      decoded("setAcl", path, Protocol.readStat)
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

  const sync: ZooKeeperService["sync"] = (path) => {
    const bad = badPath("sync", path)
    if (bad !== undefined) return Effect.fail(bad)
    const serverPath = session.serverPath(path)
    return request(
      Protocol.OpCode.Sync,
      "sync",
      path,
      (w) => Protocol.writePath(w, serverPath),
      decoded("sync", path, (r) => session.clientPath(Protocol.readPath(r)))
    )
  }

  const retryChange: ZooKeeperService["retryChange"] = (path, f, options) => {
    const attempt = Effect.gen(function*() {
      const current = yield* get(path).pipe(
        Effect.map(Option.some),
        Effect.catchTag("NoNode", () => Effect.succeed(Option.none<NodeData>()))
      )
      const next = toBytes(yield* f(current))
      if (Option.isNone(current)) {
        yield* create(path, next, { mode: options?.mode, acl: options?.acl })
        return
      }
      if (sameBytes(current.value.data, next)) return
      yield* set(path, next, { version: current.value.stat.version })
    })
    return Effect.retry(attempt, {
      schedule: options?.schedule ?? defaultRetryChangeSchedule,
      while: (e) => isConflict(e)
    })
  }

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
    retryChange,
    pendingWatches: Effect.sync(() => session.watches.size),
    sessionEvents,
    state: Effect.sync(() => session.state),
    clientId: Effect.sync(() => session.clientId),
    sessionTimeout: Effect.sync(() => session.negotiatedTimeout),
    close: session.close
  }
}

/** What a watchable read's reply means: a value and the watch table it implies, or an error code. */
type Parsed<A> =
  | { readonly ok: true; readonly value: A; readonly table: WatchTable }
  | { readonly ok: false; readonly code: number }

const isConflict = (e: unknown): boolean => {
  if (typeof e !== "object" || e === null || !("_tag" in e)) return false
  return e._tag === "NodeExists" || e._tag === "BadVersion" || e._tag === "NoNode"
}

/**
 * The service as a layer (same as `ZooKeeper.layer`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (config: ZooKeeperConfig): Layer.Layer<ZooKeeper, ZkError, Transport> => ZooKeeper.layer(config)

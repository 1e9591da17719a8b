/**
 * The `ZooKeeper` service over a running session. Each operation reads validate → record →
 * request → shape; the wire records of each request kind are the `Operation`s in
 * `operations.ts`, the helpers over them are in `everyday.ts`.
 *
 * Shaped for many sessions per process. The operations are `ZooKeeperService`'s function
 * properties, so callers may pass `zk.get` around detached or spread the service into a
 * wrapper; a closure per operation per session would cost about 2.5 KB per session for
 * functions most sessions never call. So each is made on its first access (a getter, also an
 * own accessor of every instance: see `ownAccessors`) and kept in a private field of its own:
 * one hidden class for every session, and an idle session keeps only the ones it used.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as Acl from "../Acl.ts"
import * as ConnectString from "../ConnectString.ts"
import { isTerminal, type SessionEvent } from "../Session.ts"
import type { PersistentWatchEvent, WatchOverflow } from "../WatchEvent.ts"
import type * as Op from "../Op.ts"
import type * as Protocol from "../Protocol.ts"
import type {
  CreateOptions,
  Credential,
  Data,
  DeleteOptions,
  NodeData,
  VersionOptions,
  ZooKeeperService
} from "../ZooKeeper.ts"
import * as ZNodePath from "../ZNodePath.ts"
import { BadArguments, fromCode, type ZkError } from "../ZkError.ts"
import * as Create from "./create.ts"
import * as Everyday from "./everyday.ts"
import * as Multi from "./multi.ts"
import type { Instrument } from "./observability.ts"
import {
  ADD_WATCH,
  CHECK_WATCHES,
  CHILDREN,
  CHILDREN_W,
  CREATE,
  CREATE2,
  DELETE,
  EXISTS,
  EXISTS_W,
  GET,
  GET_ACL,
  GET_ALL_CHILDREN_NUMBER,
  GET_CONFIG,
  GET_EPHEMERALS,
  GET_W,
  REMOVE_WATCHES,
  SET,
  SET_ACL,
  SYNC,
  type Watch,
  WHO_AM_I
} from "./operations.ts"
import * as Request from "./request.ts"
import type { Supervisor } from "./supervisor.ts"
import * as Utf8 from "./utf8.ts"
import type { PersistentListener, PersistentMode } from "./watches.ts"

const CONFIG_NODE = "/zookeeper/config"
const DEFAULT_WATCH_BUFFER = 1024

const defaultRetryChangeSchedule: Schedule.Schedule<unknown, unknown> = Schedule.max([
  Schedule.min([Schedule.exponential("5 millis", 2), Schedule.spaced("200 millis")]).pipe(Schedule.jittered),
  Schedule.recurs(100)
])

/** The bytes of a credential, revealed only here, right before they are sent. */
export const credentialBytes = (credential: Credential): Uint8Array => {
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

const hasTag = (e: unknown, tag: string): boolean => typeof e === "object" && e !== null && "_tag" in e && e._tag === tag

/** A read that returns a value and the one-shot watch it left. */
type WatchedRead<A> = Effect.Effect<{ readonly value: A; readonly watch: Watch }, ZkError>

/**
 * Read, emit, wait for the one-shot watch the read left, repeat. The watch is set by the
 * read itself, so no change between a read and the next is lost.
 */
const watchLoop = <A>(read: WatchedRead<A>): Stream.Stream<A, ZkError> =>
  Stream.unfold<Watch | undefined, A, ZkError, never>(
    undefined,
    (pending) =>
      Effect.gen(function*() {
        if (pending !== undefined) yield* Stream.runDrain(pending)
        const { value, watch } = yield* read
        return [value, watch] as const
      })
  )

/**
 * The single-request `create`, `create2` and `delete` (no parents, protection or recursion)
 * beside the other plain operations: what the helpers of `everyday.ts` build on.
 */
class Plain implements Everyday.PlainOps {
  private readonly client: Client
  private readonly request: Request.Request
  constructor(client: Client, request: Request.Request) {
    this.client = client
    this.request = request
  }
  create(path: string, data?: Data, options?: CreateOptions) {
    return this.request(CREATE, path, { data: toBytes(data), options }, Create.settingsError("create", path, options))
  }
  create2(path: string, data?: Data, options?: CreateOptions) {
    return this.request(CREATE2, path, { data: toBytes(data), options }, Create.settingsError("create2", path, options))
  }
  delete(path: string, options?: DeleteOptions) {
    const version = options?.version ?? -1
    return this.request(DELETE, path, version, Create.versionError("delete", path, version))
  }
  exists(path: string) {
    return this.client.exists(path)
  }
  get(path: string) {
    return this.client.get(path)
  }
  set(path: string, data: Data, options?: VersionOptions) {
    return this.client.set(path, data, options)
  }
  children(path: string) {
    return this.client.children(path)
  }
  multi(ops: ReadonlyArray<Op.Op>) {
    return this.client.multi(ops)
  }
  multiRead(ops: ReadonlyArray<Op.ReadOp>) {
    return this.client.multiRead(ops)
  }
}

/** The service of one session (see the module comment for its shape). */
export class Client implements ZooKeeperService {
  readonly #request: Request.Request
  readonly #session: Supervisor
  readonly #chroot: string | undefined
  #plainOps: Plain | undefined = undefined
  /** The hub of `sessionEvents`, made on first use: most sessions never have a subscriber. */
  #hub: PubSub.PubSub<SessionEvent> | undefined = undefined

  constructor(session: Supervisor, instrument: Instrument | undefined) {
    this.#session = session
    this.#chroot = session.chroot
    this.#request = Request.make(session, instrument)
    Object.defineProperties(this, ownAccessors)
  }

  private plain(): Plain {
    return this.#plainOps ??= new Plain(this, this.#request)
  }

  // -- Operations, each made on first access --------------------------------------------------

  #create: ZooKeeperService["create"] | undefined = undefined
  get create(): ZooKeeperService["create"] {
    return this.#create ??= (path, data, options) => Everyday.create(this.plain(), this.#chroot, path, data, options)
  }

  #create2: ZooKeeperService["create2"] | undefined = undefined
  get create2(): ZooKeeperService["create2"] {
    return this.#create2 ??= (path, data, options) => Everyday.create2(this.plain(), this.#chroot, path, data, options)
  }

  #delete: ZooKeeperService["delete"] | undefined = undefined
  get delete(): ZooKeeperService["delete"] {
    return this.#delete ??= (path, options) => Everyday.del(this.plain(), path, options)
  }

  #ensurePath: ZooKeeperService["ensurePath"] | undefined = undefined
  get ensurePath(): ZooKeeperService["ensurePath"] {
    return this.#ensurePath ??= (path, options) => Everyday.ensurePath(this.plain(), this.#chroot, path, options)
  }

  #exists: ZooKeeperService["exists"] | undefined = undefined
  get exists(): ZooKeeperService["exists"] {
    return this.#exists ??= (path) => this.#request(EXISTS, path, undefined)
  }

  #existsW: ZooKeeperService["existsW"] | undefined = undefined
  get existsW(): ZooKeeperService["existsW"] {
    return this.#existsW ??= (path) => this.#request(EXISTS_W, path, undefined)
  }

  #get: ZooKeeperService["get"] | undefined = undefined
  get get(): ZooKeeperService["get"] {
    return this.#get ??= (path) => this.#request(GET, path, undefined)
  }

  #getW: ZooKeeperService["getW"] | undefined = undefined
  get getW(): ZooKeeperService["getW"] {
    return this.#getW ??= (path) => this.#request(GET_W, path, undefined)
  }

  #set: ZooKeeperService["set"] | undefined = undefined
  get set(): ZooKeeperService["set"] {
    return this.#set ??= (path, data, options) => {
      const version = options?.version ?? -1
      return this.#request(SET, path, { data: toBytes(data), version }, Create.versionError("set", path, version))
    }
  }

  #getText: ZooKeeperService["getText"] | undefined = undefined
  get getText(): ZooKeeperService["getText"] {
    return this.#getText ??= (path) => Everyday.getText(this, path)
  }

  #getAs: ZooKeeperService["getAs"] | undefined = undefined
  get getAs(): ZooKeeperService["getAs"] {
    return this.#getAs ??= (path, schema) => Everyday.getAs(this, path, schema)
  }

  #setAs: ZooKeeperService["setAs"] | undefined = undefined
  get setAs(): ZooKeeperService["setAs"] {
    return this.#setAs ??= (path, value, schema, options) => Everyday.setAs(this, path, value, schema, options)
  }

  #children: ZooKeeperService["children"] | undefined = undefined
  get children(): ZooKeeperService["children"] {
    return this.#children ??= (path) => this.#request(CHILDREN, path, undefined)
  }

  #childrenData: ZooKeeperService["childrenData"] | undefined = undefined
  get childrenData(): ZooKeeperService["childrenData"] {
    return this.#childrenData ??= (path) => Everyday.childrenData(this, path)
  }

  #childrenW: ZooKeeperService["childrenW"] | undefined = undefined
  get childrenW(): ZooKeeperService["childrenW"] {
    return this.#childrenW ??= (path) => this.#request(CHILDREN_W, path, undefined)
  }

  #getAcl: ZooKeeperService["getAcl"] | undefined = undefined
  get getAcl(): ZooKeeperService["getAcl"] {
    return this.#getAcl ??= (path) => this.#request(GET_ACL, path, undefined)
  }

  #setAcl: ZooKeeperService["setAcl"] | undefined = undefined
  get setAcl(): ZooKeeperService["setAcl"] {
    return this.#setAcl ??= (path, acl, options) => {
      const version = options?.version ?? -1
      const invalid = Create.versionError("setAcl", path, version) ?? Acl.checkError("setAcl", path, acl)
      return this.#request(SET_ACL, path, { acl, version }, invalid)
    }
  }

  #addAuth: ZooKeeperService["addAuth"] | undefined = undefined
  get addAuth(): ZooKeeperService["addAuth"] {
    return this.#addAuth ??= (scheme, credential) => {
      if (scheme.length === 0) return Effect.fail(new BadArguments({ op: "addAuth", detail: "scheme must not be empty" }))
      const auth = credentialBytes(credential)
      return Effect.callback<void, ZkError>((resume) => {
        this.#session.addAuth({ scheme, auth }, (err) =>
          resume(err === 0 ? Exit.void : Exit.fail(fromCode(err, { op: "addAuth", detail: `scheme ${scheme}` }))))
      })
    }
  }

  #sync: ZooKeeperService["sync"] | undefined = undefined
  get sync(): ZooKeeperService["sync"] {
    return this.#sync ??= (path) => this.#request(SYNC, path, undefined)
  }

  /** A transaction: its ops as wire records (or why they cannot be sent), in one request. */
  private transaction<O extends { readonly path: string }>(
    operation: Request.Operation<Multi.Transaction, ReadonlyArray<Op.OpResult>>,
    encode: (ops: ReadonlyArray<O>, chroot: string | undefined) => Array<Protocol.MultiOp> | ZkError,
    ops: ReadonlyArray<O>
  ): Effect.Effect<ReadonlyArray<Op.OpResult>, ZkError> {
    const records = encode(ops, this.#chroot)
    if ("_tag" in records) return Effect.fail(records)
    return this.#request(operation, undefined, { records, paths: ops.map((op) => op.path) })
  }

  #multi: ZooKeeperService["multi"] | undefined = undefined
  get multi(): ZooKeeperService["multi"] {
    return this.#multi ??= (ops) => this.transaction(Multi.MULTI, Multi.writeOps, ops)
  }

  #multiRead: ZooKeeperService["multiRead"] | undefined = undefined
  get multiRead(): ZooKeeperService["multiRead"] {
    return this.#multiRead ??= (ops) => this.transaction(Multi.MULTI_READ, Multi.readOps, ops)
  }

  #getEphemerals: ZooKeeperService["getEphemerals"] | undefined = undefined
  get getEphemerals(): ZooKeeperService["getEphemerals"] {
    return this.#getEphemerals ??= (prefix = "/") => {
      const invalid = prefix.startsWith("/")
        ? undefined
        : new BadArguments({ op: "getEphemerals", path: prefix, detail: 'prefix must start with "/"' })
      // A plain string prefix on the server's side: "/" under a chroot means the chroot itself.
      const chroot = this.#chroot
      const serverPrefix = chroot === undefined ? prefix : chroot + (prefix === "/" ? "" : prefix)
      return this.#request(GET_EPHEMERALS, prefix, serverPrefix, invalid)
    }
  }

  #getAllChildrenNumber: ZooKeeperService["getAllChildrenNumber"] | undefined = undefined
  get getAllChildrenNumber(): ZooKeeperService["getAllChildrenNumber"] {
    return this.#getAllChildrenNumber ??= (path) => this.#request(GET_ALL_CHILDREN_NUMBER, path, undefined)
  }

  #whoAmI: ZooKeeperService["whoAmI"] | undefined = undefined
  get whoAmI(): ZooKeeperService["whoAmI"] {
    return this.#whoAmI ??= () => this.#request(WHO_AM_I, undefined, undefined)
  }

  #getConfig: ZooKeeperService["getConfig"] | undefined = undefined
  get getConfig(): ZooKeeperService["getConfig"] {
    return this.#getConfig ??= () => this.#request(GET_CONFIG, CONFIG_NODE, undefined)
  }

  #retryChange: ZooKeeperService["retryChange"] | undefined = undefined
  get retryChange(): ZooKeeperService["retryChange"] {
    return this.#retryChange ??= (path, f, options) =>
      Effect.suspend(() => {
        // Only a conflict of the step that lost a race is retried: NodeExists from the create,
        // BadVersion or NoNode from the set. The same tags from anywhere else (a create under a
        // missing parent, the function's own error) end it, as in gozk.
        let step: "read" | "change" | "create" | "set" = "read"
        const { get, create, set } = this
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
  }

  #addWatch: ZooKeeperService["addWatch"] | undefined = undefined
  get addWatch(): ZooKeeperService["addWatch"] {
    return this.#addWatch ??= (path, options) => {
      const mode: PersistentMode = options?.recursive === true ? "recursive" : "persistent"
      const capacity = options?.bufferSize ?? DEFAULT_WATCH_BUFFER
      return Stream.callback<PersistentWatchEvent, ZkError | WatchOverflow>((queue) => {
        const bad = ZNodePath.checkError("addWatch", path) ??
          (Number.isInteger(capacity) && capacity > 0
            ? undefined
            : new BadArguments({ op: "addWatch", path, detail: `bufferSize must be a positive integer, got ${capacity}` }))
        if (bad !== undefined) return Effect.fail(bad)
        const serverPath = ZNodePath.prependChroot(this.#chroot, path)
        const listener: PersistentListener = { clientPath: path, queue, capacity }
        const watches = this.#session.watches
        return Effect.acquireRelease(
          Effect.suspend(() => {
            const record = watches.subscribe(mode, serverPath, listener)
            if (record === undefined) return Effect.void
            return this.#request(ADD_WATCH, path, record).pipe(
              Effect.tapError(() => Effect.sync(() => watches.unsubscribe(mode, serverPath, listener)))
            )
          }),
          () => Effect.sync(() => watches.unsubscribe(mode, serverPath, listener))
        )
      }, { bufferSize: capacity, strategy: "suspend" })
    }
  }

  /**
   * `read`, or while the node is missing `missing` with an exists watch (for the create); an
   * exists-then-read race loops back to `read`.
   */
  private orWhenMissing<A>(path: string, read: WatchedRead<A>, missing: A): WatchedRead<A> {
    const self: WatchedRead<A> = read.pipe(
      Effect.catchTag("NoNode", () =>
        Effect.flatMap(this.existsW(path), ({ stat, watch }) =>
          Option.isNone(stat) ? Effect.succeed({ value: missing, watch }) : Effect.suspend(() => self)))
    )
    return self
  }

  #watchData: ZooKeeperService["watchData"] | undefined = undefined
  get watchData(): ZooKeeperService["watchData"] {
    return this.#watchData ??= (path) =>
      watchLoop(this.orWhenMissing(
        path,
        Effect.map(this.getW(path), ({ data, stat, watch }) => ({ value: Option.some({ data, stat }), watch })),
        Option.none<NodeData>()
      ))
  }

  #watchChildren: ZooKeeperService["watchChildren"] | undefined = undefined
  get watchChildren(): ZooKeeperService["watchChildren"] {
    return this.#watchChildren ??= (path) =>
      watchLoop(this.orWhenMissing<ReadonlyArray<string>>(
        path,
        Effect.map(this.childrenW(path), ({ children, watch }) => ({ value: children, watch })),
        []
      ))
  }

  #removeWatches: ZooKeeperService["removeWatches"] | undefined = undefined
  get removeWatches(): ZooKeeperService["removeWatches"] {
    return this.#removeWatches ??= (path, kind) => this.#request(REMOVE_WATCHES, path, kind)
  }

  #checkWatches: ZooKeeperService["checkWatches"] | undefined = undefined
  get checkWatches(): ZooKeeperService["checkWatches"] {
    return this.#checkWatches ??= (path, kind) => this.#request(CHECK_WATCHES, path, kind)
  }

  #updateServers: ZooKeeperService["updateServers"] | undefined = undefined
  get updateServers(): ZooKeeperService["updateServers"] {
    return this.#updateServers ??= (servers) =>
      Effect.flatMap(ConnectString.parse(servers), (parsed) => {
        const chroot = this.#chroot
        if (parsed.chroot !== undefined && parsed.chroot !== chroot) {
          return Effect.fail(
            new BadArguments({ op: "updateServers", detail: `the chroot cannot change (${chroot ?? "none"} -> ${parsed.chroot})` })
          )
        }
        return Effect.map(ConnectString.shuffled(parsed.hosts), (hosts) => this.#session.updateHosts(hosts))
      })
  }

  // -- Session state: effects made per access, as they are rarely read ------------------------

  get pendingWatches(): ZooKeeperService["pendingWatches"] {
    return Effect.sync(() => this.#session.watches.size)
  }

  get state(): ZooKeeperService["state"] {
    return Effect.sync(() => this.#session.state)
  }

  get clientId(): ZooKeeperService["clientId"] {
    return Effect.sync(() => this.#session.clientId)
  }

  get sessionTimeout(): ZooKeeperService["sessionTimeout"] {
    return Effect.sync(() => this.#session.negotiatedTimeout)
  }

  get close(): ZooKeeperService["close"] {
    return this.#session.close
  }

  private eventHub(): Effect.Effect<PubSub.PubSub<SessionEvent>> {
    return Effect.suspend(() => {
      const existing = this.#hub
      if (existing !== undefined) return Effect.succeed(existing)
      return Effect.map(PubSub.unbounded<SessionEvent>(), (created) => {
        this.#hub = created
        this.#session.subscribe((event) => PubSub.publishUnsafe(created, event))
        return created
      })
    })
  }

  get sessionEvents(): ZooKeeperService["sessionEvents"] {
    return Stream.unwrap(
      Effect.suspend(() => {
        const session = this.#session
        return isTerminal(session.state)
          ? Effect.succeed(Stream.make<[SessionEvent]>({ state: session.state, sessionId: session.clientId.sessionId }))
          : Effect.map(this.eventHub(), (events) => Stream.fromPubSub(events).pipe(Stream.takeUntil((e) => isTerminal(e.state))))
      })
    )
  }
}

/**
 * Every getter of the prototype (the service's members) also as an own, enumerable accessor of
 * each instance, so the service spreads like a plain object (`{ ...zk, get: traced }`). The
 * accessors are the same functions for every instance, so instances share one hidden class
 * and this costs an instance nothing.
 */
const ownAccessors: PropertyDescriptorMap = {}
for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(Client.prototype))) {
  if (descriptor.get !== undefined) ownAccessors[name] = { get: descriptor.get, enumerable: true, configurable: true }
}

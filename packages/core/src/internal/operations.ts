/**
 * The wire side of every request kind: one static `Operation` record each (what to write, which
 * opcode, how to read the reply), and the one-shot watch as a lazily built Stream. The service in
 * `ZooKeeper.ts` only validates, calls `request` with one of these, and shapes the result.
 */
import * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { identity } from "effect/Function"
import * as Option from "effect/Option"
import * as Pipeable from "effect/Pipeable"
import type * as Pull from "effect/Pull"
import * as Stream from "effect/Stream"
import * as Acl from "../Acl.ts"
import * as CreateModes from "../CreateMode.ts"
import * as Protocol from "../Protocol.ts"
import type { Stat } from "../Stat.ts"
import type { WatchEvent } from "../WatchEvent.ts"
import type { CreateOptions, NodeData, WatchKind } from "../ZooKeeper.ts"
import * as ZNodePath from "../ZNodePath.ts"
import { ErrorCode, type ZkError } from "../ZkError.ts"
import * as Create from "./create.ts"
import type { Operation } from "./request.ts"
import * as Utf8 from "./utf8.ts"
import type * as Supervisor from "./supervisor.ts"
import type { OneShot, Outcome, WatchManager, WatchTable } from "./watches.ts"

/** What a watch-leaving read returns alongside its value. */
export type Watch = Stream.Stream<WatchEvent, ZkError>

export const watcherType: Record<WatchKind, number> = {
  data: Protocol.WatcherType.Data,
  children: Protocol.WatcherType.Children,
  any: Protocol.WatcherType.Any
}

export const variance: Stream.VarianceStruct<WatchEvent, ZkError, never> = { _A: identity, _E: identity, _R: identity }

type EventPull = Pull.Pull<Arr.NonEmptyReadonlyArray<WatchEvent>, ZkError, void>

/** What a pull of a one-shot watch ends with, for each outcome. */
const outcomePull = (outcome: Outcome): EventPull =>
  outcome._tag === "Fired" ? Exit.succeed(Arr.of(outcome.event)) : outcome._tag === "Removed" ? Cause.done() : Exit.fail(outcome.error)

/**
 * One run of a one-shot watch: the first pull waits for the outcome, every later pull is done.
 * It is the channel's pull itself, with no inner stream: a watch round trip (one
 * `Stream.runHead` per event) paid for an unwrapped effect and a one-element stream inside it.
 */
const oneShotPull = (watches: WatchManager, listener: OneShot): EventPull => {
  let settled = false
  const wait = Effect.callback<Arr.NonEmptyReadonlyArray<WatchEvent>, ZkError | Cause.Done>((resume) => {
    const onOutcome = (outcome: Outcome) => {
      settled = true
      resume(outcomePull(outcome))
    }
    listener.await(onOutcome)
    return Effect.sync(() => {
      if (listener.cancel(onOutcome)) watches.forget(listener)
    })
  })
  return Effect.suspend(() => (settled ? Cause.done() : wait))
}

/**
 * A one-shot watch as a Stream. Its channel is built only when someone runs it: until then a
 * held watch costs this object and its table entry, no effect or channel. An interrupted
 * consumer forgets the watch, so pendingWatches counts only live ones.
 */
export class OneShotStream extends Pipeable.Class implements Watch {
  private readonly watches: WatchManager
  private readonly listener: OneShot
  constructor(watches: WatchManager, listener: OneShot) {
    super()
    this.watches = watches
    this.listener = listener
  }

  get [Stream.TypeId](): Stream.VarianceStruct<WatchEvent, ZkError, never> {
    return variance
  }

  get channel(): Watch["channel"] {
    const { listener, watches } = this
    return Channel.fromTransform(() => Effect.sync(() => oneShotPull(watches, listener)))
  }
}

// -- Records and replies: one Operation per request kind ----------------------------------------

export const clientPath = (session: Supervisor.Supervisor, serverPath: string): string =>
  ZNodePath.stripChroot(session.chroot, serverPath)

/** Registers the one-shot watch a read left and returns it as a Stream. */
export const watch = (session: Supervisor.Supervisor, table: WatchTable, serverPath: string): Watch =>
  new OneShotStream(session.watches, session.watches.afterRead(table, serverPath))


export const writePlain = (w: Protocol.JuteWriter, serverPath: string) => Protocol.writePathWatch(w, serverPath, false)
export const writeWatched = (w: Protocol.JuteWriter, serverPath: string) => Protocol.writePathWatch(w, serverPath, true)
export const writePath = (w: Protocol.JuteWriter, serverPath: string) => Protocol.writePath(w, serverPath)
/** A node without data (the server's null) reads as empty bytes; one empty array serves them all. */
const NO_DATA = new Uint8Array(0)
export const readNodeData = (r: Protocol.JuteReader): NodeData => {
  const data = r.buffer() ?? NO_DATA
  return { data, stat: Protocol.readStat(r) }
}
export const readCreated2 = (r: Protocol.JuteReader, _: string, __: unknown, session: Supervisor.Supervisor) => {
  const { path, stat } = Protocol.readCreate2Response(r)
  return { path: clientPath(session, path), stat }
}

export interface CreateInput {
  readonly data: Uint8Array
  readonly options: CreateOptions | undefined
}
export const createOpcode = (input: CreateInput) => CreateModes.opcodeFor(Create.modeOf(input.options))
export const writeCreate = (w: Protocol.JuteWriter, serverPath: string, input: CreateInput) => {
  const record = Create.record(serverPath, input.data, input.options)
  if (createOpcode(input) === Protocol.OpCode.CreateTTL) Protocol.writeCreateTTLRequest(w, record)
  else Protocol.writeCreateRequest(w, record)
}
export const createSequential = (input: CreateInput) => CreateModes.isSequential(Create.modeOf(input.options))

export const CREATE: Operation<CreateInput, string> = {
  name: "create",
  // The plain modes use create (1), whose reply is just the path.
  op: (input) => createOpcode(input) === Protocol.OpCode.Create2 ? Protocol.OpCode.Create : createOpcode(input),
  sequential: createSequential,
  write: writeCreate,
  // Container and TTL opcodes always answer in the create2 layout.
  read: (r, serverPath, input, session) =>
    createOpcode(input) === Protocol.OpCode.Create2
      ? clientPath(session, Protocol.readPath(r))
      : readCreated2(r, serverPath, input, session).path
}
export const CREATE2: Operation<CreateInput, { readonly path: string; readonly stat: Stat }> = {
  name: "create2",
  op: createOpcode,
  sequential: createSequential,
  write: writeCreate,
  read: readCreated2
}
export const DELETE: Operation<number, void> = {
  name: "delete",
  op: Protocol.OpCode.Delete,
  write: (w, serverPath, version) => Protocol.writePathVersion(w, serverPath, version),
  read: () => undefined
}
export const EXISTS: Operation<void, Option.Option<Stat>> = {
  name: "exists",
  op: Protocol.OpCode.Exists,
  write: writePlain,
  read: (r) => Option.some(Protocol.readStat(r)),
  // NoNode is a result of exists, not an error.
  recover: (code) => code === ErrorCode.NoNode ? Option.none() : undefined
}
export const EXISTS_W: Operation<void, { readonly stat: Option.Option<Stat>; readonly watch: Watch }> = {
  name: "existsW",
  op: Protocol.OpCode.Exists,
  write: writeWatched,
  read: (r, serverPath, _, session) => ({ stat: Option.some(Protocol.readStat(r)), watch: watch(session, "data", serverPath) }),
  // A missing node still leaves a watch, for its creation.
  recover: (code, serverPath, _, session) =>
    code === ErrorCode.NoNode ? { stat: Option.none(), watch: watch(session, "exist", serverPath) } : undefined
}
export const GET: Operation<void, NodeData> = { name: "get", op: Protocol.OpCode.GetData, write: writePlain, read: readNodeData }
export const GET_W: Operation<void, NodeData & { readonly watch: Watch }> = {
  name: "getW",
  op: Protocol.OpCode.GetData,
  write: writeWatched,
  read: (r, serverPath, _, session) => {
    const data = r.buffer() ?? NO_DATA
    return { data, stat: Protocol.readStat(r), watch: watch(session, "data", serverPath) }
  }
}
export const SET: Operation<{ readonly data: Uint8Array; readonly version: number }, Stat> = {
  name: "set",
  op: Protocol.OpCode.SetData,
  write: (w, serverPath, input) => Protocol.writeSetDataRequest(w, serverPath, input.data, input.version),
  read: Protocol.readStat
}
export const CHILDREN: Operation<void, { readonly children: ReadonlyArray<string>; readonly stat: Stat }> = {
  name: "children",
  op: Protocol.OpCode.GetChildren2,
  write: writePlain,
  read: Protocol.readChildren2Response
}
export const CHILDREN_W: Operation<void, { readonly children: ReadonlyArray<string>; readonly stat: Stat; readonly watch: Watch }> = {
  name: "childrenW",
  op: Protocol.OpCode.GetChildren2,
  write: writeWatched,
  read: (r, serverPath, _, session) => ({ ...Protocol.readChildren2Response(r), watch: watch(session, "child", serverPath) })
}
export const GET_ACL: Operation<void, { readonly acl: ReadonlyArray<Acl.Acl>; readonly stat: Stat }> = {
  name: "getAcl",
  op: Protocol.OpCode.GetACL,
  write: writePath,
  read: Protocol.readGetACLResponse
}
export const SET_ACL: Operation<{ readonly acl: ReadonlyArray<Acl.Acl>; readonly version: number }, Stat> = {
  name: "setAcl",
  op: Protocol.OpCode.SetACL,
  write: (w, serverPath, input) => Protocol.writeSetACLRequest(w, serverPath, input.acl, input.version),
  read: Protocol.readStat
}
export const SYNC: Operation<void, string> = {
  name: "sync",
  op: Protocol.OpCode.Sync,
  write: writePath,
  read: (r, _, __, session) => clientPath(session, Protocol.readPath(r))
}
export const GET_EPHEMERALS: Operation<string, ReadonlyArray<string>> = {
  name: "getEphemerals",
  op: Protocol.OpCode.GetEphemerals,
  path: "raw",
  write: (w, _, serverPrefix) => Protocol.writePath(w, serverPrefix),
  read: (r, _, __, session) => Protocol.readChildren(r).map((p) => clientPath(session, p))
}
export const GET_ALL_CHILDREN_NUMBER: Operation<void, number> = {
  name: "getAllChildrenNumber",
  op: Protocol.OpCode.GetAllChildrenNumber,
  write: writePath,
  read: Protocol.readGetAllChildrenNumberResponse
}
export const WHO_AM_I: Operation<void, ReadonlyArray<{ readonly scheme: string; readonly id: string }>> = {
  name: "whoAmI",
  op: Protocol.OpCode.WhoAmI,
  write: () => {},
  read: (r) => Protocol.readWhoAmIResponse(r).map((c) => ({ scheme: c.authScheme, id: c.user }))
}
export const GET_CONFIG: Operation<void, { readonly config: string; readonly stat: Stat }> = {
  name: "getConfig",
  op: Protocol.OpCode.GetData,
  // The config node lives outside every chroot.
  path: "raw",
  write: writePlain,
  read: (r) => {
    const { data, stat } = Protocol.readGetDataResponse(r)
    return { config: data === null ? "" : Utf8.decode(data, 0, data.length), stat }
  }
}
export const ADD_WATCH: Operation<(w: Protocol.JuteWriter) => void, void> = {
  name: "addWatch",
  op: Protocol.OpCode.AddWatch,
  write: (w, _, record) => record(w),
  read: () => undefined
}
export const REMOVE_WATCHES: Operation<WatchKind, void> = {
  name: "removeWatches",
  op: Protocol.OpCode.RemoveWatches,
  write: (w, serverPath, kind) => Protocol.writeWatcherRequest(w, serverPath, watcherType[kind]),
  // Removed on the server: the local watches end too (their one-shot streams without an event).
  read: (_, serverPath, kind, session) => session.watches.removed(kind, serverPath)
}
export const CHECK_WATCHES: Operation<WatchKind, void> = {
  name: "checkWatches",
  op: Protocol.OpCode.CheckWatches,
  write: (w, serverPath, kind) => Protocol.writeWatcherRequest(w, serverPath, watcherType[kind]),
  read: () => undefined
}

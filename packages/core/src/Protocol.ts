/**
 * The ZooKeeper wire protocol (3.5 to 3.9), as pure functions: records in, bytes out, and bytes
 * in, records or a typed `DecodeError` out. Nothing here opens a socket, keeps session state or
 * knows about Effect fibers; the session layer drives it.
 *
 * Layout follows `zookeeper.jute`; the traps the record names do not show are commented where
 * they bite (docs/protocol.md collects them).
 *
 * This module is the record layer: one encoder and one decoder per record, each a pure function
 * of one frame's bytes. The two layers under it have modules of their own and are re-exported
 * here: the jute primitives (`internal/jute.ts`: integers, buffers, strings, vectors) and the
 * framing (`internal/frames.ts`: the length prefix and the stream decoder, which keeps state
 * across reads).
 *
 * @since 0.1.0
 */
import type * as Acl from "./Acl.ts"
import type { Stat } from "./Stat.ts"
import * as Stats from "./Stat.ts"
import { DecodeError } from "./internal/frames.ts"
import { DecodeFailure, JuteReader, JuteWriter } from "./internal/jute.ts"

/**
 * The jute reader and writer every record codec here works on: a reader over one frame's bytes
 * and a growable writer that frames requests in place.
 *
 * @since 0.1.0
 * @category models
 */
export { JuteReader, JuteWriter }

/**
 * Request types (the `type` of a RequestHeader).
 *
 * @since 0.1.0
 * @category constants
 */
export const OpCode = {
  Notification: 0,
  Create: 1,
  Delete: 2,
  Exists: 3,
  GetData: 4,
  SetData: 5,
  GetACL: 6,
  SetACL: 7,
  GetChildren: 8,
  Sync: 9,
  Ping: 11,
  GetChildren2: 12,
  Check: 13,
  Multi: 14,
  Create2: 15,
  Reconfig: 16,
  CheckWatches: 17,
  RemoveWatches: 18,
  CreateContainer: 19,
  DeleteContainer: 20,
  CreateTTL: 21,
  MultiRead: 22,
  Auth: 100,
  SetWatches: 101,
  Sasl: 102,
  GetEphemerals: 103,
  GetAllChildrenNumber: 104,
  SetWatches2: 105,
  AddWatch: 106,
  WhoAmI: 107,
  CreateSession: -10,
  CloseSession: -11,
  Error: -1
} as const

/**
 * Reserved xids. Notifications, pings and auth replies are not in the reply FIFO: auth is
 * answered on the server's I/O thread and can overtake earlier replies (docs/protocol.md#xids).
 *
 * @since 0.1.0
 * @category constants
 */
export const Xid = {
  Notification: -1,
  Ping: -2,
  Auth: -4,
  SetWatches: -8
} as const

/**
 * WatcherEvent types. The server sends 1-4; the rest are client-side.
 *
 * @since 0.1.0
 * @category constants
 */
export const EventType = {
  None: -1,
  NodeCreated: 1,
  NodeDeleted: 2,
  NodeDataChanged: 3,
  NodeChildrenChanged: 4,
  DataWatchRemoved: 5,
  ChildWatchRemoved: 6,
  PersistentWatchRemoved: 7
} as const

/**
 * KeeperState values carried by WatcherEvents.
 *
 * @since 0.1.0
 * @category constants
 */
export const KeeperState = {
  Disconnected: 0,
  SyncConnected: 3,
  AuthFailed: 4,
  ConnectedReadOnly: 5,
  SaslAuthenticated: 6,
  Expired: -112,
  Closed: 7
} as const

/**
 * WatcherType for checkWatches / removeWatches (3.8 accepts 1-3 only).
 *
 * @since 0.1.0
 * @category constants
 */
export const WatcherType = { Children: 1, Data: 2, Any: 3 } as const

/**
 * AddWatch modes.
 *
 * @since 0.1.0
 * @category constants
 */
export const AddWatchMode = { Persistent: 0, PersistentRecursive: 1 } as const

/**
 * The largest frame the Java server accepts by default (`jute.maxbuffer`, 0xfffff).
 *
 * @since 0.1.0
 * @category constants
 */
export const SERVER_MAX_FRAME = 0xfffff

/**
 * Default limit for incoming frames: a little above 1 MiB, because the server does not bound
 * its own replies.
 *
 * @since 0.1.0
 * @category constants
 */
export { DEFAULT_MAX_FRAME } from "./internal/frames.ts"

/**
 * A frame or record that could not be decoded: truncated, oversized or malformed. The session
 * treats it as a broken connection.
 *
 * @since 0.1.0
 * @category errors
 */
export { DecodeError } from "./internal/frames.ts"

/**
 * Splits a byte stream into frames, handing each complete frame body out as a view of the
 * chunk it arrived in (only a frame split across chunks is assembled).
 *
 * @since 0.1.0
 * @category decoding
 */
export { FrameDecoder } from "./internal/frames.ts"

// ---------------------------------------------------------------------------------------------
// Records

/** The jute `Id` record (a scheme and an id), the model of `Acl.ts`. @since 0.1.0 @category models */
export type Id = Acl.Id

/** The jute `ACL` record, the model of `Acl.ts`. @since 0.1.0 @category models */
export type ACL = Acl.Acl

/** @since 0.1.0 @category models */
export interface ClientInfo {
  readonly authScheme: string
  readonly user: string
}

/** @since 0.1.0 @category models */
export interface ConnectRequest {
  readonly protocolVersion: number
  readonly lastZxidSeen: bigint
  readonly timeOut: number
  readonly sessionId: bigint
  readonly passwd: Uint8Array
  readonly readOnly: boolean
}

/** @since 0.1.0 @category models */
export interface ConnectResponse {
  readonly protocolVersion: number
  /** Negotiated session timeout in ms; `<= 0` means the session is expired or unknown. */
  readonly timeOut: number
  readonly sessionId: bigint
  readonly passwd: Uint8Array
  readonly readOnly: boolean
}

/** @since 0.1.0 @category models */
export interface ReplyHeader {
  readonly xid: number
  readonly zxid: bigint
  readonly err: number
}

/** @since 0.1.0 @category models */
export interface WatcherEvent {
  readonly type: number
  readonly state: number
  readonly path: string
}

/** @since 0.1.0 @category models */
export interface CreateRequest {
  readonly path: string
  readonly data: Uint8Array | null
  readonly acl: ReadonlyArray<ACL>
  readonly flags: number
}

/** @since 0.1.0 @category models */
export interface CreateTTLRequest extends CreateRequest {
  readonly ttl: bigint
}

/** @since 0.1.0 @category models */
export interface SetWatches {
  readonly relativeZxid: bigint
  readonly dataWatches: ReadonlyArray<string>
  readonly existWatches: ReadonlyArray<string>
  readonly childWatches: ReadonlyArray<string>
}

/** @since 0.1.0 @category models */
export interface SetWatches2 extends SetWatches {
  readonly persistentWatches: ReadonlyArray<string>
  readonly persistentRecursiveWatches: ReadonlyArray<string>
}

/** @since 0.1.0 @category models */
export interface ReconfigRequest {
  readonly joiningServers: string | null
  readonly leavingServers: string | null
  readonly newMembers: string | null
  readonly curConfigId: bigint
}

/**
 * One operation of a multi (14) or multiRead (22) request.
 *
 * @since 0.1.0
 * @category models
 */
export type MultiOp =
  | { readonly type: typeof OpCode.Create | typeof OpCode.Create2 | typeof OpCode.CreateContainer; readonly request: CreateRequest }
  | { readonly type: typeof OpCode.CreateTTL; readonly request: CreateTTLRequest }
  | { readonly type: typeof OpCode.Delete; readonly path: string; readonly version: number }
  | { readonly type: typeof OpCode.SetData; readonly path: string; readonly data: Uint8Array | null; readonly version: number }
  | { readonly type: typeof OpCode.Check; readonly path: string; readonly version: number }
  | { readonly type: typeof OpCode.GetData; readonly path: string }
  | { readonly type: typeof OpCode.GetChildren; readonly path: string }

/**
 * One result of a multi response, dispatched on the result's own type, never on the request's
 * (3.8.0 answers create2 ops in the create layout, docs/protocol.md#multi).
 *
 * @since 0.1.0
 * @category models
 */
export type MultiResult =
  | { readonly type: typeof OpCode.Create; readonly path: string }
  | { readonly type: typeof OpCode.Create2; readonly path: string; readonly stat: Stat }
  | { readonly type: typeof OpCode.Delete }
  | { readonly type: typeof OpCode.Check }
  | { readonly type: typeof OpCode.SetData; readonly stat: Stat }
  | { readonly type: typeof OpCode.GetData; readonly data: Uint8Array | null; readonly stat: Stat }
  | { readonly type: typeof OpCode.GetChildren; readonly children: ReadonlyArray<string> }
  | { readonly type: typeof OpCode.Error; readonly err: number }

// ---------------------------------------------------------------------------------------------
// Encoders: each writes one record's body (no header, no frame prefix).

/** @since 0.1.0 @category encoding */
export const writeId = (w: JuteWriter, id: Id): void => {
  w.ustring(id.scheme).ustring(id.id)
}

/** @since 0.1.0 @category encoding */
export const writeACL = (w: JuteWriter, acl: ACL): void => {
  w.int(acl.perms)
  writeId(w, acl.id)
}

/**
 * The ConnectRequest always carries the readOnly byte: 3.8's jute does not declare it, Java
 * appends it by hand, and a read-only server closes connections that lack it.
 *
 * @since 0.1.0
 * @category encoding
 */
export const writeConnectRequest = (w: JuteWriter, r: ConnectRequest): void => {
  w.int(r.protocolVersion).long(r.lastZxidSeen).int(r.timeOut).long(r.sessionId).buffer(r.passwd).bool(r.readOnly)
}

/** @since 0.1.0 @category encoding */
export const writeRequestHeader = (w: JuteWriter, xid: number, type: number): void => {
  w.int(xid).int(type)
}

/** CreateRequest: create (1), create2 (15) and createContainer (19). @since 0.1.0 @category encoding */
export const writeCreateRequest = (w: JuteWriter, r: CreateRequest): void => {
  w.ustring(r.path).buffer(r.data).vector(r.acl, writeACL).int(r.flags)
}

/** CreateTTLRequest (21). @since 0.1.0 @category encoding */
export const writeCreateTTLRequest = (w: JuteWriter, r: CreateTTLRequest): void => {
  writeCreateRequest(w, r)
  w.long(r.ttl)
}

/** `{path, version}`: delete (2) and check (13). @since 0.1.0 @category encoding */
export const writePathVersion = (w: JuteWriter, path: string, version: number): void => {
  w.ustring(path).int(version)
}

/** `{path, watch}`: exists (3), getData (4), getChildren (8), getChildren2 (12). @since 0.1.0 @category encoding */
export const writePathWatch = (w: JuteWriter, path: string, watch: boolean): void => {
  w.ustring(path).bool(watch)
}

/** `{path}`: getACL (6), sync (9), getEphemerals (103), getAllChildrenNumber (104). @since 0.1.0 @category encoding */
export const writePath = (w: JuteWriter, path: string): void => {
  w.ustring(path)
}

/** SetDataRequest (5). @since 0.1.0 @category encoding */
export const writeSetDataRequest = (w: JuteWriter, path: string, data: Uint8Array | null, version: number): void => {
  w.ustring(path).buffer(data).int(version)
}

/** SetACLRequest (7); the version is compared with the node's aversion. @since 0.1.0 @category encoding */
export const writeSetACLRequest = (w: JuteWriter, path: string, acl: ReadonlyArray<ACL>, version: number): void => {
  w.ustring(path).vector(acl, writeACL).int(version)
}

/** `{path, watcherType}`: checkWatches (17), removeWatches (18). @since 0.1.0 @category encoding */
export const writeWatcherRequest = (w: JuteWriter, path: string, watcherType: number): void => {
  w.ustring(path).int(watcherType)
}

/** AddWatchRequest (106). @since 0.1.0 @category encoding */
export const writeAddWatchRequest = (w: JuteWriter, path: string, mode: number): void => {
  w.ustring(path).int(mode)
}

/** AuthPacket (100); the server ignores `type`. @since 0.1.0 @category encoding */
export const writeAuthPacket = (w: JuteWriter, scheme: string, auth: Uint8Array): void => {
  w.int(0).ustring(scheme).buffer(auth)
}

/** GetSASLRequest (102). @since 0.1.0 @category encoding */
export const writeSaslRequest = (w: JuteWriter, token: Uint8Array): void => {
  w.buffer(token)
}

/** SetWatches (101). Lists are never null: a -1 list gets MARSHALLINGERROR. @since 0.1.0 @category encoding */
export const writeSetWatches = (w: JuteWriter, r: SetWatches): void => {
  w.long(r.relativeZxid).stringVector(r.dataWatches).stringVector(r.existWatches).stringVector(r.childWatches)
}

/** SetWatches2 (105). @since 0.1.0 @category encoding */
export const writeSetWatches2 = (w: JuteWriter, r: SetWatches2): void => {
  writeSetWatches(w, r)
  w.stringVector(r.persistentWatches).stringVector(r.persistentRecursiveWatches)
}

/** ReconfigRequest (16). @since 0.1.0 @category encoding */
export const writeReconfigRequest = (w: JuteWriter, r: ReconfigRequest): void => {
  w.ustring(r.joiningServers).ustring(r.leavingServers).ustring(r.newMembers).long(r.curConfigId)
}

const writeMultiHeader = (w: JuteWriter, type: number, done: boolean, err: number): void => {
  w.int(type).bool(done).int(err)
}

/**
 * MultiRequest: each op behind a MultiHeader `{type, done=false, err=-1}`, closed by
 * `{-1, true, -1}`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const writeMultiRequest = (w: JuteWriter, ops: ReadonlyArray<MultiOp>): void => {
  for (const op of ops) {
    writeMultiHeader(w, op.type, false, -1)
    switch (op.type) {
      case OpCode.Create:
      case OpCode.Create2:
      case OpCode.CreateContainer:
        writeCreateRequest(w, op.request)
        break
      case OpCode.CreateTTL:
        writeCreateTTLRequest(w, op.request)
        break
      case OpCode.Delete:
      case OpCode.Check:
        writePathVersion(w, op.path, op.version)
        break
      case OpCode.SetData:
        writeSetDataRequest(w, op.path, op.data, op.version)
        break
      case OpCode.GetData:
      case OpCode.GetChildren:
        // The watch flag inside multiRead is ignored by the server.
        writePathWatch(w, op.path, false)
        break
    }
  }
  writeMultiHeader(w, -1, true, -1)
}

// ---------------------------------------------------------------------------------------------
// Decoders: each reads one record's body. They throw DecodeFailure on malformed input; wrap a
// whole frame's decoding in `decodeWith` to get a typed result.

/** @since 0.1.0 @category decoding */
export const readStat = (r: JuteReader): Stat =>
  Stats.make({
    czxid: r.long(),
    mzxid: r.long(),
    ctime: r.long(),
    mtime: r.long(),
    version: r.int(),
    cversion: r.int(),
    aversion: r.int(),
    ephemeralOwner: r.long(),
    dataLength: r.int(),
    numChildren: r.int(),
    pzxid: r.long()
  })

/** @since 0.1.0 @category decoding */
export const readId = (r: JuteReader): Id => ({ scheme: r.string(), id: r.string() })

/** @since 0.1.0 @category decoding */
export const readACL = (r: JuteReader): ACL => ({ perms: r.int(), id: readId(r) })

const readClientInfo = (r: JuteReader): ClientInfo => ({ authScheme: r.string(), user: r.string() })

/**
 * The ConnectResponse has no ReplyHeader, and its trailing readOnly byte is present only when
 * the request carried one (37 bytes with it, 36 without).
 *
 * @since 0.1.0
 * @category decoding
 */
export const readConnectResponse = (r: JuteReader): ConnectResponse => ({
  protocolVersion: r.int(),
  timeOut: r.int(),
  sessionId: r.long(),
  passwd: r.buffer(true) ?? new Uint8Array(16),
  readOnly: r.remaining > 0 ? r.bool() : false
})

/** @since 0.1.0 @category decoding */
export const readReplyHeader = (r: JuteReader): ReplyHeader => ({ xid: r.int(), zxid: r.long(), err: r.int() })

/** @since 0.1.0 @category decoding */
export const readWatcherEvent = (r: JuteReader): WatcherEvent => ({ type: r.int(), state: r.int(), path: r.string() })

/** `{path}`: create (1) and sync (9) replies. @since 0.1.0 @category decoding */
export const readPath = (r: JuteReader): string => r.string()

/** `{path, Stat}`: create2 (15), createContainer (19), createTTL (21). @since 0.1.0 @category decoding */
export const readCreate2Response = (r: JuteReader): { readonly path: string; readonly stat: Stat } => ({
  path: r.string(),
  stat: readStat(r)
})

/** GetDataResponse (4); data may be null (-1). @since 0.1.0 @category decoding */
export const readGetDataResponse = (r: JuteReader): { readonly data: Uint8Array | null; readonly stat: Stat } => ({
  data: r.buffer(),
  stat: readStat(r)
})

/** GetACLResponse (6). @since 0.1.0 @category decoding */
export const readGetACLResponse = (r: JuteReader): { readonly acl: Array<ACL>; readonly stat: Stat } => ({
  acl: r.vector(12, readACL),
  stat: readStat(r)
})

/** GetChildrenResponse (8): names only, unordered. @since 0.1.0 @category decoding */
export const readChildren = (r: JuteReader): Array<string> => r.stringVector()

/** GetChildren2Response (12): the children come before the Stat. @since 0.1.0 @category decoding */
export const readChildren2Response = (r: JuteReader): { readonly children: Array<string>; readonly stat: Stat } => ({
  children: r.stringVector(),
  stat: readStat(r)
})

/** GetAllChildrenNumberResponse (104). @since 0.1.0 @category decoding */
export const readInt = (r: JuteReader): number => r.int()

/** GetAllChildrenNumberResponse (104): the number of descendants. @since 0.1.0 @category decoding */
export const readGetAllChildrenNumberResponse = (r: JuteReader): number => r.int()

/** WhoAmIResponse (107). @since 0.1.0 @category decoding */
export const readWhoAmIResponse = (r: JuteReader): Array<ClientInfo> => r.vector(8, readClientInfo)

/** SetSASLResponse (102) and reconfig's config bytes. @since 0.1.0 @category decoding */
export const readBuffer = (r: JuteReader): Uint8Array | null => r.buffer()

/**
 * MultiResponse. A failed transaction still has header err 0: every result is then an error
 * entry (0 before the failing op, its code at it, -2 after), docs/protocol.md#multi.
 *
 * @since 0.1.0
 * @category decoding
 */
export const readMultiResponse = (r: JuteReader): Array<MultiResult> => {
  const results: Array<MultiResult> = []
  for (;;) {
    const type = r.int()
    const done = r.bool()
    const err = r.int()
    if (done) return results
    switch (type) {
      case OpCode.Create:
        results.push({ type, path: r.string() })
        break
      case OpCode.Create2:
      case OpCode.CreateContainer:
      case OpCode.CreateTTL:
        results.push({ type: OpCode.Create2, path: r.string(), stat: readStat(r) })
        break
      case OpCode.Delete:
      case OpCode.Check:
        results.push({ type })
        break
      case OpCode.SetData:
        results.push({ type, stat: readStat(r) })
        break
      case OpCode.GetData:
        results.push({ type, data: r.buffer(), stat: readStat(r) })
        break
      case OpCode.GetChildren:
        results.push({ type, children: r.stringVector() })
        break
      case OpCode.Error:
        // The body repeats the header's err.
        results.push({ type, err: r.int() })
        break
      default:
        throw new DecodeFailure(`unknown multi result type ${type} (err ${err})`)
    }
  }
}

/**
 * Runs a decoder over `buf[start, end)`, turning any malformed input into a `DecodeError`.
 * Trailing bytes are ignored, as the Java client does.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeWith = <A>(
  buf: Uint8Array,
  read: (r: JuteReader) => A,
  start = 0,
  end = buf.length
): A | DecodeError => {
  try {
    return read(new JuteReader(buf, start, end))
  } catch (e) {
    if (e instanceof DecodeFailure) return new DecodeError({ reason: e.reason })
    return new DecodeError({ reason: `decoder crashed: ${String(e)}` })
  }
}

/**
 * Encodes one complete frame (length prefix included) with `write`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeFrame = (write: (w: JuteWriter) => void): Uint8Array => {
  const w = new JuteWriter(64)
  const at = w.beginFrame()
  write(w)
  w.endFrame(at)
  return w.take()
}

/**
 * ZooKeeper errors: one `Schema.TaggedError` class per error code of the protocol, named after
 * the code's Java constant in PascalCase (`NoNode` is -101, `NodeExists` is -110, ...), so a
 * caller recovers with `Effect.catchTag("NoNode", ...)`.
 *
 * Every error carries the protocol `code`, the operation name `op` ("get", "create", "connect",
 * ...), the client-side `path` when there is one, an optional human `detail` (for example why a
 * client-side `BadArguments` was raised) and an optional `cause` (the socket or decode failure
 * behind a `ConnectionLoss`). The message follows gozk: `zookeeper: get "/x": no node`.
 *
 * The package index exposes this module as the namespace `ZkError` and also exports the union
 * type under the same name, so `import { ZkError } from "@effect-zk/core"` gives both
 * `ZkError.fromCode(-101, "get", "/x")` and `Effect.Effect<A, ZkError>`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { OpResult } from "./internal/opResult.ts"

/**
 * Protocol error codes by name (`KeeperException.Code`), plus `Ok: 0`. Names are the `_tag`s of
 * the error classes.
 *
 * @example
 * ErrorCode.NoNode // -101
 *
 * @since 0.1.0
 * @category models
 */
export const ErrorCode = {
  Ok: 0,
  SystemError: -1,
  RuntimeInconsistency: -2,
  DataInconsistency: -3,
  ConnectionLoss: -4,
  MarshallingError: -5,
  Unimplemented: -6,
  OperationTimeout: -7,
  BadArguments: -8,
  InvalidState: -9,
  UnknownSession: -12,
  NewConfigNoQuorum: -13,
  ReconfigInProgress: -14,
  APIError: -100,
  NoNode: -101,
  NoAuth: -102,
  BadVersion: -103,
  NoChildrenForEphemerals: -108,
  NodeExists: -110,
  NotEmpty: -111,
  SessionExpired: -112,
  InvalidCallback: -113,
  InvalidACL: -114,
  AuthFailed: -115,
  Closing: -116,
  Nothing: -117,
  SessionMoved: -118,
  NotReadOnly: -119,
  EphemeralOnLocalSession: -120,
  NoWatcher: -121,
  RequestTimeout: -122,
  ReconfigDisabled: -123,
  SessionClosedRequireSaslAuth: -124,
  QuotaExceeded: -125,
  ThrottledOp: -127
} as const

/**
 * The name of an error code: every key of {@link ErrorCode} except `Ok`, i.e. every `_tag`.
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorName = Exclude<keyof typeof ErrorCode, "Ok">

/**
 * The short lowercase text of each code, after the C client's `zerror()` (shortened where the C
 * text is a sentence or names C-only concepts such as the zhandle).
 */
const texts: { readonly [K in ErrorName]: string } = {
  SystemError: "system error",
  RuntimeInconsistency: "run time inconsistency",
  DataInconsistency: "data inconsistency",
  ConnectionLoss: "connection loss",
  MarshallingError: "marshalling error",
  Unimplemented: "unimplemented",
  OperationTimeout: "operation timeout",
  BadArguments: "bad arguments",
  InvalidState: "invalid state",
  UnknownSession: "unknown session",
  NewConfigNoQuorum: "no quorum of new config",
  ReconfigInProgress: "reconfiguration in progress",
  APIError: "api error",
  NoNode: "no node",
  NoAuth: "not authenticated",
  BadVersion: "bad version",
  NoChildrenForEphemerals: "no children for ephemerals",
  NodeExists: "node exists",
  NotEmpty: "not empty",
  SessionExpired: "session expired",
  InvalidCallback: "invalid callback",
  InvalidACL: "invalid acl",
  AuthFailed: "authentication failed",
  Closing: "zookeeper is closing",
  Nothing: "no server responses to process",
  SessionMoved: "session moved to another server",
  NotReadOnly: "state-changing request passed to read-only server",
  EphemeralOnLocalSession: "ephemeral node on a local session",
  NoWatcher: "watcher not found",
  RequestTimeout: "request timeout",
  ReconfigDisabled: "reconfiguration disabled",
  SessionClosedRequireSaslAuth: "session closed, sasl authentication required",
  QuotaExceeded: "quota exceeded",
  ThrottledOp: "operation throttled"
}

const isErrorName = (s: string): s is ErrorName => s !== "Ok" && Object.hasOwn(ErrorCode, s)

const nameByCode = new Map<number, ErrorName>()
for (const name of Object.keys(texts)) {
  if (isErrorName(name)) nameByCode.set(ErrorCode[name], name)
}

/**
 * The text of a code as used in messages: `codeText(-101) === "no node"`. Codes that are not
 * known fall back to `unknown error <code>`.
 *
 * @since 0.1.0
 * @category decoding
 */
export const codeText = (code: number): string => {
  const name = nameByCode.get(code)
  return name === undefined ? `unknown error ${code}` : texts[name]
}

/**
 * The shared base of every ZooKeeper error class. Use `isZkError` or `instanceof ZkErrorBase`
 * to recognise one; construct the concrete classes (`new NoNode({ op: "get", path: "/x" })`) or
 * use {@link fromCode}, never this base.
 *
 * @since 0.1.0
 * @category errors
 */
export class ZkErrorBase extends Schema.Error<ZkErrorBase>("effect-zk/ZkError")({
  code: Schema.Number,
  op: Schema.String,
  path: Schema.optional(Schema.String),
  detail: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect()),
  /** Every op's outcome, on the error of a failed `multi`. */
  results: Schema.optional(Schema.Array(OpResult))
}) {
  /** gozk's format: `zookeeper: get "/x": no node`, then `: <detail>` when present. */
  override get message(): string {
    const where = this.path === undefined ? this.op : `${this.op} ${JSON.stringify(this.path)}`
    const detail = this.detail === undefined ? "" : `: ${this.detail}`
    return `zookeeper: ${where}: ${codeText(this.code)}${detail}`
  }
}

/** The `_tag` and the fixed `code` of a class, both filled in by the constructor. */
const fixed = <const Name extends ErrorName>(name: Name): {
  readonly _tag: Schema.tag<Name>
  readonly code: Schema.withConstructorDefault<Schema.Literal<(typeof ErrorCode)[Name]>>
} => ({
  _tag: Schema.tag(name),
  code: Schema.withConstructorDefault<Schema.Literal<(typeof ErrorCode)[Name]>>(Effect.succeed(ErrorCode[name]))(
    Schema.Literal(ErrorCode[name])
  )
})

/** Like `fixed`, for the two catch-all classes that keep an unknown code's number. */
const open = <const Name extends "SystemError" | "APIError">(name: Name): {
  readonly _tag: Schema.tag<Name>
  readonly code: Schema.withConstructorDefault<Schema.Number>
} => ({
  _tag: Schema.tag(name),
  code: Schema.withConstructorDefault<Schema.Number>(Effect.succeed(ErrorCode[name]))(Schema.Number)
})

/**
 * -1: a server-side system error. Also any unknown code in (-100, 0), which keeps its number.
 * @since 0.1.0
 * @category errors
 */
export class SystemError extends ZkErrorBase.extend<SystemError>("SystemError")(open("SystemError")) {}
/**
 * -2: an inconsistency in the server's runtime; in a failed `multi`, the ops after the failing one.
 * @since 0.1.0
 * @category errors
 */
export class RuntimeInconsistency
  extends ZkErrorBase.extend<RuntimeInconsistency>("RuntimeInconsistency")(fixed("RuntimeInconsistency"))
{}
/**
 * -3: a data inconsistency was found.
 * @since 0.1.0
 * @category errors
 */
export class DataInconsistency
  extends ZkErrorBase.extend<DataInconsistency>("DataInconsistency")(fixed("DataInconsistency"))
{}
/**
 * -4: the connection dropped; the outcome of an in-flight write is unknown. `cause` holds the
 * transport or decode failure when there is one.
 * @since 0.1.0
 * @category errors
 */
export class ConnectionLoss extends ZkErrorBase.extend<ConnectionLoss>("ConnectionLoss")(fixed("ConnectionLoss")) {}
/**
 * -5: the server could not parse or process the request.
 * @since 0.1.0
 * @category errors
 */
export class MarshallingError
  extends ZkErrorBase.extend<MarshallingError>("MarshallingError")(fixed("MarshallingError"))
{}
/**
 * -6: the server does not implement the operation (or TTL nodes are disabled).
 * @since 0.1.0
 * @category errors
 */
export class Unimplemented extends ZkErrorBase.extend<Unimplemented>("Unimplemented")(fixed("Unimplemented")) {}
/**
 * -7: the operation got no reply in time.
 * @since 0.1.0
 * @category errors
 */
export class OperationTimeout
  extends ZkErrorBase.extend<OperationTimeout>("OperationTimeout")(fixed("OperationTimeout"))
{}
/**
 * -8: invalid arguments, from the server or raised by the client (`detail` says why).
 * @since 0.1.0
 * @category errors
 */
export class BadArguments extends ZkErrorBase.extend<BadArguments>("BadArguments")(fixed("BadArguments")) {}
/**
 * -9: the client is in a state where the operation is not allowed.
 * @since 0.1.0
 * @category errors
 */
export class InvalidState extends ZkErrorBase.extend<InvalidState>("InvalidState")(fixed("InvalidState")) {}
/**
 * -12: the session is not known to the server.
 * @since 0.1.0
 * @category errors
 */
export class UnknownSession extends ZkErrorBase.extend<UnknownSession>("UnknownSession")(fixed("UnknownSession")) {}
/**
 * -13: a reconfiguration's new config has no quorum connected and in sync with the leader.
 * @since 0.1.0
 * @category errors
 */
export class NewConfigNoQuorum
  extends ZkErrorBase.extend<NewConfigNoQuorum>("NewConfigNoQuorum")(fixed("NewConfigNoQuorum"))
{}
/**
 * -14: another reconfiguration is in progress.
 * @since 0.1.0
 * @category errors
 */
export class ReconfigInProgress
  extends ZkErrorBase.extend<ReconfigInProgress>("ReconfigInProgress")(fixed("ReconfigInProgress"))
{}
/**
 * -100: an API error. Also any unknown code <= -100, which keeps its number.
 * @since 0.1.0
 * @category errors
 */
export class APIError extends ZkErrorBase.extend<APIError>("APIError")(open("APIError")) {}
/**
 * -101: the node does not exist.
 * @since 0.1.0
 * @category errors
 */
export class NoNode extends ZkErrorBase.extend<NoNode>("NoNode")(fixed("NoNode")) {}
/**
 * -102: the session lacks the permission the operation needs.
 * @since 0.1.0
 * @category errors
 */
export class NoAuth extends ZkErrorBase.extend<NoAuth>("NoAuth")(fixed("NoAuth")) {}
/**
 * -103: the expected version did not match.
 * @since 0.1.0
 * @category errors
 */
export class BadVersion extends ZkErrorBase.extend<BadVersion>("BadVersion")(fixed("BadVersion")) {}
/**
 * -108: ephemeral nodes cannot have children.
 * @since 0.1.0
 * @category errors
 */
export class NoChildrenForEphemerals
  extends ZkErrorBase.extend<NoChildrenForEphemerals>("NoChildrenForEphemerals")(fixed("NoChildrenForEphemerals"))
{}
/**
 * -110: the node already exists.
 * @since 0.1.0
 * @category errors
 */
export class NodeExists extends ZkErrorBase.extend<NodeExists>("NodeExists")(fixed("NodeExists")) {}
/**
 * -111: the node has children.
 * @since 0.1.0
 * @category errors
 */
export class NotEmpty extends ZkErrorBase.extend<NotEmpty>("NotEmpty")(fixed("NotEmpty")) {}
/**
 * -112: the session expired; a new session needs a new layer.
 * @since 0.1.0
 * @category errors
 */
export class SessionExpired extends ZkErrorBase.extend<SessionExpired>("SessionExpired")(fixed("SessionExpired")) {}
/**
 * -113: an invalid callback was given.
 * @since 0.1.0
 * @category errors
 */
export class InvalidCallback
  extends ZkErrorBase.extend<InvalidCallback>("InvalidCallback")(fixed("InvalidCallback"))
{}
/**
 * -114: the ACL is invalid (empty list, bad id, or `auth` without authenticated ids).
 * @since 0.1.0
 * @category errors
 */
export class InvalidACL extends ZkErrorBase.extend<InvalidACL>("InvalidACL")(fixed("InvalidACL")) {}
/**
 * -115: authentication failed; terminal for the session.
 * @since 0.1.0
 * @category errors
 */
export class AuthFailed extends ZkErrorBase.extend<AuthFailed>("AuthFailed")(fixed("AuthFailed")) {}
/**
 * -116: the client is closing or closed.
 * @since 0.1.0
 * @category errors
 */
export class Closing extends ZkErrorBase.extend<Closing>("Closing")(fixed("Closing")) {}
/**
 * -117: not an error in the Java client (no server responses to process).
 * @since 0.1.0
 * @category errors
 */
export class Nothing extends ZkErrorBase.extend<Nothing>("Nothing")(fixed("Nothing")) {}
/**
 * -118: the session moved to another server.
 * @since 0.1.0
 * @category errors
 */
export class SessionMoved extends ZkErrorBase.extend<SessionMoved>("SessionMoved")(fixed("SessionMoved")) {}
/**
 * -119: a write was sent to a read-only server.
 * @since 0.1.0
 * @category errors
 */
export class NotReadOnly extends ZkErrorBase.extend<NotReadOnly>("NotReadOnly")(fixed("NotReadOnly")) {}
/**
 * -120: an ephemeral node cannot be created on a local session.
 * @since 0.1.0
 * @category errors
 */
export class EphemeralOnLocalSession
  extends ZkErrorBase.extend<EphemeralOnLocalSession>("EphemeralOnLocalSession")(fixed("EphemeralOnLocalSession"))
{}
/**
 * -121: no such watch to check or remove.
 * @since 0.1.0
 * @category errors
 */
export class NoWatcher extends ZkErrorBase.extend<NoWatcher>("NoWatcher")(fixed("NoWatcher")) {}
/**
 * -122: the request timed out (client-side request timeout in the Java client).
 * @since 0.1.0
 * @category errors
 */
export class RequestTimeout extends ZkErrorBase.extend<RequestTimeout>("RequestTimeout")(fixed("RequestTimeout")) {}
/**
 * -123: reconfiguration is disabled on the server.
 * @since 0.1.0
 * @category errors
 */
export class ReconfigDisabled
  extends ZkErrorBase.extend<ReconfigDisabled>("ReconfigDisabled")(fixed("ReconfigDisabled"))
{}
/**
 * -124: the server closed the session because it requires SASL authentication.
 * @since 0.1.0
 * @category errors
 */
export class SessionClosedRequireSaslAuth extends ZkErrorBase.extend<SessionClosedRequireSaslAuth>(
  "SessionClosedRequireSaslAuth"
)(fixed("SessionClosedRequireSaslAuth")) {}
/**
 * -125: a hard quota was exceeded.
 * @since 0.1.0
 * @category errors
 */
export class QuotaExceeded extends ZkErrorBase.extend<QuotaExceeded>("QuotaExceeded")(fixed("QuotaExceeded")) {}
/**
 * -127: the server throttled the operation under load.
 * @since 0.1.0
 * @category errors
 */
export class ThrottledOp extends ZkErrorBase.extend<ThrottledOp>("ThrottledOp")(fixed("ThrottledOp")) {}

/**
 * Every error class by its `_tag`.
 *
 * @since 0.1.0
 * @category errors
 */
export const classes = {
  SystemError,
  RuntimeInconsistency,
  DataInconsistency,
  ConnectionLoss,
  MarshallingError,
  Unimplemented,
  OperationTimeout,
  BadArguments,
  InvalidState,
  UnknownSession,
  NewConfigNoQuorum,
  ReconfigInProgress,
  APIError,
  NoNode,
  NoAuth,
  BadVersion,
  NoChildrenForEphemerals,
  NodeExists,
  NotEmpty,
  SessionExpired,
  InvalidCallback,
  InvalidACL,
  AuthFailed,
  Closing,
  Nothing,
  SessionMoved,
  NotReadOnly,
  EphemeralOnLocalSession,
  NoWatcher,
  RequestTimeout,
  ReconfigDisabled,
  SessionClosedRequireSaslAuth,
  QuotaExceeded,
  ThrottledOp
} as const

/**
 * Any ZooKeeper error: the union of every error class.
 *
 * @since 0.1.0
 * @category models
 */
export type ZkError = InstanceType<(typeof classes)[ErrorName]>

/**
 * The fields every error class accepts (`_tag` and, except for the two catch-all classes,
 * `code` are filled in).
 *
 * @since 0.1.0
 * @category models
 */
export interface ZkErrorFields {
  readonly op: string
  readonly path?: string | undefined
  readonly detail?: string | undefined
  readonly cause?: unknown
  readonly results?: ReadonlyArray<OpResult> | undefined
}

type Constructor = new (fields: ZkErrorFields) => ZkError

// Checks at compile time that every name has a class and every class takes the common fields.
const constructors: { readonly [K in ErrorName]: Constructor } = classes

/**
 * The schema of every ZooKeeper error (a `Schema.Union` of the classes), for encoding errors,
 * e.g. to send them across processes, and decoding them back into class instances.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ZkErrorSchema = Schema.Union(Object.values(classes))

/**
 * Builds the error for a protocol code. An unknown code keeps its number: in (-100, 0) (or, for
 * robustness, >= 0) it becomes a `SystemError`, at or below -100 an `APIError`. Pass the
 * operation and path, or every field at once.
 *
 * @example
 * ZkError.fromCode(-101, "get", "/x").message // zookeeper: get "/x": no node
 * ZkError.fromCode(-4, { op: "connect", detail: "no server answered" })
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromCode: {
  (code: number, fields: ZkErrorFields): ZkError
  (code: number, op: string, path?: string): ZkError
} = (code: number, opOrFields: string | ZkErrorFields, path?: string): ZkError => {
  // Absent fields stay absent (not `undefined`), so encoded errors and equality stay clean.
  const fields = typeof opOrFields === "string" ? { op: opOrFields, path } : opOrFields
  const clean: ZkErrorFields = {
    op: fields.op,
    ...(fields.path === undefined ? {} : { path: fields.path }),
    ...(fields.detail === undefined ? {} : { detail: fields.detail }),
    ...(fields.cause === undefined ? {} : { cause: fields.cause }),
    ...(fields.results === undefined ? {} : { results: fields.results })
  }
  const name = nameByCode.get(code)
  if (name !== undefined) return new constructors[name](clean)
  return code <= ErrorCode.APIError ? new APIError({ ...clean, code }) : new SystemError({ ...clean, code })
}

/**
 * The `_tag` of the error a code stands for, `"Ok"` for 0: the name `fromCode` would give it
 * (an unknown code maps to `SystemError` or `APIError`, as there).
 *
 * @example
 * ZkError.nameOf(-101) // "NoNode"
 *
 * @since 0.1.0
 * @category errors
 */
export const nameOf = (code: number): ErrorName | "Ok" =>
  code === ErrorCode.Ok ? "Ok" : nameByCode.get(code) ?? (code <= ErrorCode.APIError ? "APIError" : "SystemError")

/**
 * Whether a value is one of the ZooKeeper error classes.
 *
 * @since 0.1.0
 * @category guards
 */
export const isZkError = (u: unknown): u is ZkError => u instanceof ZkErrorBase

/**
 * Whether an error is transient, so that the same request may succeed if tried again:
 * `ConnectionLoss`, `OperationTimeout`, `RequestTimeout`, `SessionMoved`, `ThrottledOp` and
 * `ReconfigInProgress`. After `ConnectionLoss` a write may already have been applied, so retry
 * only idempotent work (never a blind sequential create).
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetryable = (e: ZkError): boolean => {
  switch (e._tag) {
    case "ConnectionLoss":
    case "OperationTimeout":
    case "RequestTimeout":
    case "SessionMoved":
    case "ThrottledOp":
    case "ReconfigInProgress":
      return true
    default:
      return false
  }
}

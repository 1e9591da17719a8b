/**
 * Transactions on the wire: `Op`s to MultiOp records (each checked as its single-op twin would
 * be, paths put under the chroot) and MultiResults back to `OpResult`s, plus the two
 * operations (`multi`, `multiRead`) for the request primitive.
 *
 * @internal
 */
import * as CreateModes from "../CreateMode.ts"
import type * as Op from "../Op.ts"
import * as Protocol from "../Protocol.ts"
import { BadArguments, fromCode, nameOf, type ZkError } from "../ZkError.ts"
import * as ZNodePath from "../ZNodePath.ts"
import * as Create from "./create.ts"
import type { Operation } from "./request.ts"
import type { Supervisor } from "./supervisor.ts"

/** The MultiOp record of a write op, or why it cannot be sent. */
const writeOp = (op: Op.Op, chroot: string | undefined): Protocol.MultiOp | ZkError => {
  if (op._tag === "Create") {
    const mode = Create.modeOf(op)
    const bad = ZNodePath.checkError("multi", op.path, { sequential: CreateModes.isSequential(mode) }) ??
      Create.settingsError("multi", op.path, op)
    if (bad !== undefined) return bad
    const request = Create.record(ZNodePath.prependChroot(chroot, op.path), op.data, op)
    const opcode = CreateModes.opcodeFor(mode)
    // Inside a transaction the plain modes use create (1): results are read by their own type.
    return opcode === Protocol.OpCode.CreateTTL
      ? { type: Protocol.OpCode.CreateTTL, request }
      : { type: opcode === Protocol.OpCode.CreateContainer ? Protocol.OpCode.CreateContainer : Protocol.OpCode.Create, request }
  }
  const bad = ZNodePath.checkError("multi", op.path) ?? Create.versionError("multi", op.path, op.version)
  if (bad !== undefined) return bad
  const path = ZNodePath.prependChroot(chroot, op.path)
  switch (op._tag) {
    case "Delete":
      return { type: Protocol.OpCode.Delete, path, version: op.version }
    case "Set":
      return { type: Protocol.OpCode.SetData, path, data: op.data, version: op.version }
    case "Check":
      return { type: Protocol.OpCode.Check, path, version: op.version }
  }
}

/** The MultiOp records of a transaction's ops, or the first reason one cannot be sent. */
export const writeOps = (ops: ReadonlyArray<Op.Op>, chroot: string | undefined): Array<Protocol.MultiOp> | ZkError => {
  if (ops.length === 0) return new BadArguments({ op: "multi", detail: "a transaction needs at least one op" })
  const records: Array<Protocol.MultiOp> = []
  for (const op of ops) {
    const record = writeOp(op, chroot)
    if ("_tag" in record) return record
    records.push(record)
  }
  return records
}

/** The MultiOp records of `multiRead`'s ops, or the first bad path. */
export const readOps = (ops: ReadonlyArray<Op.ReadOp>, chroot: string | undefined): Array<Protocol.MultiOp> | ZkError => {
  if (ops.length === 0) return new BadArguments({ op: "multiRead", detail: "needs at least one op" })
  const records: Array<Protocol.MultiOp> = []
  for (const op of ops) {
    const bad = ZNodePath.checkError("multiRead", op.path)
    if (bad !== undefined) return bad
    const path = ZNodePath.prependChroot(chroot, op.path)
    records.push(op._tag === "Get" ? { type: Protocol.OpCode.GetData, path } : { type: Protocol.OpCode.GetChildren, path })
  }
  return records
}

/**
 * One outcome, with the path of the op it answers: the created path for a create, the op's
 * own (client-side) path for the rest, and the error's tag beside its code.
 */
const toOpResult = (result: Protocol.MultiResult, path: string, chroot: string | undefined): Op.OpResult => {
  switch (result.type) {
    case Protocol.OpCode.Create:
    case Protocol.OpCode.Create2:
      return { _tag: "Create", path: ZNodePath.stripChroot(chroot, result.path) }
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

/** The input of both operations: the records, and the ops (to name the failing op's path). */
export interface Transaction {
  readonly records: ReadonlyArray<Protocol.MultiOp>
  readonly paths: ReadonlyArray<string>
}

const read = (r: Protocol.JuteReader, _: string, input: Transaction, session: Supervisor): ReadonlyArray<Op.OpResult> =>
  Protocol.readMultiResponse(r).map((result, i) => toOpResult(result, input.paths[i] ?? "", session.chroot))

const write = (w: Protocol.JuteWriter, _: string, input: Transaction) => Protocol.writeMultiRequest(w, input.records)

/** A transaction: all ops or none. */
export const MULTI: Operation<Transaction, ReadonlyArray<Op.OpResult>> = {
  name: "multi",
  op: Protocol.OpCode.Multi,
  write,
  read,
  // The header says OK even when the transaction failed: the codes are in the results.
  failure: (results, input) => failure(results, input.paths)
}

/** Read ops in one round trip, each with its own outcome. */
export const MULTI_READ: Operation<Transaction, ReadonlyArray<Op.OpResult>> = {
  name: "multiRead",
  op: Protocol.OpCode.MultiRead,
  write,
  read
}

/** The error of a failed transaction: the failing op's code and path, with every op's result. */
export const failure = (results: ReadonlyArray<Op.OpResult>, paths: ReadonlyArray<string>): ZkError | undefined => {
  for (let i = 0; i < results.length; i++) {
    const result = results[i]!
    if (result._tag === "Error" && result.code !== 0) {
      return fromCode(result.code, { op: "multi", path: paths[i], results })
    }
  }
  return undefined
}

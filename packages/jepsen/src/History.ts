/**
 * The record of a run: every operation a client attempted, with its invocation and completion on
 * one monotonic clock, in the shape Jepsen uses (`invoke`, then `ok`, `fail` or `info`).
 *
 * - `ok`: the server answered and the operation took effect (or, for a read, observed that value).
 * - `fail`: the server answered with an error that means "nothing happened" but still says
 *   something about the state (`NodeExists`, `BadVersion`, `NoNode`, `NotEmpty`): the checkers
 *   use these as observations.
 * - `info`: the outcome is unknown (`ConnectionLoss`, `OperationTimeout`, `SessionExpired`, ...):
 *   the operation may have taken effect at any time after its invocation, or never.
 *
 * @since 0.1.0
 */

/**
 * How an operation ended.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome = "ok" | "fail" | "info"

/**
 * What a completed operation returned. Every field is optional because each kind of operation
 * fills only its own: a read its `value` and `version`, a create its `zxid` (czxid), a lock its
 * `token`, and so on.
 *
 * @since 0.1.0
 * @category models
 */
export interface Result {
  /** Node data as text, for reads and dequeues. */
  readonly value?: string | undefined
  /** The node's data version after the operation (reads, sets, creates). */
  readonly version?: number | undefined
  /** The zxid the reply reveals: czxid of a create, mzxid of a set or of a read. */
  readonly zxid?: bigint | undefined
  /** The node's czxid as a read saw it, to tell incarnations of a key apart. */
  readonly czxid?: bigint | undefined
  /** The path a sequential create got. */
  readonly path?: string | undefined
  /** A lock's fencing token. */
  readonly token?: bigint | undefined
  /** The error's tag for `fail` and `info`. */
  readonly error?: string | undefined
}

/**
 * One operation: its invocation and, unless its outcome is unknown, its completion.
 *
 * `f` names the operation: `create`, `set`, `delete`, `get` (plain read, may be served stale by
 * a follower), `sget` (read after `sync`), `getw` (plain read that arms a watch), `enqueue`,
 * `dequeue`, `drain`, `acquire`, `release`, `lost` (a lock lease lapsed), `event` (a watch fired).
 *
 * @since 0.1.0
 * @category models
 */
export interface Operation extends Invocation {
  /** Unique within a history, in invocation order. */
  readonly id: number
  /** Invocation time, nanoseconds on the monotonic clock. */
  readonly invoke: bigint
  /** Completion time; `undefined` when the outcome is unknown (`info`). */
  readonly complete: bigint | undefined
  readonly type: Outcome
  readonly result: Result
}

/**
 * What an operation is about to do, as recorded at invocation.
 *
 * @since 0.1.0
 * @category models
 */
export interface Invocation {
  /** The client lane: one worker fiber, which may go through several sessions. */
  readonly process: number
  /** The session id (hex) the operation was sent on, or "" before a session existed. */
  readonly session: string
  readonly f: string
  readonly key: string
  /** The value written (create, set, enqueue). */
  readonly value?: string | undefined
  /** The expected version of a conditional set or delete (-1: every version matches). */
  readonly version?: number | undefined
  /** For a watch event: the id of the read that armed the watch. */
  readonly armedBy?: number | undefined
}

/**
 * A mutable log of operations for one workload, shared by its workers. Recording is
 * synchronous (no effects), so it can be called from anywhere, and the clock is
 * `process.hrtime.bigint` so that real-time order between lanes is exact.
 *
 * @since 0.1.0
 * @category models
 */
export interface Recorder {
  /** Records an invocation and returns its id. */
  readonly invoke: (invocation: Invocation) => number
  /** Records the completion of an invoked operation. `info` leaves it open-ended. */
  readonly complete: (id: number, type: Outcome, result?: Result) => void
  /** Records an instantaneous observation (a watch event, a lapsed lease): invoke and ok at once. */
  readonly observe: (invocation: Invocation, result?: Result) => void
  /** Every operation so far, in invocation order; still-pending ones appear as `info`. */
  readonly operations: () => ReadonlyArray<Operation>
}

/**
 * A monotonic timestamp in nanoseconds.
 *
 * @since 0.1.0
 * @category constructors
 */
export const now = (): bigint => process.hrtime.bigint()

/**
 * An empty recorder.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeRecorder = (clock: () => bigint = now): Recorder => {
  const ops: Array<Operation> = []
  const invoke = (invocation: Invocation): number => {
    const id = ops.length
    ops.push({ ...invocation, id, invoke: clock(), complete: undefined, type: "info", result: {} })
    return id
  }
  const complete = (id: number, type: Outcome, result: Result = {}): void => {
    const op = ops[id]
    if (op === undefined) return
    ops[id] = { ...op, type, result, complete: type === "info" ? undefined : clock() }
  }
  return {
    invoke,
    complete,
    observe: (invocation, result) => complete(invoke(invocation), "ok", result),
    operations: () => ops.slice()
  }
}

/**
 * The errors after which the server certainly did not apply the operation and which describe
 * the node's state (`Empty`: a dequeue found nothing; `LockTimeout`: the lock was not granted in
 * time). Anything else (ConnectionLoss, OperationTimeout, SessionExpired, Closing,
 * ...) leaves the outcome unknown.
 *
 * @since 0.1.0
 * @category models
 */
export const DEFINITE_ERRORS: ReadonlySet<string> = new Set(["NodeExists", "NoNode", "BadVersion", "NotEmpty", "LockTimeout", "Empty"])

/**
 * The outcome an error tag stands for.
 *
 * @since 0.1.0
 * @category getters
 */
export const outcomeOf = (errorTag: string): Outcome => (DEFINITE_ERRORS.has(errorTag) ? "fail" : "info")

/**
 * Renders an operation in one line, e.g. `p3 create /r1 "7-12" -> ok zxid=0x10000002a`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const describe = (op: Operation): string => {
  const args = [
    op.value === undefined ? "" : JSON.stringify(op.value),
    op.version === undefined ? "" : `v=${op.version}`
  ].filter((s) => s !== "").join(" ")
  const r = op.result
  const res = [
    r.error,
    r.value === undefined ? undefined : JSON.stringify(r.value),
    r.version === undefined ? undefined : `v=${r.version}`,
    r.zxid === undefined ? undefined : `zxid=0x${r.zxid.toString(16)}`,
    r.token === undefined ? undefined : `token=0x${r.token.toString(16)}`,
    r.path
  ].filter((s) => s !== undefined).join(" ")
  return `p${op.process} ${op.f} ${op.key}${args === "" ? "" : ` ${args}`} -> ${op.type}${res === "" ? "" : ` ${res}`}`
}

/**
 * The history as JSON text (bigints as decimal strings), to keep next to a failing report.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toJson = (ops: ReadonlyArray<Operation>): string =>
  JSON.stringify(ops, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value), 1)

/**
 * The znode register: a single ZooKeeper node as a sequential object, and the linearizability
 * check of a register history, key by key.
 *
 * What is checked linearizably, and why:
 * - every write (`create`, `set` with a version, `delete` with a version), with its definite
 *   failures (`NodeExists`, `BadVersion`, `NoNode`) as observations of the state: ZooKeeper
 *   decides every write on the leader, in one total order;
 * - reads after `sync` (`sget`): ZooKeeper promises that a read after `sync` sees every write
 *   that completed before the sync began, so the operation spans from the sync's invocation to
 *   the read's completion and must be linearizable like a write;
 * - plain reads (`get`, `getw`) are NOT: a follower may serve them stale. They are checked by the
 *   session checker (monotonic reads, read-your-writes, session order), which is what ZooKeeper
 *   promises for them.
 *
 * Keys are independent objects, so each key is checked on its own (P-compositionality), which
 * keeps the search small.
 *
 * @since 0.1.0
 */
import type { Operation } from "./History.ts"
import * as Linearizability from "./Linearizability.ts"
import { shrink } from "./Shrink.ts"

/**
 * The node: absent, or present with a value and a data version.
 *
 * @since 0.1.0
 * @category models
 */
export type State = { readonly value: string; readonly version: number } | null

/**
 * A register operation.
 *
 * @since 0.1.0
 * @category models
 */
export interface Input {
  readonly f: "create" | "set" | "delete" | "read"
  readonly value?: string | undefined
  /** Expected version of a set or delete; -1 matches any. */
  readonly version?: number | undefined
}

/**
 * What the server answered: an error tag, or the value and version (reads, sets).
 *
 * @since 0.1.0
 * @category models
 */
export interface Output {
  readonly error?: string | undefined
  readonly value?: string | undefined
  readonly version?: number | undefined
}

const matches = (state: State, version: number | undefined): boolean =>
  state !== null && (version === undefined || version === -1 || version === state.version)

/** The effect of an operation that succeeded in `state`, or undefined if it could not have. */
const apply = (state: State, input: Input): State | undefined => {
  switch (input.f) {
    case "create":
      return state === null ? { value: input.value ?? "", version: 0 } : undefined
    case "set":
      return matches(state, input.version) && state !== null ? { value: input.value ?? "", version: state.version + 1 } : undefined
    case "delete":
      return matches(state, input.version) ? null : undefined
    case "read":
      return state
  }
}

/** Whether a definite error is what the server would answer in `state`. */
const errorHolds = (state: State, input: Input, error: string): boolean => {
  switch (error) {
    case "NodeExists":
      return input.f === "create" && state !== null
    case "NoNode":
      return input.f !== "create" && state === null
    case "BadVersion":
      return (input.f === "set" || input.f === "delete") && state !== null && !matches(state, input.version)
    default:
      return false
  }
}

/**
 * The sequential specification of one znode.
 *
 * @since 0.1.0
 * @category models
 */
export const model: Linearizability.Model<State, Input, Output> = {
  init: null,
  key: (state) => (state === null ? "-" : `${state.version}:${state.value}`),
  step: (state, input, output) => {
    // An unknown outcome that could not have succeeded here changes nothing, exactly like not
    // linearizing it at all, which the search also tries: refusing it avoids exploring the
    // same state twice under two different linearized sets.
    if (output === undefined) return input.f === "read" ? undefined : apply(state, input)
    if (output.error !== undefined) return errorHolds(state, input, output.error) ? state : undefined
    const next = apply(state, input)
    if (next === undefined) return undefined
    if (input.f === "read") {
      return next !== null && next.value === output.value && (output.version === undefined || output.version === next.version)
        ? next
        : undefined
    }
    if (input.f === "set" && next !== null && output.version !== undefined && output.version !== next.version) return undefined
    return next
  }
}

/** The operations of a register history the linearizability check covers. */
const CHECKED: ReadonlySet<string> = new Set(["create", "set", "delete", "sget"])

/**
 * An operation as a checker entry, or undefined if it is not checked linearizably (plain reads,
 * watch events).
 *
 * @since 0.1.0
 * @category constructors
 */
export const toEntry = (op: Operation): Linearizability.Entry<Input, Output> | undefined => {
  if (!CHECKED.has(op.f)) return undefined
  const f = op.f === "sget" ? "read" : op.f === "create" ? "create" : op.f === "set" ? "set" : "delete"
  const input: Input = { f, value: op.value, version: op.version }
  const output: Output | undefined = op.type === "info"
    ? undefined
    : op.type === "fail"
    ? { error: op.result.error }
    : f === "read"
    ? { value: op.result.value, version: op.result.version }
    : { version: op.result.version }
  return { id: op.id, call: op.invoke, ret: op.complete, input, output }
}

/** Acknowledged writes: the context every witness keeps (see `witness`). */
const isAckedWrite = (op: Operation): boolean => op.type === "ok" && op.f !== "sget"

/**
 * The minimal failing sub-history of a key. Removing an acknowledged write changes what every
 * later operation may observe, and a sub-history without them fails for the wrong reason (a
 * lone `NodeExists` contradicts the empty initial state). So: the shortest failing prefix, then
 * every operation that is not an acknowledged write is removed while the rest still fails.
 */
const witness = (
  ops: ReadonlyArray<Operation>,
  run: (ops: ReadonlyArray<Operation>) => Linearizability.Verdict
): ReadonlyArray<Operation> => {
  const fails = (subset: ReadonlyArray<Operation>) => run(subset)._tag === "NotLinearizable"
  let end = ops.length
  for (let lo = 1, hi = ops.length; lo < hi;) {
    const mid = Math.floor((lo + hi) / 2)
    if (fails(ops.slice(0, mid))) hi = mid
    else lo = mid + 1
    end = hi
  }
  const prefix = fails(ops.slice(0, end)) ? ops.slice(0, end) : ops
  const kept = prefix.filter(isAckedWrite)
  const byId = (a: Operation, b: Operation) => a.id - b.id
  const others = shrink(prefix.filter((op) => !isAckedWrite(op)), (subset) => fails([...kept, ...subset].sort(byId)))
  return [...kept, ...others].sort(byId)
}

/**
 * The verdict for one key, with the minimal failing sub-history when it is not linearizable.
 *
 * @since 0.1.0
 * @category models
 */
export interface KeyVerdict {
  readonly key: string
  readonly operations: number
  readonly verdict: Linearizability.Verdict["_tag"]
  readonly steps: number
  /** Empty unless `NotLinearizable`. */
  readonly minimal: ReadonlyArray<Operation>
}

/**
 * Checks a register history: each key's writes and synced reads must be linearizable.
 *
 * @example
 * ```ts
 * const verdicts = Register.check(recorder.operations())
 * const ok = verdicts.every((v) => v.verdict === "Linearizable")
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const check = (
  history: ReadonlyArray<Operation>,
  options: { readonly maxSteps?: number | undefined } = {}
): ReadonlyArray<KeyVerdict> => {
  const byKey = new Map<string, Array<Operation>>()
  for (const op of history) {
    if (!CHECKED.has(op.f)) continue
    const list = byKey.get(op.key) ?? []
    list.push(op)
    byKey.set(op.key, list)
  }
  const run = (ops: ReadonlyArray<Operation>) =>
    Linearizability.check(model, ops.flatMap((op) => toEntry(op) ?? []), options)
  return [...byKey].map(([key, ops]) => {
    const verdict = run(ops)
    const minimal = verdict._tag === "NotLinearizable" ? witness(ops, run) : []
    return { key, operations: ops.length, verdict: verdict._tag, steps: verdict.steps, minimal }
  })
}

/**
 * Hand-written histories: `op(...)` builds one operation with small integer times (they stand
 * for nanoseconds), ids assigned in call order.
 */
import type { Operation, Outcome, Result } from "../../src/History.ts"

export interface Spec {
  readonly p?: number
  readonly s?: string
  readonly f: string
  readonly key?: string
  readonly value?: string
  readonly version?: number
  readonly armedBy?: number
  /** [invoke, complete]; a single number for an info operation (no completion). */
  readonly at: readonly [number, number] | number
  readonly type?: Outcome
  readonly result?: Result
}

/** Builds a history from specs; ids are the indices. */
export const history = (...specs: ReadonlyArray<Spec>): Array<Operation> =>
  specs.map((spec, id) => {
    const info = typeof spec.at === "number"
    return {
      id,
      process: spec.p ?? 0,
      session: spec.s ?? `s${spec.p ?? 0}`,
      f: spec.f,
      key: spec.key ?? "k",
      value: spec.value,
      version: spec.version,
      armedBy: spec.armedBy,
      invoke: BigInt(typeof spec.at === "number" ? spec.at : spec.at[0]),
      complete: typeof spec.at === "number" ? undefined : BigInt(spec.at[1]),
      type: spec.type ?? (info ? "info" : "ok"),
      result: spec.result ?? {}
    }
  })

/** The harness's seeded generator, so generated histories are reproducible. */
export { makeRandom as prng } from "../../src/Run.ts"

/**
 * The register's linearizability check on small hand-written histories, each known to be
 * linearizable or known not to be, several with operations of unknown outcome; then on random
 * concurrent executions of a real register, which must pass, and the same with one read
 * corrupted, which must fail.
 */
import { describe, expect, it } from "@effect/vitest"
import type { Operation } from "../src/History.ts"
import * as Register from "../src/Register.ts"
import { shrink } from "../src/Shrink.ts"
import { history, prng } from "./utils/ops.ts"

const verdict = (ops: ReadonlyArray<Operation>) => {
  const keys = Register.check(ops)
  return keys.every((k) => k.verdict === "Linearizable") ? "ok" : keys.find((k) => k.verdict !== "Linearizable")!.verdict
}

describe("Register linearizability", () => {
  it("sequential create, set, read, delete", () => {
    expect(verdict(history(
      { f: "create", value: "a", at: [0, 1] },
      { f: "set", value: "b", version: 0, at: [2, 3], result: { version: 1 } },
      { f: "sget", at: [4, 5], result: { value: "b", version: 1 } },
      { f: "delete", version: 1, at: [6, 7] },
      { f: "sget", at: [8, 9], type: "fail", result: { error: "NoNode" } }
    ))).toBe("ok")
  })

  it("two concurrent creates: one wins, the other sees NodeExists, and a later read sees the winner", () => {
    const race = (read: string) =>
      history(
        { p: 0, f: "create", value: "a", at: [0, 10] },
        { p: 1, f: "create", value: "b", at: [1, 11], type: "fail", result: { error: "NodeExists" } },
        { p: 2, f: "sget", at: [12, 13], result: { value: read, version: 0 } }
      )
    expect(verdict(race("a"))).toBe("ok")
    expect(verdict(race("b"))).toBe("NotLinearizable")
  })

  it("a read after a completed write must see it; a concurrent read may see either", () => {
    const base = [
      { p: 0, f: "create", value: "v0", at: [0, 1] as const },
      { p: 0, f: "set", value: "v1", version: 0, at: [2, 10] as const, result: { version: 1 } }
    ]
    expect(verdict(history(...base, { p: 1, f: "sget", at: [3, 4], result: { value: "v0", version: 0 } }))).toBe("ok")
    expect(verdict(history(...base, { p: 1, f: "sget", at: [3, 4], result: { value: "v1", version: 1 } }))).toBe("ok")
    expect(verdict(history(...base, { p: 1, f: "sget", at: [11, 12], result: { value: "v0", version: 0 } }))).toBe("NotLinearizable")
  })

  it("new-then-old reads during one write are not linearizable", () => {
    expect(verdict(history(
      { p: 0, f: "create", value: "x", at: [0, 10] },
      { p: 1, f: "sget", at: [1, 2], result: { value: "x", version: 0 } },
      { p: 2, f: "sget", at: [3, 4], type: "fail", result: { error: "NoNode" } }
    ))).toBe("NotLinearizable")
  })

  it("versions: BadVersion only when the version differs, and a set's reply carries the new version", () => {
    const ops = (secondVersion: number, reply: number) =>
      history(
        { f: "create", value: "a", at: [0, 1] },
        { f: "set", value: "b", version: 0, at: [2, 3], result: { version: reply } },
        { f: "set", value: "c", version: secondVersion, at: [4, 5], type: "fail", result: { error: "BadVersion" } }
      )
    expect(verdict(ops(0, 1))).toBe("ok")
    expect(verdict(ops(1, 1))).toBe("NotLinearizable")
    expect(verdict(ops(0, 2))).toBe("NotLinearizable")
  })

  it("an unknown create may take effect after a read that missed it, but only once", () => {
    expect(verdict(history(
      { p: 0, f: "create", value: "a", at: 0 },
      { p: 1, f: "sget", at: [5, 6], type: "fail", result: { error: "NoNode" } },
      { p: 1, f: "sget", at: [7, 8], result: { value: "a", version: 0 } }
    ))).toBe("ok")
    expect(verdict(history(
      { p: 0, f: "create", value: "a", at: 0 },
      { p: 1, f: "sget", at: [5, 6], result: { value: "a", version: 0 } },
      { p: 1, f: "delete", version: 0, at: [7, 8] },
      { p: 1, f: "sget", at: [9, 10], result: { value: "a", version: 0 } }
    ))).toBe("NotLinearizable")
  })

  it("an unknown write never takes effect before its invocation", () => {
    expect(verdict(history(
      { p: 1, f: "sget", at: [0, 1], result: { value: "a", version: 0 } },
      { p: 0, f: "create", value: "a", at: 2 }
    ))).toBe("NotLinearizable")
  })

  it("a create reported NodeExists whose value then appears (a re-sent create) is caught, and shrinks to that create alone", () => {
    const ops = history(
      { p: 0, f: "create", key: "other", value: "z", at: [0, 1] },
      { p: 0, f: "create", value: "a", at: [2, 9], type: "fail", result: { error: "NodeExists" } },
      { p: 1, f: "sget", key: "other", at: [3, 4], result: { value: "z", version: 0 } },
      { p: 1, f: "sget", at: [10, 11], result: { value: "a", version: 0 } },
      { p: 1, f: "set", value: "b", version: 0, at: [12, 13], result: { version: 1 } }
    )
    const keys = Register.check(ops)
    expect(keys.find((k) => k.key === "other")?.verdict).toBe("Linearizable")
    const bad = keys.find((k) => k.key === "k")!
    expect(bad.verdict).toBe("NotLinearizable")
    // The acknowledged writes before it are the context: here there are none on this key.
    expect(bad.minimal.map((op) => op.id)).toEqual([1])
  })

  it("the witness keeps the acknowledged writes that give a violation its meaning", () => {
    const ops = history(
      { p: 0, f: "create", value: "a", at: [0, 1] },
      { p: 1, f: "sget", at: [2, 3], result: { value: "a", version: 0 } },
      { p: 0, f: "delete", version: 0, at: [4, 5] },
      { p: 1, f: "sget", at: [6, 7], type: "fail", result: { error: "NoNode" } },
      { p: 1, f: "create", value: "b", at: [8, 9], type: "fail", result: { error: "NodeExists" } },
      { p: 1, f: "sget", at: [10, 11], type: "fail", result: { error: "NoNode" } }
    )
    const [bad] = Register.check(ops)
    expect(bad?.verdict).toBe("NotLinearizable")
    expect(bad?.minimal.map((op) => op.id)).toEqual([0, 2, 4])
  })

  it("plain reads are left to the session checker: a stale plain read is not a linearizability violation", () => {
    expect(verdict(history(
      { f: "create", value: "a", at: [0, 1] },
      { f: "set", value: "b", version: 0, at: [2, 3], result: { version: 1 } },
      { f: "get", at: [4, 5], result: { value: "a", version: 0 } }
    ))).toBe("ok")
  })

  it("random concurrent executions of a real register pass; one corrupted read fails", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const ops = simulate(seed, 4, 30)
      expect(verdict(ops), `seed ${seed}`).toBe("ok")
      const reads = ops.filter((op) => op.f === "sget" && op.type === "ok")
      const victim = reads[Math.floor(prng(seed)() * reads.length)]
      if (victim === undefined) continue
      const corrupted = ops.map((op) => op.id === victim.id ? { ...op, result: { ...op.result, value: "never-written" } } : op)
      expect(verdict(corrupted), `seed ${seed} corrupted`).toBe("NotLinearizable")
    }
  })

  it("gives up with Unknown rather than running forever", () => {
    const ops = simulate(3, 6, 60)
    const keys = Register.check(ops, { maxSteps: 5 })
    expect(keys[0]?.verdict).toBe("Unknown")
  })
})

describe("shrink", () => {
  it("finds a 1-minimal failing subset", () => {
    const items = Array.from({ length: 40 }, (_, i) => i)
    const result = shrink(items, (subset) => subset.includes(3) && subset.includes(27) && subset.includes(31))
    expect(result).toEqual([3, 27, 31])
  })
})

/**
 * `processes` clients each run `perProcess` random operations on one key of a real register,
 * each taking effect at a random instant inside its interval; about one in sixteen has an unknown
 * outcome (applied or not, at random).
 */
const simulate = (seed: number, processes: number, perProcess: number): Array<Operation> => {
  const random = prng(seed)
  interface Planned {
    readonly p: number
    readonly f: string
    readonly value: string
    version: number
    readonly invoke: number
    readonly point: number
    readonly complete: number
    readonly unknown: boolean
    readonly applies: boolean
    type: "ok" | "fail" | "info"
    result: Operation["result"]
  }
  const planned: Array<Planned> = []
  for (let p = 0; p < processes; p++) {
    let t = Math.floor(random() * 50)
    for (let i = 0; i < perProcess; i++) {
      const duration = 2 + Math.floor(random() * 60)
      const f = ["create", "set", "delete", "sget", "sget"][Math.floor(random() * 5)]!
      planned.push({
        p,
        f,
        value: `${p}-${i}`,
        version: 0,
        // Distinct times: scaled, plus the process as a tie-breaker.
        invoke: t * 100 + p,
        point: (t + 1 + Math.floor(random() * (duration - 1))) * 100 + p,
        complete: (t + duration) * 100 + p,
        unknown: random() < 0.06,
        applies: random() < 0.5,
        type: "ok",
        result: {}
      })
      t += duration + Math.floor(random() * 20)
    }
  }
  let state: { value: string; version: number } | null = null
  for (const op of [...planned].sort((a, b) => a.point - b.point)) {
    const pick = random()
    op.version = state === null ? -1 : pick < 0.3 ? -1 : pick < 0.8 ? state.version : state.version + 1
    if (op.unknown && !op.applies) {
      op.type = "info"
      continue
    }
    const matches = state !== null && (op.version === -1 || op.version === state.version)
    if (op.f === "create") {
      if (state === null) state = { value: op.value, version: 0 }
      else op.type = "fail", op.result = { error: "NodeExists" }
    } else if (op.f === "set") {
      if (state === null) op.type = "fail", op.result = { error: "NoNode" }
      else if (!matches) op.type = "fail", op.result = { error: "BadVersion" }
      else state = { value: op.value, version: state.version + 1 }, op.result = { version: state.version }
    } else if (op.f === "delete") {
      if (state === null) op.type = "fail", op.result = { error: "NoNode" }
      else if (!matches) op.type = "fail", op.result = { error: "BadVersion" }
      else state = null
    } else {
      if (state === null) op.type = "fail", op.result = { error: "NoNode" }
      else op.result = { value: state.value, version: state.version }
    }
    if (op.unknown) op.type = "info", op.result = {}
  }
  return [...planned].sort((a, b) => a.invoke - b.invoke).map((op, id) => ({
    id,
    process: op.p,
    session: `s${op.p}`,
    f: op.f,
    key: "k",
    value: op.f === "create" || op.f === "set" ? op.value : undefined,
    version: op.f === "set" || op.f === "delete" ? op.version : undefined,
    invoke: BigInt(op.invoke),
    complete: op.type === "info" ? undefined : BigInt(op.complete),
    type: op.type,
    result: op.result
  }))
}

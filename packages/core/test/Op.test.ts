import { assert, describe, it } from "@effect/vitest"
import * as Op from "../src/Op.ts"

describe("Op.batches", () => {
  const size = (s: string) => s.length

  it("closes a run at the item limit and at the byte limit, keeping order", () => {
    const items = ["aa", "bb", "cc", "dd", "ee"]
    assert.deepStrictEqual(Op.batches(items, { maxItems: 2, maxBytes: 100, size }), [["aa", "bb"], ["cc", "dd"], ["ee"]])
    assert.deepStrictEqual(Op.batches(items, { maxItems: 10, maxBytes: 5, size }), [["aa", "bb"], ["cc", "dd"], ["ee"]])
    assert.deepStrictEqual(Op.batches(items, { maxItems: 10, maxBytes: 6, size }), [["aa", "bb", "cc"], ["dd", "ee"]])
  })

  it("gives an item larger than the byte limit a run of its own, never an empty run", () => {
    assert.deepStrictEqual(Op.batches(["big-item", "a", "b"], { maxItems: 10, maxBytes: 3, size }), [["big-item"], ["a", "b"]])
    assert.deepStrictEqual(Op.batches(["a", "big-item"], { maxItems: 10, maxBytes: 3, size }), [["a"], ["big-item"]])
    assert.deepStrictEqual(Op.batches([], { maxItems: 10, maxBytes: 3, size }), [])
  })
})

import { assert, describe, it } from "@effect/vitest"
import { DecodeFailure, JuteReader, JuteWriter } from "../src/internal/jute.ts"
import { prng } from "./utils/prng.ts"
import { int32 } from "./utils/bytes.ts"

const bytes = (...b: Array<number>): Uint8Array => Uint8Array.from(b)
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")

/** Runs `f` and returns the DecodeFailure it throws; fails the test if it throws nothing or something else. */
const failure = (f: () => unknown): DecodeFailure => {
  try {
    f()
  } catch (e) {
    if (e instanceof DecodeFailure) return e
    throw e
  }
  assert.fail("expected a DecodeFailure")
}


describe("JuteReader", () => {
  it("reads big-endian primitives and advances", () => {
    const r = new JuteReader(
      bytes(0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0, 1, 2, 0x80, 0, 0, 0, 0, 0, 0, 0)
    )
    assert.strictEqual(r.int(), -2147483648)
    assert.strictEqual(r.pos, 4)
    assert.strictEqual(r.long(), -2n)
    assert.strictEqual(r.pos, 12)
    assert.strictEqual(r.bool(), false)
    assert.strictEqual(r.bool(), true)
    assert.strictEqual(r.bool(), true, "Java reads any non-zero byte as true")
    assert.strictEqual(r.long(), -(2n ** 63n))
    assert.strictEqual(r.remaining, 0)
  })

  it("reads 64-bit extremes exactly", () => {
    const r = new JuteReader(bytes(0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0x20, 0, 0, 0, 0, 0, 1))
    assert.strictEqual(r.long(), 2n ** 63n - 1n)
    assert.strictEqual(r.long(), -1n)
    assert.strictEqual(r.long(), 2n ** 53n + 1n, "above 2^53, where a number would round")
  })

  it("honours the byteOffset of a subarray and the [start, end) window", () => {
    const backing = bytes(0xee, 0xee, 0, 0, 0, 7, 0, 0, 0, 9, 0xee)
    const view = backing.subarray(2)
    const r = new JuteReader(view)
    assert.strictEqual(r.int(), 7)
    assert.strictEqual(r.int(), 9)
    const w = new JuteReader(backing, 6, 10)
    assert.strictEqual(w.int(), 9)
    assert.strictEqual(w.remaining, 0)
    // Bytes exist in the array past `end`, but the reader must not see them.
    const clipped = new JuteReader(backing, 2, 8)
    assert.strictEqual(clipped.int(), 7)
    assert.match(failure(() => clipped.int()).reason, /truncated int: need 4 bytes, 2 left/)
    assert.strictEqual(clipped.pos, 6, "a failed read does not advance")
  })

  it("fails on every truncated primitive", () => {
    assert.match(failure(() => new JuteReader(bytes(0, 0, 0)).int()).reason, /truncated int/)
    assert.match(failure(() => new JuteReader(bytes(0, 0, 0, 0, 0, 0, 0)).long()).reason, /truncated long/)
    assert.match(failure(() => new JuteReader(bytes()).bool()).reason, /truncated boolean/)
  })

  it("reads buffers and strings: -1 is null, 0 is empty, bytes are copied out", () => {
    const src = bytes(...int32(-1), ...int32(0), ...int32(3), 1, 2, 3, ...int32(-1), ...int32(0), ...int32(2), 0x68, 0x69, ...int32(-1))
    const r = new JuteReader(src)
    assert.isNull(r.buffer())
    assert.deepStrictEqual(r.buffer(), new Uint8Array(0))
    const b = r.buffer()
    assert.deepStrictEqual(b, bytes(1, 2, 3))
    src[12] = 99
    assert.deepStrictEqual(b, bytes(1, 2, 3), "the buffer is a copy, not a view pinning the frame")
    assert.isNull(r.ustring())
    assert.strictEqual(r.ustring(), "")
    assert.strictEqual(r.ustring(), "hi")
    assert.strictEqual(r.string(), "", "string() reads null as empty")
    assert.strictEqual(r.remaining, 0)
  })

  it("rejects negative lengths below -1", () => {
    for (const n of [-2, -5, -2147483648]) {
      const data = bytes(...int32(n), 0, 0, 0, 0, 0, 0, 0, 0)
      assert.match(failure(() => new JuteReader(data).buffer()).reason, new RegExp(`negative buffer length ${n}`))
      assert.match(failure(() => new JuteReader(data).ustring()).reason, /negative string length/)
      assert.match(failure(() => new JuteReader(data).vector(1, (r) => r.bool())).reason, /negative vector length/)
    }
  })

  it("rejects a length prefix larger than what is left, before reading or allocating", () => {
    for (const n of [0x7fffffff, 0x10000, 5]) {
      const data = bytes(...int32(n), 1, 2, 3, 4)
      const r1 = new JuteReader(data)
      assert.match(failure(() => r1.buffer()).reason, new RegExp(`buffer length ${n} exceeds the 4 bytes left`))
      assert.match(failure(() => new JuteReader(data).ustring()).reason, /string length \d+ exceeds/)
      let calls = 0
      const reason = failure(() =>
        new JuteReader(data).vector(1, (r) => {
          calls++
          return r.bool()
        })
      ).reason
      assert.match(reason, /vector length \d+ exceeds/)
      assert.strictEqual(calls, 0, "no element is read once the count is known to be impossible")
    }
    // Exactly the bytes that are left is fine.
    assert.deepStrictEqual(new JuteReader(bytes(...int32(4), 1, 2, 3, 4)).buffer(), bytes(1, 2, 3, 4))
  })

  it("bounds a vector count by its minimum element size", () => {
    // 3 elements of at least 4 bytes cannot fit in 8 bytes, although 3 < 8.
    const data = bytes(...int32(3), 0, 0, 0, 0, 0, 0, 0, 0)
    let calls = 0
    const reason = failure(() =>
      new JuteReader(data).vector(4, (r) => {
        calls++
        return r.int()
      })
    ).reason
    assert.match(reason, /vector length 3 exceeds the 8 bytes left/)
    assert.strictEqual(calls, 0)
    // 2 of them do fit.
    assert.deepStrictEqual(new JuteReader(bytes(...int32(2), 0, 0, 0, 1, 0, 0, 0, 2)).vector(4, (r) => r.int()), [1, 2])
    // stringVector uses 4 (an empty string is its length prefix): 0x7fffffff strings fail fast.
    assert.match(failure(() => new JuteReader(bytes(...int32(0x7fffffff), 0, 0, 0, 0)).stringVector()).reason, /vector length/)
  })

  it("reads a null vector as empty, and strings in vectors", () => {
    assert.deepStrictEqual(new JuteReader(bytes(...int32(-1))).vector(1, (r) => r.bool()), [])
    assert.deepStrictEqual(new JuteReader(bytes(...int32(0))).stringVector(), [])
    assert.deepStrictEqual(new JuteReader(bytes(...int32(2), ...int32(1), 0x61, ...int32(0))).stringVector(), ["a", ""])
  })

  it("a long vector of names reads the same whole-list way as name by name, and fails the same", () => {
    // About 70 KB: several decoded runs, with names across their boundaries.
    const names = Array.from({ length: 2000 }, (_, i) => ["", "a", `node-${i}`, `a-longer-child-name-${i}`.repeat(1 + (i % 3))][i % 4]!)
    const encode = (list: ReadonlyArray<string>, tail: Array<number> = []) => {
      const w = new JuteWriter()
      w.stringVector(list)
      return Uint8Array.from([...w.take(), ...tail])
    }
    const oneByOne = (data: Uint8Array) => new JuteReader(data).vector(4, (r) => r.string())
    const cases = {
      ascii: encode(names, [1, 2]),
      nonAscii: encode(names.map((n, i) => (i === 1502 ? "ünïcode" : n)), [1, 2]),
      withNull: (() => {
        // The first name is "": its length 0 becomes -1 (null), read as "" too.
        const data = encode(names)
        data.set(int32(-1), 4)
        return data
      })()
    }
    for (const [label, data] of Object.entries(cases)) {
      const r = new JuteReader(data)
      assert.deepStrictEqual(r.stringVector(), oneByOne(data), label)
      const reference = new JuteReader(data)
      reference.vector(4, (x) => x.string())
      assert.strictEqual(r.pos, reference.pos, `${label}: stops at the same byte`)
    }
    assert.strictEqual(new JuteReader(cases.ascii).stringVector()[2], "node-2")
    assert.strictEqual(new JuteReader(cases.nonAscii).stringVector()[1502], "ünïcode")
    assert.strictEqual(new JuteReader(cases.ascii).stringVector()[1999], names[1999])
    // Cut inside the last name: the same failure either way.
    const cut = cases.ascii.subarray(0, cases.ascii.length - 6)
    assert.strictEqual(failure(() => new JuteReader(cut).stringVector()).reason, failure(() => oneByOne(cut)).reason)
  })

  it("decodes strings as (lenient) UTF-8", () => {
    const utf8 = [0xc3, 0xbc, 0xf0, 0x9f, 0x98, 0x80]
    assert.strictEqual(new JuteReader(bytes(...int32(6), ...utf8)).ustring(), "ü😀")
    // Java sends non-BMP characters as CESU-8 surrogate triples.
    assert.strictEqual(new JuteReader(bytes(...int32(6), 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80)).ustring(), "😀")
    // A string's bytes end at its length even if a multi-byte sequence is cut there.
    const r = new JuteReader(bytes(...int32(1), 0xc3, 0xbc))
    assert.strictEqual(r.ustring(), "\ufffd")
    assert.strictEqual(r.pos, 5)
  })
})

describe("JuteWriter", () => {
  it("writes big-endian primitives", () => {
    const w = new JuteWriter()
    w.int(-2).long(-(2n ** 63n)).long(2n ** 63n - 1n).bool(true).bool(false)
    assert.strictEqual(hex(w.take()), "fffffffe" + "8000000000000000" + "7fffffffffffffff" + "01" + "00")
  })

  it("wraps longs outside the signed range to 64 bits (as Java's long would)", () => {
    const w = new JuteWriter()
    w.long(2n ** 64n - 1n).long(2n ** 63n)
    assert.strictEqual(hex(w.take()), "ffffffffffffffff" + "8000000000000000")
  })

  it("writes null as -1 for buffers and strings, and counts (never -1) for vectors", () => {
    const w = new JuteWriter()
    w.buffer(null).ustring(null).buffer(new Uint8Array(0)).ustring("").vector([], () => {}).stringVector(["a", ""])
    assert.strictEqual(hex(w.take()), "ffffffff" + "ffffffff" + "00000000" + "00000000" + "00000000" + "00000002" + "0000000161" + "00000000")
  })

  it("prefixes strings with their UTF-8 byte length, not their UTF-16 length", () => {
    const w = new JuteWriter(4)
    w.ustring("ü😀")
    assert.strictEqual(hex(w.take()), "00000006" + "c3bc" + "f09f9880")
  })

  it("grows past its initial size and keeps every earlier byte", () => {
    const rand = prng(7)
    for (const initial of [1, 2, 3, 8, 64]) {
      const w = new JuteWriter(initial)
      const expected: Array<number> = []
      for (let i = 0; i < 300; i++) {
        const kind = Math.floor(rand() * 4)
        if (kind === 0) {
          const v = (rand() * 2 ** 32) | 0
          w.int(v)
          expected.push(...int32(v))
        } else if (kind === 1) {
          const v = rand() < 0.5
          w.bool(v)
          expected.push(v ? 1 : 0)
        } else if (kind === 2) {
          const b = Uint8Array.from({ length: Math.floor(rand() * 50) }, () => Math.floor(rand() * 256))
          w.buffer(b)
          expected.push(...int32(b.length), ...b)
        } else {
          const s = "x".repeat(Math.floor(rand() * 40)) + "€"
          w.ustring(s)
          expected.push(...int32(s.length - 1 + 3), ...Array.from(s.slice(0, -1), (c) => c.charCodeAt(0)), 0xe2, 0x82, 0xac)
        }
      }
      // One big write that needs several doublings at once.
      const big = new Uint8Array(10_000).fill(0x5a)
      w.buffer(big)
      expected.push(...int32(big.length), ...big)
      assert.isAtLeast(w.buf.length, expected.length)
      assert.deepStrictEqual(w.take(), Uint8Array.from(expected), `initial size ${initial}`)
    }
  })

  it("grows from an initial size of 0 (doubling 0 must not loop forever)", () => {
    const w = new JuteWriter(0)
    w.int(1).ustring("abc").buffer(new Uint8Array(40).fill(7))
    const out = w.take()
    assert.strictEqual(out.length, 4 + 7 + 44)
    assert.strictEqual(hex(out.subarray(0, 11)), "00000001" + "00000003616263")
  })

  it("writes a string whose worst-case size needs growth (3 bytes per unit)", () => {
    const w = new JuteWriter(8)
    const s = "€".repeat(1000)
    w.ustring(s)
    const out = w.take()
    assert.strictEqual(out.length, 4 + 3000)
    assert.strictEqual(hex(out.subarray(0, 4)), "00000bb8")
    assert.strictEqual(hex(out.subarray(out.length - 3)), "e282ac")
  })

  it("beginFrame/endFrame fill in the body length, for several frames in one buffer", () => {
    const w = new JuteWriter(2)
    const a = w.beginFrame()
    w.int(1).int(2)
    assert.strictEqual(w.endFrame(a), 8)
    const b = w.beginFrame()
    assert.strictEqual(w.endFrame(b), 0, "an empty frame")
    const c = w.beginFrame()
    w.ustring("abc")
    assert.strictEqual(w.endFrame(c), 7)
    assert.deepStrictEqual([a, b, c], [0, 12, 16])
    assert.strictEqual(hex(w.take()), "00000008" + "0000000100000002" + "00000000" + "00000007" + "00000003616263")
  })

  it("endFrame writes the prefix correctly after the buffer grew under the open frame", () => {
    const w = new JuteWriter(4)
    w.int(0x11111111)
    const at = w.beginFrame()
    w.buffer(new Uint8Array(5000))
    assert.strictEqual(w.endFrame(at), 5004)
    const out = w.take()
    assert.strictEqual(hex(out.subarray(0, 12)), "11111111" + "0000138c" + "00001388")
  })

  it("truncate drops a frame and later writes continue from there", () => {
    const w = new JuteWriter(16)
    const a = w.beginFrame()
    w.int(7)
    w.endFrame(a)
    const b = w.beginFrame()
    w.buffer(new Uint8Array(100).fill(1))
    w.truncate(b)
    assert.strictEqual(w.pos, 8)
    const c = w.beginFrame()
    w.bool(true)
    w.endFrame(c)
    assert.strictEqual(hex(w.take()), "00000004" + "00000007" + "00000001" + "01")
  })

  it("take copies the bytes and resets the writer, keeping its capacity", () => {
    const w = new JuteWriter(4)
    w.int(1).int(2).int(3)
    const capacity = w.buf.length
    const first = w.take()
    assert.strictEqual(w.pos, 0)
    assert.strictEqual(w.buf.length, capacity)
    w.int(9)
    assert.strictEqual(hex(first), "000000010000000200000003", "the taken bytes are not overwritten by later writes")
    assert.strictEqual(hex(w.take()), "00000009")
    assert.strictEqual(w.take().length, 0)
  })

  it("release gives the whole buffer back while nothing is written, and the next write starts at the initial capacity", () => {
    const w = new JuteWriter(64)
    w.buffer(new Uint8Array(500).fill(3))
    w.release()
    assert.isAtLeast(w.buf.length, 504, "a writer holding unsent bytes keeps them")
    w.take()
    w.release()
    assert.strictEqual(w.buf.length, 0)
    w.int(5)
    assert.strictEqual(w.buf.length, 64)
    assert.strictEqual(hex(w.take()), "00000005")
    // A released buffer serves the next writer that starts again, if it is large enough.
    w.release()
    const other = new JuteWriter(64)
    other.take()
    other.release()
    const big = new JuteWriter(16)
    big.take()
    big.release()
    big.buffer(new Uint8Array(200).fill(7))
    assert.strictEqual(hex(big.take()).length, 2 * 204, "a spare too small for the write is not used")
    const again = new JuteWriter(64)
    again.take()
    again.release()
    again.int(9).int(10)
    assert.strictEqual(hex(again.take()), "000000090000000a")
  })

  it("round-trips random primitives through JuteReader", () => {
    const rand = prng(42)
    const w = new JuteWriter(1)
    const ops: Array<[string, unknown]> = []
    for (let i = 0; i < 2000; i++) {
      const k = Math.floor(rand() * 5)
      if (k === 0) {
        const v = (rand() * 2 ** 32) | 0
        w.int(v)
        ops.push(["int", v])
      } else if (k === 1) {
        const v = BigInt.asIntN(64, (BigInt(Math.floor(rand() * 2 ** 32)) << 32n) | BigInt(Math.floor(rand() * 2 ** 32)))
        w.long(v)
        ops.push(["long", v])
      } else if (k === 2) {
        const v = rand() < 0.5
        w.bool(v)
        ops.push(["bool", v])
      } else if (k === 3) {
        const v = rand() < 0.1 ? null : Uint8Array.from({ length: Math.floor(rand() * 8) }, () => Math.floor(rand() * 256))
        w.buffer(v)
        ops.push(["buffer", v])
      } else {
        const v = rand() < 0.1 ? null : String.fromCodePoint(...Array.from({ length: Math.floor(rand() * 5) }, () => Math.floor(rand() * 0xd7ff)))
        w.ustring(v)
        ops.push(["ustring", v])
      }
    }
    const r = new JuteReader(w.take())
    for (const [kind, v] of ops) {
      const got = kind === "int" ? r.int() : kind === "long" ? r.long() : kind === "bool" ? r.bool() : kind === "buffer" ? r.buffer() : r.ustring()
      assert.deepStrictEqual(got, v, kind)
    }
    assert.strictEqual(r.remaining, 0)
  })
})

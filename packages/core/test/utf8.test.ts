import { assert, describe, it } from "@effect/vitest"
import * as Utf8 from "../src/internal/utf8.ts"
import { prng } from "./utils/prng.ts"


const between = (rand: () => number, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1))

const EDGE_CODE_POINTS = [0, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfeff, 0xfffd, 0xffff, 0x10000, 0x1f600, 0x10ffff]

/** A random well-formed string (no lone surrogates): ASCII, 2-byte, 3-byte and astral characters. */
const randomString = (rand: () => number, maxLength = 24): string => {
  const cps: Array<number> = []
  const n = between(rand, 0, maxLength)
  for (let i = 0; i < n; i++) {
    const k = rand()
    if (k < 0.1) cps.push(EDGE_CODE_POINTS[between(rand, 0, EDGE_CODE_POINTS.length - 1)]!)
    else if (k < 0.4) cps.push(between(rand, 0, 0x7f))
    else if (k < 0.6) cps.push(between(rand, 0x80, 0x7ff))
    else if (k < 0.8) {
      const c = between(rand, 0x800, 0xffff - 0x800)
      cps.push(c >= 0xd800 ? c + 0x800 : c) // skip the surrogate block
    } else cps.push(between(rand, 0x10000, 0x10ffff))
  }
  return String.fromCodePoint(...cps)
}

/** What Java's jute writer sends: every UTF-16 unit on its own, so surrogates become 3-byte triples. */
const cesu8 = (s: string): Uint8Array => {
  const out: Array<number> = []
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) out.push(c)
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f))
    else out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f))
  }
  return Uint8Array.from(out)
}

const nodeUtf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "utf8"))
// ignoreBOM: keep a leading U+FEFF, as Java (and our decoder) do.
const textDecoder = new TextDecoder("utf-8", { ignoreBOM: true })

describe("utf8.encode", () => {
  it("matches Buffer.from(s, 'utf8') on random strings, astral characters included", () => {
    const rand = prng(1)
    for (let i = 0; i < 1500; i++) {
      const s = randomString(rand)
      assert.deepStrictEqual(Utf8.encode(s), nodeUtf8(s), JSON.stringify(s))
    }
  })

  it("encodes each code point at the 1/2/3/4-byte boundaries", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["\u0000", "00"],
      ["\u007f", "7f"],
      ["\u0080", "c280"],
      ["\u07ff", "dfbf"],
      ["\u0800", "e0a080"],
      ["\ud7ff", "ed9fbf"],
      ["\ue000", "ee8080"],
      ["\uffff", "efbfbf"],
      ["\u{10000}", "f0908080"],
      ["😀", "f09f9880"],
      ["\u{10ffff}", "f48fbfbf"]
    ]
    for (const [s, hex] of cases) assert.strictEqual(Buffer.from(Utf8.encode(s)).toString("hex"), hex, hex)
  })

  it("encodes a lone surrogate as the 3 bytes of U+FFFD, like Buffer and TextEncoder", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["\ud800", "efbfbd"],
      ["\udfff", "efbfbd"],
      ["a\udc00b", "61efbfbd62"],
      ["\ud800\ud800", "efbfbdefbfbd"],
      ["\udbff\ud800x", "efbfbdefbfbd78"],
      ["\ude00\ud83d", "efbfbdefbfbd"], // a pair in the wrong order is two lone surrogates
      ["\ud83d\ude00\ude00", "f09f9880efbfbd"]
    ]
    for (const [s, hex] of cases) {
      assert.strictEqual(Buffer.from(Utf8.encode(s)).toString("hex"), hex, JSON.stringify(s))
      assert.strictEqual(hex, Buffer.from(s, "utf8").toString("hex"))
    }
  })

  it("encodeInto writes at an offset within the s.length * 3 worst case, leaving other bytes alone", () => {
    const rand = prng(2)
    for (let i = 0; i < 500; i++) {
      // Surrogates included: a lone one takes 3 bytes for 1 unit, the worst case.
      const s = randomString(rand) + (rand() < 0.5 ? "\ud800" : "") + randomString(rand)
      const offset = between(rand, 0, 5)
      const out = new Uint8Array(offset + s.length * 3 + 2).fill(0xaa)
      const end = Utf8.encodeInto(s, out, offset)
      const expected = Buffer.from(s, "utf8")
      assert.strictEqual(end, offset + expected.length)
      assert.deepStrictEqual(out.subarray(offset, end), new Uint8Array(expected))
      assert.isTrue(out.subarray(0, offset).every((b) => b === 0xaa))
      assert.isTrue(out.subarray(end).every((b) => b === 0xaa))
    }
  })

  it("handles a long (100 KB) ASCII string", () => {
    const s = Array.from({ length: 100_000 }, (_, i) => String.fromCharCode(0x20 + (i % 95))).join("")
    const bytes = Utf8.encode(s)
    assert.strictEqual(bytes.length, 100_000)
    assert.deepStrictEqual(bytes, nodeUtf8(s))
    assert.strictEqual(Utf8.decode(bytes), s)
  })
})

describe("utf8.decode", () => {
  it("round-trips random strings and matches TextDecoder on valid UTF-8", () => {
    const rand = prng(3)
    for (let i = 0; i < 1500; i++) {
      const s = randomString(rand)
      const bytes = nodeUtf8(s)
      assert.strictEqual(Utf8.decode(bytes), s)
      assert.strictEqual(Utf8.decode(Utf8.encode(s)), textDecoder.decode(bytes))
    }
  })

  it("keeps a byte order mark (Java does not strip it either)", () => {
    assert.strictEqual(Utf8.decode(Uint8Array.from([0xef, 0xbb, 0xbf, 0x41])), "\ufeffA")
  })

  it("decodes a [start, end) window only", () => {
    const bytes = nodeUtf8("ab😀cdé")
    assert.strictEqual(Utf8.decode(bytes, 2, 6), "😀")
    assert.strictEqual(Utf8.decode(bytes, 6, 8), "cd")
    assert.strictEqual(Utf8.decode(bytes, 3, 3), "")
    // A sequence cut by `end` is malformed even though the rest of it follows in the array.
    assert.strictEqual(Utf8.decode(bytes, 0, 4), "ab\ufffd")
    assert.strictEqual(Utf8.decode(bytes, 8, 9), "\ufffd")
  })

  it("decodes CESU-8 surrogate triples (what Java sends for non-BMP characters)", () => {
    assert.strictEqual(Utf8.decode(Uint8Array.from([0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80])), "😀")
    assert.strictEqual(Utf8.decode(Uint8Array.from([0x61, 0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80, 0x62])), "a\u{10000}b")
    assert.strictEqual(Utf8.decode(Uint8Array.from([0xed, 0xaf, 0xbf, 0xed, 0xbf, 0xbf])), "\u{10ffff}")
    const rand = prng(4)
    for (let i = 0; i < 2000; i++) {
      const s = randomString(rand)
      assert.strictEqual(Utf8.decode(cesu8(s)), s, JSON.stringify(s))
    }
  })

  it("keeps a lone CESU-8 surrogate as that code unit", () => {
    assert.strictEqual(Utf8.decode(Uint8Array.from([0x61, 0xed, 0xa0, 0x80])), "a\ud800")
    assert.strictEqual(Utf8.decode(Uint8Array.from([0xed, 0xb8, 0x80, 0x7a])), "\ude00z")
  })

  it("replaces malformed sequences with U+FFFD, one per maximal invalid subpart (as TextDecoder)", () => {
    const F = "\ufffd"
    const cases: ReadonlyArray<readonly [ReadonlyArray<number>, string]> = [
      [[0x80], F], // stray continuation
      [[0xbf, 0x41], F + "A"],
      [[0xc0, 0x80], F + F], // C0/C1 are always overlong
      [[0xc1, 0xbf], F + F],
      [[0xc2], F], // truncated at the end
      [[0xc2, 0x41], F + "A"],
      [[0xe0, 0x80, 0x80], F + F + F], // overlong 3-byte form
      [[0xe0, 0x9f, 0xbf], F + F + F],
      [[0xe2, 0x82], F], // truncated 3-byte sequence: one replacement
      [[0xe2, 0x82, 0x41], F + "A"],
      [[0xf0, 0x80, 0x80, 0x80], F + F + F + F], // overlong 4-byte form
      [[0xf0, 0x9f, 0x98], F], // truncated 4-byte sequence
      [[0xf0, 0x9f, 0x41], F + "A"],
      [[0xf4, 0x90, 0x80, 0x80], F + F + F + F], // above U+10FFFF
      [[0xf5, 0x80, 0x80, 0x80], F + F + F + F],
      [[0xff, 0xfe, 0x41], F + F + "A"],
      [[0x61, 0xe2, 0x41, 0x62], "a" + F + "Ab"]
    ]
    for (const [input, expected] of cases) {
      const bytes = Uint8Array.from(input)
      assert.strictEqual(Utf8.decode(bytes), expected, JSON.stringify(input))
      assert.strictEqual(textDecoder.decode(bytes), expected, `TextDecoder agrees on ${JSON.stringify(input)}`)
    }
  })

  it("never throws on random bytes, and agrees with TextDecoder wherever no CESU-8 surrogate occurs", () => {
    const rand = prng(5)
    const pools: ReadonlyArray<readonly [number, number]> = [
      [0x00, 0x7f],
      [0x80, 0xbf],
      [0x80, 0xbf],
      [0xc0, 0xc1],
      [0xc2, 0xdf],
      [0xe0, 0xef],
      [0xf0, 0xf4],
      [0xf5, 0xff]
    ]
    let compared = 0
    for (let i = 0; i < 5000; i++) {
      const bytes = Uint8Array.from({ length: between(rand, 0, 24) }, () => {
        const [lo, hi] = pools[between(rand, 0, pools.length - 1)]!
        return between(rand, lo, hi)
      })
      const s = Utf8.decode(bytes)
      // Valid input shrinks or keeps its size; each replacement covers at least one byte.
      assert.isAtMost(s.length, bytes.length)
      const hasSurrogateTriple = bytes.some((b, j) => b === 0xed && (bytes[j + 1] ?? 0) >= 0xa0 && (bytes[j + 1] ?? 0) <= 0xbf)
      if (!hasSurrogateTriple) {
        compared++
        assert.strictEqual(s, textDecoder.decode(bytes), Buffer.from(bytes).toString("hex"))
      }
    }
    assert.isAbove(compared, 4000)
  })

  it("decodes long inputs in chunks (no call-stack overflow), across the chunk boundaries", () => {
    const ascii = "x".repeat(100_000)
    assert.strictEqual(Utf8.decode(nodeUtf8(ascii)), ascii)
    // As large as a string in a frame can be (jute.maxbuffer is about 1 MiB).
    const mib = "ab".repeat(512 * 1024)
    assert.strictEqual(Utf8.decode(nodeUtf8(mib)), mib)
    const rand = prng(6)
    const mixed = Array.from({ length: 2000 }, () => randomString(rand, 60)).join("")
    assert.isAbove(mixed.length, 50_000)
    assert.strictEqual(Utf8.decode(nodeUtf8(mixed)), mixed)
    assert.strictEqual(Utf8.decode(cesu8(mixed)), mixed)
  })
})

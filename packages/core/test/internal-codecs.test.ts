import { assert, describe, it } from "@effect/vitest"
import * as Base64 from "../src/internal/base64.ts"
import { sha1 } from "../src/internal/sha1.ts"
import * as Utf8 from "../src/internal/utf8.ts"

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0))

describe("sha1", () => {
  it("matches known vectors", () => {
    // FIPS 180 vectors, and lengths around the 55/56/64-byte padding boundaries (openssl/hashlib).
    const vectors: ReadonlyArray<readonly [Uint8Array, string]> = [
      [ascii(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709"],
      [ascii("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d"],
      [ascii("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), "84983e441c3bd26ebaae4aa1f95129e5e54670f1"],
      [ascii("x".repeat(130)), "d140171ce524e232cc2a6bf07cca693c533d73a1"],
      [new Uint8Array(1_000_000).fill(0x61), "34aa973cd4c4daa4f61eeb2bdbad27316534016f"]
    ]
    for (const [input, expected] of vectors) assert.strictEqual(hex(sha1(input)), expected, `${input.length} bytes`)
    assert.strictEqual(hex(sha1(Utf8.encode("héllo wörld ☃ 😀"))), "71df5c4a12982dce241e62080be38ccf56524923")
  })
})

describe("base64", () => {
  it("encodes with padding (RFC 4648 vectors)", () => {
    const vectors = [["", ""], ["f", "Zg=="], ["fo", "Zm8="], ["foo", "Zm9v"], ["foob", "Zm9vYg=="], ["fooba", "Zm9vYmE="], ["foobar", "Zm9vYmFy"]]
    for (const [input, expected] of vectors) assert.strictEqual(Base64.encode(ascii(input ?? "")), expected)
    assert.strictEqual(Base64.encode(Uint8Array.from([0xfb, 0xff, 0xbf])), "+/+/")
  })
})

describe("utf8", () => {
  it("encodes like TextEncoder", () => {
    const encoder = new TextEncoder()
    for (const s of ["", "abc", "é", "€", "😀", "a\u0000b", "\u07ff\u0800\uffff", "mixed ünï €😀 text", "\ud800", "a\udc00b", "\udbff\ud800x"]) {
      assert.deepStrictEqual(Array.from(Utf8.encode(s)), Array.from(encoder.encode(s)), JSON.stringify(s))
    }
  })

  it("encodeInto writes at an offset and returns the end", () => {
    const buf = new Uint8Array(20).fill(0xaa)
    const end = Utf8.encodeInto("é😀", buf, 3)
    assert.strictEqual(end, 3 + 2 + 4)
    assert.deepStrictEqual(Array.from(buf.subarray(0, end + 1)), [0xaa, 0xaa, 0xaa, 0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80, 0xaa])
  })

  it("decodes valid UTF-8 and round-trips", () => {
    for (const s of ["", "abc", "é€😀", "\u0000\u007f\u0080\u07ff\u0800\uffff", "x".repeat(10_000) + "😀"]) {
      assert.strictEqual(Utf8.decode(Utf8.encode(s)), s)
    }
    const bytes = Utf8.encode("--abc--")
    assert.strictEqual(Utf8.decode(bytes, 2, 5), "abc")
  })

  it("decodes leniently like TextDecoder, except CESU-8 surrogates", () => {
    const decoder = new TextDecoder()
    const malformed = [[0x80], [0xc0, 0x80], [0xc2], [0xe0, 0x80, 0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xf5, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xff, 0x41], [0x61, 0xe2, 0x41]]
    for (const bytes of malformed) {
      assert.strictEqual(Utf8.decode(Uint8Array.from(bytes)), decoder.decode(Uint8Array.from(bytes)), JSON.stringify(bytes))
    }
    // Java writes U+1F600 as the surrogate pair, each unit as 3 bytes (CESU-8).
    assert.strictEqual(Utf8.decode(Uint8Array.from([0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80])), "😀")
    // A lone encoded surrogate stays a lone surrogate rather than failing.
    assert.strictEqual(Utf8.decode(Uint8Array.from([0x61, 0xed, 0xa0, 0x80])), "a\ud800")
  })
})

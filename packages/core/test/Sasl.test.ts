/**
 * MD5 against RFC 1321, and the DIGEST-MD5 client against RFC 2831's worked example, plus the
 * parsing rules. The exchange against a real server is in packages/node/test/SaslDigestMd5.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted, Result } from "effect"
import { createHash } from "node:crypto"
import * as Sasl from "../src/Sasl.ts"
import { md5, toHex } from "../src/internal/md5.ts"
import * as Utf8 from "../src/internal/utf8.ts"
import { prng } from "./utils/prng.ts"

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0))
const text = (bytes: Uint8Array): string => Utf8.decode(bytes)

const ok = <A, E>(r: Result.Result<A, E>): A => {
  if (Result.isFailure(r)) assert.fail(`expected success, got ${String(r.failure)}`)
  return r.success
}
const failure = <A>(r: Result.Result<A, Sasl.SaslError>): string => {
  if (Result.isSuccess(r)) return assert.fail(`expected a SaslError, got ${JSON.stringify(r.success)}`)
  assert.strictEqual(r.failure._tag, "SaslError")
  return r.failure.message
}

describe("md5", () => {
  it("matches the RFC 1321 test suite", () => {
    const vectors: ReadonlyArray<readonly [string, string]> = [
      ["", "d41d8cd98f00b204e9800998ecf8427e"],
      ["a", "0cc175b9c0f1b6a831c399e269772661"],
      ["abc", "900150983cd24fb0d6963f7d28e17f72"],
      ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
      ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
      ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"],
      ["1234567890".repeat(8), "57edf4a22be3c955ac49da2e2107b67a"]
    ]
    for (const [input, expected] of vectors) assert.strictEqual(toHex(md5(ascii(input))), expected, JSON.stringify(input))
  })

  it("agrees with node:crypto around every padding boundary and on random data", () => {
    const rand = prng(0x5a5a)
    for (let n = 0; n < 300; n++) {
      const data = Uint8Array.from({ length: n }, () => Math.floor(rand() * 256))
      assert.strictEqual(toHex(md5(data)), createHash("md5").update(data).digest("hex"), `${n} bytes`)
    }
    const big = new Uint8Array(1_000_000).fill(0x61)
    assert.strictEqual(toHex(md5(big)), "7707d6ae4e027c70eea2a935c2296f21")
  })
})

// RFC 2831 §4, the IMAP example.
const rfcChallenge = ascii(`realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",algorithm=md5-sess,charset=utf-8`)
const chris = { username: "chris", password: Redacted.make("secret") }
const rfcOptions = { cnonce: "OA6MHXh6VqTrRk", digestUri: "imap/elwood.innosoft.com" }

describe("DIGEST-MD5 response", () => {
  it("reproduces RFC 2831's example response and rspauth", () => {
    const challenge = ok(Sasl.parseChallenge(rfcChallenge))
    assert.deepStrictEqual(challenge.realms, ["elwood.innosoft.com"])
    assert.strictEqual(challenge.nonce, "OA6MG9tEQGm2hh")
    assert.deepStrictEqual(challenge.qop, ["auth"])
    assert.isTrue(challenge.utf8)
    const response = ok(Sasl.respond(challenge, chris, rfcOptions))
    assert.strictEqual(
      text(response.token),
      `charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,` +
        `cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",response=d388dad90d4bbd760a152321f2143af7,qop=auth`
    )
    assert.strictEqual(response.rspauth, "ea40f60335c427b5527b84dbabcdfffd")
    ok(Sasl.verifyRspauth(ascii("rspauth=ea40f60335c427b5527b84dbabcdfffd"), response.rspauth))
  })

  it("walks the whole exchange as a state machine, and rejects a wrong rspauth", () => {
    const first = ok(Sasl.step(Sasl.start, rfcChallenge, chris, rfcOptions))
    assert.strictEqual(first.state._tag, "AwaitingRspauth")
    assert.include(text(first.send ?? new Uint8Array(0)), "response=d388dad90d4bbd760a152321f2143af7")
    const done = ok(Sasl.step(first.state, ascii("rspauth=ea40f60335c427b5527b84dbabcdfffd"), chris, rfcOptions))
    assert.deepStrictEqual(done, { state: { _tag: "Complete" }, send: undefined })
    assert.include(failure(Sasl.step(done.state, ascii("x=1"), chris, rfcOptions)), "already complete")

    assert.include(
      failure(Sasl.step(first.state, ascii("rspauth=00000000000000000000000000000000"), chris, rfcOptions)),
      "does not know the password"
    )
    assert.include(failure(Sasl.step(first.state, null, chris, rfcOptions)), "no rspauth")
    assert.include(failure(Sasl.step(first.state, ascii("foo=bar"), chris, rfcOptions)), "one rspauth")
  })

  it("explains a server without SASL (a null or empty first token)", () => {
    assert.include(failure(Sasl.step(Sasl.start, null, chris, rfcOptions)), "is SASL enabled")
    assert.include(failure(Sasl.step(Sasl.start, new Uint8Array(0), chris, rfcOptions)), "is SASL enabled")
  })

  it("uses zookeeper/zk-sasl-md5 as the digest-uri by default, and the first realm offered", () => {
    const challenge = ok(Sasl.parseChallenge(ascii(`realm="zk-sasl-md5",realm="other",nonce="n",algorithm=md5-sess`)))
    const token = text(ok(Sasl.respond(challenge, chris, { cnonce: "c" })).token)
    assert.include(token, `digest-uri="zookeeper/zk-sasl-md5"`)
    assert.include(token, `realm="zk-sasl-md5"`)
    assert.notInclude(token, "charset", "no charset=utf-8 in the response when the server did not offer it")
    assert.strictEqual(Sasl.DigestUri, "zookeeper/zk-sasl-md5")
  })

  it("omits the realm when none is offered and hashes an empty one", () => {
    const challenge = ok(Sasl.parseChallenge(ascii(`nonce="abc",algorithm=md5-sess`)))
    const response = ok(Sasl.respond(challenge, chris, { cnonce: "xyz" }))
    assert.notInclude(text(response.token), "realm=")
    // Independent computation with node:crypto of RFC 2831 §2.1.2.1 for realm "".
    const h = (...parts: Array<string | Buffer>) => createHash("md5").update(Buffer.concat(parts.map((p) => Buffer.from(p)))).digest()
    const ha1 = Buffer.concat([h("chris::secret"), Buffer.from(":abc:xyz")])
    const hex = (b: Buffer) => b.toString("hex")
    const expected = hex(h(`${hex(h(ha1))}:abc:00000001:xyz:auth:${hex(h("AUTHENTICATE:zookeeper/zk-sasl-md5"))}`))
    assert.include(text(response.token), `response=${expected}`)
  })

  it("adds authzid to A1 and to the response when given", () => {
    const challenge = ok(Sasl.parseChallenge(rfcChallenge))
    const response = ok(Sasl.respond(challenge, { ...chris, authzid: "chris" }, rfcOptions))
    assert.isTrue(text(response.token).endsWith(`,authzid="chris"`))
    assert.notInclude(text(response.token), "d388dad90d4bbd760a152321f2143af7", "A1 changes with an authzid")
  })

  it("hashes Latin-1 credentials as ISO 8859-1 and others as UTF-8 (RFC 2831 §2.1.2.1)", () => {
    const challenge = ok(Sasl.parseChallenge(ascii(`realm="r",nonce="n",algorithm=md5-sess,charset=utf-8`)))
    const h = (b: Buffer) => createHash("md5").update(b).digest()
    const expect = (user: Buffer, pass: Buffer) => {
      const ha1 = h(Buffer.concat([h(Buffer.concat([user, Buffer.from(":r:"), pass])), Buffer.from(":n:c")])).toString("hex")
      const ha2 = h(Buffer.from("AUTHENTICATE:zookeeper/zk-sasl-md5")).toString("hex")
      return h(Buffer.from(`${ha1}:n:00000001:c:auth:${ha2}`)).toString("hex")
    }
    const latin = ok(Sasl.respond(challenge, { username: "józef", password: "sécret" }, { cnonce: "c" }))
    assert.include(text(latin.token), `response=${expect(Buffer.from("józef", "latin1"), Buffer.from("sécret", "latin1"))}`)
    assert.include(text(latin.token), `username="józef"`, "the response itself is UTF-8")
    const wide = ok(Sasl.respond(challenge, { username: "józef", password: "пароль😀" }, { cnonce: "c" }))
    assert.include(text(wide.token), `response=${expect(Buffer.from("józef", "latin1"), Buffer.from("пароль😀", "utf8"))}`)

    const noCharset = ok(Sasl.parseChallenge(ascii(`realm="r",nonce="n",algorithm=md5-sess`)))
    assert.include(failure(Sasl.respond(noCharset, { username: "u", password: "пароль" }, { cnonce: "c" })), "ISO 8859-1")
  })

  it("escapes quotes and backslashes in quoted values", () => {
    const challenge = ok(Sasl.parseChallenge(rfcChallenge))
    const token = text(ok(Sasl.respond(challenge, { username: `a"b\\c`, password: "p" }, rfcOptions)).token)
    assert.include(token, `username="a\\"b\\\\c"`)
    const back = ok(Sasl.parseDirectives(token)).find((d) => d.name === "username")
    assert.strictEqual(back?.value, `a"b\\c`)
  })

  it("rejects a server that offers no qop auth, and unusable cnonces", () => {
    const challenge = ok(Sasl.parseChallenge(ascii(`nonce="n",qop="auth-int,auth-conf",algorithm=md5-sess`)))
    assert.include(failure(Sasl.respond(challenge, chris, { cnonce: "c" })), `only "auth"`)
    const fine = ok(Sasl.parseChallenge(rfcChallenge))
    for (const cnonce of ["", `a"b`, "a b", "ä"]) assert.include(failure(Sasl.respond(fine, chris, { cnonce })), "cnonce")
  })

  it("makes distinct printable cnonces", () =>
    Effect.gen(function*() {
      const a = yield* Sasl.makeCnonce
      const b = yield* Sasl.makeCnonce
      assert.notStrictEqual(a, b)
      assert.match(a, /^[A-Za-z0-9+/]{22}==$/)
      const challenge = ok(Sasl.parseChallenge(rfcChallenge))
      ok(Sasl.respond(challenge, chris, { cnonce: a }))
    }).pipe(Effect.runSync))
})

describe("DIGEST-MD5 challenge parsing", () => {
  it("keeps commas inside quoted values and unescapes them", () => {
    const directives = ok(Sasl.parseDirectives(`realm="a,b", nonce = "x\\"y\\\\z" ,qop="auth,auth-int" , algorithm=md5-sess`))
    assert.deepStrictEqual(directives, [
      { name: "realm", value: "a,b" },
      { name: "nonce", value: `x"y\\z` },
      { name: "qop", value: "auth,auth-int" },
      { name: "algorithm", value: "md5-sess" }
    ])
  })

  it("accepts empty list elements, white space, case-insensitive names, and ignores unknown directives", () => {
    const challenge = ok(Sasl.parseChallenge(ascii(` ,, REALM="r1" ,\t realm="r2",Nonce="n",,future="x, y",QOP="auth, auth-int",maxbuf=4096,stale=true,cipher="rc4,des",Algorithm=MD5-SESS ,`)))
    assert.deepStrictEqual(challenge.realms, ["r1", "r2"])
    assert.deepStrictEqual(challenge.qop, ["auth", "auth-int"])
    assert.strictEqual(challenge.maxbuf, 4096)
    assert.isTrue(challenge.stale)
    assert.deepStrictEqual(challenge.ciphers, ["rc4", "des"])
    assert.isFalse(challenge.utf8)
  })

  it("defaults a missing qop to auth", () => {
    const challenge = ok(Sasl.parseChallenge(ascii(`nonce="n",algorithm=md5-sess`)))
    assert.deepStrictEqual(challenge.qop, ["auth"])
    assert.deepStrictEqual(challenge.realms, [])
    assert.isFalse(challenge.stale)
  })

  it("decodes UTF-8 realms when charset=utf-8", () => {
    const challenge = ok(Sasl.parseChallenge(Utf8.encode(`realm="Zürich ☃",nonce="n",algorithm=md5-sess,charset=utf-8`)))
    assert.deepStrictEqual(challenge.realms, ["Zürich ☃"])
  })

  it("rejects what RFC 2831 says a client must abort on", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      [`realm="r",algorithm=md5-sess`, `no "nonce"`],
      [`nonce="n"`, `no "algorithm"`],
      [`nonce="n",nonce="m",algorithm=md5-sess`, `repeats "nonce"`],
      [`nonce="n",algorithm=md5-sess,algorithm=md5-sess`, `repeats "algorithm"`],
      [`nonce="n",qop="auth",qop="auth",algorithm=md5-sess`, `repeats "qop"`],
      [`nonce="n",charset=utf-8,charset=utf-8,algorithm=md5-sess`, `repeats "charset"`],
      [`nonce="n",algorithm=md5`, "unsupported algorithm"],
      [`nonce="n",algorithm=md5-sess,charset=latin1`, "unsupported charset"],
      [`nonce="n",algorithm=md5-sess,maxbuf=lots`, "maxbuf"],
      [`nonce="n,algorithm=md5-sess`, "unterminated"],
      [`nonce`, `no "=value"`],
      [`nonce=,algorithm=md5-sess`, "empty value"],
      [`nonce="n" x,algorithm=md5-sess`, `expected ","`],
      [`=n`, "directive name"],
      [`x=${"y".repeat(2048)}`, "more than 2048"],
      [``, "empty challenge"]
    ]
    for (const [challenge, reason] of cases) assert.include(failure(Sasl.parseChallenge(ascii(challenge))), reason, challenge)
  })
})

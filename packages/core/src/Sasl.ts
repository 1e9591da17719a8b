/**
 * SASL DIGEST-MD5 (RFC 2831) for ZooKeeper, as pure functions: parse the server's challenge,
 * compute the client's response, check the server's `rspauth`. There is no I/O here. The session
 * carries the tokens, and the client nonce is passed in, so tests can fix it.
 *
 * DIGEST-MD5 is what a ZooKeeper server with `authProvider.N=...SASLAuthenticationProvider` and a
 * JAAS `Server { ...DigestLoginModule required user_alice="secret"; }` section accepts for
 * user/password logins. The Java client uses it when its JAAS `Client` section holds a
 * username/password and no Kerberos principal. A successful exchange gives the connection the
 * identity `sasl:<username>`, so ACLs such as `sasl:alice:cdrwa` then match.
 *
 * ## The exchange on the wire (ZooKeeper 3.8; Java's `ZooKeeperSaslClient` and
 * `ZooKeeperServer.processSasl`, checked end to end against a 3.8.0 server in
 * packages/node/test/SaslDigestMd5.test.ts)
 *
 * 1. After the ConnectResponse, the client sends `RequestHeader{ xid, type: 102 }` +
 *    `GetSASLRequest{ token }`. The xid is an ordinary one, not a reserved negative xid like auth's
 *    -4. DIGEST-MD5 has no initial response, so the **first token is empty** (length 0, not
 *    null).
 * 2. The server answers `ReplyHeader{ xid, zxid: 0, err: 0 }` + `SetSASLResponse{ token }`, and
 *    the token is the digest-challenge. A 3.8.0 server sends
 *    `realm="zk-sasl-md5",nonce="<40 chars>",charset=utf-8,algorithm=md5-sess`, with no `qop`,
 *    which means `auth`.
 *    If the server has no JAAS `Server` section, the token is null (length -1). See
 *    {@link step}.
 * 3. The client sends a second op-102 packet with the digest-response ({@link respond}).
 *    The digest-uri is `zookeeper/zk-sasl-md5`: Java creates its client with protocol
 *    "zookeeper" and server name "zk-sasl-md5" ({@link DigestUri}), and the server its
 *    `SaslServer` with the same pair.
 * 4. If the password is right, the server is **complete** and adds `sasl:<authorization id>` to
 *    the connection before it answers. It replies `err: 0` and the token `rspauth=<hex>`. The
 *    client checks it ({@link verifyRspauth}) and is then done: it sends nothing more.
 *    ZooKeeper sends no final "success" packet for DIGEST-MD5; only GSSAPI has one. Java then
 *    emits the session event `SaslAuthenticated`.
 *    If the password is wrong (or anything else fails), the server replies
 *    `err: -115` (AuthFailed) with a null token, then **closes the connection**. Java enters
 *    the terminal `AuthFailed` state. A server with `zookeeper.allowSaslFailedClients=true`
 *    instead replies `err: 0` with a null token and keeps the connection, without the identity
 *    (from the server's source, not tested). {@link step} fails on that null token too.
 *
 * How the session runs it (`internal/handshake.ts`):
 * - The server handles op 102 inline in its I/O thread, outside the request pipeline, like auth
 *   packets (docs/protocol.md#sasl). Its reply can therefore overtake replies to earlier requests, so
 *   it is never matched FIFO against outstanding calls: as Java does, the session sends nothing
 *   else (auth packets, SetWatches, user requests) until the exchange is finished, right after
 *   the handshake.
 * - The identity belongs to the connection, not the session, so the exchange is repeated after
 *   every reconnect (Java makes a new `ZooKeeperSaslClient` per connection).
 * - The reply header's zxid is 0, and it never lowers the last zxid seen.
 *
 * @example
 * ```ts
 * import { Effect, Redacted, Result } from "effect"
 * import * as Sasl from "@effect-zk/core/Sasl"
 *
 * // `exchange(token)` sends one op-102 packet and returns the SetSASLResponse token.
 * const login = (exchange: (token: Uint8Array) => Effect.Effect<Uint8Array | null>) =>
 *   Effect.gen(function*() {
 *     const credentials = { username: "alice", password: Redacted.make("secret") }
 *     const options = { cnonce: yield* Sasl.makeCnonce }
 *     let state: Sasl.ClientState = Sasl.start
 *     let token = yield* exchange(Sasl.initialToken)
 *     while (true) {
 *       const step = Sasl.step(state, token, credentials, options)
 *       if (Result.isFailure(step)) return yield* step.failure
 *       state = step.success.state
 *       if (step.success.send === undefined) return // Complete
 *       token = yield* exchange(step.success.send)
 *     }
 *   })
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Base64 from "./internal/base64.ts"
import { md5, toHex } from "./internal/md5.ts"
import * as Utf8 from "./internal/utf8.ts"

/**
 * The SASL service name ZooKeeper uses (the "protocol" in Java's `Sasl.createSaslClient`).
 *
 * @since 0.1.0
 * @category constants
 */
export const Service = "zookeeper"

/**
 * The server name ZooKeeper hard-wires for DIGEST-MD5 on both sides. It is also the realm a
 * 3.8 server offers.
 *
 * @since 0.1.0
 * @category constants
 */
export const ServerName = "zk-sasl-md5"

/**
 * The `digest-uri` a ZooKeeper server accepts: `serv-type "/" host` = `zookeeper/zk-sasl-md5`.
 *
 * @since 0.1.0
 * @category constants
 */
export const DigestUri = `${Service}/${ServerName}`

/**
 * The first token of the exchange. DIGEST-MD5 has no initial response, so it is empty.
 *
 * @since 0.1.0
 * @category constants
 */
export const initialToken: Uint8Array = new Uint8Array(0)

/**
 * A failed or malformed exchange: a challenge the client cannot answer, a server that does not
 * prove it knows the password (`rspauth`), or credentials that cannot be encoded. The session
 * maps it to `AuthFailed`.
 *
 * @since 0.1.0
 * @category errors
 */
export class SaslError extends Schema.TaggedError<SaslError>()("SaslError", {
  reason: Schema.String
}) {
  override get message(): string {
    return `SASL DIGEST-MD5: ${this.reason}`
  }
}

const fail = (reason: string): Result.Result<never, SaslError> => Result.fail(new SaslError({ reason }))

// -- Parsing ---------------------------------------------------------------------------------

/**
 * One `name=value` pair of a challenge or response. The name is lower-cased, and a quoted
 * value is unquoted (`\x` becomes `x`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Directive {
  /** Lower-cased, e.g. "realm". */
  readonly name: string
  /** Unquoted and unescaped. */
  readonly value: string
}

const isLws = (c: string): boolean => c === " " || c === "\t" || c === "\r" || c === "\n"
// RFC 2616 token: CHAR except CTLs and separators.
const isTokenChar = (c: string): boolean => {
  const code = c.charCodeAt(0)
  return code > 32 && code < 127 && !"()<>@,;:\\\"/[]?={}".includes(c)
}

/**
 * Splits a DIGEST-MD5 directive list (RFC 2831 §7.1: `#rule`, so commas and linear white space
 * may repeat) into directives, in order. Values are tokens or quoted strings, and quoted strings
 * may hold commas and `\`-escapes.
 *
 * @example
 * ```ts
 * Sasl.parseDirectives(`realm="a,b",qop="auth"`)
 * // Result.succeed([{ name: "realm", value: "a,b" }, { name: "qop", value: "auth" }])
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const parseDirectives = (text: string): Result.Result<ReadonlyArray<Directive>, SaslError> => {
  const out: Array<Directive> = []
  let i = 0
  const skipLws = () => {
    while (i < text.length && isLws(text.charAt(i))) i++
  }
  while (true) {
    while (i < text.length && (isLws(text.charAt(i)) || text.charAt(i) === ",")) i++
    if (i >= text.length) return Result.succeed(out)
    const nameStart = i
    while (i < text.length && isTokenChar(text.charAt(i))) i++
    if (i === nameStart) return fail(`unexpected ${JSON.stringify(text.charAt(i))} at offset ${i}, expected a directive name`)
    const name = text.slice(nameStart, i).toLowerCase()
    skipLws()
    if (text.charAt(i) !== "=") return fail(`directive "${name}" has no "=value"`)
    i++
    skipLws()
    let value = ""
    if (text.charAt(i) === "\"") {
      i++
      let closed = false
      while (i < text.length) {
        const c = text.charAt(i)
        if (c === "\\" && i + 1 < text.length) {
          value += text.charAt(i + 1)
          i += 2
        } else if (c === "\"") {
          i++
          closed = true
          break
        } else {
          value += c
          i++
        }
      }
      if (!closed) return fail(`unterminated quoted value of "${name}"`)
    } else {
      const valueStart = i
      while (i < text.length && isTokenChar(text.charAt(i))) i++
      if (i === valueStart) return fail(`directive "${name}" has an empty value`)
      value = text.slice(valueStart, i)
    }
    out.push({ name, value })
    skipLws()
    if (i < text.length && text.charAt(i) !== ",") {
      return fail(`unexpected ${JSON.stringify(text.charAt(i))} after "${name}" at offset ${i}, expected ","`)
    }
  }
}

/**
 * The parts of a digest-challenge (RFC 2831 §2.1.1) that the client uses.
 *
 * @since 0.1.0
 * @category models
 */
export interface DigestChallenge {
  /** Realms the server offers, in order; often one (`zk-sasl-md5` for ZooKeeper), possibly none. */
  readonly realms: ReadonlyArray<string>
  /** The server's nonce, echoed in the response and hashed into it. */
  readonly nonce: string
  /** Quality-of-protection options; `["auth"]` when the server sent none (the RFC default). */
  readonly qop: ReadonlyArray<string>
  /** Whether the server accepts UTF-8 user names and passwords (`charset=utf-8`). */
  readonly utf8: boolean
  /** Always "md5-sess"; anything else is rejected while parsing. */
  readonly algorithm: "md5-sess"
  /** `stale=true`: a re-authentication after the nonce expired. ZooKeeper never sends it. */
  readonly stale: boolean
  /** The largest buffer the server accepts with a security layer; unused with qop `auth`. */
  readonly maxbuf: number | undefined
  /** Ciphers for qop `auth-conf`; unused with qop `auth`. */
  readonly ciphers: ReadonlyArray<string>
}

/** Lists inside a directive value (`qop="auth, auth-int"`, `cipher="rc4,des"`). */
const splitList = (value: string): Array<string> =>
  value.split(",").map((s) => s.trim()).filter((s) => s.length > 0)

const latin1 = (bytes: Uint8Array): string => {
  let s = ""
  for (const b of bytes) s += String.fromCharCode(b)
  return s
}

const latin1Bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0))

const isLatin1 = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false
  return true
}

/** RFC 2831 §2.1.1: a client must reject a longer challenge. */
const MAX_CHALLENGE = 2048

/**
 * Parses the server's digest-challenge. It fails when the challenge is longer than 2048 bytes,
 * when `nonce` or `algorithm` is missing or repeated, when `qop`, `charset`, `stale` or `maxbuf`
 * is repeated, when `algorithm` is not `md5-sess` or `charset` is not `utf-8`, and on syntax
 * errors. These rules follow the RFC's "the client should abort". Unknown directives are ignored.
 *
 * @since 0.1.0
 * @category decoding
 */
export const parseChallenge = (token: Uint8Array): Result.Result<DigestChallenge, SaslError> =>
  Result.gen(function*() {
    if (token.length === 0) return yield* fail("the server sent an empty challenge")
    if (token.length > MAX_CHALLENGE) return yield* fail(`the challenge is ${token.length} bytes, more than ${MAX_CHALLENGE}`)
    // The syntax is ASCII; values are ISO 8859-1, or UTF-8 with charset=utf-8. Parse bytes as
    // Latin-1 (lossless) and re-decode the values once the charset is known.
    const directives = yield* parseDirectives(latin1(token))
    const byName = new Map<string, Array<string>>()
    for (const d of directives) byName.set(d.name, [...(byName.get(d.name) ?? []), d.value])
    const once = (name: string): Result.Result<string | undefined, SaslError> => {
      const values = byName.get(name) ?? []
      return values.length > 1 ? fail(`the challenge repeats "${name}"`) : Result.succeed(values[0])
    }
    const required = (name: string): Result.Result<string, SaslError> =>
      Result.flatMap(once(name), (v) => (v === undefined ? fail(`the challenge has no "${name}"`) : Result.succeed(v)))
    const nonce = yield* required("nonce")
    const algorithm = yield* required("algorithm")
    const qop = yield* once("qop")
    const charset = yield* once("charset")
    const stale = yield* once("stale")
    const maxbuf = yield* once("maxbuf")
    if (algorithm.toLowerCase() !== "md5-sess") return yield* fail(`unsupported algorithm "${algorithm}" (expected md5-sess)`)
    if (charset !== undefined && charset.toLowerCase() !== "utf-8") return yield* fail(`unsupported charset "${charset}"`)
    if (maxbuf !== undefined && !/^\d+$/.test(maxbuf)) return yield* fail(`maxbuf "${maxbuf}" is not a number`)
    const utf8 = charset !== undefined
    const text = (s: string): string => (utf8 ? Utf8.decode(latin1Bytes(s)) : s)
    const challenge: DigestChallenge = {
      realms: (byName.get("realm") ?? []).map(text),
      nonce: text(nonce),
      qop: qop === undefined ? ["auth"] : splitList(qop),
      utf8,
      algorithm: "md5-sess",
      stale: stale?.toLowerCase() === "true",
      maxbuf: maxbuf === undefined ? undefined : Number(maxbuf),
      ciphers: (byName.get("cipher") ?? []).flatMap(splitList)
    }
    return challenge
  })

// -- Responding ------------------------------------------------------------------------------

/**
 * Who logs in: the `username` and `password` of the server's JAAS `user_<name>="<password>"`
 * line.
 *
 * @since 0.1.0
 * @category models
 */
export interface Credentials {
  /** The `<name>` of the server's `user_<name>` line. */
  readonly username: string
  /** Wrap it in `Redacted` so it never shows up in logs. */
  readonly password: string | Redacted.Redacted<string>
  /**
   * The identity to act as. Absent by default, which means "the username". Java sends the
   * username here. A ZooKeeper server always takes the identity from the username.
   */
  readonly authzid?: string | undefined
}

/**
 * Per-exchange settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResponseOptions {
  /** The client nonce: unpredictable, without `"` or `\`. Use {@link makeCnonce}. */
  readonly cnonce: string
  /** Default {@link DigestUri}, which is what a ZooKeeper server expects. */
  readonly digestUri?: string | undefined
  /** Default: the first realm the server offers, or none. */
  readonly realm?: string | undefined
}

/**
 * A computed digest-response: the bytes to send, and the `rspauth` the server must answer with
 * to prove that it knows the password too.
 *
 * @since 0.1.0
 * @category models
 */
export interface DigestResponse {
  /** The digest-response, ready for `GetSASLRequest.token`. */
  readonly token: Uint8Array
  /** The lower-case hex value the server's `rspauth=` must have. */
  readonly rspauth: string
}

const concat = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}

const COLON = Uint8Array.of(0x3a)

const quote = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`

/**
 * RFC 2831 §2.1.2.1: with charset=utf-8, a user name, realm or password that fits ISO 8859-1 is
 * still hashed as ISO 8859-1, and only one that does not fit is hashed as UTF-8. Java does this
 * per value, and the server has to compute the same bytes.
 */
const hashBytes = (what: string, s: string, utf8: boolean): Result.Result<Uint8Array, SaslError> => {
  if (isLatin1(s)) return Result.succeed(latin1Bytes(s))
  if (utf8) return Result.succeed(Utf8.encode(s))
  return fail(`the ${what} has characters outside ISO 8859-1 and the server did not offer charset=utf-8`)
}

/** The nonce count: one response per challenge, never re-used. */
const NC = "00000001"

/**
 * The client's digest-response (RFC 2831 §2.1.2) to a challenge, with qop `auth` (ZooKeeper
 * neither needs nor offers integrity or confidentiality layers over its own framing). It fails
 * when the server does not offer `auth`, or the credentials cannot be encoded.
 *
 * @example
 * ```ts
 * // RFC 2831 §4's example
 * Sasl.respond(challenge, { username: "chris", password: "secret" }, {
 *   cnonce: "OA6MHXh6VqTrRk",
 *   digestUri: "imap/elwood.innosoft.com"
 * }) // token contains response=d388dad90d4bbd760a152321f2143af7, rspauth is ea40f603...
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const respond = (
  challenge: DigestChallenge,
  credentials: Credentials,
  options: ResponseOptions
): Result.Result<DigestResponse, SaslError> =>
  Result.gen(function*() {
    if (!challenge.qop.includes("auth")) {
      return yield* fail(`the server offers qop ${challenge.qop.join(", ") || "(none)"}, but only "auth" is supported`)
    }
    const qop = "auth"
    const utf8 = challenge.utf8
    const digestUri = options.digestUri ?? DigestUri
    const realm = options.realm ?? challenge.realms[0]
    const { cnonce } = options
    if (cnonce.length === 0 || /[\\"\u0000-\u0020\u007f-\uffff]/.test(cnonce)) {
      return yield* fail("the cnonce must be non-empty printable ASCII without spaces, quotes or backslashes")
    }
    if (!utf8 && [credentials.username, digestUri, credentials.authzid ?? ""].some((s) => !isLatin1(s))) {
      return yield* fail("the user name, authzid or digest-uri has characters outside ISO 8859-1 and the server did not offer charset=utf-8")
    }
    const password = Redacted.isRedacted(credentials.password) ? Redacted.value(credentials.password) : credentials.password
    const user = yield* hashBytes("user name", credentials.username, utf8)
    const realmBytes = yield* hashBytes("realm", realm ?? "", utf8)
    const pass = yield* hashBytes("password", password, utf8)
    // Values outside the hashed triple travel as they appear on the wire.
    const wire = (s: string): Uint8Array => (utf8 ? Utf8.encode(s) : latin1Bytes(s))

    // A1 = H(user:realm:pass) ":" nonce ":" cnonce [":" authzid]; authzid is always UTF-8.
    const a1 = concat(
      md5(concat(user, COLON, realmBytes, COLON, pass)),
      COLON,
      wire(challenge.nonce),
      COLON,
      wire(cnonce),
      ...(credentials.authzid === undefined ? [] : [COLON, Utf8.encode(credentials.authzid)])
    )
    const ha1 = toHex(md5(a1))
    // KD(HEX(H(A1)), nonce ":" nc ":" cnonce ":" qop ":" HEX(H(A2))), for the client's response
    // (A2 = "AUTHENTICATE:" uri) and for the server's rspauth (A2 = ":" uri).
    const kd = (a2: string): string =>
      toHex(md5(concat(wire(`${ha1}:`), wire(challenge.nonce), wire(`:${NC}:${cnonce}:${qop}:${toHex(md5(wire(a2)))}`))))
    const response = kd(`AUTHENTICATE:${digestUri}`)
    const rspauth = kd(`:${digestUri}`)

    const fields = [
      ...(utf8 ? ["charset=utf-8"] : []),
      `username=${quote(credentials.username)}`,
      ...(realm === undefined ? [] : [`realm=${quote(realm)}`]),
      `nonce=${quote(challenge.nonce)}`,
      `nc=${NC}`,
      `cnonce=${quote(cnonce)}`,
      `digest-uri=${quote(digestUri)}`,
      `response=${response}`,
      `qop=${qop}`,
      ...(credentials.authzid === undefined ? [] : [`authzid=${quote(credentials.authzid)}`])
    ]
    const result: DigestResponse = { token: wire(fields.join(",")), rspauth }
    return result
  })

/**
 * Checks the server's final token, `rspauth=<hex>`, against the value {@link respond} computed.
 * A mismatch means the server does not know the password; treat it as a failed login.
 *
 * @since 0.1.0
 * @category validation
 */
export const verifyRspauth = (token: Uint8Array, expected: string): Result.Result<void, SaslError> =>
  Result.gen(function*() {
    const directives = yield* parseDirectives(latin1(token))
    const values = directives.filter((d) => d.name === "rspauth").map((d) => d.value)
    if (values.length !== 1) return yield* fail(`expected one rspauth from the server, got ${values.length}`)
    if (values[0]?.toLowerCase() !== expected.toLowerCase()) {
      return yield* fail("the server's rspauth does not match: it does not know the password")
    }
  })

/**
 * A fresh client nonce: 16 random bytes in base64. It uses WebCrypto's `getRandomValues` where
 * the runtime has it (Node 22, browsers, Deno, Bun), and Effect's `Random` otherwise.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeCnonce: Effect.Effect<string> = Effect.suspend(() => {
  const bytes = new Uint8Array(16)
  // Core has no DOM or Node typings, so `crypto` is looked up and checked at run time.
  const source: unknown = Reflect.get(globalThis, "crypto")
  if (isRandomSource(source)) {
    source.getRandomValues(bytes)
    return Effect.succeed(Base64.encode(bytes))
  }
  return Effect.map(
    Effect.forEach(bytes, () => Random.nextIntBetween(0, 256)),
    (values) => Base64.encode(Uint8Array.from(values))
  )
})

interface RandomSource {
  readonly getRandomValues: (array: Uint8Array) => unknown
}

const isRandomSource = (u: unknown): u is RandomSource =>
  typeof u === "object" && u !== null && "getRandomValues" in u && typeof u.getRandomValues === "function"

// -- The exchange as a state machine ---------------------------------------------------------

/**
 * Where the client is in the exchange.
 *
 * @since 0.1.0
 * @category models
 */
export type ClientState =
  | { readonly _tag: "AwaitingChallenge" }
  | { readonly _tag: "AwaitingRspauth"; readonly rspauth: string }
  | { readonly _tag: "Complete" }

/**
 * The state after {@link initialToken} was sent.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start: ClientState = { _tag: "AwaitingChallenge" }

/**
 * The outcome of one {@link step}: the next state, and the token to send in the next op-102
 * packet (`undefined`: send nothing, because the exchange is complete).
 *
 * @since 0.1.0
 * @category models
 */
export interface Step {
  /** Where the exchange is now. */
  readonly state: ClientState
  /** The next op-102 token, or `undefined` when there is nothing more to send. */
  readonly send: Uint8Array | undefined
}

/**
 * Advances the exchange with the token of the server's `SetSASLResponse`. A `null` token (jute
 * length -1) is what a server without a JAAS `Server` section answers. It fails with a
 * `SaslError`, as does a step after completion.
 *
 * @since 0.1.0
 * @category combinators
 */
export const step = (
  state: ClientState,
  serverToken: Uint8Array | null,
  credentials: Credentials,
  options: ResponseOptions
): Result.Result<Step, SaslError> =>
  Result.gen(function*() {
    switch (state._tag) {
      case "AwaitingChallenge": {
        if (serverToken === null || serverToken.length === 0) {
          return yield* fail(
            "the server sent no challenge: is SASL enabled on it (authProvider SASLAuthenticationProvider and a JAAS Server section)?"
          )
        }
        const response = yield* respond(yield* parseChallenge(serverToken), credentials, options)
        const next: Step = { state: { _tag: "AwaitingRspauth", rspauth: response.rspauth }, send: response.token }
        return next
      }
      case "AwaitingRspauth": {
        if (serverToken === null) return yield* fail("the server sent no rspauth")
        yield* verifyRspauth(serverToken, state.rspauth)
        const done: Step = { state: { _tag: "Complete" }, send: undefined }
        return done
      }
      case "Complete":
        return yield* fail("the exchange is already complete")
    }
  })

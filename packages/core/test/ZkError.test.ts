import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Schema } from "effect"
import * as ZkError from "../src/ZkError.ts"

const names = Object.keys(ZkError.ErrorCode).filter((name) => name !== "Ok")

describe("ZkError", () => {
  it("has one class per error code, with matching _tag, code, name and class", () => {
    assert.strictEqual(names.length, 34)
    assert.strictEqual(ZkError.ErrorCode.Ok, 0)
    assert.strictEqual(Object.keys(ZkError.classes).length, names.length)
    const codes = new Set<number>()
    for (const [name, code] of Object.entries(ZkError.ErrorCode)) {
      if (name === "Ok") continue
      codes.add(code)
      const e = ZkError.fromCode(code, "op", "/p")
      assert.strictEqual(e._tag, name, `tag of ${code}`)
      assert.strictEqual(e.code, code, `code of ${name}`)
      assert.strictEqual(e.name, name)
      const cls = Object.entries(ZkError.classes).find(([n]) => n === name)?.[1]
      assert.isDefined(cls, `class for ${name}`)
      assert.isTrue(cls !== undefined && e instanceof cls, `${name} instance`)
      assert.isTrue(e instanceof Error)
      assert.isTrue(ZkError.isZkError(e))
      // A directly constructed instance gets the same tag and code.
      const direct = cls === undefined ? undefined : new cls({ op: "op" })
      assert.strictEqual(direct?._tag, name)
      assert.strictEqual(direct?.code, code)
    }
    assert.strictEqual(codes.size, names.length, "codes are distinct")
  })

  it("uses the protocol numbers", () => {
    const expected: Record<string, number> = {
      SystemError: -1, RuntimeInconsistency: -2, DataInconsistency: -3, ConnectionLoss: -4,
      MarshallingError: -5, Unimplemented: -6, OperationTimeout: -7, BadArguments: -8,
      InvalidState: -9, UnknownSession: -12, NewConfigNoQuorum: -13, ReconfigInProgress: -14,
      APIError: -100, NoNode: -101, NoAuth: -102, BadVersion: -103, NoChildrenForEphemerals: -108,
      NodeExists: -110, NotEmpty: -111, SessionExpired: -112, InvalidCallback: -113, InvalidACL: -114,
      AuthFailed: -115, Closing: -116, Nothing: -117, SessionMoved: -118, NotReadOnly: -119,
      EphemeralOnLocalSession: -120, NoWatcher: -121, RequestTimeout: -122, ReconfigDisabled: -123,
      SessionClosedRequireSaslAuth: -124, QuotaExceeded: -125, ThrottledOp: -127
    }
    assert.deepStrictEqual({ ...ZkError.ErrorCode, Ok: undefined }, { ...expected, Ok: undefined })
  })

  it("every code has its own lowercase text", () => {
    const texts = new Set<string>()
    for (const name of names) {
      const code = Object.entries(ZkError.ErrorCode).find(([n]) => n === name)?.[1] ?? 0
      const text = ZkError.codeText(code)
      assert.notMatch(text, /^unknown error/, name)
      assert.strictEqual(text, text.toLowerCase(), name)
      texts.add(text)
    }
    assert.strictEqual(texts.size, names.length)
  })

  it("formats messages like gozk", () => {
    assert.strictEqual(ZkError.fromCode(-101, "get", "/x").message, `zookeeper: get "/x": no node`)
    assert.strictEqual(ZkError.fromCode(-116, "close").message, "zookeeper: close: zookeeper is closing")
    assert.strictEqual(
      ZkError.fromCode(-8, { op: "create", path: "a", detail: `path must start with "/"` }).message,
      `zookeeper: create "a": bad arguments: path must start with "/"`
    )
    assert.strictEqual(
      new ZkError.ConnectionLoss({ op: "connect", detail: "socket closed" }).message,
      "zookeeper: connect: connection loss: socket closed"
    )
    assert.strictEqual(ZkError.fromCode(-110, "create", "/a").message, `zookeeper: create "/a": node exists`)
    assert.strictEqual(ZkError.fromCode(-103, "set", "/a").message, `zookeeper: set "/a": bad version`)
    assert.strictEqual(ZkError.fromCode(-111, "delete", "/a").message, `zookeeper: delete "/a": not empty`)
    assert.strictEqual(ZkError.fromCode(-102, "get", "/a").message, `zookeeper: get "/a": not authenticated`)
    assert.strictEqual(ZkError.fromCode(-112, "get").message, "zookeeper: get: session expired")
    assert.strictEqual(ZkError.fromCode(-4, "get").message, "zookeeper: get: connection loss")
    assert.strictEqual(ZkError.fromCode(-7, "get").message, "zookeeper: get: operation timeout")
    assert.strictEqual(ZkError.fromCode(-114, "create", "/a").message, `zookeeper: create "/a": invalid acl`)
    assert.strictEqual(ZkError.fromCode(-115, "addAuth").message, "zookeeper: addAuth: authentication failed")
    // Control characters in a path are escaped, not printed raw.
    assert.strictEqual(ZkError.fromCode(-101, "get", "/a\nb").message, `zookeeper: get "/a\\nb": no node`)
  })

  it("keeps optional fields absent and carries a cause", () => {
    const e = ZkError.fromCode(-4, "get")
    assert.isFalse("path" in e)
    assert.isFalse("detail" in e)
    const cause = new Error("ECONNRESET")
    const withCause = ZkError.fromCode(-4, { op: "get", path: "/x", cause })
    assert.strictEqual(withCause.cause, cause)
    assert.strictEqual(withCause.path, "/x")
  })

  it("fromCode keeps the number of unknown codes", () => {
    const sys = ZkError.fromCode(-10, "get", "/x")
    assert.strictEqual(sys._tag, "SystemError")
    assert.strictEqual(sys.code, -10)
    assert.strictEqual(sys.message, `zookeeper: get "/x": unknown error -10`)
    const sys99 = ZkError.fromCode(-99, "get")
    assert.strictEqual(sys99._tag, "SystemError")
    assert.strictEqual(sys99.code, -99)
    const api = ZkError.fromCode(-126, "get")
    assert.strictEqual(api._tag, "APIError")
    assert.strictEqual(api.code, -126)
    const api2 = ZkError.fromCode(-500, "get")
    assert.strictEqual(api2._tag, "APIError")
    assert.strictEqual(api2.code, -500)
    assert.strictEqual(ZkError.fromCode(7, "get")._tag, "SystemError")
    assert.strictEqual(ZkError.fromCode(7, "get").code, 7)
    // The known catch-all codes themselves.
    assert.strictEqual(ZkError.fromCode(-1, "get").code, -1)
    assert.strictEqual(ZkError.fromCode(-100, "get")._tag, "APIError")
    assert.strictEqual(new ZkError.SystemError({ op: "x" }).code, -1)
    assert.strictEqual(new ZkError.APIError({ op: "x" }).code, -100)
  })

  it("classifies retryable errors", () => {
    const retryable = names.filter((name) => {
      const code = Object.entries(ZkError.ErrorCode).find(([n]) => n === name)?.[1] ?? 0
      return ZkError.isRetryable(ZkError.fromCode(code, "op"))
    })
    assert.deepStrictEqual(retryable.sort(), [
      "ConnectionLoss",
      "OperationTimeout",
      "ReconfigInProgress",
      "RequestTimeout",
      "SessionMoved",
      "ThrottledOp"
    ])
  })

  it("isZkError rejects other values", () => {
    assert.isFalse(ZkError.isZkError(new Error("x")))
    assert.isFalse(ZkError.isZkError({ _tag: "NoNode", code: -101, op: "get" }))
    assert.isFalse(ZkError.isZkError(undefined))
  })

  it.effect("can be yielded and caught by tag", () =>
    Effect.gen(function*() {
      const failing: Effect.Effect<string, ZkError.ZkError> = Effect.gen(function*() {
        return yield* ZkError.fromCode(-101, "get", "/missing")
      })
      const recovered = yield* failing.pipe(
        Effect.catchTag("NoNode", (e) => Effect.succeed(`caught ${e.path} ${e.code}`))
      )
      assert.strictEqual(recovered, "caught /missing -101")

      // A different tag passes through untouched.
      const other: Effect.Effect<string, ZkError.ZkError> = Effect.fail(new ZkError.NodeExists({ op: "create", path: "/a" }))
      const exit = yield* other.pipe(Effect.catchTag("NoNode", () => Effect.succeed("wrong")), Effect.exit)
      assert.isTrue(Exit.isFailure(exit))
      const flipped = yield* Effect.flip(other)
      assert.strictEqual(flipped._tag, "NodeExists")
    }))

  it("round-trips through the schema", () => {
    const encode = Schema.encodeUnknownSync(ZkError.ZkErrorSchema)
    const decode = Schema.decodeUnknownSync(ZkError.ZkErrorSchema)
    const original = ZkError.fromCode(-103, { op: "set", path: "/a", detail: "expected version 3" })
    const encoded = encode(original)
    assert.deepStrictEqual(encoded, { _tag: "BadVersion", code: -103, op: "set", path: "/a", detail: "expected version 3" })
    const decoded = decode(JSON.parse(JSON.stringify(encoded)))
    assert.isTrue(decoded instanceof ZkError.BadVersion)
    assert.strictEqual(decoded.message, original.message)
    // An unknown code survives the trip.
    const api = decode(encode(ZkError.fromCode(-200, "get")))
    assert.strictEqual(api._tag, "APIError")
    assert.strictEqual(api.code, -200)
    // A fixed class rejects a foreign code.
    assert.throws(() => decode({ _tag: "NoNode", code: -110, op: "get" }))
  })
})

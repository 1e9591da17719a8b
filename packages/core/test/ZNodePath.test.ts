import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import * as ZNodePath from "../src/ZNodePath.ts"

const valid = ["/", "/a", "/a/b", "/a/b/c", "/...", "/.a", "/a.", "/a/..b", "/a/b..", "/zookeeper", "/ünï/cödé", "/a b", "/a\u00a0", "/a\uf900", "/a\uffef"]

const invalid: ReadonlyArray<readonly [string, RegExp]> = [
  ["", /empty/],
  ["a", /start with "\/"/],
  ["a/b", /start with "\/"/],
  ["/a/", /end with "\/"/],
  ["//", /end with "\/"/],
  ["//a", /empty segment/],
  ["/a//b", /empty segment at index 3/],
  ["/.", /relative segment "\."/],
  ["/..", /relative segment "\.\."/],
  ["/a/.", /relative segment "\."/],
  ["/a/./b", /relative segment "\."/],
  ["/a/../b", /relative segment "\.\."/],
  ["/a/..", /relative segment "\.\."/]
]

// One code unit from each forbidden range, at both ends of the range.
const forbidden = [0x0000, 0x0001, 0x0009, 0x001f, 0x007f, 0x0080, 0x009f, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000, 0xf8ff, 0xfff0, 0xfffe, 0xffff]
const allowedNeighbours = [0x0020, 0x007e, 0x00a0, 0xd7ff, 0xf900, 0xffef]

describe("ZNodePath.validationError", () => {
  it("accepts valid paths", () => {
    for (const p of valid) assert.isUndefined(ZNodePath.validationError(p), JSON.stringify(p))
    for (const p of valid) assert.isTrue(ZNodePath.isValid(p))
  })

  it("rejects invalid paths with a reason", () => {
    for (const [p, reason] of invalid) {
      const got = ZNodePath.validationError(p)
      assert.isDefined(got, JSON.stringify(p))
      assert.match(got ?? "", reason, JSON.stringify(p))
      assert.isFalse(ZNodePath.isValid(p))
    }
  })

  it("rejects forbidden code units anywhere and accepts their neighbours", () => {
    for (const c of forbidden) {
      const ch = String.fromCharCode(c)
      for (const p of [`/${ch}`, `/a${ch}b`, `/a/b${ch}`]) {
        const got = ZNodePath.validationError(p)
        assert.match(got ?? "", /invalid character U\+[0-9A-F]{4}/, `U+${c.toString(16)} in ${JSON.stringify(p)}`)
      }
    }
    assert.strictEqual(ZNodePath.validationError("/a\u0000"), "invalid character U+0000 at index 2")
    // A well-formed surrogate pair (outside the BMP) is still two forbidden code units.
    assert.isDefined(ZNodePath.validationError("/😀"))
    for (const c of allowedNeighbours) {
      assert.isUndefined(ZNodePath.validationError(`/a${String.fromCharCode(c)}`), `U+${c.toString(16)}`)
    }
  })

  it("checks sequential paths with a trailing digit", () => {
    assert.isUndefined(ZNodePath.validationError("/queue/", { sequential: true }))
    assert.isDefined(ZNodePath.validationError("/queue/"))
    assert.isUndefined(ZNodePath.validationError("/queue/item-", { sequential: true }))
    assert.isUndefined(ZNodePath.validationError("/", { sequential: true }))
    // "/." + "1" is "/.1", a fine name; "//" + "1" still has an empty segment.
    assert.isUndefined(ZNodePath.validationError("/.", { sequential: true }))
    assert.match(ZNodePath.validationError("//", { sequential: true }) ?? "", /empty segment/)
    assert.match(ZNodePath.validationError("/a/./", { sequential: true }) ?? "", /relative segment/)
    assert.match(ZNodePath.validationError("", { sequential: true }) ?? "", /empty/)
    assert.match(ZNodePath.validationError("queue/", { sequential: true }) ?? "", /start with/)
    assert.match(ZNodePath.validationError("/q\u0001/", { sequential: true }) ?? "", /invalid character U\+0001/)
  })

  it.effect("check fails with BadArguments carrying op, path and detail", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* ZNodePath.check("get", "/a"), "/a")
      assert.strictEqual(yield* ZNodePath.check("create", "/q/", { sequential: true }), "/q/")
      const e = yield* Effect.flip(ZNodePath.check("create", "a/b"))
      assert.strictEqual(e._tag, "BadArguments")
      assert.strictEqual(e.code, -8)
      assert.strictEqual(e.op, "create")
      assert.strictEqual(e.path, "a/b")
      assert.strictEqual(e.detail, `path must start with "/"`)
      assert.strictEqual(e.message, `zookeeper: create "a/b": bad arguments: path must start with "/"`)
      const exit = yield* Effect.exit(ZNodePath.check("delete", "/a/"))
      assert.isTrue(Exit.isFailure(exit))
    }))
})

describe("ZNodePath chroot", () => {
  it("prepends the chroot", () => {
    assert.strictEqual(ZNodePath.prependChroot("/app", "/"), "/app")
    assert.strictEqual(ZNodePath.prependChroot("/app", "/x"), "/app/x")
    assert.strictEqual(ZNodePath.prependChroot("/app/x", "/y/z"), "/app/x/y/z")
    assert.strictEqual(ZNodePath.prependChroot(undefined, "/x"), "/x")
    assert.strictEqual(ZNodePath.prependChroot("", "/x"), "/x")
    assert.strictEqual(ZNodePath.prependChroot("/", "/x"), "/x")
    assert.strictEqual(ZNodePath.prependChroot(undefined, "/"), "/")
  })

  it("strips the chroot only on a segment boundary", () => {
    assert.strictEqual(ZNodePath.stripChroot("/app", "/app"), "/")
    assert.strictEqual(ZNodePath.stripChroot("/app", "/app/x"), "/x")
    assert.strictEqual(ZNodePath.stripChroot("/app", "/app/x/y"), "/x/y")
    assert.strictEqual(ZNodePath.stripChroot("/app", "/app2"), "/app2")
    assert.strictEqual(ZNodePath.stripChroot("/app", "/app2/x"), "/app2/x")
    assert.strictEqual(ZNodePath.stripChroot("/app", "/ap"), "/ap")
    assert.strictEqual(ZNodePath.stripChroot("/app", "/other"), "/other")
    assert.strictEqual(ZNodePath.stripChroot("/app", "/zookeeper/config"), "/zookeeper/config")
    assert.strictEqual(ZNodePath.stripChroot(undefined, "/app/x"), "/app/x")
    assert.strictEqual(ZNodePath.stripChroot("", "/app/x"), "/app/x")
    assert.strictEqual(ZNodePath.stripChroot("/", "/app/x"), "/app/x")
  })

  it("round-trips every client path", () => {
    for (const chroot of ["/app", "/app/nested", "/a", undefined]) {
      for (const p of ["/", "/x", "/x/y", "/app", "/app/x", "/a", "/ab"]) {
        const server = ZNodePath.prependChroot(chroot, p)
        assert.strictEqual(ZNodePath.stripChroot(chroot, server), p, `${chroot} ${p}`)
        assert.isTrue(ZNodePath.isValid(server))
      }
    }
  })
})

describe("ZNodePath names", () => {
  it("parent, basename and join", () => {
    assert.strictEqual(ZNodePath.parent("/a/b/c"), "/a/b")
    assert.strictEqual(ZNodePath.parent("/a"), "/")
    assert.strictEqual(ZNodePath.parent("/"), "/")
    assert.strictEqual(ZNodePath.basename("/a/b/c"), "c")
    assert.strictEqual(ZNodePath.basename("/a"), "a")
    assert.strictEqual(ZNodePath.basename("/"), "")
    assert.strictEqual(ZNodePath.join("/", "a"), "/a")
    assert.strictEqual(ZNodePath.join("/a", "b"), "/a/b")
    assert.strictEqual(ZNodePath.join("/a/", "b"), "/a/b")
    assert.strictEqual(ZNodePath.join("/a", "/b"), "/a/b")
    assert.strictEqual(ZNodePath.join("/a", "b/c"), "/a/b/c")
    assert.strictEqual(ZNodePath.join("/queue", ""), "/queue/")
    for (const p of ["/a/b", "/x/y/z", "/a"]) {
      assert.strictEqual(ZNodePath.join(ZNodePath.parent(p), ZNodePath.basename(p)), p)
    }
  })

  it("sequenceNumber reads the signed 10-character suffix", () => {
    assert.strictEqual(ZNodePath.sequenceNumber("0000000000"), 0)
    assert.strictEqual(ZNodePath.sequenceNumber("lock-0000000042"), 42)
    assert.strictEqual(ZNodePath.sequenceNumber("/queue/0000000007"), 7)
    assert.strictEqual(ZNodePath.sequenceNumber("n2147483647"), 2147483647)
    assert.strictEqual(ZNodePath.sequenceNumber("/queue/-000000005"), -5)
    assert.strictEqual(ZNodePath.sequenceNumber("x-999999999"), -999999999)
    assert.strictEqual(ZNodePath.sequenceNumber("lock-1000000000"), 1000000000)
    assert.isUndefined(ZNodePath.sequenceNumber("lock"))
    assert.isUndefined(ZNodePath.sequenceNumber("mylock-0001"))
    assert.isUndefined(ZNodePath.sequenceNumber("lock-00000000a1"))
    assert.isUndefined(ZNodePath.sequenceNumber("lock-00000-0001"))
    assert.isUndefined(ZNodePath.sequenceNumber(""))
  })
})

import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Acl from "../src/Acl.ts"
import { Perms } from "../src/Acl.ts"

describe("Acl", () => {
  it("Perms are the ZooDefs bits", () => {
    assert.deepStrictEqual(Perms, { Read: 1, Write: 2, Create: 4, Delete: 8, Admin: 16, All: 31 })
    assert.strictEqual(Perms.Read | Perms.Write | Perms.Create | Perms.Delete | Perms.Admin, Perms.All)
  })

  it("computes digest ids", () => {
    // Both expected values were computed independently:
    // printf 'alice:secret' | openssl sha1 -binary | base64
    assert.strictEqual(Acl.digestId("alice", "secret"), "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=")
    // printf 'joe:passwd' | openssl sha1 -binary | base64
    assert.strictEqual(Acl.digestId("joe", "passwd"), "joe:enQcM3mIEHQx7IrPNStYBc0qfs8=")
    // Non-ASCII credentials are hashed as UTF-8 (Python: b64(sha1("ünï:pä😀ss".encode())))
    assert.strictEqual(Acl.digestId("ünï", "pä😀ss"), "ünï:CBpqUeF4ysyVvWdgY17skFwOq88=")
  })

  it("builds gozk-style one-entry lists", () => {
    assert.deepStrictEqual(Acl.world(Perms.All), [{ perms: 31, id: { scheme: "world", id: "anyone" } }])
    assert.deepStrictEqual(Acl.world(Perms.Read | Perms.Write), [{ perms: 3, id: { scheme: "world", id: "anyone" } }])
    assert.deepStrictEqual(Acl.auth(Perms.Read), [{ perms: 1, id: { scheme: "auth", id: "" } }])
    assert.deepStrictEqual(Acl.digest("alice", "secret", Perms.All), [
      { perms: 31, id: { scheme: "digest", id: "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=" } }
    ])
  })

  it("has the ZooDefs constants", () => {
    assert.deepStrictEqual(Acl.openUnsafe, [{ perms: 31, id: { scheme: "world", id: "anyone" } }])
    assert.deepStrictEqual(Acl.creatorAll, [{ perms: 31, id: { scheme: "auth", id: "" } }])
    assert.deepStrictEqual(Acl.readUnsafe, [{ perms: 1, id: { scheme: "world", id: "anyone" } }])
  })

  it("validates lists", () => {
    assert.isUndefined(Acl.validate(Acl.openUnsafe))
    assert.isUndefined(Acl.validate([...Acl.creatorAll, ...Acl.world(0)]))
    assert.match(Acl.validate([]) ?? "", /must not be empty/)
    assert.match(Acl.validate(Acl.world(32)) ?? "", /entry 0: perms 32 outside 0\.\.31/)
    assert.match(Acl.validate([...Acl.openUnsafe, ...Acl.world(-1)]) ?? "", /entry 1: perms -1/)
    assert.match(Acl.validate(Acl.world(1.5)) ?? "", /perms 1\.5/)
    assert.match(Acl.validate([{ perms: 1, id: { scheme: "", id: "x" } }]) ?? "", /empty scheme/)
  })

  it.effect("check fails with InvalidACL", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* Acl.check("create", "/a", Acl.openUnsafe), Acl.openUnsafe)
      const e = yield* Effect.flip(Acl.check("setAcl", "/a", []))
      assert.strictEqual(e._tag, "InvalidACL")
      assert.strictEqual(e.code, -114)
      assert.strictEqual(e.message, `zookeeper: setAcl "/a": invalid acl: acl list must not be empty`)
      const noPath = yield* Effect.flip(Acl.check("create", undefined, []))
      assert.isFalse("path" in noPath)
    }))
})

/**
 * The caller misbehaves: every rule of docs/protocol.md#paths, bad versions, bad ACLs, oversized
 * data, bad TTLs, empty and malformed multis. Each mistake fails with a typed error
 * (BadArguments or InvalidACL) and nothing reaches the server: the server's own count of packets
 * received on the session's connection (`cons` recved) moves by exactly the one probe request.
 * The session stays usable afterwards.
 *
 * Also the security promises: digest ACLs are enforced (NoAuth), an unknown auth scheme ends the
 * session with AuthFailed, and credentials never show up in logs, errors or events.
 */
import { Testing } from "@effect-zk/node"
import { assert, layer } from "@effect/vitest"
import { Acl, CreateMode, Op, Perms, type ZooKeeperService } from "@effect-zk/core"
import { FourLetterWord, ZooKeeperServer } from "@effect-zk/server"
import { Cause, Effect, Fiber, Logger, Option, Redacted, References, Stream } from "effect"
import { chrootOf, connectTo, holdsFor, sandbox } from "./utils/TestZooKeeper.ts"

type Mistake = readonly [label: string, effect: Effect.Effect<unknown, unknown>]

/**
 * What the server has seen from this session: packets received on its connection, and the
 * server's last zxid. A probe `exists` goes first, so everything sent before it has arrived.
 */
const serverView = (zk: ZooKeeperService) =>
  Effect.gen(function*() {
    const server = yield* ZooKeeperServer.ZooKeeperServer
    yield* zk.exists("/")
    const hex = (yield* zk.clientId).hex
    const connections = yield* FourLetterWord.cons(server.port)
    const mine = connections.find((c) => Option.getOrUndefined(c.sessionId) === hex)
    assert.isDefined(mine, `cons lists session ${hex}`)
    const recved = Number(mine!.fields.get("recved"))
    assert.isTrue(Number.isInteger(recved), "cons shows recved")
    const stats = yield* FourLetterWord.srvr(server.port)
    assert.isTrue(Option.isSome(stats))
    return { recved, zxid: Option.getOrThrow(stats).zxid }
  })

/**
 * Runs every mistake: each must fail with `tag`, and none may reach the server. The session's
 * timeout is long enough that no ping falls into the window (one goes out after ~13 s of quiet).
 */
const noneReachTheServer = (zk: ZooKeeperService, tag: "BadArguments" | "InvalidACL", mistakes: ReadonlyArray<Mistake>) =>
  Effect.gen(function*() {
    const before = yield* serverView(zk)
    for (const [label, effect] of mistakes) {
      const error = yield* Effect.flip(effect).pipe(
        Effect.catchCause((cause) => Effect.succeed(`${label}: succeeded or died: ${Cause.pretty(cause)}`))
      )
      const got = typeof error === "object" && error !== null && "_tag" in error ? error._tag : String(error)
      assert.strictEqual(got, tag, label)
      assert.isTrue(typeof error === "object" && error !== null && "detail" in error && typeof error.detail === "string" && error.detail.length > 0, `${label}: a detail says why`)
    }
    const after = yield* serverView(zk)
    // Nothing of this session's but the probe arrived, so no transaction can come from it. The
    // server-wide zxid is no proof either way: another test's session expiring on the shared
    // server (its closeSession is a transaction) can move it at any moment.
    assert.strictEqual(after.recved - before.recved, 1, `only the probe reached the server (${mistakes.length} mistakes)`)
    return mistakes.length
  })

/** Each invalid path, with the rule it breaks (docs/protocol.md#paths). */
const BAD_PATHS: ReadonlyArray<string> = [
  "", // empty
  "a", // not absolute
  "zookeeper/x",
  "/a/", // trailing slash
  "//", // empty segment
  "/a//b",
  "/.", // relative segments
  "/..",
  "/a/.",
  "/a/..",
  "/./a",
  "/a/../b",
  "/a\u0000b", // forbidden code units
  "/\u0001",
  "/a\u001f",
  "/\u007f",
  "/\u0080",
  "/x\u009f",
  "/\ud800", // lone surrogates, and a pair: surrogates are banned outright
  "/\udfff",
  "/😀",
  "/\ue000", // private use
  "/\uf8ff",
  "/\ufff0", // specials
  "/\uffff"
]

/** Paths that look odd but are valid: the validator must let them through. */
const ODD_BUT_VALID: ReadonlyArray<string> = ["/...", "/.a", "/a.", "/ ", "/~", "/\u00a0", "/\uf900", "/\uffef", "/é", "/a b"]

const perPath = (zk: ZooKeeperService, p: string): ReadonlyArray<Mistake> => [
  [`create ${JSON.stringify(p)}`, zk.create(p, "x")],
  [`create2 ${JSON.stringify(p)}`, zk.create2(p, "x")],
  [`create ephemeral ${JSON.stringify(p)}`, zk.create(p, "x", { mode: CreateMode.Ephemeral })],
  [`delete ${JSON.stringify(p)}`, zk.delete(p)],
  [`exists ${JSON.stringify(p)}`, zk.exists(p)],
  [`existsW ${JSON.stringify(p)}`, zk.existsW(p)],
  [`get ${JSON.stringify(p)}`, zk.get(p)],
  [`getW ${JSON.stringify(p)}`, zk.getW(p)],
  [`set ${JSON.stringify(p)}`, zk.set(p, "x")],
  [`children ${JSON.stringify(p)}`, zk.children(p)],
  [`childrenW ${JSON.stringify(p)}`, zk.childrenW(p)],
  [`getAcl ${JSON.stringify(p)}`, zk.getAcl(p)],
  [`setAcl ${JSON.stringify(p)}`, zk.setAcl(p, Acl.openUnsafe)],
  [`sync ${JSON.stringify(p)}`, zk.sync(p)],
  [`getAllChildrenNumber ${JSON.stringify(p)}`, zk.getAllChildrenNumber(p)],
  [`removeWatches ${JSON.stringify(p)}`, zk.removeWatches(p, "any")],
  [`checkWatches ${JSON.stringify(p)}`, zk.checkWatches(p, "data")],
  [`multi create ${JSON.stringify(p)}`, zk.multi([Op.create(p, "x")])],
  [`multi delete ${JSON.stringify(p)}`, zk.multi([Op.delete(p)])],
  [`multi set ${JSON.stringify(p)}`, zk.multi([Op.set(p, "x")])],
  [`multi check ${JSON.stringify(p)}`, zk.multi([Op.check(p, 0)])],
  [`multiRead get ${JSON.stringify(p)}`, zk.multiRead([Op.get(p)])],
  [`multiRead children ${JSON.stringify(p)}`, zk.multiRead([Op.children(p)])],
  [`addWatch ${JSON.stringify(p)}`, Stream.runHead(zk.addWatch(p))],
  [`addWatch recursive ${JSON.stringify(p)}`, Stream.runHead(zk.addWatch(p, { recursive: true }))],
  [`watchData ${JSON.stringify(p)}`, Stream.runHead(zk.watchData(p))],
  [`watchChildren ${JSON.stringify(p)}`, Stream.runHead(zk.watchChildren(p))]
]

const BAD_VERSIONS: ReadonlyArray<number> = [-2, -100, -2147483648, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2 ** 31, 2 ** 53]

const world = (perms: number): ReadonlyArray<Acl.Acl> => [{ perms, id: Acl.anyoneIdUnsafe }]
const BAD_ACLS: ReadonlyArray<readonly [string, ReadonlyArray<Acl.Acl>]> = [
  ["an empty list", []],
  ["perms 32", world(32)],
  ["perms 64", world(64)],
  ["perms -1", world(-1)],
  ["perms 1.5", world(1.5)],
  ["perms NaN", world(Number.NaN)],
  ["an empty scheme", [{ perms: Perms.All, id: { scheme: "", id: "anyone" } }]],
  ["a good entry then a bad one", [...Acl.openUnsafe, { perms: 99, id: Acl.anyoneIdUnsafe }]]
]

/** The server's default jute.maxbuffer: the largest request frame body it accepts. */
const MAX_BUFFER = 1_048_575

layer(ZooKeeperServer.layer(), { timeout: "120 seconds", excludeTestServices: true })("caller mistakes", (it) => {
  /** A client in a fresh chroot whose session never pings during a check (40 s timeout). */
  const quiet = Effect.gen(function*() {
    const servers = yield* sandbox
    const zk = yield* connectTo(servers, { sessionTimeout: "40 seconds" })
    return { zk, servers }
  })

  it.effect("every path rule of docs/protocol.md#paths, on every operation that takes a path: BadArguments, nothing sent", () =>
    Effect.gen(function*() {
      const { zk } = yield* quiet
      yield* zk.create("/a", "")
      const mistakes = BAD_PATHS.flatMap((p) => perPath(zk, p))
      const checked = yield* noneReachTheServer(zk, "BadArguments", mistakes)
      assert.isAtLeast(checked, BAD_PATHS.length * 27)
      // Sequential creates validate `path + "1"`: a trailing "/" is fine there, these are not.
      yield* noneReachTheServer(zk, "BadArguments", ["", "a", "//", "/a//", "/a\u0000", "/\ud800/"].flatMap((p): Array<Mistake> => [
        [`sequential create ${JSON.stringify(p)}`, zk.create(p, "", { mode: CreateMode.PersistentSequential })],
        [`ephemeral sequential create2 ${JSON.stringify(p)}`, zk.create2(p, "", { mode: CreateMode.EphemeralSequential })],
        [`multi sequential create ${JSON.stringify(p)}`, zk.multi([Op.create(p, "", { mode: CreateMode.PersistentSequential })])]
      ]))
      // The session is still usable, and odd-looking valid paths do reach the server.
      for (const p of ODD_BUT_VALID) assert.strictEqual(yield* zk.create(p, "ok"), p)
      assert.strictEqual(yield* zk.create("/a/", "", { mode: CreateMode.PersistentSequential }), "/a/0000000000")
      assert.strictEqual((yield* zk.children("/")).children.length, ODD_BUT_VALID.length + 1)
    }))

  it.effect("the probe counts what reaches the server: valid requests are seen one for one", () =>
    Effect.gen(function*() {
      // The control for every "nothing sent" check in this file.
      const { zk } = yield* quiet
      const before = yield* serverView(zk)
      for (const p of ODD_BUT_VALID) yield* zk.exists(p)
      const after = yield* serverView(zk)
      assert.strictEqual(after.recved - before.recved, ODD_BUT_VALID.length + 1)
      yield* zk.create("/t", "")
      const written = yield* serverView(zk)
      assert.isAbove(Number(written.zxid), Number(after.zxid), "a write moves the zxid")
    }))

  it.effect("versions below -1 or not integers: BadArguments, nothing sent", () =>
    Effect.gen(function*() {
      const { zk } = yield* quiet
      yield* zk.create("/v", "1")
      yield* noneReachTheServer(zk, "BadArguments", BAD_VERSIONS.flatMap((version): Array<Mistake> => [
        [`delete version ${version}`, zk.delete("/v", { version })],
        [`set version ${version}`, zk.set("/v", "2", { version })],
        [`setAcl version ${version}`, zk.setAcl("/v", Acl.openUnsafe, { version })],
        [`multi delete version ${version}`, zk.multi([Op.delete("/v", { version })])],
        [`multi set version ${version}`, zk.multi([Op.set("/v", "2", { version })])],
        [`multi check version ${version}`, zk.multi([Op.check("/v", version)])]
      ]))
      // Still usable; -1 and 0 are fine.
      yield* zk.set("/v", "2", { version: 0 })
      yield* zk.set("/v", "3", { version: -1 })
      assert.strictEqual(new TextDecoder().decode((yield* zk.get("/v")).data), "3")
    }))

  it.effect("bad ACLs (empty, perms outside 0..31, empty scheme): InvalidACL, nothing sent", () =>
    Effect.gen(function*() {
      const { zk } = yield* quiet
      yield* zk.create("/acl", "")
      yield* noneReachTheServer(zk, "InvalidACL", BAD_ACLS.flatMap(([what, acl]): Array<Mistake> => [
        [`create with ${what}`, zk.create("/n", "", { acl })],
        [`create2 with ${what}`, zk.create2("/n", "", { acl })],
        [`setAcl with ${what}`, zk.setAcl("/acl", acl)],
        [`multi create with ${what}`, zk.multi([Op.create("/n", "", { acl })])]
      ]))
      assert.isTrue(Option.isNone(yield* zk.exists("/n")))
      yield* zk.setAcl("/acl", Acl.readUnsafe)
      assert.deepStrictEqual((yield* zk.getAcl("/acl")).acl, Acl.readUnsafe)
    }))

  it.effect("data beyond the server's jute.maxbuffer: BadArguments, nothing sent; a frame of exactly the limit is accepted", () =>
    Effect.gen(function*() {
      const { zk, servers } = yield* quiet
      const chroot = chrootOf(servers)
      yield* zk.create("/big", "")
      // setData's frame body: header 8, path 4 + length, data 4 + length, version 4.
      const fits = MAX_BUFFER - 8 - (4 + new TextEncoder().encode(`${chroot}/big`).length) - 4 - 4
      const tooBig = new Uint8Array(fits + 1)
      const half = new Uint8Array(600_000)
      yield* noneReachTheServer(zk, "BadArguments", [
        ["set one byte over the limit", zk.set("/big", tooBig)],
        ["set 2 MiB", zk.set("/big", new Uint8Array(2 * 1024 * 1024))],
        ["set 1.2 MB of three-byte characters", zk.set("/big", "€".repeat(400_000))],
        ["create 1 MiB", zk.create("/huge", new Uint8Array(1024 * 1024))],
        ["create2 1 MiB", zk.create2("/huge", new Uint8Array(1024 * 1024))],
        ["multi of two 600 kB creates", zk.multi([Op.create("/m1", half), Op.create("/m2", half)])],
        ["multi set 1 MiB", zk.multi([Op.set("/big", new Uint8Array(1024 * 1024))])],
        ["a 1 MiB path", zk.exists(`/${"p".repeat(1024 * 1024)}`)]
      ])
      assert.isTrue(Option.isNone(yield* zk.exists("/m1")))
      // Exactly the limit is the server's to accept (docs/protocol.md#framing), and it does.
      const stat = yield* zk.set("/big", new Uint8Array(fits))
      assert.strictEqual(stat.dataLength, fits)
    }))

  it.effect("bad TTLs (0, 2^40, negative, fractional, missing, or with a non-TTL mode): BadArguments, nothing sent", () =>
    Effect.gen(function*() {
      const { zk } = yield* quiet
      const cases: ReadonlyArray<readonly [string, CreateMode, number | undefined]> = [
        ["ttl 0", CreateMode.PersistentWithTtl, 0],
        ["ttl 2^40", CreateMode.PersistentWithTtl, 2 ** 40],
        ["ttl -1", CreateMode.PersistentWithTtl, -1],
        ["ttl 1.5", CreateMode.PersistentWithTtl, 1.5],
        ["ttl NaN", CreateMode.PersistentWithTtl, Number.NaN],
        ["ttl Infinity", CreateMode.PersistentWithTtl, Number.POSITIVE_INFINITY],
        ["no ttl", CreateMode.PersistentWithTtl, undefined],
        ["sequential ttl 0", CreateMode.PersistentSequentialWithTtl, 0],
        ["sequential ttl 2^40", CreateMode.PersistentSequentialWithTtl, 2 ** 40],
        ["ttl with Persistent", CreateMode.Persistent, 1000],
        ["ttl with Ephemeral", CreateMode.Ephemeral, 1000],
        ["ttl with PersistentSequential", CreateMode.PersistentSequential, 1000],
        ["ttl with Container", CreateMode.Container, 1000]
      ]
      yield* noneReachTheServer(zk, "BadArguments", cases.flatMap(([what, mode, ttl]): Array<Mistake> => [
        [`create, ${what}`, zk.create("/ttl", "", { mode, ttl })],
        [`create2, ${what}`, zk.create2("/ttl", "", { mode, ttl })],
        [`multi create, ${what}`, zk.multi([Op.create("/ttl", "", { mode, ttl })])]
      ]))
      // The edges that are valid: 1 and 2^40 - 1.
      assert.strictEqual(yield* zk.create("/ttl-1", "", { mode: CreateMode.PersistentWithTtl, ttl: 1 }), "/ttl-1")
      assert.strictEqual(yield* zk.create("/ttl-max", "", { mode: CreateMode.PersistentWithTtl, ttl: 2 ** 40 - 1 }), "/ttl-max")
    }))

  it.effect("an empty multi, a bad op inside a multi, and the other argument checks: typed errors, nothing sent, nothing applied", () =>
    Effect.gen(function*() {
      const { zk } = yield* quiet
      yield* zk.create("/m", "0")
      yield* noneReachTheServer(zk, "BadArguments", [
        ["empty multi", zk.multi([])],
        ["empty multiRead", zk.multiRead([])],
        ["a valid create, then a bad path", zk.multi([Op.create("/m/a", ""), Op.create("m/b", "")])],
        ["a valid create, then a bad version", zk.multi([Op.create("/m/a", ""), Op.delete("/m", { version: -7 })])],
        ["a valid set, then a bad TTL", zk.multi([Op.set("/m", "1"), Op.create("/m/t", "", { mode: CreateMode.PersistentWithTtl, ttl: 0 })])],
        ["a valid check, then a trailing slash", zk.multi([Op.check("/m", 0), Op.delete("/m/")])],
        ["a valid get, then a bad read", zk.multiRead([Op.get("/m"), Op.children("/m/../x")])],
        ["getEphemerals with a relative prefix", zk.getEphemerals("m")],
        ["addAuth with an empty scheme", zk.addAuth("", "user:pw")],
        ["addWatch with bufferSize 0", Stream.runHead(zk.addWatch("/m", { bufferSize: 0 }))],
        ["addWatch with bufferSize 1.5", Stream.runHead(zk.addWatch("/m", { bufferSize: 1.5 }))]
      ])
      yield* noneReachTheServer(zk, "InvalidACL", [
        ["a valid create, then an empty ACL", zk.multi([Op.create("/m/a", ""), Op.create("/m/b", "", { acl: [] })])]
      ])
      // Nothing of the rejected transactions was applied; the node is as it was.
      assert.deepStrictEqual((yield* zk.children("/m")).children, [])
      const { data, stat } = yield* zk.get("/m")
      assert.strictEqual(new TextDecoder().decode(data), "0")
      assert.strictEqual(stat.version, 0)
      const results = yield* zk.multi([Op.create("/m/a", "")])
      assert.deepStrictEqual(results, [{ _tag: "Create", path: "/m/a" }])
    }))
})

// A server of its own: sessions ended by AuthFailed expire on the server later, and their
// closeSession transactions stay away from the write check above.
layer(ZooKeeperServer.layer(), { timeout: "120 seconds", excludeTestServices: true })("security", (it) => {
  it.effect("digest ACLs are enforced: NoAuth without the identity or with a wrong password, allowed with it", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const password = "s3cret-digest-pw"
      const owner = yield* connectTo(servers, { auth: [{ scheme: "digest", credential: Redacted.make(`alice:${password}`) }] })
      yield* owner.create("/vault", "gold", { acl: Acl.digest("alice", password, Perms.All) })
      yield* owner.create("/vault/inner", "x")
      const stranger = yield* connectTo(servers)
      const impostor = yield* connectTo(servers)
      yield* impostor.addAuth("digest", Redacted.make("alice:not-the-password"))
      for (const zk of [stranger, impostor]) {
        const denied: ReadonlyArray<Mistake> = [
          ["get", zk.get("/vault")],
          ["getW", zk.getW("/vault")],
          ["children", zk.children("/vault")],
          ["set", zk.set("/vault", "lead")],
          ["getAcl", zk.getAcl("/vault")],
          ["setAcl", zk.setAcl("/vault", Acl.openUnsafe)],
          ["create child", zk.create("/vault/new", "")],
          ["delete child", zk.delete("/vault/inner")],
          ["multi set", zk.multi([Op.set("/vault", "lead")])]
        ]
        for (const [label, effect] of denied) {
          const error = yield* Effect.flip(effect)
          assert.strictEqual(typeof error === "object" && error !== null && "_tag" in error ? error._tag : error, "NoAuth", label)
        }
      }
      // The owner, and anyone who proves the identity, may.
      assert.strictEqual(new TextDecoder().decode((yield* owner.get("/vault")).data), "gold")
      yield* stranger.addAuth("digest", `alice:${password}`)
      assert.strictEqual(new TextDecoder().decode((yield* stranger.get("/vault")).data), "gold")
      yield* stranger.set("/vault", "silver")
      assert.strictEqual(new TextDecoder().decode((yield* owner.get("/vault")).data), "silver")
    }))

  it.effect("an unknown auth scheme ends the session with AuthFailed, whether configured or added, and it never reconnects", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const configured = yield* connectTo(servers, { auth: [{ scheme: "no-such-scheme", credential: "u:p" }] })
      yield* Testing.eventually(Effect.map(configured.state, (s) => s === "AuthFailed"))
      assert.strictEqual((yield* Effect.flip(configured.exists("/")))._tag, "AuthFailed")
      assert.strictEqual((yield* Effect.flip(configured.create("/x")))._tag, "AuthFailed")
      const added = yield* connectTo(servers)
      const { watch } = yield* added.existsW("/w")
      const error = yield* Effect.flip(added.addAuth("kerberos-ish", "u:p"))
      assert.strictEqual(error._tag, "AuthFailed")
      assert.strictEqual(yield* added.state, "AuthFailed")
      assert.strictEqual((yield* Effect.flip(Stream.runCollect(watch)))._tag, "AuthFailed")
      assert.strictEqual(yield* added.pendingWatches, 0)
      // Terminal: nothing brings it back.
      yield* holdsFor(Effect.map(added.state, (s) => s === "AuthFailed"), "300 millis", "AuthFailed is terminal")
      assert.strictEqual((yield* Effect.flip(added.get("/")))._tag, "AuthFailed")
    }))

  it.effect("credentials never show up in logs (down to Trace), errors, or session events", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const secrets = ["Redacted-s3cret-1", "plain-s3cret-2", "bytes-s3cret-3", "wrong-s3cret-4", "sasl-s3cret-5"]
      const lines: Array<string> = []
      const collector = Logger.make((options) => {
        lines.push(Logger.formatLogFmt.log(options))
      })
      const texts: Array<string> = []
      const remember = (e: unknown) => {
        texts.push(String(e))
        if (e instanceof Error) texts.push(e.message, e.stack ?? "")
        texts.push(JSON.stringify(e, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? "")
      }
      yield* Effect.gen(function*() {
        const zk = yield* connectTo(servers, {
          auth: [
            { scheme: "digest", credential: Redacted.make(`alice:${secrets[0]}`) },
            { scheme: "digest", credential: `bob:${secrets[1]}` },
            { scheme: "digest", credential: new TextEncoder().encode(`carol:${secrets[2]}`) }
          ]
        })
        const events = yield* Effect.forkChild(Stream.runCollect(zk.sessionEvents), { startImmediately: true })
        yield* zk.create("/c", "", { acl: Acl.digest("dave", secrets[3]!, Perms.All) })
        remember(yield* Effect.flip(zk.get("/c")))
        remember(yield* Effect.flip(zk.addAuth("bogus", `eve:${secrets[3]}`)))
        remember(yield* Effect.flip(zk.get("/")))
        remember(yield* zk.clientId)
        // A SASL login refused by a server without SASL: the password must not leak either.
        const sasl = yield* Effect.flip(
          Effect.scoped(connectTo(servers, { connectTimeout: "3 seconds", sasl: { username: "frank", password: secrets[4]! } }))
        )
        remember(sasl)
        remember(Cause.pretty(Cause.fail(sasl)))
        yield* zk.close
        // The stream ends after Closed, a terminal state.
        for (const event of yield* Fiber.join(events)) remember(event)
      }).pipe(
        Effect.provideService(Logger.CurrentLoggers, new Set([collector])),
        Effect.provideService(References.MinimumLogLevel, "All")
      )
      assert.isAbove(lines.length, 0, "the session did log")
      const all = [...lines, ...texts].join("\n")
      for (const secret of secrets) assert.notInclude(all, secret)
    }))
})

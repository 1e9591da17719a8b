/**
 * Every command of `zk` through the built binary against a real server: output for people,
 * `--json` compared with what a client reads, exit statuses, and input refused before
 * connecting.
 */
import { assert, layer } from "@effect/vitest"
import { Acl, Perms } from "@effect-zk/core"
import { ZooKeeperServer } from "@effect-zk/server"
import { Effect, Option } from "effect"
import { address, client, fresh, zk } from "./utils/Zk.ts"

const hex = (n: bigint) => `0x${n.toString(16)}`
const iso = (n: bigint) => new Date(Number(n)).toISOString()
const text = (b: Uint8Array) => new TextDecoder().decode(b)

/** A port with nothing listening: a command that tried to connect there would fail differently. */
const DEAD = "127.0.0.1:1"

layer(ZooKeeperServer.layer(), { timeout: "90 seconds", excludeTestServices: true })("zk commands", (it) => {
  it.effect("create, get, set, stat, exists, delete: output and the server's state agree", () =>
    Effect.gen(function*() {
      const s = yield* address
      const c = yield* client
      const p = fresh("basic")
      const created = yield* zk(["-s", s, "create", p, "v1"])
      assert.deepStrictEqual([created.status, created.out, created.stderr], [0, `${p}\n`, ""])
      assert.strictEqual(text((yield* c.get(p)).data), "v1")

      const got = yield* zk(["-s", s, "get", p])
      const [setWrong, set, exists, missing] = yield* Effect.all([
        zk(["-s", s, "set", p, "x", "--version", "7"]),
        zk(["-s", s, "--json", "set", `${p}`, "v2", "--version", "0"]),
        zk(["-s", s, "exists", p]),
        zk(["-s", s, "exists", `${p}/none`])
      ], { concurrency: "unbounded" })
      assert.strictEqual(got.out, "v1\n")
      assert.deepStrictEqual([setWrong.status, setWrong.stderr, setWrong.out], [1, `zk: set "${p}": bad version\n`, ""])
      assert.strictEqual(set.status, 0)
      const after = yield* c.get(p)
      assert.strictEqual(text(after.data), "v2")
      assert.strictEqual(JSON.parse(set.out).version, after.stat.version)
      assert.deepStrictEqual([exists.status, exists.out], [0, ""])
      assert.deepStrictEqual([missing.status, missing.out, missing.stderr], [1, "", ""])

      const stat = yield* zk(["-s", s, "--json", "stat", p])
      const st = after.stat
      assert.deepStrictEqual(JSON.parse(stat.out), {
        path: p,
        czxid: hex(st.czxid),
        mzxid: hex(st.mzxid),
        ctime: iso(st.ctime),
        mtime: iso(st.mtime),
        version: st.version,
        cversion: st.cversion,
        aversion: st.aversion,
        ephemeralOwner: hex(st.ephemeralOwner),
        dataLength: st.dataLength,
        numChildren: st.numChildren,
        pzxid: hex(st.pzxid)
      })
      const people = yield* zk(["-s", s, "stat", p])
      assert.match(people.out, new RegExp(`^mzxid\\s+${hex(st.mzxid)}$`, "m"))
      assert.match(people.out, new RegExp(`^mtime\\s+${iso(st.mtime)}$`, "m"))
      assert.strictEqual(people.out.trim().split("\n").length, 11)

      const existsJson = yield* zk(["-s", s, "--json", "exists", `${p}/none`])
      assert.deepStrictEqual([existsJson.status, JSON.parse(existsJson.out)], [1, { path: `${p}/none`, exists: false }])

      const badDelete = yield* zk(["-s", s, "delete", p, "--version", "0"])
      assert.deepStrictEqual([badDelete.status, badDelete.stderr], [1, `zk: delete "${p}": bad version\n`])
      const del = yield* zk(["-s", s, "delete", p, "--version", "1"])
      assert.strictEqual(del.status, 0)
      assert.isTrue(Option.isNone(yield* c.exists(p)))
    }))

  it.effect("create's modes and flags: -p, -s, -e, --container, --ttl, --acl", () =>
    Effect.gen(function*() {
      const s = yield* address
      const c = yield* client
      const p = fresh("modes")
      const [parents, seq, eph, container, ttl, acl, conflict, badAcl] = yield* Effect.all([
        zk(["-s", s, "create", "-p", `${p}/a/b/c`, "deep"]),
        zk(["-s", s, "create", "-p", "-s", `${p}/q/job-`]),
        zk(["-s", s, "create", "-p", "-e", `${p}/e/eph`]),
        zk(["-s", s, "create", "-p", "--container", `${p}/c`]),
        zk(["-s", s, "create", "-p", "--ttl", "10m", `${p}/t`, "ttl"]),
        zk(["-s", s, "create", "-p", `${p}/acl`, "--acl", "world:anyone:r", "--acl", "ip:127.0.0.1:cdrwa"]),
        zk(["-s", DEAD, "create", "--container", "-e", `${p}/x`]),
        zk(["-s", DEAD, "create", `${p}/x`, "--acl", "world:anyone:rz"])
      ], { concurrency: "unbounded" })
      assert.strictEqual(parents.out, `${p}/a/b/c\n`)
      assert.strictEqual(text((yield* c.get(`${p}/a/b/c`)).data), "deep")
      assert.match(seq.out, new RegExp(`^${p}/q/job-\\d{10}\\n$`))
      assert.isTrue(Option.isSome(yield* c.exists(seq.out.trim())))
      // The ephemeral went with the session of that zk; zk said so on stderr.
      assert.strictEqual(eph.out, `${p}/e/eph\n`)
      assert.match(eph.stderr, /ephemeral node was deleted with this session/)
      assert.isTrue(Option.isNone(yield* c.exists(`${p}/e/eph`)))
      assert.deepStrictEqual([container.status, ttl.status], [0, 0])
      assert.isTrue(Option.isSome(yield* c.exists(`${p}/c`)))
      assert.strictEqual(text((yield* c.get(`${p}/t`)).data), "ttl")
      assert.deepStrictEqual((yield* c.getAcl(`${p}/acl`)).acl, [
        { perms: Perms.Read, id: { scheme: "world", id: "anyone" } },
        { perms: Perms.All, id: { scheme: "ip", id: "127.0.0.1" } }
      ])
      assert.deepStrictEqual([acl.status, conflict.status, badAcl.status], [0, 2, 2])
      assert.strictEqual(conflict.stderr, "zk: create: --container cannot be combined with -e, -s or --ttl\n")
      assert.match(badAcl.stderr, /^zk: create: bad ACL "world:anyone:rz": unknown permission "z"/)
    }))

  it.effect("ls, ls -l, ls -R, tree, du: the same tree the client sees", () =>
    Effect.gen(function*() {
      const s = yield* address
      const c = yield* client
      const p = fresh("tree")
      yield* c.create(p, "root", {})
      for (const [child, data] of [["b", "bb"], ["a", ""], ["a/x", "12345"], ["a/x/y", "z"], ["c", ""]] as const) {
        yield* c.create(`${p}/${child}`, data)
      }
      const [ls, lsJson, long, rec, tree, treeJson, depth, du] = yield* Effect.all([
        zk(["-s", s, "ls", p]),
        zk(["-s", s, "--json", "ls", p]),
        zk(["-s", s, "--json", "ls", "-l", p]),
        zk(["-s", s, "--json", "ls", "-R", p]),
        zk(["-s", s, "tree", p]),
        zk(["-s", s, "--json", "tree", p]),
        zk(["-s", s, "--json", "tree", "--depth", "1", p]),
        zk(["-s", s, "--json", "du", p])
      ], { concurrency: "unbounded" })
      assert.strictEqual(ls.out, "a\nb\nc\n")
      assert.deepStrictEqual(JSON.parse(lsJson.out), { path: p, children: ["a", "b", "c"] })
      const longEntries: Array<{ name: string; version: number; dataLength: number; numChildren: number; mtime: string }> =
        JSON.parse(long.out).children
      for (const entry of longEntries) {
        const { stat } = yield* c.get(`${p}/${entry.name}`)
        assert.deepStrictEqual([entry.version, entry.dataLength, entry.numChildren, entry.mtime], [
          stat.version,
          stat.dataLength,
          stat.numChildren,
          iso(stat.mtime)
        ])
      }
      assert.deepStrictEqual(JSON.parse(rec.out).descendants, [`${p}/a`, `${p}/a/x`, `${p}/a/x/y`, `${p}/b`, `${p}/c`])
      assert.strictEqual(tree.out.split("\n").slice(0, 6).join("\n"), [
        `${p} (4 B)`,
        "├── a (0 B)",
        "│   └── x (5 B)",
        "│       └── y (1 B)",
        "├── b (2 B)",
        "└── c (0 B)"
      ].join("\n"))
      assert.match(tree.out, /6 nodes, 12 B\n$/)
      const t = JSON.parse(treeJson.out)
      assert.deepStrictEqual(t.children.map((n: { name: string }) => n.name), ["a", "b", "c"])
      assert.strictEqual(t.children[0].children[0].children[0].path, `${p}/a/x/y`)
      assert.deepStrictEqual(JSON.parse(depth.out).children.map((n: { children: Array<unknown> }) => n.children.length), [0, 0, 0])
      assert.deepStrictEqual(JSON.parse(du.out), {
        path: p,
        nodes: 6,
        bytes: 12,
        children: [
          { path: `${p}/a`, nodes: 3, bytes: 6 },
          { path: `${p}/b`, nodes: 1, bytes: 2 },
          { path: `${p}/c`, nodes: 1, bytes: 0 }
        ]
      })
      const del = yield* zk(["-s", s, "delete", "-r", p])
      assert.strictEqual(del.status, 0)
      assert.isTrue(Option.isNone(yield* c.exists(p)))
    }))

  it.effect("every byte value through stdin round-trips, and get shows it in each format", () =>
    Effect.gen(function*() {
      const s = yield* address
      const c = yield* client
      const p = fresh("bytes")
      const all = new Uint8Array(256).map((_, i) => i)
      const created = yield* zk(["-s", s, "create", p, "-"], { stdin: all })
      assert.strictEqual(created.status, 0)
      assert.deepStrictEqual((yield* c.get(p)).data, all)
      const reversed = all.slice().reverse()
      assert.strictEqual((yield* zk(["-s", s, "set", p, "-"], { stdin: reversed })).status, 0)
      assert.deepStrictEqual((yield* c.get(p)).data, reversed)
      const [raw, b64, hexOut, json, utf8] = yield* Effect.all([
        zk(["-s", s, "get", p]),
        zk(["-s", s, "get", p, "--format", "base64"]),
        zk(["-s", s, "get", p, "--format", "hex"]),
        zk(["-s", s, "--json", "get", "--stat", p]),
        zk(["-s", s, "--json", "get", "/zookeeper/config", "--format", "text"])
      ], { concurrency: "unbounded" })
      // Not UTF-8 and stdout is a pipe: the exact bytes.
      assert.deepStrictEqual(new Uint8Array(raw.stdout), reversed)
      assert.strictEqual(b64.out, Buffer.from(reversed).toString("base64") + "\n")
      assert.strictEqual(hexOut.out, Buffer.from(reversed).toString("hex") + "\n")
      const parsed = JSON.parse(json.out)
      assert.deepStrictEqual([parsed.encoding, parsed.data, parsed.stat.dataLength], ["base64", Buffer.from(reversed).toString("base64"), 256])
      assert.strictEqual(utf8.status, 0)
      yield* c.set(p, JSON.stringify({ a: [1, 2] }))
      const pretty = yield* zk(["-s", s, "get", p, "--format", "json"])
      assert.strictEqual(pretty.out, `{\n  "a": [\n    1,\n    2\n  ]\n}\n`)
    }))

  it.effect("acl get and acl set in zkCli's notation; --auth identities are used and never printed", () =>
    Effect.gen(function*() {
      const s = yield* address
      const c = yield* client
      const p = fresh("acl")
      yield* c.create(p, "secret data")
      const digest = Acl.digestId("alice", "s3cret-pw")
      const set = yield* zk(["-s", s, "acl", "set", p, `digest:${digest}:cdrwa`, "world:anyone:r"])
      assert.strictEqual(set.status, 0)
      // The server shows digest hashes only to a session with ADMIN on the node.
      yield* c.addAuth("digest", "alice:s3cret-pw")
      assert.deepStrictEqual((yield* c.getAcl(p)).acl, [
        { perms: Perms.All, id: { scheme: "digest", id: digest } },
        { perms: Perms.Read, id: { scheme: "world", id: "anyone" } }
      ])
      const [get, getJson, denied, allowed] = yield* Effect.all([
        zk(["-s", s, "--auth", "digest:alice:s3cret-pw", "acl", "get", p]),
        zk(["-s", s, "--json", "acl", "get", p]),
        zk(["-s", s, "set", p, "x"]),
        zk(["-s", s, "--auth", "digest:alice:s3cret-pw", "--debug", "set", p, "by alice"])
      ], { concurrency: "unbounded" })
      assert.strictEqual(get.out, `digest:${digest}:cdrwa\nworld:anyone:r\n`)
      assert.deepStrictEqual(JSON.parse(getJson.out).acl, [
        { scheme: "digest", id: "alice:x", perms: "cdrwa" },
        { scheme: "world", id: "anyone", perms: "r" }
      ])
      assert.deepStrictEqual([denied.status, denied.stderr], [1, `zk: set "${p}": not authenticated\n`])
      assert.strictEqual(allowed.status, 0)
      assert.notInclude(allowed.out + allowed.stderr, "s3cret-pw")
      assert.strictEqual(text((yield* c.get(p)).data), "by alice")
      const bad = yield* zk(["-s", DEAD, "acl", "set", p, "world:anyone"])
      assert.deepStrictEqual([bad.status, bad.stderr], [2, `zk: acl set: bad ACL "world:anyone": expected scheme:id:perms, e.g. world:anyone:cdrwa\n`])
      const badAuth = yield* zk(["-s", DEAD, "--auth", "nocolon", "get", p])
      assert.strictEqual(badAuth.status, 2)
      assert.notInclude(badAuth.stderr, "nocolon")
    }))

  it.effect("errors: one line and status 1; usage errors status 2 with the help; bad input refused before connecting", () =>
    Effect.gen(function*() {
      const s = yield* address
      const [noNode, unknownFlag, missingArg, badPath, relative, dead, env, chroot] = yield* Effect.all([
        zk(["-s", s, "get", "/no/such/node"]),
        zk(["-s", s, "ls", "--bogus", "/"]),
        zk(["-s", s, "get"]),
        zk(["-s", DEAD, "get", "/a//b"]),
        zk(["-s", DEAD, "get", "a/../../b/"]),
        zk(["-s", DEAD, "--timeout", "500ms", "get", "/x"]),
        zk(["ls", "/"], { env: { ZK_SERVERS: s } }),
        zk(["-s", `${s}/zookeeper`, "ls"])
      ], { concurrency: "unbounded" })
      assert.deepStrictEqual([noNode.status, noNode.stderr, noNode.out], [1, `zk: get "/no/such/node": no node\n`, ""])
      assert.strictEqual(unknownFlag.status, 2)
      assert.include(unknownFlag.stderr, "USAGE")
      assert.include(unknownFlag.stderr, "--bogus")
      assert.strictEqual(missingArg.status, 2)
      assert.include(missingArg.stderr, "USAGE")
      assert.deepStrictEqual([badPath.status, badPath.stderr], [2, `zk: get "/a//b": empty segment at index 3\n`])
      assert.deepStrictEqual([relative.status, relative.stderr], [2, `zk: get "a/../../b/": path must not end with "/"\n`])
      assert.strictEqual(dead.status, 1)
      assert.match(dead.stderr, /^zk: connect[^\n]*\n$/)
      assert.notInclude(dead.stderr, "    at ")
      assert.strictEqual(env.status, 0)
      assert.include(env.out.split("\n"), "zookeeper")
      assert.deepStrictEqual([chroot.status, chroot.out], [0, "config\nquota\n"])
    }))

  it.effect("server: four-letter words parsed into a table and JSON", () =>
    Effect.gen(function*() {
      const s = yield* address
      const [srvr, mntr, cons, ruok, bad] = yield* Effect.all([
        zk(["-s", s, "server", "srvr"]),
        zk(["-s", s, "--json", "server", "mntr"]),
        zk(["-s", s, "--json", "server", "cons"]),
        zk(["-s", s, "server", "ruok"]),
        zk(["-s", s, "server", "hello"])
      ], { concurrency: "unbounded" })
      assert.match(srvr.out, /^Mode\s+standalone$/m)
      const [m] = JSON.parse(mntr.out)
      assert.deepStrictEqual([m.server, m.word, m.values.zk_server_state], [s, "mntr", "standalone"])
      assert.isNumber(m.values.zk_znode_count)
      const [cs] = JSON.parse(cons.out)
      assert.isTrue(cs.connections.length >= 1)
      assert.match(cs.connections[0].address, /^127\.0\.0\.1:\d+$/)
      assert.strictEqual(ruok.out, "imok\n")
      assert.strictEqual(bad.status, 2)
    }))
})

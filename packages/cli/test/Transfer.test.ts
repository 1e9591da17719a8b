/**
 * `zk export` / `zk import` of a tree of a few thousand nodes, and `zk watch` streaming what
 * another session does, through the built binary against a real server.
 */
import { assert, layer } from "@effect/vitest"
import { Acl, Op, Perms, type ZooKeeperService } from "@effect-zk/core"
import { FourLetterWord, ZooKeeperServer } from "@effect-zk/server"
import { Effect, Option } from "effect"
import { address, client, eventually, fresh, start, zk } from "./utils/Zk.ts"

interface Seen {
  readonly rel: string
  readonly data: string
  readonly acl: string
  readonly ephemeral: boolean
}

/** Every node under `root` as the client reads it, relative paths sorted. */
const snapshot = (c: ZooKeeperService, root: string): Effect.Effect<Array<Seen>, unknown> =>
  Effect.gen(function*() {
    const out: Array<Seen> = []
    let level = [root]
    while (level.length > 0) {
      const read = yield* Effect.forEach(level, (path) =>
        Effect.all([c.get(path), c.getAcl(path), c.children(path)]).pipe(Effect.map(([g, a, ch]) => ({ path, g, a, ch }))), { concurrency: 256 })
      level = []
      for (const { a, ch, g, path } of read) {
        out.push({
          rel: path.slice(root.length),
          data: Buffer.from(g.data).toString("base64"),
          acl: JSON.stringify(a.acl),
          ephemeral: g.stat.ephemeralOwner !== 0n
        })
        level.push(...ch.children.map((name) => `${path}/${name}`))
      }
    }
    return out.sort((x, y) => (x.rel < y.rel ? -1 : x.rel > y.rel ? 1 : 0))
  })

const SECRET = "digest:alice:pw-for-export"

layer(ZooKeeperServer.layer(), { timeout: "90 seconds", excludeTestServices: true })("zk export/import and watch", (it) => {
  it.effect("export then import into another path reproduces data, ACLs and modes of ~2,000 nodes", () =>
    Effect.gen(function*() {
      const s = yield* address
      const c = yield* client
      yield* c.addAuth("digest", "alice:pw-for-export")
      const src = fresh("src")
      const dst = fresh("dst")
      // 40 groups of 50 leaves: binary, text and empty data.
      const ops: Array<Op.Op> = [Op.create(src, "root")]
      for (let g = 0; g < 40; g++) {
        ops.push(Op.create(`${src}/g${g}`, g % 2 === 0 ? "" : `group ${g}`))
        for (let l = 0; l < 50; l++) {
          const data = l % 3 === 0 ? new Uint8Array([g, l, 0, 255, 128]) : l % 3 === 1 ? `leaf ${g}/${l} ✓` : ""
          ops.push(Op.create(`${src}/g${g}/n${l}`, data))
        }
      }
      for (let i = 0; i < ops.length; i += 500) yield* c.multi(ops.slice(i, i + 500))
      // ACLs after the tree exists: a read-only parent, digest, ip, and read-only leaves.
      yield* c.setAcl(`${src}/g1`, Acl.readUnsafe)
      yield* c.setAcl(`${src}/g2`, Acl.digest("alice", "pw-for-export", Perms.All))
      yield* c.setAcl(`${src}/g3/n3`, [{ perms: Perms.Read | Perms.Write, id: { scheme: "ip", id: "127.0.0.1" } }])
      for (let l = 0; l < 50; l += 7) yield* c.setAcl(`${src}/g4/n${l}`, Acl.readUnsafe)
      // An ephemeral of this session: exported with its mode, skipped by import.
      yield* c.create(`${src}/g5/live`, "session", { mode: "Ephemeral" })

      const exported = yield* zk(["-s", s, "--auth", SECRET, "export", src])
      assert.deepStrictEqual([exported.status, exported.stderr], [0, ""])
      const dump = JSON.parse(exported.out)
      assert.strictEqual(dump.nodes.length, 1 + 40 + 40 * 50 + 1)
      const live = dump.nodes.find((n: { path: string }) => n.path === "g5/live")
      assert.strictEqual(live.mode, "ephemeral")
      assert.strictEqual(live.ephemeralOwner, (yield* c.clientId).hex)

      const imported = yield* zk(["-s", s, "--auth", SECRET, "--json", "import", dst], { stdin: exported.out })
      assert.strictEqual(imported.status, 0, imported.stderr)
      assert.deepStrictEqual(JSON.parse(imported.out), { path: dst, created: 2041, updated: 0, skippedEphemeral: 1 })
      const before = (yield* snapshot(c, src)).filter((n) => !n.ephemeral)
      const after = yield* snapshot(c, dst)
      assert.strictEqual(after.length, 2041)
      assert.deepStrictEqual(after, before)

      // A second import refuses before writing anything; --overwrite replaces data.
      const again = yield* zk(["-s", s, "import", dst], { stdin: exported.out })
      assert.strictEqual(again.status, 1)
      assert.match(again.stderr, new RegExp(`^zk: import "${dst}": node exists: 2041 nodes of the dump exist; use --overwrite`))
      yield* c.set(`${dst}/g0/n1`, "changed")
      const overwrite = yield* zk(["-s", s, "--auth", SECRET, "import", "--overwrite", dst], { stdin: exported.out })
      assert.strictEqual(overwrite.status, 0, overwrite.stderr)
      assert.strictEqual(overwrite.out, `imported 0 nodes into ${dst}, replaced 1, skipped 1 ephemeral (use --ephemeral)\n`)
      assert.strictEqual(new TextDecoder().decode((yield* c.get(`${dst}/g0/n1`)).data), "leaf 0/1 ✓")

      const notJson = yield* zk(["-s", "127.0.0.1:1", "import", dst], { stdin: "{\"format\":\"other\"}" })
      assert.strictEqual(notJson.status, 2)
      assert.match(notJson.stderr, /^zk: import: not a zk export/)
    }), 150_000)

  it.effect("watch -r --json prints one line per change another session makes; Ctrl-C ends it", () =>
    Effect.gen(function*() {
      const s = yield* address
      const server = yield* ZooKeeperServer.ZooKeeperServer
      const c = yield* client
      const p = fresh("watched")
      yield* c.create(p)
      const watch = yield* start(["-s", s, "--json", "watch", "-r", p])
      // The watch is in place once the server lists it.
      yield* eventually(FourLetterWord.wchc(server.port).pipe(
        Effect.map((m) => [...m.values()].some((paths) => paths.includes(p))),
        Effect.orElseSucceed(() => false)
      ))
      yield* c.create(`${p}/a`, "1")
      yield* c.set(`${p}/a`, "2")
      yield* c.create(`${p}/a/b`)
      yield* c.delete(`${p}/a/b`)
      yield* eventually(Effect.sync(() => watch.lines.length >= 4))
      watch.child.kill("SIGINT")
      const { status } = yield* Effect.promise(() => watch.exited)
      assert.strictEqual(status, 130)
      assert.deepStrictEqual(watch.lines.map((l) => {
        const e = JSON.parse(l)
        return [e.type, e.path]
      }), [["NodeCreated", `${p}/a`], ["NodeDataChanged", `${p}/a`], ["NodeCreated", `${p}/a/b`], ["NodeDeleted", `${p}/a/b`]])
      assert.strictEqual(watch.stderr(), "")

      const data = yield* start(["-s", s, "--json", "watch", "--data", `${p}/a`])
      yield* eventually(FourLetterWord.wchc(server.port).pipe(
        Effect.map((m) => [...m.values()].some((paths) => paths.includes(`${p}/a`))),
        Effect.orElseSucceed(() => false)
      ))
      yield* c.set(`${p}/a`, "3")
      yield* eventually(Effect.sync(() => data.lines.length >= 1))
      const e = JSON.parse(data.lines[0]!)
      assert.deepStrictEqual([e.type, e.data, e.version], ["NodeDataChanged", "3", 2])
      assert.isTrue(Option.isSome(yield* c.exists(`${p}/a`)))
    }))
})

/**
 * `zk export` and `zk import`: a subtree as one JSON document, and back.
 *
 * The dump names nodes relative to the exported path, so it can be imported anywhere:
 *
 * ```json
 * {"format":"zk-export","version":1,"root":"/app","nodes":[
 * {"path":"","data":"aGVsbG8=","acl":["world:anyone:cdrwa"],"mode":"persistent"},
 * {"path":"config","data":"","acl":["digest:alice:X/Y=:cdrwa"],"mode":"persistent"}
 * ]}
 * ```
 *
 * One node per line keeps dumps diffable. Data is base64, ACLs use zkCli's notation, and
 * `mode` is what a client can observe: `persistent`, or `ephemeral` (with the owning session).
 * The server reports containers and TTL nodes to clients as plain persistent nodes, so they
 * come back as persistent. Ephemeral nodes belong to a live session: `import` skips them
 * unless `--ephemeral`, which creates them as ephemerals of the importing session (useful in
 * `zk shell`, where they live as long as the shell). Exporting `/` leaves out `/zookeeper`,
 * the server's own subtree.
 *
 * `import` checks the whole dump before connecting, then refuses to touch anything if a node
 * already exists (unless `--overwrite`, which sets the data and ACL of existing nodes where
 * they differ from the dump), then
 * creates parents before children in `multi` batches. A parent whose ACL does not let
 * everybody create children is created open and gets its ACL after its subtree is in, so a
 * read-only parent does not lock the import out of its own children.
 *
 * @since 0.1.0
 */
import * as Acl from "@effect-zk/core/Acl"
import { CreateMode } from "@effect-zk/core/CreateMode"
import * as Op from "@effect-zk/core/Op"
import * as ZNodePath from "@effect-zk/core/ZNodePath"
import { NodeExists } from "@effect-zk/core/ZkError"
import type { ZooKeeperService } from "@effect-zk/core/ZooKeeper"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { Argument, Command } from "effect/cli"
import * as AclText from "../AclText.ts"
import * as Bytes from "../Bytes.ts"
import * as Connection from "../Connection.ts"
import { BadInput } from "../Failure.ts"
import { path as checkPath, toggle, withSession } from "../Handler.ts"
import * as Output from "../Output.ts"
import * as Paths from "../Paths.ts"
import * as Progress from "../Progress.ts"
import * as StatText from "../StatText.ts"
import * as Walk from "../Walk.ts"

const DumpNode = Schema.Struct({
  path: Schema.String,
  data: Schema.String,
  acl: Schema.Array(Schema.String),
  mode: Schema.Literals(["persistent", "ephemeral"]),
  ephemeralOwner: Schema.optional(Schema.String)
})

/**
 * The export file: what `zk export` writes and `zk import` reads.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Dump = Schema.Struct({
  format: Schema.Literal("zk-export"),
  version: Schema.Literal(1),
  root: Schema.String,
  nodes: Schema.Array(DumpNode)
})

/**
 * The export file's type.
 *
 * @since 0.1.0
 * @category models
 */
export type Dump = typeof Dump.Type

const pathArgument = Argument.String("path").pipe(Argument.withDescription("the subtree's root"))

const dumpLine = (root: string, node: Walk.Node): string =>
  JSON.stringify({
    path: Paths.relative(root, node.path),
    data: Bytes.encode(node.data ?? new Uint8Array(0), "base64"),
    acl: (node.acl ?? []).map(AclText.format),
    mode: node.stat.ephemeralOwner === 0n ? "persistent" : "ephemeral",
    ...(node.stat.ephemeralOwner === 0n ? {} : { ephemeralOwner: StatText.hex(node.stat.ephemeralOwner) })
  })

/**
 * `zk export PATH > dump.json`: the subtree with data, ACLs and modes.
 *
 * @since 0.1.0
 * @category commands
 */
export const exportCommand = Command.make("export", { path: pathArgument }, ({ path: input }) =>
  Effect.gen(function*() {
    const root = yield* checkPath("export", input)
    const nodes = yield* withSession((zk) =>
      Effect.gen(function*() {
        const bar = Progress.bar(`export ${root}`, undefined)
        const walked = yield* Walk.walk(zk, root, { data: true, acl: true, skip: new Set(["/zookeeper"]), onProgress: bar.update })
        bar.finish()
        return walked
      })
    )
    // Without ADMIN on a node the server shows a digest id as `user:x`; such a dump cannot
    // restore that ACL, so say so rather than let the import lock people out later.
    const hidden = nodes.filter((n) => (n.acl ?? []).some((a) => a.id.scheme === "digest" && a.id.id.endsWith(":x"))).length
    if (hidden > 0) {
      yield* Output.warn(`zk: export ${JSON.stringify(root)}: ${hidden} nodes have digest ACLs whose hashes the server hid (no ADMIN permission); use --auth to export them exactly`)
    }
    const head = JSON.stringify({ format: "zk-export", version: 1, root }).slice(0, -1)
    yield* Output.write(`${head},"nodes":[\n${nodes.map((n) => dumpLine(root, n)).join(",\n")}\n]}\n`)
  })).pipe(Command.withDescription("Write a subtree (data, ACLs, modes) as JSON to stdout"))

/** A node of a checked dump, ready to write. */
interface Planned {
  readonly path: string
  readonly data: Uint8Array
  readonly acl: ReadonlyArray<Acl.Acl>
  readonly ephemeral: boolean
}

/** Checks every node of a dump; nothing is sent until the whole dump is known to be good. */
const plan = (root: string, dump: Dump): Effect.Effect<Array<Planned>, BadInput> =>
  Effect.gen(function*() {
    const out: Array<Planned> = []
    for (const node of dump.nodes) {
      const bad = (detail: string) => new BadInput({ command: "import", subject: node.path, detail })
      const path = Paths.under(root, node.path)
      const problem = ZNodePath.validationError(path)
      if (problem !== undefined || node.path.startsWith("/")) return yield* bad(problem ?? "paths in a dump are relative")
      const data = Bytes.decode(node.data, "base64")
      if (data === undefined) return yield* bad("data is not base64")
      const acl = AclText.parseList(node.acl)
      if (typeof acl === "string") return yield* bad(`bad ACL ${acl}`)
      out.push({ path, data, acl, ephemeral: node.mode === "ephemeral" })
    }
    return out
  })

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])

const grantsAnyoneCreate = (acl: ReadonlyArray<Acl.Acl>): boolean =>
  acl.some((a) => a.id.scheme === "world" && a.id.id === "anyone" && (a.perms & Acl.Perms.Create) !== 0)

/** Ops per `multi`, and bytes of data per `multi`: well inside the server's 1 MB request limit. */
const BATCH_OPS = 1000
const BATCH_BYTES = 512 * 1024

const batches = (ops: ReadonlyArray<{ readonly op: Op.Op; readonly size: number }>): Array<Array<Op.Op>> =>
  Op.batches(ops, { maxItems: BATCH_OPS, maxBytes: BATCH_BYTES, size: (o) => o.size }).map((run) => run.map((o) => o.op))

const write = (zk: ZooKeeperService, root: string, nodes: ReadonlyArray<Planned>, overwrite: boolean) =>
  Effect.gen(function*() {
    if (root !== "/") yield* zk.ensurePath(ZNodePath.parent(root))
    const found = yield* Effect.forEach(nodes, (n) => zk.exists(n.path), { concurrency: 512 })
    const existing = nodes.filter((_, i) => Option.isSome(found[i]!))
    if (existing.length > 0 && !overwrite) {
      return yield* new NodeExists({ op: "import", path: existing[0]!.path, detail: `${existing.length} nodes of the dump exist; use --overwrite to replace them` })
    }
    // Only what differs is written: a node that already matches may well refuse writes.
    const current = yield* Effect.forEach(existing, (n) => Effect.all([zk.get(n.path), zk.getAcl(n.path)]), { concurrency: 512 })
    const staleData = existing.filter((n, i) => !sameBytes(current[i]![0].data, n.data))
    const staleAcl = existing.filter((n, i) => JSON.stringify(current[i]![1].acl) !== JSON.stringify(n.acl))
    const isExisting = new Set(existing.map((n) => n.path))
    // A parent whose ACL would refuse us CREATE gets its children first: it is created open,
    // and its own ACL is set once everything under it exists.
    const parents = new Set(nodes.map((n) => ZNodePath.parent(n.path)))
    const lockedOut = nodes.filter((n) => !isExisting.has(n.path) && parents.has(n.path) && !grantsAnyoneCreate(n.acl))
    const deferred = new Set(lockedOut.map((n) => n.path))
    const ops = [...staleData, ...nodes.filter((n) => !isExisting.has(n.path))].map((n) => {
      const size = n.data.length + n.path.length + 64
      if (isExisting.has(n.path)) return { op: Op.set(n.path, n.data), size }
      const mode = n.ephemeral ? CreateMode.Ephemeral : CreateMode.Persistent
      return { op: Op.create(n.path, n.data, { mode, acl: deferred.has(n.path) ? Acl.openUnsafe : n.acl }), size }
    })
    const bar = Progress.bar(`import ${root}`, ops.length)
    let done = 0
    for (const batch of batches(ops)) {
      yield* zk.multi(batch)
      done += batch.length
      bar.update(done)
    }
    // setAcl is not a multi op: existing nodes and the parents created open get theirs now.
    yield* Effect.forEach([...staleAcl, ...lockedOut], (n) => zk.setAcl(n.path, n.acl), { concurrency: 512, discard: true })
    bar.finish()
    return { created: nodes.length - existing.length, updated: new Set([...staleData, ...staleAcl]).size }
  })

/**
 * `zk import PATH < dump.json [--overwrite] [--ephemeral]`: recreates an exported subtree at
 * PATH.
 *
 * @since 0.1.0
 * @category commands
 */
export const importCommand = Command.make("import", {
  path: pathArgument,
  overwrite: toggle("overwrite", "replace the data and ACL of existing nodes where they differ, instead of refusing"),
  ephemeral: toggle("ephemeral", "recreate ephemeral nodes as ephemerals of this session (skipped by default)")
}, ({ path: input, overwrite, ephemeral }) =>
  Effect.gen(function*() {
    const root = yield* checkPath("import", input)
    const json = yield* Connection.Json
    const text = new TextDecoder().decode(yield* Bytes.readStdin)
    const parsed = yield* Effect.try({
      try: (): unknown => JSON.parse(text),
      catch: () => new BadInput({ command: "import", detail: "stdin is not JSON (expected what zk export writes)" })
    })
    const dump = yield* Schema.decodeUnknownEffect(Dump)(parsed).pipe(
      Effect.mapError((e) => new BadInput({ command: "import", detail: `not a zk export: ${e.message}` }))
    )
    const all = yield* plan(root, dump)
    const nodes = ephemeral ? all : all.filter((n) => !n.ephemeral)
    const result = yield* withSession((zk) => write(zk, root, nodes, overwrite))
    const skipped = all.length - nodes.length
    if (json) return yield* Output.json({ path: root, ...result, skippedEphemeral: skipped })
    const note = skipped === 0 ? "" : `, skipped ${skipped} ephemeral (use --ephemeral)`
    yield* Output.line(`imported ${result.created} nodes into ${root}${result.updated === 0 ? "" : `, replaced ${result.updated}`}${note}`)
  })).pipe(Command.withDescription("Recreate an exported subtree from JSON on stdin"))

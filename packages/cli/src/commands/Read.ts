/**
 * The read commands: `ls`, `tree`, `get`, `stat`, `exists`, `du`.
 *
 * @since 0.1.0
 */
import type { Stat } from "@effect-zk/core/Stat"
import * as ZNodePath from "@effect-zk/core/ZNodePath"
import { NoNode } from "@effect-zk/core/ZkError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { Argument, Command, Flag } from "effect/cli"
import * as Bytes from "../Bytes.ts"
import * as Connection from "../Connection.ts"
import { ExitStatus } from "../Failure.ts"
import { path as checkPath, toggle, withSession } from "../Handler.ts"
import * as Output from "../Output.ts"
import * as Paths from "../Paths.ts"
import * as StatText from "../StatText.ts"
import * as Walk from "../Walk.ts"

const pathArgument = Argument.String("path").pipe(Argument.withDescription("a znode path, absolute or relative to the shell's node"))
const optionalPath = pathArgument.pipe(Argument.optional)
const orCurrent = (input: Option.Option<string>) => Option.getOrUndefined(input)

/** The columns of `ls -l`: version, data length, children, mtime, ephemeral owner. */
const longRow = (name: string, stat: Stat): Array<string> => [
  String(stat.version),
  String(stat.dataLength),
  String(stat.numChildren),
  StatText.iso(stat.mtime),
  stat.ephemeralOwner === 0n ? "-" : StatText.hex(stat.ephemeralOwner),
  stat.numChildren > 0 ? Output.style.blue(name) : name
]

const longJson = (node: Walk.Node, name: string) => ({ name, path: node.path, ...StatText.view(node.stat) })

/**
 * `zk ls PATH [-R] [-l]`: children by name; `-R` every descendant by path; `-l` with version,
 * data length, children, mtime and ephemeral owner.
 *
 * @since 0.1.0
 * @category commands
 */
export const ls = Command.make("ls", {
  path: optionalPath,
  recursive: toggle("recursive", "list every descendant, by path", "R"),
  long: toggle("long", "show version, data length, children, mtime and ephemeral owner", "l")
}, ({ path: input, recursive, long }) =>
  Effect.gen(function*() {
    const path = yield* checkPath("ls", orCurrent(input))
    const json = yield* Connection.Json
    yield* withSession((zk) =>
      Effect.gen(function*() {
        if (!recursive && !long) {
          const { children } = yield* zk.children(path)
          const names = [...children].sort()
          return yield* json ? Output.json({ path, children: names }) : Output.lines(names)
        }
        const nodes = (yield* Walk.walk(zk, path, { maxDepth: recursive ? undefined : 1 })).slice(1)
        const label = (node: Walk.Node) => (recursive ? node.path : ZNodePath.basename(node.path))
        if (json) {
          const entries = long ? nodes.map((n) => longJson(n, label(n))) : nodes.map(label)
          return yield* Output.json(recursive ? { path, descendants: entries } : { path, children: entries })
        }
        if (!long) return yield* Output.lines(nodes.map(label))
        const header = ["version", "size", "children", "mtime", "owner", "name"].map(Output.style.dim)
        yield* Output.lines(Output.columns([header, ...nodes.map((n) => longRow(label(n), n.stat))], { right: [0, 1, 2] }))
      })
    )
  })).pipe(Command.withDescription("List a node's children"))

const size = (bytes: number): string => (bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`)

interface TreeJson {
  readonly name: string
  readonly path: string
  readonly dataLength: number
  readonly numChildren: number
  readonly children: Array<TreeJson>
}

/**
 * `zk tree PATH [--depth N]`: the subtree drawn like `tree`, with data sizes.
 *
 * @since 0.1.0
 * @category commands
 */
export const tree = Command.make("tree", {
  path: optionalPath,
  depth: Flag.Int("depth").pipe(Flag.withDescription("levels below PATH to show"), Flag.optional)
}, ({ path: input, depth }) =>
  Effect.gen(function*() {
    const path = yield* checkPath("tree", orCurrent(input))
    const json = yield* Connection.Json
    yield* withSession((zk) =>
      Effect.gen(function*() {
        const nodes = yield* Walk.walk(zk, path, { maxDepth: Option.getOrUndefined(depth) })
        if (json) {
          const byPath = new Map<string, TreeJson>()
          for (const node of nodes) {
            const entry: TreeJson = {
              name: node.path === "/" ? "/" : ZNodePath.basename(node.path),
              path: node.path,
              dataLength: node.stat.dataLength,
              numChildren: node.stat.numChildren,
              children: []
            }
            byPath.set(node.path, entry)
            if (node.path !== path) byPath.get(ZNodePath.parent(node.path))?.children.push(entry)
          }
          return yield* Output.json(byPath.get(path))
        }
        const out: Array<string> = []
        // For each depth, whether the ancestor at that depth was its parent's last child.
        const last: Array<boolean> = []
        const parents = new Map(nodes.map((n) => [n.path, n]))
        let bytes = 0
        for (const node of nodes) {
          bytes += node.stat.dataLength
          const info = Output.style.dim(`(${size(node.stat.dataLength)}${node.stat.ephemeralOwner === 0n ? "" : ", ephemeral"})`)
          if (node.depth === 0) {
            out.push(`${Output.style.bold(node.path)} ${info}`)
            continue
          }
          const siblings = parents.get(ZNodePath.parent(node.path))?.children ?? []
          last[node.depth] = siblings[siblings.length - 1] === ZNodePath.basename(node.path)
          let prefix = ""
          for (let d = 1; d < node.depth; d++) prefix += last[d] === true ? "    " : "│   "
          prefix += last[node.depth] === true ? "└── " : "├── "
          const name = node.stat.numChildren > 0 ? Output.style.blue(ZNodePath.basename(node.path)) : ZNodePath.basename(node.path)
          const hidden = node.stat.numChildren > 0 && node.children.length > 0 && !parents.has(ZNodePath.join(node.path, node.children[0]!))
          out.push(`${prefix}${name} ${info}${hidden ? Output.style.dim(` … ${node.stat.numChildren} children`) : ""}`)
        }
        out.push("", `${nodes.length} nodes, ${size(bytes)}`)
        yield* Output.lines(out)
      })
    )
  })).pipe(Command.withDescription("Draw a subtree with data sizes"))

const formats = ["text", "hex", "base64", "json"] as const

/**
 * `zk get PATH [--stat] [--format text|hex|base64|json]`. Without `--format`: text when the
 * data is valid UTF-8; otherwise the raw bytes when stdout is a file or pipe (so
 * `zk get /x > file` saves them exactly) and hex on a terminal.
 *
 * @since 0.1.0
 * @category commands
 */
export const get = Command.make("get", {
  path: pathArgument,
  stat: toggle("stat", "also print the node's Stat"),
  format: Flag.Literals("format", formats).pipe(Flag.withDescription("how to show the data"), Flag.optional)
}, ({ path: input, stat: withStat, format }) =>
  Effect.gen(function*() {
    const path = yield* checkPath("get", input)
    const json = yield* Connection.Json
    yield* withSession((zk) =>
      Effect.gen(function*() {
        const { data, stat } = yield* zk.get(path)
        const chosen = Option.getOrUndefined(format)
        if (json) {
          const encoding: Bytes.Encoding = chosen === "hex" || chosen === "base64" ? chosen : Bytes.naturalEncoding(data)
          const value = chosen === "json"
            ? JSON.parse(yield* Bytes.show(path, data, "json"))
            : encoding === "utf8" ? new TextDecoder().decode(data) : Bytes.encode(data, encoding)
          return yield* Output.json({
            path,
            ...(chosen === "json" ? { data: value } : { encoding, data: value }),
            ...(withStat ? { stat: StatText.view(stat) } : {})
          })
        }
        if (chosen === undefined && !Bytes.isText(data) && process.stdout.isTTY !== true && !withStat) {
          return yield* Output.write(data)
        }
        const shown = yield* Bytes.show(path, data, chosen ?? (Bytes.isText(data) ? "text" : "hex"))
        if (shown !== "") yield* Output.write(shown.endsWith("\n") ? shown : shown + "\n")
        if (withStat) yield* Output.lines(Output.columns(StatText.rows(stat).map(([k, v]) => [Output.style.dim(k), v])))
      })
    )
  })).pipe(Command.withDescription("Print a node's data"))

/**
 * `zk stat PATH`: every Stat field; times as ISO dates, zxids in hex.
 *
 * @since 0.1.0
 * @category commands
 */
export const stat = Command.make("stat", { path: pathArgument }, ({ path: input }) =>
  Effect.gen(function*() {
    const path = yield* checkPath("stat", input)
    const json = yield* Connection.Json
    yield* withSession((zk) =>
      Effect.gen(function*() {
        const found = yield* zk.exists(path)
        if (Option.isNone(found)) return yield* new NoNode({ op: "stat", path })
        if (json) return yield* Output.json({ path, ...StatText.view(found.value) })
        yield* Output.lines(Output.columns(StatText.rows(found.value).map(([k, v]) => [Output.style.dim(k), v])))
      })
    )
  })).pipe(Command.withDescription("Print every field of a node's Stat"))

/**
 * `zk exists PATH`: exit status 0 when the node exists, 1 when not; prints nothing unless
 * `--json`.
 *
 * @since 0.1.0
 * @category commands
 */
export const exists = Command.make("exists", { path: pathArgument }, ({ path: input }) =>
  Effect.gen(function*() {
    const path = yield* checkPath("exists", input)
    const json = yield* Connection.Json
    const found = yield* withSession((zk) => zk.exists(path))
    if (json) {
      yield* Output.json({ path, exists: Option.isSome(found), ...(Option.isSome(found) ? { stat: StatText.view(found.value) } : {}) })
    }
    if (Option.isNone(found)) return yield* new ExitStatus({ status: 1 })
  })).pipe(Command.withDescription("Exit with status 0 when a node exists, 1 when not"))

/**
 * `zk du PATH`: nodes and bytes of each child's subtree and of the whole.
 *
 * @since 0.1.0
 * @category commands
 */
export const du = Command.make("du", { path: optionalPath }, ({ path: input }) =>
  Effect.gen(function*() {
    const path = yield* checkPath("du", orCurrent(input))
    const json = yield* Connection.Json
    yield* withSession((zk) =>
      Effect.gen(function*() {
        const nodes = yield* Walk.walk(zk, path)
        const totals = new Map<string, { nodes: number; bytes: number }>()
        const root = { nodes: 0, bytes: 0 }
        for (const node of nodes) {
          root.nodes++
          root.bytes += node.stat.dataLength
          if (node.depth === 0) continue
          const top = ZNodePath.join(path, Paths.relative(path, node.path).split("/")[0] ?? "")
          const entry = totals.get(top) ?? { nodes: 0, bytes: 0 }
          entry.nodes++
          entry.bytes += node.stat.dataLength
          totals.set(top, entry)
        }
        const rows = [...totals.entries()].map(([p, t]) => ({ path: p, ...t }))
        if (json) return yield* Output.json({ path, nodes: root.nodes, bytes: root.bytes, children: rows })
        const table = [
          ["bytes", "nodes", "path"].map(Output.style.dim),
          ...rows.map((r) => [String(r.bytes), String(r.nodes), r.path]),
          [String(root.bytes), String(root.nodes), Output.style.bold(`${path} (total)`)]
        ]
        yield* Output.lines(Output.columns(table, { right: [0, 1] }))
      })
    )
  })).pipe(Command.withDescription("Count nodes and bytes per subtree"))

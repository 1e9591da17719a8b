/**
 * `zk watch`: a persistent watch printed one event per line until Ctrl-C.
 *
 * @since 0.1.0
 */
import type { PersistentWatchEvent } from "@effect-zk/core/WatchEvent"
import type { ZooKeeperService } from "@effect-zk/core/ZooKeeper"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { Argument, Command } from "effect/cli"
import * as Bytes from "../Bytes.ts"
import * as Connection from "../Connection.ts"
import { BadInput } from "../Failure.ts"
import { path as checkPath, toggle, withSession } from "../Handler.ts"
import * as Output from "../Output.ts"

type Focus = "all" | "data" | "children"

const dataEvents = new Set(["NodeCreated", "NodeDataChanged", "NodeDeleted", "Resync"])

/** What one event line carries: the event, and with `--data`/`--children` what the node holds now. */
const describe = (zk: ZooKeeperService, event: PersistentWatchEvent, focus: Focus) =>
  Effect.gen(function*() {
    const base = { time: new Date().toISOString(), type: event.type, path: event.path }
    if (focus === "data" && event.type !== "NodeDeleted") {
      const got = yield* zk.get(event.path).pipe(Effect.map(Option.some), Effect.catchTag("NoNode", () => Effect.succeedNone))
      if (Option.isNone(got)) return base
      const encoding = Bytes.naturalEncoding(got.value.data)
      const data = encoding === "utf8" ? new TextDecoder().decode(got.value.data) : Bytes.encode(got.value.data, encoding)
      return { ...base, encoding, data, version: got.value.stat.version }
    }
    if (focus === "children" && event.type !== "NodeDeleted") {
      const got = yield* zk.children(event.path).pipe(Effect.map(Option.some), Effect.catchTag("NoNode", () => Effect.succeedNone))
      return Option.isNone(got) ? base : { ...base, children: [...got.value.children].sort() }
    }
    return base
  })

const colourOf = (type: string) =>
  type === "NodeDeleted" ? Output.style.red : type === "NodeCreated" ? Output.style.green : type === "Resync" ? Output.style.yellow : Output.style.cyan

const personLine = (e: { time: string; type: string; path: string; data?: string; children?: ReadonlyArray<string> }): string => {
  const extra = e.data !== undefined ? `  ${e.data}` : e.children !== undefined ? `  [${e.children.join(", ")}]` : ""
  return `${Output.style.dim(e.time.slice(11, 23))}  ${colourOf(e.type)(e.type.padEnd(19))}  ${e.path}${extra}`
}

/**
 * `zk watch PATH [-r] [--data|--children]`: every event on the node (with `-r`, on its
 * subtree) as it happens. `--data` keeps data events and shows the value after each;
 * `--children` keeps child events and shows the children after each. With `--json`, one JSON
 * object per line.
 *
 * @since 0.1.0
 * @category commands
 */
export const watch = Command.make("watch", {
  path: Argument.String("path").pipe(Argument.withDescription("the node to watch")),
  recursive: toggle("recursive", "watch the whole subtree", "r"),
  data: toggle("data", "only data events, each with the node's value after it"),
  children: toggle("children", "only child events, each with the node's children after it")
}, ({ path: input, recursive, data, children }) =>
  Effect.gen(function*() {
    const path = yield* checkPath("watch", input)
    if (data && children) return yield* new BadInput({ command: "watch", detail: "--data and --children exclude each other" })
    if (recursive && children) {
      return yield* new BadInput({ command: "watch", detail: "a recursive watch reports no child events; use -r without --children" })
    }
    const focus: Focus = data ? "data" : children ? "children" : "all"
    const json = yield* Connection.Json
    yield* withSession((zk) =>
      zk.addWatch(path, { recursive }).pipe(
        Stream.filter((event) =>
          focus === "all" || (focus === "data" ? dataEvents.has(event.type) : event.type !== "NodeDataChanged")
        ),
        Stream.mapEffect((event) => describe(zk, event, focus)),
        Stream.runForEach((e) => (json ? Output.json(e) : Output.line(personLine(e))))
      )
    )
  })).pipe(Command.withDescription("Print every change to a node (or subtree) until Ctrl-C"))

/**
 * Effect configuration read from a znode tree, live: a `ConfigProvider` backed by a TreeCache
 * of the tree, so every `Config` read sees the tree as it is now (changes by other sessions
 * arrive within milliseconds) without a round trip to ZooKeeper.
 *
 * The tree follows the conventions of Effect's directory provider (`ConfigProvider.fromDir`):
 * - a config path maps to a znode path under the root, one segment per level; a segment with
 *   dots is split, so `Config.String("db.host")` and `Config.nested("db")(Config.String("host"))`
 *   both read `<root>/db/host`;
 * - a node's data (UTF-8, trimmed) is its value; empty data counts as no value;
 * - a node with children is a record of them, and an array when every child name is an index
 *   (`0`, `1`, ...: `<root>/hosts/0`, `<root>/hosts/1` is `Config.Array(Schema.String, "hosts")`);
 *   a node may have both a value and children.
 *
 * A missing node is a missing key: Effect's usual `ConfigError`, naming the config path, which
 * is the znode path below the root (`Missing key at ["db.host"]` is `<root>/db/host`).
 *
 * @example
 * ```ts
 * import { Config, Effect, Schema } from "effect"
 * import { ZkConfigProvider } from "@effect-zk/recipes"
 *
 * const program = Effect.gen(function*() {
 *   const host = yield* Config.String("db.host")             // /config/app/db/host
 *   const port = yield* Config.Port("db.port")               // /config/app/db/port
 *   const replicas = yield* Config.Array(Schema.String, "db.replicas")   // /config/app/db/replicas/0, /1, ...
 * }).pipe(Effect.provide(ZkConfigProvider.layer("/config/app")))
 * ```
 *
 * @since 0.1.0
 */
import { type ZkError, ZNodePath, type ZooKeeper } from "@effect-zk/core"
import { BadArguments } from "@effect-zk/core/ZkError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Text from "./internal/text.ts"
import * as TreeCache from "./TreeCache.ts"

/**
 * Options of {@link make} and {@link layer}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ZkConfigOptions {
  /** Keep empty data as an empty string value instead of no value (as Effect's providers). */
  readonly preserveEmptyStrings?: boolean | undefined
}

/**
 * The znode a config path reads: `znodePath("/config/app", ["db.host"]) === "/config/app/db/host"`;
 * `undefined` when a segment cannot be a znode name.
 *
 * @since 0.1.0
 * @category getters
 */
export const znodePath = (root: string, path: ConfigProvider.Path): string | undefined => {
  let out = root
  for (const segment of path) {
    for (const name of String(segment).split(".")) {
      if (name.length === 0 || name === "." || name === ".." || ZNodePath.validationError(`/${name}`) !== undefined) return undefined
      out = ZNodePath.join(out, name)
    }
  }
  return out
}

/** `0`, `1`, ... as Effect's providers read array indices (no sign, no leading zero). */
const isIndex = (name: string): boolean => /^(0|[1-9][0-9]{0,8})$/.test(name)

/** The provider's node for a znode: its value, and its children as a record or an array. */
const nodeAt = (tree: TreeCache.TreeCache, path: string, preserveEmpty: boolean) =>
  Effect.gen(function*() {
    const node = yield* tree.get(path)
    if (Option.isNone(node)) return undefined
    const text = Text.decode(node.value.data).trim()
    const value = text === "" && !preserveEmpty ? undefined : text
    const children = yield* tree.children(path)
    if (children.length === 0) return value === undefined ? undefined : ConfigProvider.makeValue(value)
    if (children.every(isIndex)) {
      return ConfigProvider.makeArray(Math.max(...children.map((k) => Number(k))) + 1, value)
    }
    return ConfigProvider.makeRecord(new Set(children), value)
  })

/**
 * A provider over the live tree at `root`, for the current Scope; it returns once the tree is
 * loaded. Reads fail with `SourceError` (naming the znode) once the cache has died, e.g. after
 * the session expired.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  root: string,
  options?: ZkConfigOptions
): Effect.Effect<ConfigProvider.ConfigProvider, ZkError, ZooKeeper | Scope.Scope> =>
  Effect.gen(function*() {
    const bad = ZNodePath.validationError(root)
    if (bad !== undefined) return yield* new BadArguments({ op: "ZkConfigProvider", path: root, detail: bad })
    const tree = yield* TreeCache.make(root)
    yield* tree.initialized
    const preserveEmpty = options?.preserveEmptyStrings === true
    return ConfigProvider.make((path) => {
      const znode = znodePath(root, path)
      if (znode === undefined) return Effect.succeed(undefined)
      return nodeAt(tree, znode, preserveEmpty).pipe(
        Effect.mapError((cause) => new ConfigProvider.SourceError({ message: `cannot read znode ${znode}: ${cause.message}`, cause }))
      )
    })
  })

/**
 * A layer that makes the live tree at `root` the application's `ConfigProvider` (replacing
 * the default environment provider) for as long as the layer lives.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (root: string, options?: ZkConfigOptions): Layer.Layer<never, ZkError, ZooKeeper> =>
  ConfigProvider.layer(make(root, options))

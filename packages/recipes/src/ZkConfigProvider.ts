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
 * A missing node is a missing key: Effect's usual `ConfigError`, so `Config.withDefault` and
 * `Config.option` work as with any provider. Effect builds that error's message itself from the
 * config path (`Expected string at ["db.host"]`), never asking the provider; pipe the program
 * through {@link withZnodePaths} to have the message name the znode instead
 * (`at ["/config/app/db/host"]`).
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
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
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

/**
 * The issue with every config path in it replaced by the znode it reads: the path Effect
 * reports is built up from nested pointers, so each leaf gets one pointer holding the whole
 * znode path. A path that cannot be a znode (or an issue with no path) stays as it was.
 */
const rewriteIssue = (root: string, issue: SchemaIssue.Issue, path: ReadonlyArray<PropertyKey>): SchemaIssue.Issue => {
  switch (issue._tag) {
    case "Pointer":
      return rewriteIssue(root, issue.issue, [...path, ...issue.path])
    case "Composite": {
      const [first, ...rest] = issue.issues
      return new SchemaIssue.Composite(issue.ast, [rewriteIssue(root, first, path), ...rest.map((i) => rewriteIssue(root, i, path))])
    }
    case "AnyOf":
      return new SchemaIssue.AnyOf(issue.ast, issue.issues.map((i) => rewriteIssue(root, i, path)))
    default: {
      if (path.length === 0) return issue
      const segments = path.filter((key): key is string | number => typeof key !== "symbol")
      const znode = segments.length === path.length ? znodePath(root, segments) : undefined
      return new SchemaIssue.Pointer(znode === undefined ? path : [znode], issue)
    }
  }
}

/**
 * The same error with its message naming znodes rather than config paths: for a missing key
 * under `root`, `Expected string at ["/config/app/db/host"]` instead of `at ["db.host"]`.
 * A `SourceError` is returned as is (it already names its znode).
 *
 * @since 0.1.0
 * @category errors
 */
export const znodeError = (root: string, error: Config.ConfigError): Config.ConfigError =>
  Schema.isSchemaError(error.cause)
    ? new Config.ConfigError(new Schema.SchemaError(rewriteIssue(root, error.cause.issue, [])))
    : error

/**
 * Makes the `ConfigError`s of `self` name the znodes they read under `root` (see
 * {@link znodeError}). Effect builds a config error's message from the config path alone, so
 * this is applied to the program reading the config, not to the provider; defaults
 * (`Config.withDefault`, `Config.option`) are resolved inside the read and are unaffected.
 *
 * @example
 * ```ts
 * import { Config, Effect } from "effect"
 * import { ZkConfigProvider } from "@effect-zk/recipes"
 *
 * const program = Config.String("db.host").pipe(
 *   ZkConfigProvider.withZnodePaths("/config/app"),   // fails naming /config/app/db/host
 *   Effect.provide(ZkConfigProvider.layer("/config/app"))
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const withZnodePaths = (root: string) =>
<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | Config.ConfigError, R> =>
  Effect.mapError(self, (error) => (isConfigError(error) ? znodeError(root, error) : error))

const isConfigError = (u: unknown): u is Config.ConfigError => u instanceof Config.ConfigError

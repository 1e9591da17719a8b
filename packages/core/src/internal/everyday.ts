/**
 * The everyday helpers of the service, layered over its protocol operations: creates with
 * parents or protection, `ensurePath`, recursive delete, text and JSON data, children with
 * their data, and the missing-chroot explanation. Everything here goes through the plain
 * operations (`PlainOps`), never the wire, so it inherits their validation, chroot handling
 * and instrumentation.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { CreateMode } from "../CreateMode.ts"
import * as JsonData from "../JsonData.ts"
import * as Op from "../Op.ts"
import type { Stat } from "../Stat.ts"
import type { JsonDataError } from "../JsonData.ts"
import type * as Schema from "effect/Schema"
import type {
  ChildData,
  CreateOptions,
  Data,
  DeleteOptions,
  EnsurePathOptions,
  VersionOptions,
  ZooKeeperService
} from "../ZooKeeper.ts"
import * as ZNodePath from "../ZNodePath.ts"
import { BadArguments, fromCode, NoNode, type ZkError } from "../ZkError.ts"
import * as Paths from "./paths.ts"
import * as Protected from "./protected.ts"

/**
 * The plain protocol operations the helpers build on: `create`, `create2` and `delete` here
 * are the single requests, without parents, protection or recursion.
 */
export type PlainOps = Pick<
  ZooKeeperService,
  "create" | "create2" | "delete" | "exists" | "get" | "set" | "children" | "multi" | "multiRead"
>

/** Children read per `multiRead` by `childrenData`. */
const CHILDREN_BATCH = 100

const parentModes = { persistent: CreateMode.Persistent, container: CreateMode.Container } as const

/** The mode for `parentMode`/`mode: "persistent" | "container"`, or why it is not one. */
const nodeMode = (op: string, path: string, value: "persistent" | "container" | undefined) => {
  const mode = value === undefined ? CreateMode.Persistent : parentModes[value]
  return mode !== undefined
    ? Effect.succeed(mode)
    : Effect.fail(new BadArguments({ op, path, detail: `mode must be "persistent" or "container", got ${String(value)}` }))
}

/**
 * A NoNode from a create may mean the chroot itself is missing: then say so, after one
 * `exists("/")` (the chroot, seen from inside). Only on that error path, and only with a chroot.
 */
const explainChroot = <A>(
  base: PlainOps,
  chroot: string | undefined,
  op: string,
  path: string,
  effect: Effect.Effect<A, ZkError>
): Effect.Effect<A, ZkError> =>
  chroot === undefined ? effect : effect.pipe(
    Effect.catchTag("NoNode", (error) =>
      base.exists("/").pipe(
        Effect.map(Option.isSome),
        // Unsure whether the chroot exists: the original error stands.
        Effect.orElseSucceed(() => true),
        Effect.flatMap((rootExists) =>
          rootExists ? Effect.fail(error) : Effect.fail(
            new NoNode({
              op,
              path,
              detail: `the chroot ${JSON.stringify(chroot)} does not exist: create it, or connect with createChroot: true`
            })
          )
        )
      ))
  )

/**
 * A create with the helpers' options: the user's path is checked first (a protected create
 * sends another name), then parents and protection wrap the plain create.
 */
const createVia = <A>(
  base: PlainOps,
  chroot: string | undefined,
  op: string,
  path: string,
  options: CreateOptions | undefined,
  plain: (path: string) => Effect.Effect<A, ZkError>,
  found: (path: string) => Effect.Effect<A, ZkError>
): Effect.Effect<A, ZkError> => {
  if (options === undefined) return explainChroot(base, chroot, op, path, plain(path))
  const layout = options.protected === true ? ZNodePath.protectedPrefix : options.protected || undefined
  if (options.parents !== true && layout === undefined) return explainChroot(base, chroot, op, path, plain(path))
  const mode = options.mode ?? CreateMode.Persistent
  const bad = ZNodePath.checkError(op, path, { sequential: true })
  if (bad !== undefined) return Effect.fail(bad)
  return Effect.flatMap(nodeMode(op, path, options.parentMode), (parentMode) => {
    const once = options.parents === true ? (p: string) => Paths.withParents(base, p, parentMode, plain(p)) : plain
    return explainChroot(base, chroot, op, path, layout !== undefined ? Protected.create(base, op, path, mode, layout, once, found) : once(path))
  })
}

const statOf = (base: PlainOps, path: string): Effect.Effect<Stat, ZkError> =>
  Effect.flatMap(base.exists(path), (stat) =>
    Option.isSome(stat)
      ? Effect.succeed(stat.value)
      : Effect.fail(new NoNode({ op: "create2", path, detail: "the protected node vanished before its Stat was read" })))

/** `create` with `parents` and `protected`. */
export const create = (
  base: PlainOps,
  chroot: string | undefined,
  path: string,
  data: Data | undefined,
  options: CreateOptions | undefined
): Effect.Effect<string, ZkError> =>
  createVia(base, chroot, "create", path, options, (p) => base.create(p, data, options), Effect.succeed)

/** `create2` with `parents` and `protected`. */
export const create2 = (
  base: PlainOps,
  chroot: string | undefined,
  path: string,
  data: Data | undefined,
  options: CreateOptions | undefined
): Effect.Effect<{ readonly path: string; readonly stat: Stat }, ZkError> =>
  createVia(
    base,
    chroot,
    "create2",
    path,
    options,
    (p) => base.create2(p, data, options),
    (p) => Effect.map(statOf(base, p), (stat) => ({ path: p, stat }))
  )

/** `delete`, recursive on request. */
export const del = (base: PlainOps, path: string, options: DeleteOptions | undefined): Effect.Effect<void, ZkError> =>
  options?.recursive === true ? Paths.deleteRecursive(base, path, options.version ?? -1) : base.delete(path, options)

/** Makes a path exist with its missing parents, as `mode`; the path itself is checked first. */
export const ensurePath = (
  base: PlainOps,
  chroot: string | undefined,
  path: string,
  options: EnsurePathOptions | undefined
): Effect.Effect<void, ZkError> => {
  const bad = ZNodePath.checkError("ensurePath", path)
  if (bad !== undefined) return Effect.fail(bad)
  return Effect.flatMap(
    nodeMode("ensurePath", path, options?.mode),
    (mode) => explainChroot(base, chroot, "ensurePath", path, Paths.ensurePath(base, path, mode))
  )
}

/** The data as UTF-8 text. */
export const getText = (base: PlainOps, path: string): Effect.Effect<string, ZkError> =>
  Effect.map(base.get(path), ({ data }) => JsonData.text(data))

/** The data decoded as JSON by `schema`. */
export const getAs = <A, I>(base: PlainOps, path: string, schema: Schema.Codec<A, I>): Effect.Effect<A, ZkError | JsonDataError> =>
  Effect.flatMap(base.get(path), ({ data }) => JsonData.decode(schema, data, { op: "getAs", path }))

/** `value` encoded as JSON by `schema`, then set. */
export const setAs = <A, I>(
  base: PlainOps,
  path: string,
  value: A,
  schema: Schema.Codec<A, I>,
  options: VersionOptions | undefined
): Effect.Effect<Stat, ZkError | JsonDataError> =>
  Effect.flatMap(JsonData.encode(schema, value, { op: "setAs", path }), (bytes) => base.set(path, bytes, options))

/** One batch of children's data; a child deleted since the listing is left out. */
const readBatch = (base: PlainOps, path: string, names: ReadonlyArray<string>): Effect.Effect<Array<ChildData>, ZkError> =>
  Effect.flatMap(base.multiRead(names.map((name) => Op.get(ZNodePath.join(path, name)))), (results) => {
    const out: Array<ChildData> = []
    for (let i = 0; i < results.length; i++) {
      const result = results[i]
      const name = names[i]
      if (result === undefined || name === undefined) continue
      if (result._tag === "Get") out.push({ name, path: result.path, data: result.data, stat: result.stat })
      else if (result._tag === "Error" && result.error !== "NoNode") {
        return Effect.fail(fromCode(result.code, "childrenData", result.path))
      }
    }
    return Effect.succeed(out)
  })

/** The children with their data, sorted by name, read in batches of `multiRead`. */
export const childrenData = (base: PlainOps, path: string): Effect.Effect<ReadonlyArray<ChildData>, ZkError> =>
  Effect.flatMap(base.children(path), ({ children }) => {
    const names = [...children].sort()
    const batches: Array<ReadonlyArray<string>> = []
    for (let i = 0; i < names.length; i += CHILDREN_BATCH) batches.push(names.slice(i, i + CHILDREN_BATCH))
    return Effect.map(Effect.forEach(batches, (batch) => readBatch(base, path, batch)), (parts) => parts.flat())
  })

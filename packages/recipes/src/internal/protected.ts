/**
 * Creating and deleting recipe nodes safely. This is the one place that knows how: when core
 * offers protected creates and parent creation itself, only this module changes.
 *
 * - A sequential create that fails with ConnectionLoss may have been applied. Each node's name
 *   starts with a fresh unique prefix, so the client lists the parent and finds its own node
 *   again instead of creating a second, orphaned one (Curator's "protection").
 * - Missing parents are created as containers, which the server removes once they are empty,
 *   so a recipe root does not outlive its last user.
 * - A delete that fails with ConnectionLoss is tried again until it succeeds or the session
 *   ends (an ended session takes its ephemeral nodes with it).
 */
import type { CreateMode, Stat, ZkError, ZooKeeperService } from "@effect-zk/core"
import * as ZNodePath from "@effect-zk/core/ZNodePath"
import { isRetryable } from "@effect-zk/core/ZkError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"

/** A created node: its full path and its Stat (czxid is the fencing token). */
export interface Created {
  readonly path: string
  readonly stat: Stat
}

/** How long to wait between tries while the connection is down; the session bounds the total. */
const reconnectPacing = Schedule.spaced("50 millis")

/** Retries `effect` while its error is transient (ConnectionLoss and friends). */
export const whileConnecting = <A>(effect: Effect.Effect<A, ZkError>): Effect.Effect<A, ZkError> =>
  Effect.retry(effect, { schedule: reconnectPacing, while: isRetryable })

/** A random identifier; the platform's UUID generator when there is one. */
export const uuid = (): string => {
  const c: unknown = Reflect.get(globalThis, "crypto")
  if (typeof c === "object" && c !== null) {
    const gen: unknown = Reflect.get(c, "randomUUID")
    if (typeof gen === "function") {
      const id: unknown = Reflect.apply(gen, c, [])
      if (typeof id === "string") return id
    }
  }
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("")
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${"89ab"[Math.floor(Math.random() * 4)]}${hex(3)}-${hex(12)}`
}

/**
 * Creates `path`'s missing ancestors and `path` itself as containers (empty data). Already
 * existing nodes are fine.
 */
export const ensurePath = (zk: ZooKeeperService, path: string): Effect.Effect<void, ZkError> => {
  if (path === "/") return Effect.void
  return whileConnecting(zk.create(path, undefined, { mode: "Container" })).pipe(
    Effect.asVoid,
    Effect.catchTag("NodeExists", () => Effect.void),
    Effect.catchTag("NoNode", () =>
      Effect.andThen(ensurePath(zk, ZNodePath.parent(path)), ensurePath(zk, path)))
  )
}

/** Runs `create`; when a parent is missing (or a container was just reaped), creates the parents and tries again. */
export const withParents = <A>(
  zk: ZooKeeperService,
  dir: string,
  create: Effect.Effect<A, ZkError>
): Effect.Effect<A, ZkError> =>
  Effect.catchTag(create, "NoNode", (e) =>
    Effect.andThen(ensurePath(zk, dir), create).pipe(
      Effect.retry({ times: 3, while: (err) => err._tag === "NoNode" }),
      Effect.mapError((err) => (err._tag === "NoNode" ? e : err))
    ))

/** A node name in a protected layout: the owner's unique prefix, then the recipe's marker. */
export interface ProtectedName {
  /** Unique to this create; the lookup after ConnectionLoss matches children starting with it. */
  readonly prefix: string
  /** The rest of the name; the server appends the sequence number in sequential modes. */
  readonly marker: string
}

/** Finds our node among `dir`'s children by its unique prefix. */
const findOwn = (zk: ZooKeeperService, dir: string, prefix: string): Effect.Effect<Option.Option<Created>, ZkError> =>
  Effect.gen(function*() {
    const { children } = yield* whileConnecting(zk.children(dir))
    const name = children.find((c) => c.startsWith(prefix))
    if (name === undefined) return Option.none()
    const path = ZNodePath.join(dir, name)
    const stat = yield* whileConnecting(zk.exists(path))
    return Option.map(stat, (s) => ({ path, stat: s }))
  }).pipe(Effect.catchTag("NoNode", () => Effect.succeedNone))

/**
 * Creates `dir/<prefix><marker>` (parents as needed). After a ConnectionLoss the create may or
 * may not have happened: look for our prefix and try again only if the node is not there.
 */
export const createProtected = (
  zk: ZooKeeperService,
  dir: string,
  name: ProtectedName,
  data: Uint8Array,
  mode: CreateMode
): Effect.Effect<Created, ZkError> => {
  const attempt: Effect.Effect<Created, ZkError> = withParents(
    zk,
    dir,
    zk.create2(ZNodePath.join(dir, name.prefix + name.marker), data, { mode })
  ).pipe(
    Effect.catchTag("ConnectionLoss", () =>
      Effect.flatMap(findOwn(zk, dir, name.prefix), Option.match({ onNone: () => attempt, onSome: Effect.succeed })))
  )
  return attempt
}

/**
 * Deletes a node we own, trying again while the connection is down. A node already gone, or a
 * session that ended (its ephemerals went with it), counts as done.
 */
export const removeOwned = (zk: ZooKeeperService, path: string): Effect.Effect<void> =>
  whileConnecting(zk.delete(path)).pipe(Effect.ignore)

/**
 * Creating and deleting recipe nodes safely.
 *
 * - A sequential create that fails with ConnectionLoss may have been applied. Each node's name
 *   starts with a fresh unique prefix, so core's protected create lists the parent and finds
 *   our node again instead of creating a second, orphaned one (Curator's "protection"); the
 *   recipes only choose the prefix's layout, Curator's or kazoo's.
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
import type { OwnName } from "./layout.ts"

/** A created node: its full path and its Stat (czxid is the fencing token). */
export interface Created {
  readonly path: string
  readonly stat: Stat
}

/** How long to wait between tries while the connection is down; the session bounds the total. */
const reconnectPacing = Schedule.spaced("50 millis")

/**
 * Retries `effect` while its error is transient (ConnectionLoss and friends). The retry is set
 * up only after a first transient failure: almost every request succeeds at once, and setting
 * up a schedule costs more than the rest of a lock's client-side work. The first retry goes at
 * once (a request sent while disconnected waits for the next connection by itself).
 */
export const whileConnecting = <A>(effect: Effect.Effect<A, ZkError>): Effect.Effect<A, ZkError> =>
  Effect.catchIf(effect, isRetryable, () => Effect.retry(effect, { schedule: reconnectPacing, while: isRetryable }))

/** `effect`'s value, or `None` when the node it reads does not exist. */
export const ifExists = <A>(effect: Effect.Effect<A, ZkError>): Effect.Effect<Option.Option<A>, ZkError> =>
  effect.pipe(Effect.map(Option.some), Effect.catchTag("NoNode", () => Effect.succeedNone))

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

/**
 * Creates `dir/<prefix><marker>` with core's protected create (parents as containers): after
 * a ConnectionLoss it finds our node by its unique prefix instead of creating a second,
 * orphaned one; only the name's layout is the recipe's.
 */
export const createProtected = (
  zk: ZooKeeperService,
  dir: string,
  name: OwnName,
  data: Uint8Array,
  mode: CreateMode
): Effect.Effect<Created, ZkError> =>
  zk.create2(ZNodePath.join(dir, name.marker), data, { mode, protected: name.protection, parents: true, parentMode: "container" })

/**
 * Deletes a node we own, trying again while the connection is down. A node already gone, or a
 * session that ended (its ephemerals went with it), counts as done.
 */
export const removeOwned = (zk: ZooKeeperService, path: string): Effect.Effect<void> =>
  whileConnecting(zk.delete(path)).pipe(Effect.ignore)

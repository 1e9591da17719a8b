/**
 * Whole-path helpers built on the service's own operations: creating missing parents
 * (Curator's creatingParentsIfNeeded, kazoo's makepath), `ensurePath`, and deleting a subtree
 * while other sessions may write into it. Each step is one ordinary request, so every
 * guarantee of those (validation, chroot, timeouts, tracing) holds here too.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Op from "../Op.ts"
import type { CreateMode } from "../CreateMode.ts"
import type { ZooKeeperService } from "../ZooKeeper.ts"
import * as ZNodePath from "../ZNodePath.ts"
import { BadArguments, type ZkError } from "../ZkError.ts"
import * as Create from "./create.ts"

/** The operations these helpers need. */
export type PathOps = Pick<ZooKeeperService, "create" | "delete" | "children" | "multi">

/**
 * How often a create is tried again after its parent vanished in between (someone deleted it,
 * or the server reaped an empty container): a few quick tries, then the NoNode stands.
 */
const parentRaceSchedule = Schedule.recurs(5)

/**
 * How long a recursive delete keeps going while others add children: each NotEmpty re-lists
 * the subtree. Bounded, so a subtree written faster than it can be deleted ends in NotEmpty.
 */
export const defaultDeleteSchedule: Schedule.Schedule<unknown, unknown> = Schedule.max([
  Schedule.min([Schedule.exponential("5 millis", 2), Schedule.spaced("100 millis")]),
  Schedule.recurs(20)
])

const isTag = (tag: ZkError["_tag"]) => (e: ZkError): boolean => e._tag === tag

/**
 * Makes `path` exist (as `mode`, empty), with its missing ancestors: tries the node first (one
 * round trip when only it is missing), and on NoNode ensures the parent and tries again.
 * NodeExists anywhere is success: someone else made it, concurrently or before.
 */
export const ensurePath = (ops: PathOps, path: string, mode: CreateMode): Effect.Effect<void, ZkError> => {
  const once = (p: string): Effect.Effect<void, ZkError> =>
    p === "/"
      ? Effect.void
      : ops.create(p, undefined, { mode }).pipe(
        Effect.asVoid,
        Effect.catchTag("NodeExists", () => Effect.void),
        Effect.catchTag("NoNode", () => Effect.andThen(once(ZNodePath.parent(p)), createOrExists(ops, p, mode)))
      )
  return Effect.retry(once(path), { schedule: parentRaceSchedule, while: isTag("NoNode") })
}

const createOrExists = (ops: PathOps, path: string, mode: CreateMode): Effect.Effect<void, ZkError> =>
  ops.create(path, undefined, { mode }).pipe(Effect.asVoid, Effect.catchTag("NodeExists", () => Effect.void))

/**
 * Runs a create; when it fails with NoNode (a missing parent), makes the parents as
 * `parentMode` and runs it again.
 */
export const withParents = <A>(
  ops: PathOps,
  path: string,
  parentMode: CreateMode,
  create: Effect.Effect<A, ZkError>
): Effect.Effect<A, ZkError> =>
  Effect.retry(
    create.pipe(Effect.catchTag("NoNode", () => Effect.andThen(ensurePath(ops, ZNodePath.parent(path), parentMode), create))),
    { schedule: parentRaceSchedule, while: isTag("NoNode") }
  )

/** Most ops per `multi` of a recursive delete, and most path bytes: far below the server's 1 MiB. */
const BATCH_OPS = 500
const BATCH_BYTES = 256 * 1024
/** Listings in flight at once while walking a subtree. */
const LIST_CONCURRENCY = 16

/**
 * Every node of the subtree in breadth-first order (so each node comes after its parent), or
 * `undefined` when the root itself is missing. A node deleted while walking is left out.
 */
const walk = (ops: PathOps, root: string): Effect.Effect<ReadonlyArray<string> | undefined, ZkError> =>
  Effect.gen(function*() {
    const listing = (p: string) =>
      ops.children(p).pipe(
        Effect.map(({ children }) => children.map((c) => ZNodePath.join(p, c))),
        Effect.catchTag("NoNode", () => Effect.succeed(undefined))
      )
    const top = yield* listing(root)
    if (top === undefined) return undefined
    const all: Array<string> = [root]
    let level = top
    while (level.length > 0) {
      all.push(...level)
      const next = yield* Effect.forEach(level, listing, { concurrency: LIST_CONCURRENCY })
      level = next.flatMap((children) => children ?? [])
    }
    return all
  })


/**
 * Deletes a batch in one `multi`. A transaction is all or nothing, so when another session
 * deleted one of them (NoNode) or added a child (NotEmpty) meanwhile, the batch is deleted
 * one by one instead: gone nodes are skipped, and NotEmpty stops it (the caller re-lists).
 */
const deleteBatch = (ops: PathOps, paths: ReadonlyArray<string>): Effect.Effect<void, ZkError> =>
  ops.multi(paths.map((p) => Op.delete(p))).pipe(
    Effect.asVoid,
    Effect.catchIf(
      (e) => e._tag === "NoNode" || e._tag === "NotEmpty",
      () => Effect.forEach(paths, (p) => ops.delete(p).pipe(Effect.catchTag("NoNode", () => Effect.void)), { discard: true })
    )
  )

/**
 * Deletes `path` and everything under it: walks the subtree, deletes it deepest first in
 * `multi` batches, then the root (at `version`). A child added meanwhile makes a delete fail
 * with NotEmpty, which starts over from a fresh listing, per `schedule`. A missing root fails
 * with NoNode like `delete`, unless it vanished after the first listing (someone else finished
 * the job).
 */
export const deleteRecursive = (
  ops: PathOps,
  path: string,
  version: number,
  schedule: Schedule.Schedule<unknown, unknown> = defaultDeleteSchedule
): Effect.Effect<void, ZkError> => {
  const bad = path === "/"
    ? new BadArguments({ op: "delete", path, detail: "recursive delete of the root is refused" })
    : ZNodePath.checkError("delete", path) ?? Create.versionError("delete", path, version)
  if (bad !== undefined) return Effect.fail(bad)
  return Effect.suspend(() => {
    let started = false
    const attempt = Effect.gen(function*() {
      const nodes = yield* walk(ops, path)
      if (nodes === undefined) {
        if (started) return
        return yield* ops.delete(path, { version })
      }
      started = true
      const descendants = nodes.slice(1).reverse()
      for (const batch of Op.batches(descendants, { maxItems: BATCH_OPS, maxBytes: BATCH_BYTES, size: (p) => p.length })) yield* deleteBatch(ops, batch)
      yield* ops.delete(path, { version }).pipe(Effect.catchTag("NoNode", () => Effect.void))
    })
    return Effect.retry(attempt, { schedule, while: isTag("NotEmpty") })
  })
}

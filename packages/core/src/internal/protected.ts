/**
 * Protected creates (Curator's `withProtection`): the node's name carries a fresh uuid, so after
 * a ConnectionLoss, which leaves open whether the create was applied, the client lists the
 * parent and finds its node by that uuid instead of creating a second one. Only when it is not
 * there is the create sent again.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as CreateModes from "../CreateMode.ts"
import type { CreateMode } from "../CreateMode.ts"
import type { ZooKeeperService } from "../ZooKeeper.ts"
import * as ZNodePath from "../ZNodePath.ts"
import { BadArguments, type ZkError } from "../ZkError.ts"

/**
 * Failures after which the create may or may not have been applied: the request was sent and
 * no answer came back.
 */
const isAmbiguous = (e: ZkError): boolean =>
  e._tag === "ConnectionLoss" || e._tag === "OperationTimeout" || e._tag === "RequestTimeout"

/**
 * How often a protected create is tried again after an ambiguous failure (the first time at
 * once, see `create`). Each try waits for the session's next connection by itself, so a short
 * pause is enough between tries.
 */
const retrySchedule = Schedule.max([Schedule.spaced("50 millis"), Schedule.recurs(10)])

/**
 * A random (version 4) uuid, from Effect's `Random` so tests can seed it; only uniqueness
 * among one parent's children matters here. The bytes come from the service directly: one
 * effect per byte was a measurable part of a lock's client-side cost.
 */
export const uuid: Effect.Effect<string> = Effect.gen(function*() {
  const random = yield* Random.Random
  const bytes: Array<number> = []
  for (let i = 0; i < 16; i++) bytes.push(Math.floor(random.nextDoubleUnsafe() * 256))
  // Version 4 in the high nibble of byte 6, variant 10 in the top bits of byte 8 (RFC 9562).
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80
  const h = bytes.map((b) => b.toString(16).padStart(2, "0")).join("")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
})

/** Why `protected` cannot be used with this mode, or `undefined`. */
export const modeError = (mode: CreateMode): string | undefined =>
  CreateModes.isSequential(mode) || CreateModes.isEphemeral(mode)
    ? undefined
    : `protected needs a sequential or ephemeral mode, not ${mode} (a plain node's name is already its identity)`

/** Why a layout's prefix cannot find its node again (it lost the uuid, or adds a level), or `undefined`. */
const prefixError = (prefix: string, id: string): string | undefined => {
  if (prefix.includes("/")) return `the protected layout's prefix must not contain "/", got ${JSON.stringify(prefix)}`
  return prefix.replaceAll("-", "").includes(id.replaceAll("-", ""))
    ? undefined
    : `the protected layout's prefix must keep the uuid ${id}, got ${JSON.stringify(prefix)}`
}

/**
 * Runs `create` at the protected form of `path` (`<parent>/<layout(uuid)><name>`, Curator's
 * `_c_<uuid>-` by default). After an ambiguous failure every further try first lists the
 * parent: a child with the uuid's prefix is the node, and `found` turns its path into the
 * result; otherwise the create is sent again.
 */
export const create = <A>(
  ops: Pick<ZooKeeperService, "children">,
  op: string,
  path: string,
  mode: CreateMode,
  layout: ZNodePath.ProtectedLayout,
  create: (protectedPath: string) => Effect.Effect<A, ZkError>,
  found: (path: string) => Effect.Effect<A, ZkError>
): Effect.Effect<A, ZkError> => {
  const bad = modeError(mode)
  if (bad !== undefined) return Effect.fail(new BadArguments({ op, path, detail: bad }))
  return Effect.gen(function*() {
    const parent = ZNodePath.parent(path)
    const id = yield* uuid
    const prefix = layout(id)
    // The default layout keeps the uuid by construction; only a caller's layout is checked.
    const badPrefix = layout === ZNodePath.protectedPrefix ? undefined : prefixError(prefix, id)
    if (badPrefix !== undefined) return yield* new BadArguments({ op, path, detail: badPrefix })
    const target = ZNodePath.join(parent, prefix + ZNodePath.basename(path))
    const find = ops.children(parent).pipe(
      Effect.map(({ children }) => children.find((name) => name.startsWith(prefix)))
    )
    let unsure = false
    const attempt = Effect.suspend(() => unsure ? find : Effect.succeed(undefined)).pipe(
      Effect.flatMap((name) =>
        name !== undefined
          ? found(ZNodePath.join(parent, name))
          : create(target).pipe(Effect.tapError((e) => Effect.sync(() => unsure ||= isAmbiguous(e))))
      )
    )
    // The retry is set up only after a first ambiguous failure: on the usual path, where the
    // create simply succeeds, setting up a schedule costs more than the rest of the create.
    return yield* Effect.catchIf(attempt, isAmbiguous, () => Effect.retry(attempt, { schedule: retrySchedule, while: isAmbiguous }))
  })
}

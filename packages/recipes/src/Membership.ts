/**
 * Group membership (Curator's GroupMember, kazoo's Party): each member is an ephemeral node
 * `<path>/<id>` holding the member's data, present while the member's scope is open.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Membership } from "@effect-zk/recipes"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   yield* Membership.join("/groups/workers", { id: "w1", data: "10.0.0.1:8080" })
 *   yield* Stream.runForEach(Membership.members("/groups/workers"), (ms) => Effect.log(ms.map((m) => m.id)))
 * }))
 * ```
 *
 * @since 0.1.0
 */
import type { Data, ZkError, ZooKeeperService } from "@effect-zk/core"
import { ZooKeeper } from "@effect-zk/core"
import { get } from "@effect-zk/core/Op"
import * as ZNodePath from "@effect-zk/core/ZNodePath"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { validate } from "./internal/contend.ts"
import { whileConnecting, withParents } from "./internal/protected.ts"
import { encode } from "./internal/text.ts"

/**
 * Options of {@link join}.
 *
 * @since 0.1.0
 * @category models
 */
export interface JoinOptions {
  /** The member's id: its node's name, so unique within the group. */
  readonly id: string
  /** The member's data (e.g. its address). Default: empty. */
  readonly data?: Data | undefined
}

/**
 * A member as listed by {@link members}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Member {
  readonly id: string
  readonly data: Uint8Array
}

const bytes = (data: Data | undefined): Uint8Array =>
  data === undefined ? new Uint8Array(0) : typeof data === "string" ? encode(data) : data

/** Whether `path` exists as an ephemeral of this session. */
const ownedByUs = (zk: ZooKeeperService, path: string): Effect.Effect<boolean, ZkError> =>
  Effect.gen(function*() {
    const stat = yield* whileConnecting(zk.exists(path))
    const { sessionId } = yield* zk.clientId
    return Option.isSome(stat) && stat.value.ephemeralOwner === sessionId
  })

/**
 * Creates our member node. A node of the same name owned by another session (for example our
 * own previous session, not yet expired on the server) is waited out, never deleted: it may be
 * a live member with the same id.
 */
const register = (zk: ZooKeeperService, group: string, path: string, data: Uint8Array): Effect.Effect<void, ZkError> =>
  Effect.gen(function*() {
    while (true) {
      const created = yield* withParents(zk, group, zk.create(path, data, { mode: "Ephemeral" })).pipe(
        Effect.as(true),
        Effect.catchTag("ConnectionLoss", () => Effect.succeed(false)),
        Effect.catchTag("NodeExists", () => Effect.succeed(false))
      )
      if (created || (yield* ownedByUs(zk, path))) return
      const { stat, watch } = yield* whileConnecting(zk.existsW(path))
      if (Option.isSome(stat)) yield* Stream.runHead(watch)
    }
  })

/** Re-registers whenever our node disappears while the session lives (someone deleted it). */
const keepRegistered = (zk: ZooKeeperService, group: string, path: string, data: Uint8Array): Effect.Effect<never, ZkError> =>
  Effect.forever(Effect.gen(function*() {
    const { stat, watch } = yield* whileConnecting(zk.existsW(path))
    if (Option.isNone(stat)) return yield* register(zk, group, path, data)
    yield* Stream.runHead(watch)
  }))

/**
 * Joins the group at `path` until the current scope closes, then leaves (our node is
 * deleted). If someone else deletes our node meanwhile, it is created again.
 *
 * @since 0.1.0
 * @category constructors
 */
export const join = (path: string, options: JoinOptions): Effect.Effect<void, ZkError, ZooKeeper | Scope.Scope> =>
  Effect.gen(function*() {
    yield* validate("join", path)
    const node = ZNodePath.join(path, options.id)
    yield* validate("join", node)
    const zk = yield* ZooKeeper
    const data = bytes(options.data)
    yield* Effect.acquireRelease(register(zk, path, node, data), () =>
      Effect.ignore(Effect.flatMap(ownedByUs(zk, node), (ours) => (ours ? whileConnecting(zk.delete(node)) : Effect.void))))
    yield* Effect.forkScoped(keepRegistered(zk, path, node, data))
  })

/** The members named by `children`, read at once; nodes gone meanwhile are left out. */
const readMembers = (zk: ZooKeeperService, path: string, children: ReadonlyArray<string>) => {
  const names = [...children].sort()
  if (names.length === 0) return Effect.succeed<ReadonlyArray<Member>>([])
  return Effect.map(whileConnecting(zk.multiRead(names.map((n) => get(ZNodePath.join(path, n))))), (results) => {
    const out: Array<Member> = []
    results.forEach((r, i) => {
      if (r._tag === "Get") out.push({ id: names[i]!, data: r.data })
    })
    return out
  })
}

/**
 * The group's members now (by id), then after every change. Empty while the group's node is
 * missing.
 *
 * @since 0.1.0
 * @category getters
 */
export const members = (path: string): Stream.Stream<ReadonlyArray<Member>, ZkError, ZooKeeper> =>
  Stream.unwrap(Effect.gen(function*() {
    yield* validate("members", path)
    const zk = yield* ZooKeeper
    return zk.watchChildren(path).pipe(Stream.mapEffect((children) => readMembers(zk, path, children)))
  }))

/**
 * Access control lists: permissions, ids, gozk-style constructors and the ZooDefs constants
 * (docs/protocol.md#auth).
 *
 * @example
 * import { Acl, Perms } from "@effect-zk/core"
 * yield* zk.create("/private", "x", { acl: Acl.digest("alice", "secret", Perms.All) })
 * yield* zk.create("/public", "x", { acl: Acl.world(Perms.Read | Perms.Write) })
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Base64 from "./internal/base64.ts"
import { sha1 } from "./internal/sha1.ts"
import * as Utf8 from "./internal/utf8.ts"
import { InvalidACL } from "./ZkError.ts"

/**
 * Permission bits (`ZooDefs.Perms`); combine them with `|`: `Perms.Read | Perms.Write`.
 *
 * @since 0.1.0
 * @category constants
 */
export const Perms = {
  Read: 1,
  Write: 2,
  Create: 4,
  Delete: 8,
  Admin: 16,
  All: 31
} as const

/**
 * An identity: a scheme (`world`, `auth`, `digest`, `ip`, `sasl`, `x509`, ...) and an id whose
 * format depends on the scheme.
 *
 * @since 0.1.0
 * @category models
 */
export interface Id {
  readonly scheme: string
  readonly id: string
}

/**
 * One ACL entry: the permission bits granted to an identity.
 *
 * @since 0.1.0
 * @category models
 */
export interface Acl {
  readonly perms: number
  readonly id: Id
}

/**
 * `world:anyone`, everybody (`ZooDefs.Ids.ANYONE_ID_UNSAFE`).
 *
 * @since 0.1.0
 * @category constants
 */
export const anyoneIdUnsafe: Id = { scheme: "world", id: "anyone" }

/**
 * `auth:` with an empty id, the ACL-only pseudo-id the server replaces with the caller's
 * authenticated ids (`ZooDefs.Ids.AUTH_IDS`).
 *
 * @since 0.1.0
 * @category constants
 */
export const authIds: Id = { scheme: "auth", id: "" }

/**
 * Full access for everybody (`OPEN_ACL_UNSAFE`: `[{31, world:anyone}]`).
 *
 * @since 0.1.0
 * @category constants
 */
export const openUnsafe: ReadonlyArray<Acl> = [{ perms: Perms.All, id: anyoneIdUnsafe }]

/**
 * Full access for the creator's authenticated ids (`CREATOR_ALL_ACL`: `[{31, auth:""}]`); the
 * create fails with `InvalidACL` when the session has not authenticated.
 *
 * @since 0.1.0
 * @category constants
 */
export const creatorAll: ReadonlyArray<Acl> = [{ perms: Perms.All, id: authIds }]

/**
 * Read access for everybody (`READ_ACL_UNSAFE`: `[{1, world:anyone}]`).
 *
 * @since 0.1.0
 * @category constants
 */
export const readUnsafe: ReadonlyArray<Acl> = [{ perms: Perms.Read, id: anyoneIdUnsafe }]

/**
 * `perms` for everybody, as a one-entry list (gozk's `WorldACL`).
 *
 * @example
 * Acl.world(Perms.All) // [{ perms: 31, id: { scheme: "world", id: "anyone" } }]
 *
 * @since 0.1.0
 * @category constructors
 */
export const world = (perms: number): ReadonlyArray<Acl> => [{ perms, id: anyoneIdUnsafe }]

/**
 * `perms` for the caller's authenticated ids, as a one-entry list (gozk's `AuthACL`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const auth = (perms: number): ReadonlyArray<Acl> => [{ perms, id: authIds }]

/**
 * The digest id for a user and password: `user:base64(sha1("user:password"))`, what the server
 * records after `addAuth("digest", "user:password")`.
 *
 * @example
 * Acl.digestId("alice", "secret") // "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="
 *
 * @since 0.1.0
 * @category constructors
 */
export const digestId = (user: string, password: string): string =>
  `${user}:${Base64.encode(sha1(Utf8.encode(`${user}:${password}`)))}`

/**
 * `perms` for one digest user, as a one-entry list (gozk's `DigestACL`). Authenticate with
 * `zk.addAuth("digest", "user:password")`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const digest = (user: string, password: string, perms: number): ReadonlyArray<Acl> => [
  { perms, id: { scheme: "digest", id: digestId(user, password) } }
]

/**
 * Why an ACL list would be rejected with `InvalidACL`, or `undefined` when it passes the
 * client-side checks: the list must not be empty, every entry's perms must be an integer from 0
 * to 31, and every scheme non-empty. (The server checks the ids themselves.)
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (acl: ReadonlyArray<Acl>): string | undefined => {
  if (acl.length === 0) return "acl list must not be empty"
  for (let i = 0; i < acl.length; i++) {
    const entry = acl[i]
    if (entry === undefined) continue
    if (!Number.isInteger(entry.perms) || entry.perms < 0 || entry.perms > Perms.All) {
      return `acl entry ${i}: perms ${entry.perms} outside 0..31`
    }
    if (entry.id.scheme.length === 0) return `acl entry ${i}: empty scheme`
  }
  return undefined
}

/**
 * Validates an ACL list for an operation: succeeds with the list, or fails with `InvalidACL`
 * carrying `op`, `path` and the reason as `detail`.
 *
 * @since 0.1.0
 * @category validation
 */
export const check = (
  op: string,
  path: string | undefined,
  acl: ReadonlyArray<Acl>
): Effect.Effect<ReadonlyArray<Acl>, InvalidACL> => {
  const error = checkError(op, path, acl)
  return error === undefined ? Effect.succeed(acl) : Effect.fail(error)
}

/**
 * The error {@link check} fails with, or `undefined` for an acceptable list: for code that must
 * not build an Effect per call (the client checks every ACL this way before sending).
 *
 * @since 0.1.0
 * @category validation
 */
export const checkError = (op: string, path: string | undefined, acl: ReadonlyArray<Acl>): InvalidACL | undefined => {
  const detail = validate(acl)
  return detail === undefined ? undefined : new InvalidACL({ op, detail, ...(path === undefined ? {} : { path }) })
}

/**
 * Znode paths: the client-side validation of Java's `PathUtils.validatePath`, chroot mapping,
 * and small helpers for names (docs/protocol.md#paths, #chroot).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { BadArguments } from "./ZkError.ts"

/**
 * Options for {@link validationError} and {@link check}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ValidateOptions {
  /**
   * The path is for a sequential create: the server appends a 10-digit suffix, so the check runs
   * on `path + "1"` and a path ending in `/` (such as `/queue/`) is valid.
   */
  readonly sequential?: boolean | undefined
}

const hex = (c: number): string => `U+${c.toString(16).toUpperCase().padStart(4, "0")}`

const isForbidden = (c: number): boolean =>
  c <= 0x001f || (c >= 0x007f && c <= 0x009f) || (c >= 0xd800 && c <= 0xf8ff) || c >= 0xfff0

/**
 * Why a path is not a valid znode path, or `undefined` when it is. Rules (Java's
 * `PathUtils.validatePath`): non-empty, starts with `/`, `/` alone is valid, no trailing `/`,
 * no empty segment, no `.` or `..` segment, and no code unit U+0000–U+001F, U+007F–U+009F,
 * U+D800–U+F8FF or U+FFF0–U+FFFF. With `sequential`, the rules apply to `path + "1"`.
 *
 * @example
 * validationError("/a//b") // 'empty segment at index 3'
 * validationError("/queue/", { sequential: true }) // undefined
 *
 * @since 0.1.0
 * @category validation
 */
export const validationError = (path: string, options?: ValidateOptions): string | undefined => {
  const p = options?.sequential === true ? path + "1" : path
  if (path.length === 0) return "path must not be empty"
  if (p.charCodeAt(0) !== 0x2f) return `path must start with "/"`
  if (p.length === 1) return undefined
  if (p.charCodeAt(p.length - 1) === 0x2f) return `path must not end with "/"`
  // Walk the segments once; `start` is the index after the "/" that opens the current segment.
  let start = 1
  for (let i = 1; i <= p.length; i++) {
    const c = i < p.length ? p.charCodeAt(i) : 0x2f
    if (c === 0x2f) {
      const len = i - start
      if (len === 0) return `empty segment at index ${i}`
      if (len <= 2 && (p.slice(start, i) === "." || p.slice(start, i) === "..")) {
        return `relative segment "${p.slice(start, i)}" at index ${start}`
      }
      start = i + 1
    } else if (isForbidden(c)) {
      return `invalid character ${hex(c)} at index ${i}`
    }
  }
  return undefined
}

/**
 * Whether a path is a valid znode path (see {@link validationError}).
 *
 * @since 0.1.0
 * @category validation
 */
export const isValid = (path: string, options?: ValidateOptions): boolean =>
  validationError(path, options) === undefined

/**
 * Validates a path for an operation: succeeds with the path, or fails with `BadArguments`
 * carrying `op`, `path` and the reason as `detail`.
 *
 * @example
 * yield* ZNodePath.check("create", "/a/") // fails: zookeeper: create "/a/": bad arguments: path must not end with "/"
 *
 * @since 0.1.0
 * @category validation
 */
export const check = (op: string, path: string, options?: ValidateOptions): Effect.Effect<string, BadArguments> => {
  const error = checkError(op, path, options)
  return error === undefined ? Effect.succeed(path) : Effect.fail(error)
}

/**
 * The error {@link check} fails with, or `undefined` for a valid path: for code that must not
 * build an Effect per call (the client checks every path this way before sending).
 *
 * @example
 * ZNodePath.checkError("get", "a")?.detail // 'path must start with "/"'
 *
 * @since 0.1.0
 * @category validation
 */
export const checkError = (op: string, path: string, options?: ValidateOptions): BadArguments | undefined => {
  const detail = validationError(path, options)
  return detail === undefined ? undefined : new BadArguments({ op, path, detail })
}

const hasChroot = (chroot: string | undefined): chroot is string =>
  chroot !== undefined && chroot !== "" && chroot !== "/"

/**
 * Maps a client path to the server path under a chroot: `/` maps to the chroot itself, any other
 * path is appended. A chroot of `undefined`, `""` or `/` means none.
 *
 * @example
 * prependChroot("/app", "/") // "/app"
 * prependChroot("/app", "/x") // "/app/x"
 *
 * @since 0.1.0
 * @category combinators
 */
export const prependChroot = (chroot: string | undefined, path: string): string => {
  if (!hasChroot(chroot)) return path
  return path === "/" ? chroot : chroot + path
}

/**
 * Maps a server path back to the client's view: the chroot itself becomes `/`, a path under
 * it (`chroot + "/..."`) loses the prefix, and any other path is returned unchanged (never a
 * bare prefix match: `/app2` is not under `/app`).
 *
 * @example
 * stripChroot("/app", "/app/x") // "/x"
 * stripChroot("/app", "/app2") // "/app2"
 *
 * @since 0.1.0
 * @category combinators
 */
export const stripChroot = (chroot: string | undefined, serverPath: string): string => {
  if (!hasChroot(chroot)) return serverPath
  if (serverPath === chroot) return "/"
  if (serverPath.length > chroot.length && serverPath.startsWith(chroot) && serverPath.charCodeAt(chroot.length) === 0x2f) {
    return serverPath.slice(chroot.length)
  }
  return serverPath
}

/**
 * The parent of a path: `parent("/a/b") === "/a"`, `parent("/a") === "/"`, and `/` is its own
 * parent.
 *
 * @since 0.1.0
 * @category combinators
 */
export const parent = (path: string): string => {
  const i = path.lastIndexOf("/")
  return i <= 0 ? "/" : path.slice(0, i)
}

/**
 * The last segment of a path: `basename("/a/b") === "b"`, `basename("/") === ""`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const basename = (path: string): string => path.slice(path.lastIndexOf("/") + 1)

/**
 * Joins a parent path and a child name (or relative path) with exactly one `/`.
 * `join("/", "a") === "/a"`, `join("/a", "b/c") === "/a/b/c"`; `join("/queue", "")` gives
 * `/queue/`, the prefix for a sequential create of unnamed children.
 *
 * @since 0.1.0
 * @category combinators
 */
export const join = (parentPath: string, child: string): string => {
  let end = parentPath.length
  while (end > 0 && parentPath.charCodeAt(end - 1) === 0x2f) end--
  let start = 0
  while (start < child.length && child.charCodeAt(start) === 0x2f) start++
  return `${parentPath.slice(0, end)}/${child.slice(start)}`
}

/**
 * The sequence number of a sequential node's name or path: the server's suffix is
 * `String.format("%010d", parent.cversion)`, i.e. the last 10 characters, which after the i32
 * counter overflows are negative (`-000000005`). Returns `undefined` when the name has no such
 * suffix.
 *
 * Values from -2147483648 to -1000000000 print as 11 characters (`-2147483648`) and cannot be
 * told apart from a `-` separator followed by 10 digits (`lock-1000000000`); such names read as
 * the positive 10-digit number, which is what recipes with a `-` separator need.
 *
 * @example
 * sequenceNumber("lock-0000000042") // 42
 * sequenceNumber("/queue/-000000005") // -5
 *
 * @since 0.1.0
 * @category combinators
 */
export const sequenceNumber = (name: string): number | undefined => {
  if (name.length < 10) return undefined
  const suffix = name.slice(-10)
  if (!/^(?:\d{10}|-\d{9})$/.test(suffix)) return undefined
  const n = Number(suffix)
  // "-000000000" never comes from the server, but must not read as -0.
  return n === 0 ? 0 : n
}

/**
 * The prefix of a protected node's name, as Curator's `withProtection` lays it out: `_c_`, a
 * uuid, and `-` before the name the caller asked for. For `/a/lock-` the node is
 * `/a/_c_<uuid>-lock-0000000007`, so Curator, kazoo (`_c_` too) and this client recognise
 * each other's protected nodes.
 *
 * @example
 * protectedPrefix("5f6c…") // "_c_5f6c…-"
 *
 * @since 0.1.0
 * @category combinators
 */
export const protectedPrefix = (uuid: string): string => `_c_${uuid}-`

/**
 * How a protected node's name carries its uuid: given the fresh uuid, the prefix the name
 * starts with (the name the caller asked for follows it). {@link protectedPrefix}, Curator's
 * layout, is the default; a recipe that queues with another client's nodes passes that
 * client's layout, e.g. kazoo's lock nodes, which start with the uuid's 32 hex digits. The
 * prefix must keep the whole uuid (dashes may go), since it alone finds the node among its
 * siblings after a ConnectionLoss; one that does not is refused with `BadArguments`.
 *
 * @example
 * const kazoo: ZNodePath.ProtectedLayout = (uuid) => uuid.replaceAll("-", "")
 * const me = yield* zk.create("/locks/__lock__", "", { mode: CreateMode.EphemeralSequential, protected: kazoo })
 *
 * @since 0.1.0
 * @category models
 */
export type ProtectedLayout = (uuid: string) => string

const protectedName = /^_c_([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})-/

/**
 * The uuid of a protected node's name (or path), or `undefined` when it is not protected.
 * Recipes use it to tell their own node among the children after a ConnectionLoss.
 *
 * @example
 * protectedId("_c_0b5e7e1a-6a4e-4b8e-9a1f-3c2d1e0f9a8b-lock-0000000007") // "0b5e7e1a-6a4e-4b8e-9a1f-3c2d1e0f9a8b"
 * protectedId("lock-0000000007") // undefined
 *
 * @since 0.1.0
 * @category combinators
 */
export const protectedId = (nameOrPath: string): string | undefined => protectedName.exec(basename(nameOrPath))?.[1]

/**
 * A node's name without the protection prefix: `lock-0000000007` for
 * `_c_<uuid>-lock-0000000007`; other names are returned unchanged. Sorting recipes' children
 * by sequence works on either form.
 *
 * @since 0.1.0
 * @category combinators
 */
export const unprotectedName = (nameOrPath: string): string => {
  const name = basename(nameOrPath)
  const match = protectedName.exec(name)
  return match === null ? name : name.slice(match[0].length)
}

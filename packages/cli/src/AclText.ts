/**
 * ACLs in zkCli's notation, `scheme:id:perms` with perms from `crwda`
 * (`world:anyone:cdrwa`, `digest:alice:XyZ=:r`, `ip:10.0.0.0/8:rw`). The id may contain
 * colons (a digest id always does, an IPv6 address too), so the scheme ends at the first
 * colon and the perms start after the last one.
 *
 * @since 0.1.0
 */
import type { Acl } from "@effect-zk/core/Acl"
import { Perms } from "@effect-zk/core/Acl"

const letters: ReadonlyArray<readonly [string, number]> = [
  ["c", Perms.Create],
  ["d", Perms.Delete],
  ["r", Perms.Read],
  ["w", Perms.Write],
  ["a", Perms.Admin]
]

/**
 * Permission bits as zkCli prints them, in its order `cdrwa`.
 *
 * @example
 * ```ts
 * formatPerms(31) // "cdrwa"
 * formatPerms(1) // "r"
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const formatPerms = (perms: number): string => letters.filter(([, bit]) => (perms & bit) !== 0).map(([l]) => l).join("")

/**
 * One entry in zkCli's notation.
 *
 * @since 0.1.0
 * @category encoding
 */
export const format = (acl: Acl): string => `${acl.id.scheme}:${acl.id.id}:${formatPerms(acl.perms)}`

/**
 * Parses one `scheme:id:perms` entry; a string explains what is wrong.
 *
 * @example
 * ```ts
 * parse("digest:alice:XyZ=:rw") // { perms: 3, id: { scheme: "digest", id: "alice:XyZ=" } }
 * parse("world:anyone") // "expected scheme:id:perms, e.g. world:anyone:cdrwa"
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const parse = (text: string): Acl | string => {
  const first = text.indexOf(":")
  const last = text.lastIndexOf(":")
  if (first <= 0 || last === first) return "expected scheme:id:perms, e.g. world:anyone:cdrwa"
  const scheme = text.slice(0, first)
  const id = text.slice(first + 1, last)
  let perms = 0
  for (const ch of text.slice(last + 1)) {
    const bit = letters.find(([l]) => l === ch)?.[1]
    if (bit === undefined) return `unknown permission ${JSON.stringify(ch)}: use letters from crwda`
    perms |= bit
  }
  return { perms, id: { scheme, id } }
}

/**
 * Parses a list: several arguments, each of which may hold comma-separated entries (zkCli
 * writes `world:anyone:r,digest:alice:X=:cdrwa`). A string explains the first bad entry.
 *
 * @since 0.1.0
 * @category decoding
 */
export const parseList = (texts: ReadonlyArray<string>): ReadonlyArray<Acl> | string => {
  const out: Array<Acl> = []
  for (const entry of texts.flatMap((t) => t.split(","))) {
    const acl = parse(entry)
    if (typeof acl === "string") return `${JSON.stringify(entry)}: ${acl}`
    out.push(acl)
  }
  return out.length === 0 ? "an ACL needs at least one entry" : out
}

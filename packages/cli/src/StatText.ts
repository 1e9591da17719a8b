/**
 * A Stat for people and scripts: times as ISO dates, zxids and session ids in hex (as the
 * server's logs and four-letter words print them), counts as numbers.
 *
 * @since 0.1.0
 */
import type { Stat } from "@effect-zk/core/Stat"

/**
 * The printed form of every Stat field, in wire order.
 *
 * @since 0.1.0
 * @category models
 */
export interface StatView {
  readonly czxid: string
  readonly mzxid: string
  readonly ctime: string
  readonly mtime: string
  readonly version: number
  readonly cversion: number
  readonly aversion: number
  readonly ephemeralOwner: string
  readonly dataLength: number
  readonly numChildren: number
  readonly pzxid: string
}

/**
 * A 64-bit id in hex, `0x` first.
 *
 * @since 0.1.0
 * @category encoding
 */
export const hex = (n: bigint): string => `0x${n.toString(16)}`

/**
 * Epoch milliseconds as an ISO date.
 *
 * @since 0.1.0
 * @category encoding
 */
export const iso = (millis: bigint): string => new Date(Number(millis)).toISOString()

/**
 * Every field of a Stat in its printed form.
 *
 * @example
 * ```ts
 * view(stat).mzxid // "0x1a"
 * view(stat).mtime // "2026-12-06T20:31:02.118Z"
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const view = (stat: Stat): StatView => ({
  czxid: hex(stat.czxid),
  mzxid: hex(stat.mzxid),
  ctime: iso(stat.ctime),
  mtime: iso(stat.mtime),
  version: stat.version,
  cversion: stat.cversion,
  aversion: stat.aversion,
  ephemeralOwner: hex(stat.ephemeralOwner),
  dataLength: stat.dataLength,
  numChildren: stat.numChildren,
  pzxid: hex(stat.pzxid)
})

/**
 * `name value` rows of a Stat, for an aligned table.
 *
 * @since 0.1.0
 * @category encoding
 */
export const rows = (stat: Stat): Array<[string, string]> => Object.entries(view(stat)).map(([k, v]) => [k, String(v)])

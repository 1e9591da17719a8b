/**
 * The metadata ZooKeeper keeps for every znode, as the server returns it (docs/protocol.md#records).
 *
 * @since 0.1.0
 */

/**
 * A znode's Stat, all 11 fields in wire order. The 64-bit fields are `bigint` because session
 * ids (`ephemeralOwner`) and zxids exceed 2^53. `version` counts data changes, `cversion`
 * children changes and `aversion` ACL changes; `ctime`/`mtime` are epoch milliseconds.
 * `ephemeralOwner` is the owning session id for an ephemeral node and 0 otherwise (also 0 for
 * container and TTL nodes: the server masks its internal markers).
 *
 * @example
 * const { stat } = yield* zk.get("/config")
 * yield* zk.set("/config", "v2", { version: stat.version })
 *
 * @since 0.1.0
 * @category models
 */
export interface Stat {
  /** The zxid of the change that created the node. */
  readonly czxid: bigint
  /** The zxid of the last change to the node's data. */
  readonly mzxid: bigint
  /** Creation time, epoch milliseconds. */
  readonly ctime: bigint
  /** Last data modification time, epoch milliseconds. */
  readonly mtime: bigint
  /** The number of changes to the node's data. */
  readonly version: number
  /** The number of changes to the node's children (also the next sequential suffix). */
  readonly cversion: number
  /** The number of changes to the node's ACL. */
  readonly aversion: number
  /** The owning session id of an ephemeral node, otherwise 0. */
  readonly ephemeralOwner: bigint
  /** The length of the node's data in bytes. */
  readonly dataLength: number
  /** The number of children. */
  readonly numChildren: number
  /** The zxid of the last change to the node's children. */
  readonly pzxid: bigint
}

/**
 * The JSON form of a {@link Stat}: the same fields, with every `bigint` as a decimal string
 * (JSON has no 64-bit integers, and a zxid or session id does not fit a double).
 *
 * @since 0.1.0
 * @category models
 */
export type StatJson = { readonly [K in keyof Stat]: Stat[K] extends bigint ? string : Stat[K] }

/**
 * Stats the client returns are instances of this class, so `JSON.stringify(stat)` works (it
 * calls `toJSON`, which writes the `bigint` fields as decimal strings) instead of throwing on
 * the bigints. The fields are plain own properties, so spreading and deep equality see only
 * the 11 fields.
 */
// Each field is assigned by name, in one order: every Stat then shares one hidden class, and
// building one costs a few stores (Object.assign was a generic copy per reply). The fields come
// from the interface by declaration merging, writable only inside this module.
type WritableStat = { -readonly [K in keyof Stat]: Stat[K] }
interface StatRecord extends WritableStat {}
class StatRecord {
  constructor(fields: Stat) {
    this.czxid = fields.czxid
    this.mzxid = fields.mzxid
    this.ctime = fields.ctime
    this.mtime = fields.mtime
    this.version = fields.version
    this.cversion = fields.cversion
    this.aversion = fields.aversion
    this.ephemeralOwner = fields.ephemeralOwner
    this.dataLength = fields.dataLength
    this.numChildren = fields.numChildren
    this.pzxid = fields.pzxid
  }
  toJSON(): StatJson {
    return toJson(this)
  }
}

/**
 * A Stat from its fields, with `toJSON` (what the client itself returns).
 *
 * @example
 * ```ts
 * const { stat } = yield* zk.get("/config")
 * JSON.stringify(stat) // '{"czxid":"4294967298",...,"version":0,...}'
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (fields: Stat): Stat => new StatRecord(fields)

/**
 * The JSON form of a Stat: bigints as decimal strings, numbers unchanged.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toJson = (stat: Stat): StatJson => ({
  czxid: stat.czxid.toString(),
  mzxid: stat.mzxid.toString(),
  ctime: stat.ctime.toString(),
  mtime: stat.mtime.toString(),
  version: stat.version,
  cversion: stat.cversion,
  aversion: stat.aversion,
  ephemeralOwner: stat.ephemeralOwner.toString(),
  dataLength: stat.dataLength,
  numChildren: stat.numChildren,
  pzxid: stat.pzxid.toString()
})

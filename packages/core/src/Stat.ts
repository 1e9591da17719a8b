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

/**
 * Operations for transactions: `zk.multi([...])` applies write ops atomically (all or
 * nothing), `zk.multiRead([...])` runs read ops in one round trip (not atomic, errors per op).
 *
 * @example
 * ```ts
 * import { Op } from "@effect-zk/core"
 * const results = yield* zk.multi([
 *   Op.check("/config", 3),
 *   Op.set("/config", "v4", { version: 3 }),
 *   Op.create("/config/history-", "v3", { mode: CreateMode.PersistentSequential })
 * ])
 * // on failure: fails with the first failing op's error (e.g. BadVersion); its `results`
 * // holds every op's outcome, and nothing was applied
 * ```
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type { Acl } from "./Acl.ts"
import type { CreateMode } from "./CreateMode.ts"
import * as Utf8 from "./internal/utf8.ts"

type Data = Uint8Array | string

const bytes = (data: Data | undefined): Uint8Array =>
  data === undefined ? new Uint8Array(0) : typeof data === "string" ? Utf8.encode(data) : data

/**
 * A write operation of a transaction.
 *
 * @since 0.1.0
 * @category models
 */
export type Op =
  | {
    readonly _tag: "Create"
    readonly path: string
    readonly data: Uint8Array
    readonly mode?: CreateMode | undefined
    readonly acl?: ReadonlyArray<Acl> | undefined
    /** Any duration ("60 seconds") or milliseconds, for the TTL modes only. */
    readonly ttl?: Duration.Input | undefined
  }
  | { readonly _tag: "Delete"; readonly path: string; readonly version: number }
  | { readonly _tag: "Set"; readonly path: string; readonly data: Uint8Array; readonly version: number }
  | { readonly _tag: "Check"; readonly path: string; readonly version: number }

/**
 * A read operation of `multiRead`.
 *
 * @since 0.1.0
 * @category models
 */
export type ReadOp = { readonly _tag: "Get"; readonly path: string } | { readonly _tag: "Children"; readonly path: string }

/**
 * Creates a node (same options as `zk.create`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const create = (
  path: string,
  data?: Data,
  options?: { readonly mode?: CreateMode | undefined; readonly acl?: ReadonlyArray<Acl> | undefined; readonly ttl?: Duration.Input | undefined }
): Op => ({ _tag: "Create", path, data: bytes(data), mode: options?.mode, acl: options?.acl, ttl: options?.ttl })

/**
 * Deletes a node, at a version or any (-1). Exported as `Op.delete` (`delete` is a reserved
 * word, so it cannot be the constant's own name).
 *
 * @since 0.1.0
 * @category constructors
 */
const del = (path: string, options?: { readonly version?: number | undefined }): Op => ({
  _tag: "Delete",
  path,
  version: options?.version ?? -1
})

export {
  /**
   * Deletes a node, at a version or any (-1).
   *
   * @since 0.1.0
   * @category constructors
   */
  del as delete
}

/**
 * Sets a node's data, at a version or any (-1).
 *
 * @since 0.1.0
 * @category constructors
 */
export const set = (path: string, data: Data, options?: { readonly version?: number | undefined }): Op => ({
  _tag: "Set",
  path,
  data: bytes(data),
  version: options?.version ?? -1
})

/**
 * Fails the transaction unless the node exists at `version` (-1: exists at all).
 *
 * @since 0.1.0
 * @category constructors
 */
export const check = (path: string, version: number): Op => ({ _tag: "Check", path, version })

/**
 * Reads a node's data, for `multiRead`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const get = (path: string): ReadOp => ({ _tag: "Get", path })

/**
 * Reads a node's children, for `multiRead`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const children = (path: string): ReadOp => ({ _tag: "Children", path })

/**
 * The outcome of one op, in order. Every entry carries the `path` of the op it answers (for a
 * sequential create, the created path; for an `Error` entry, the path the op named), so a
 * `multiRead` over many nodes can be read without zipping it with its ops.
 *
 * In a failed `multi`, every entry is an `Error`: `Ok` for the ops before the failing one, the
 * failing op's error, and `RuntimeInconsistency` for the ops after it. `error` is the error's
 * `_tag` (the same name `Effect.catchTag` uses, or `"Ok"`); `code` is the protocol number, kept
 * for callers that matched on it before `error` existed.
 *
 * @example
 * ```ts
 * const results = yield* zk.multiRead([Op.get("/a"), Op.get("/gone")])
 * // [{ _tag: "Get", path: "/a", data, stat }, { _tag: "Error", path: "/gone", code: -101, error: "NoNode" }]
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export { OpResult } from "./internal/opResult.ts"

/**
 * How {@link batches} sizes its runs.
 *
 * @since 0.1.0
 * @category models
 */
export interface BatchOptions<A> {
  /** At most this many items in a run. */
  readonly maxItems: number
  /** At most this many bytes in a run, as `size` counts them (a single larger item gets a run of its own). */
  readonly maxBytes: number
  /** An item's share of a request or reply, in bytes. */
  readonly size: (item: A) => number
}

/**
 * Splits bulk work into runs that each fit one `multi` or `multiRead`. The server refuses a
 * frame over its `jute.maxbuffer` (1 MiB by default) in either direction, and a transaction is
 * all or nothing, so a subtree delete, an import or a cache's bulk read goes in runs bounded both
 * by count and by bytes. Order is kept.
 *
 * @example
 * ```ts
 * for (const run of Op.batches(paths, { maxItems: 500, maxBytes: 256 * 1024, size: (p) => p.length })) {
 *   yield* zk.multi(run.map((p) => Op.delete(p)))
 * }
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const batches = <A>(items: Iterable<A>, options: BatchOptions<A>): Array<Array<A>> => {
  const out: Array<Array<A>> = []
  let run: Array<A> = []
  let bytes = 0
  for (const item of items) {
    const size = options.size(item)
    if (run.length > 0 && (run.length >= options.maxItems || bytes + size > options.maxBytes)) {
      out.push(run)
      run = []
      bytes = 0
    }
    run.push(item)
    bytes += size
  }
  if (run.length > 0) out.push(run)
  return out
}

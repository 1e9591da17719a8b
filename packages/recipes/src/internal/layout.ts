/**
 * Contender node names shared with Curator and kazoo, and their order.
 *
 * Curator names a node `_c_<uuid>-<marker><seq>` (the `_c_<uuid>-` prefix is its protection);
 * kazoo names it `<uuid-hex><marker><seq>`. Both end in the server's 10-digit sequence number,
 * and that number alone orders contenders: names differ in their random prefixes, so sorting
 * whole names would be wrong.
 */
import * as ZNodePath from "@effect-zk/core/ZNodePath"

/**
 * How our own contender nodes are named: like Curator's (the default) or like kazoo's. Nodes
 * of both styles count as contenders either way.
 *
 * @since 0.1.0
 * @category models
 */
export type Layout = "curator" | "kazoo"

/** A contender node: its name and its sequence number. */
export interface Contender {
  readonly name: string
  readonly seq: number
}

/** How a node name in `layout` starts: kazoo's lock writes its uuid's 32 hex digits; Curator's is core's default. */
const kazooPrefix: ZNodePath.ProtectedLayout = (uuid) => uuid.replaceAll("-", "")

/** Our node's name in `layout`: the protection prefix core's protected create lays out, then the recipe's marker. */
export interface OwnName {
  readonly protection: ZNodePath.ProtectedLayout
  readonly marker: string
}

/** Our next node's name in `layout`, with the recipe's marker in each style. */
export const ownName = (layout: Layout, markers: { readonly curator: string; readonly kazoo: string }): OwnName =>
  layout === "kazoo"
    ? { protection: kazooPrefix, marker: markers.kazoo }
    : { protection: ZNodePath.protectedPrefix, marker: markers.curator }

/** The children that carry one of `markers` and a sequence suffix, in sequence order. */
export const contenders = (children: ReadonlyArray<string>, markers: ReadonlyArray<string>): Array<Contender> => {
  const out: Array<Contender> = []
  for (const name of children) {
    if (!markers.some((m) => name.includes(m))) continue
    const seq = ZNodePath.sequenceNumber(name)
    if (seq !== undefined) out.push({ name, seq })
  }
  return out.sort((a, b) => a.seq - b.seq)
}

/** Whether a name carries one of `markers`. */
export const hasMarker = (name: string, markers: ReadonlyArray<string>): boolean => markers.some((m) => name.includes(m))

/** Lock contenders: Curator's `lock-` and kazoo's `__lock__`. */
export const LOCK = { curator: "lock-", kazoo: "__lock__" } as const
/** Leader-latch contenders (Curator's LeaderLatch); kazoo's Election is a lock underneath. */
export const LATCH = { curator: "latch-", kazoo: "__lock__" } as const
/** Read-lock contenders: Curator's `__READ__`, kazoo's `__rlock__`. */
export const READ = { curator: "__READ__", kazoo: "__rlock__" } as const
/** Write-lock contenders: Curator's `__WRIT__`, kazoo's `__lock__`. */
export const WRITE = { curator: "__WRIT__", kazoo: "__lock__" } as const

/**
 * Shared helpers of the recipes tests: sessions and sandboxes come from the node package's test
 * kit; this adds a recursive read of a subtree (the ground truth a cache is compared with) and
 * a seeded random generator, so a failing random run can be replayed from its seed.
 */
import type { Stat, ZooKeeperService } from "@effect-zk/core"
import { ZNodePath } from "@effect-zk/core"
import { Effect, Option } from "effect"

import { connectTo, sandbox } from "../../node/test/utils/TestZooKeeper.ts"

export { chrootOf, connectTo, eventually, newChroot, sandbox } from "./helpers/sessions.ts"

/** Two sessions in a fresh sandbox of the shared server: one to change nodes, one for the recipe. */
export const twoSessions = Effect.gen(function*() {
  const servers = yield* sandbox
  return { servers, writer: yield* connectTo(servers), zk: yield* connectTo(servers) }
})

export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

/** What identifies a node's value in comparisons: incarnation, data version and data. */
export interface NodeValue {
  readonly czxid: bigint
  readonly mzxid: bigint
  readonly version: number
  readonly data: string
}

export const valueOf = (node: { readonly data: Uint8Array; readonly stat: Stat }): NodeValue => ({
  czxid: node.stat.czxid,
  mzxid: node.stat.mzxid,
  version: node.stat.version,
  data: text(node.data)
})

/** Every node of the subtree at `root`, read one by one (a node gone meanwhile is skipped). */
export const readTree = (zk: ZooKeeperService, root: string): Effect.Effect<Map<string, NodeValue>, unknown> =>
  Effect.gen(function*() {
    const out = new Map<string, NodeValue>()
    const pending = [root]
    while (pending.length > 0) {
      const path = pending.pop()!
      const node = yield* Effect.option(zk.get(path))
      if (Option.isNone(node)) continue
      out.set(path, valueOf(node.value))
      const kids = yield* zk.children(path).pipe(Effect.map((r) => r.children), Effect.orElseSucceed(() => []))
      for (const name of kids) pending.push(ZNodePath.join(path, name))
    }
    return out
  })

/** mulberry32: a tiny seeded generator. */
export const random = (seed: number) => {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (n: number): number => Math.floor(next() * n),
    pick: <A>(items: ReadonlyArray<A>): A => items[Math.floor(next() * items.length)]!
  }
}

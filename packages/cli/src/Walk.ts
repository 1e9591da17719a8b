/**
 * Walking a subtree: `ls -R`, `tree`, `du` and `export` all read every node under a path.
 * The walk goes level by level and asks for a whole level at once (the session pipelines the
 * requests), so a tree of ten thousand nodes takes a few round trips per level rather than
 * one per node. A node deleted while the walk runs is left out, not an error.
 *
 * @since 0.1.0
 */
import type { Acl } from "@effect-zk/core/Acl"
import type { Stat } from "@effect-zk/core/Stat"
import * as ZNodePath from "@effect-zk/core/ZNodePath"
import type { ZkError } from "@effect-zk/core/ZkError"
import type { ZooKeeperService } from "@effect-zk/core/ZooKeeper"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/**
 * One node of a walk. `children` are names, sorted; `data` and `acl` are there when asked for.
 *
 * @since 0.1.0
 * @category models
 */
export interface Node {
  readonly path: string
  readonly depth: number
  readonly stat: Stat
  readonly children: ReadonlyArray<string>
  readonly data?: Uint8Array | undefined
  readonly acl?: ReadonlyArray<Acl> | undefined
}

/**
 * What a walk reads besides each node's Stat and children.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Read each node's data. */
  readonly data?: boolean | undefined
  /** Read each node's ACL. */
  readonly acl?: boolean | undefined
  /** Stop this many levels below the root (0: the root only). Default: no limit. */
  readonly maxDepth?: number | undefined
  /** Leave out the subtree at these paths (the server's own `/zookeeper`). */
  readonly skip?: ReadonlySet<string> | undefined
  /** Called after each level with the number of nodes read so far. */
  readonly onProgress?: ((read: number) => void) | undefined
}

/** Requests in flight at once: enough to hide the round trip, few enough to bound memory. */
const CONCURRENCY = 512

const gone = <A>(effect: Effect.Effect<A, ZkError>): Effect.Effect<Option.Option<A>, ZkError> =>
  effect.pipe(
    Effect.map(Option.some),
    Effect.catchTag("NoNode", () => Effect.succeedNone)
  )

const readNode = (zk: ZooKeeperService, path: string, depth: number, options: Options) =>
  Effect.gen(function*() {
    const listed = yield* gone(zk.children(path))
    if (Option.isNone(listed)) return Option.none<Node>()
    let stat = listed.value.stat
    let data: Uint8Array | undefined
    let acl: ReadonlyArray<Acl> | undefined
    if (options.data === true) {
      const got = yield* gone(zk.get(path))
      if (Option.isNone(got)) return Option.none<Node>()
      data = got.value.data
      stat = got.value.stat
    }
    if (options.acl === true) {
      const got = yield* gone(zk.getAcl(path))
      if (Option.isNone(got)) return Option.none<Node>()
      acl = got.value.acl
    }
    const children = [...listed.value.children].sort()
    return Option.some<Node>({ path, depth, stat, children, data, acl })
  })

/**
 * Every node under `root` (itself included) in pre-order, children sorted by name: the order
 * `tree` prints and `import` creates. Fails with `NoNode` when the root does not exist.
 *
 * @since 0.1.0
 * @category constructors
 */
export const walk = (zk: ZooKeeperService, root: string, options: Options = {}): Effect.Effect<Array<Node>, ZkError> =>
  Effect.gen(function*() {
    const first = yield* readNode(zk, root, 0, options)
    // The root vanished between two reads: ask once more so the error says NoNode for the root.
    if (Option.isNone(first)) return yield* zk.children(root).pipe(Effect.as([]))
    const byPath = new Map<string, Node>([[root, first.value]])
    let level: Array<Node> = [first.value]
    let read = 1
    while (level.length > 0 && (options.maxDepth === undefined || level[0]!.depth < options.maxDepth)) {
      const next = level.flatMap((node) =>
        node.children.map((name) => ({ path: ZNodePath.join(node.path, name), depth: node.depth + 1 }))
      ).filter((c) => options.skip?.has(c.path) !== true)
      const nodes = yield* Effect.forEach(next, (c) => readNode(zk, c.path, c.depth, options), { concurrency: CONCURRENCY })
      level = nodes.flatMap(Option.toArray)
      for (const node of level) byPath.set(node.path, node)
      read += level.length
      options.onProgress?.(read)
    }
    const out: Array<Node> = []
    const visit = (path: string) => {
      const node = byPath.get(path)
      if (node === undefined) return
      out.push(node)
      for (const name of node.children) visit(ZNodePath.join(path, name))
    }
    visit(root)
    return out
  })

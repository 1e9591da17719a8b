/**
 * The effect-zk side of the cache benchmark, run in a child process of its own (so its heap is
 * its own): `node --expose-gc effect-zk.ts <servers> <root> <changes> <children per parent>`. Prints one JSON line:
 * time to `initialized`, heap held by the cache, and how long changes take to appear.
 */
import { ZooKeeper } from "@effect-zk/core"
import { NodeZooKeeper } from "@effect-zk/node"
import { Context, Effect, Layer, Option, Stream } from "effect"
import { TreeCache } from "@effect-zk/recipes"
import { changePaths, heldBytes, percentile, settleHeap } from "./common.ts"

const [servers, root, changesArg, perParentArg] = process.argv.slice(2)
const changes = Number(changesArg ?? "200")
const perParent = Number(perParentArg ?? "1000")

const session = Effect.map(Layer.build(NodeZooKeeper.layer({ servers: servers!, sessionTimeout: "30 seconds" })), (c) => Context.get(c, ZooKeeper))

const program = Effect.scoped(Effect.gen(function*() {
  const zk = yield* session
  const writer = yield* session
  const before = settleHeap()
  const started = performance.now()
  const tree = yield* TreeCache.make(root!).pipe(Effect.provideService(ZooKeeper, zk))
  yield* tree.initialized
  const loadMs = performance.now() - started
  const nodes = yield* tree.size
  const after = settleHeap()

  // Propagation: from the set being issued to the cache emitting the new value.
  const waiting = new Map<string, (at: number) => void>()
  yield* Stream.runForEach(tree.events, (e) =>
    Effect.sync(() => {
      if (e._tag === "NodeUpdated") waiting.get(e.path)?.(performance.now())
    })).pipe(Effect.forkScoped({ startImmediately: true }))
  const latencies: Array<number> = []
  for (const path of changePaths(root!, changes, perParent)) {
    const seen = new Promise<number>((resolve) => waiting.set(path, resolve))
    const t0 = performance.now()
    yield* writer.set(path, `changed-${t0}`.padEnd(100, "x"))
    const t1 = yield* Effect.promise(() => seen)
    waiting.delete(path)
    latencies.push(t1 - t0)
  }
  const check = yield* tree.get(changePaths(root!, 1, perParent)[0]!)
  if (Option.isNone(check)) throw new Error("the cache lost a node")
  console.log(JSON.stringify({
    client: "effect-zk TreeCache",
    nodes,
    loadMs,
    heapBytes: heldBytes(before, after),
    p50: percentile(latencies, 0.5),
    p90: percentile(latencies, 0.9)
  }))
}))

Effect.runPromise(program).then(() => process.exit(0), (e) => {
  console.error(e)
  process.exit(1)
})

/**
 * The effect-zk side of the cache benchmark, run in a child process of its own (so its heap is
 * its own): `node --expose-gc effect-zk.ts <servers> <root> <changes> <children per parent>`. Prints one JSON line:
 * time to `initialized`, heap held by the cache, and how long changes take to appear.
 *
 * Propagation needs two round trips whatever the client (the set, then a read of the node the
 * watch event names), so on a loaded machine most of it is the machine. Each change is
 * therefore also timed on a floor: a third session with a bare recursive watch and one `get`
 * of the changed node, written by hand. Both see the same set, so the difference between the
 * two figures is what the cache itself adds, whatever the load.
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
  const probe = yield* session
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
  const floorWaiting = new Map<string, (at: number) => void>()
  yield* Stream.runForEach(probe.addWatch(root!, { recursive: true }), (e) =>
    Effect.map(probe.get(e.path), () => floorWaiting.get(e.path)?.(performance.now()))).pipe(
      Effect.forkScoped({ startImmediately: true })
    )
  const change = (path: string) =>
    Effect.gen(function*() {
      const seen = new Promise<number>((resolve) => waiting.set(path, resolve))
      const floorSeen = new Promise<number>((resolve) => floorWaiting.set(path, resolve))
      const t0 = performance.now()
      yield* writer.set(path, `changed-${t0}`.padEnd(100, "x"))
      const [t1, f1] = yield* Effect.promise(() => Promise.all([seen, floorSeen]))
      waiting.delete(path)
      floorWaiting.delete(path)
      return [t1 - t0, f1 - t0] as const
    })
  // The probe's watch is armed on another session than the writer's, so nothing orders it
  // before a set: untimed changes until the probe sees one.
  const warmUp = changePaths(root!, 1, perParent)[0]!
  while (true) {
    const floorSeen = new Promise<number>((resolve) => floorWaiting.set(warmUp, resolve))
    yield* writer.set(warmUp, "warm-up".padEnd(100, "x"))
    if (Option.isSome(yield* Effect.timeoutOption(Effect.promise(() => floorSeen), "500 millis"))) break
  }
  floorWaiting.delete(warmUp)
  const latencies: Array<number> = []
  const floor: Array<number> = []
  for (const path of changePaths(root!, changes, perParent)) {
    const [cache, bare] = yield* change(path)
    latencies.push(cache)
    floor.push(bare)
  }
  const check = yield* tree.get(changePaths(root!, 1, perParent)[0]!)
  if (Option.isNone(check)) throw new Error("the cache lost a node")
  console.log(JSON.stringify({
    client: "effect-zk TreeCache",
    nodes,
    loadMs,
    heapBytes: heldBytes(before, after),
    p50: percentile(latencies, 0.5),
    p90: percentile(latencies, 0.9),
    floorP50: percentile(floor, 0.5),
    floorP90: percentile(floor, 0.9),
    // Per change, so load that slows both alike cancels out.
    overFloorP50: percentile(latencies.map((l, i) => l - floor[i]!), 0.5)
  }))
}))

Effect.runPromise(program).then(() => process.exit(0), (e) => {
  console.error(e)
  process.exit(1)
})

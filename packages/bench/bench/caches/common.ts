/**
 * What the cache benchmark's Node processes share: the tree's shape, the paths changed to
 * measure propagation, heap readings and percentiles.
 */

/** 100 parents of 1,000 children each (a flat 100,000-child node exceeds the 1 MB reply limit). */
export const PARENTS = 100
export const DATA_BYTES = 100

export const parentPath = (root: string, p: number): string => `${root}/p${String(p).padStart(3, "0")}`
export const childPath = (root: string, p: number, c: number): string => `${parentPath(root, p)}/n${String(c).padStart(5, "0")}`

/** Leaves spread over the tree, the same for every client. */
export const changePaths = (root: string, count: number, perParent: number): Array<string> =>
  Array.from({ length: count }, (_, i) => childPath(root, (i * 37) % PARENTS, (i * 101) % perParent))

/** Heap after full collections: V8 heap plus memory outside it (ArrayBuffers). */
export const settleHeap = (): number => {
  const gc: unknown = Reflect.get(globalThis, "gc")
  for (let i = 0; i < 3; i++) if (typeof gc === "function") Reflect.apply(gc, undefined, [])
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}

export const heldBytes = (before: number, after: number): number => Math.max(0, after - before)

export const percentile = (values: ReadonlyArray<number>, q: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
}

/**
 * The sequential-create queue's promise (Jepsen's "total queue"): every acknowledged enqueue is
 * dequeued exactly once, counting the final drain; nothing is dequeued twice; nothing is
 * dequeued that was never enqueued. An enqueue with an unknown outcome may or may not appear,
 * and a dequeue whose delete had an unknown outcome may or may not have taken its element.
 *
 * Values are unique per enqueue, so each value stands for one enqueue.
 *
 * @since 0.1.0
 */
import type { Operation } from "./History.ts"

/**
 * A queue violation.
 *
 * @since 0.1.0
 * @category models
 */
export type Violation =
  | { readonly kind: "lost"; readonly value: string; readonly enqueue: Operation }
  | { readonly kind: "duplicated"; readonly value: string; readonly dequeues: ReadonlyArray<Operation> }
  | { readonly kind: "unexpected"; readonly value: string; readonly dequeue: Operation }

/**
 * Checks a queue history. `dequeue` and `drain` operations that took an element carry its value
 * in `result.value`; an info `dequeue` carries the value it tried to take. Lost elements are
 * reported only when the final listing (`list`) succeeded.
 *
 * @example
 * ```ts
 * const violations = QueueCheck.check(recorder.operations())
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const check = (history: ReadonlyArray<Operation>): ReadonlyArray<Violation> => {
  const attempted = new Map<string, Operation>()
  const taken = new Map<string, Array<Operation>>()
  const maybeTaken = new Set<string>()
  for (const op of history) {
    if (op.f === "enqueue" && op.value !== undefined && op.type !== "fail") attempted.set(op.value, op)
    if ((op.f === "dequeue" || op.f === "drain") && op.result.value !== undefined) {
      if (op.type === "ok") taken.set(op.result.value, [...(taken.get(op.result.value) ?? []), op])
      else if (op.type === "info") maybeTaken.add(op.result.value)
    }
  }
  const violations: Array<Violation> = []
  for (const [value, dequeues] of taken) {
    if (!attempted.has(value)) violations.push({ kind: "unexpected", value, dequeue: dequeues[0]! })
    if (dequeues.length > 1) violations.push({ kind: "duplicated", value, dequeues })
  }
  // Without a complete final listing, an element never seen may still be in the queue.
  const drained = history.some((op) => op.f === "list" && op.type === "ok")
  for (const [value, enqueue] of attempted) {
    if (drained && enqueue.type === "ok" && !taken.has(value) && !maybeTaken.has(value)) violations.push({ kind: "lost", value, enqueue })
  }
  return violations
}

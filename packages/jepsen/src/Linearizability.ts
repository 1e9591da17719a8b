/**
 * A linearizability checker: the Wing-Gong search with Lowe's memoisation, as porcupine and
 * Knossos run it, for any sequential model.
 *
 * The search walks the history's call and return entries in real-time order. At a call it
 * tries to linearize that operation now (the model must accept it); at a return whose
 * operation is not yet linearized it backtracks. A cache of (set of linearized operations,
 * model state) pairs already explored prunes the search: the same pair always leads to the same
 * verdict, which turns the exponential search into a practical one for real histories.
 *
 * Operations whose outcome is unknown (`info`) have their return at +infinity: they may be
 * linearized anywhere after their call, or never. The history is linearizable as soon as every
 * operation with a known outcome has been linearized.
 *
 * @since 0.1.0
 */

/**
 * A sequential specification. `step` returns the state after `input` produced `output`, or
 * `undefined` when that output is impossible in `state`. `output` is `undefined` for an
 * operation with an unknown outcome: `step` then applies the operation's effect if it could
 * have succeeded, or returns `undefined` when applying it would change nothing (skipping it,
 * the other possibility, is the search's job). `key` must be
 * equal for equal states (it is the memoisation key).
 *
 * @since 0.1.0
 * @category models
 */
export interface Model<S, I, O> {
  readonly init: S
  readonly step: (state: S, input: I, output: O | undefined) => S | undefined
  readonly key: (state: S) => string
}

/**
 * One operation as the checker sees it. `ret` is `undefined` for an unknown outcome.
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry<I, O> {
  readonly id: number
  readonly call: bigint
  readonly ret: bigint | undefined
  readonly input: I
  readonly output: O | undefined
}

/**
 * The verdict. `unknown` means the search ran out of its step budget.
 *
 * @since 0.1.0
 * @category models
 */
export type Verdict =
  | { readonly _tag: "Linearizable"; readonly steps: number }
  | {
    readonly _tag: "NotLinearizable"
    readonly steps: number
    /** The longest sequence of operations (ids) the search managed to linearize. */
    readonly longest: ReadonlyArray<number>
  }
  | { readonly _tag: "Unknown"; readonly steps: number }

interface Node {
  readonly id: number
  readonly isCall: boolean
  readonly time: bigint
  /** Index into the entries array. */
  readonly index: number
  match: Node | undefined
  prev: Node | undefined
  next: Node | undefined
}

/** Two random 32-bit words per operation: the linearized set hashes to the XOR of its members'. */
const mix = (n: number, salt: number): number => {
  let x = (n + 1) * 0x9e3779b1 + salt
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  return (x ^ (x >>> 16)) >>> 0
}

const buildList = <I, O>(entries: ReadonlyArray<Entry<I, O>>): Node => {
  const nodes: Array<Node> = []
  entries.forEach((entry, index) => {
    const call: Node = { id: entry.id, isCall: true, time: entry.call, index, match: undefined, prev: undefined, next: undefined }
    const ret: Node = {
      id: entry.id,
      isCall: false,
      // An unknown outcome returns "never": after every known return.
      time: entry.ret ?? BigInt(Number.MAX_SAFE_INTEGER) * 1_000_000n,
      index,
      match: undefined,
      prev: undefined,
      next: undefined
    }
    call.match = ret
    nodes.push(call, ret)
  })
  // At equal times calls go first, so the two operations count as concurrent: the permissive
  // choice, since equal nanosecond stamps cannot order them.
  nodes.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1))
  const head: Node = { id: -1, isCall: false, time: -1n, index: -1, match: undefined, prev: undefined, next: undefined }
  let last = head
  for (const node of nodes) {
    last.next = node
    node.prev = last
    last = node
  }
  return head
}

/** Takes a call and its return out of the list. */
const lift = (call: Node): void => {
  call.prev!.next = call.next
  if (call.next !== undefined) call.next.prev = call.prev
  const ret = call.match!
  ret.prev!.next = ret.next
  if (ret.next !== undefined) ret.next.prev = ret.prev
}

/** Puts them back, in the reverse order of `lift`. */
const unlift = (call: Node): void => {
  const ret = call.match!
  ret.prev!.next = ret
  if (ret.next !== undefined) ret.next.prev = ret
  call.prev!.next = call
  if (call.next !== undefined) call.next.prev = call
}

/**
 * Checks one history (one key's operations) against `model`.
 *
 * @example
 * ```ts
 * const verdict = check(ZnodeRegister.model, entries, { maxSteps: 1_000_000 })
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const check = <S, I, O>(
  model: Model<S, I, O>,
  entries: ReadonlyArray<Entry<I, O>>,
  options: { readonly maxSteps?: number | undefined } = {}
): Verdict => {
  const maxSteps = options.maxSteps ?? 5_000_000
  const head = buildList(entries)
  let definiteLeft = entries.filter((e) => e.ret !== undefined).length
  let h1 = 0
  let h2 = 0
  const cache = new Set<string>()
  const stack: Array<{ node: Node; state: S }> = []
  let longest: Array<number> = []
  let state = model.init
  let entry = head.next
  let steps = 0
  while (definiteLeft > 0) {
    if (++steps > maxSteps) return { _tag: "Unknown", steps }
    if (entry === undefined) break
    const current: Node = entry
    if (current.isCall) {
      const e = entries[current.index]!
      const next = model.step(state, e.input, e.output)
      let advanced = false
      if (next !== undefined) {
        const n1 = (h1 ^ mix(current.index, 0x1234567)) >>> 0
        const n2 = (h2 ^ mix(current.index, 0x7654321)) >>> 0
        const key = `${n1}:${n2}:${model.key(next)}`
        if (!cache.has(key)) {
          cache.add(key)
          stack.push({ node: current, state })
          state = next
          h1 = n1
          h2 = n2
          if (e.ret !== undefined) definiteLeft--
          lift(current)
          if (stack.length > longest.length) longest = stack.map((s) => s.node.id)
          entry = head.next
          advanced = true
        }
      }
      if (!advanced) entry = current.next
    } else {
      // A return whose operation is not linearized yet: undo the last choice.
      const top = stack.pop()
      if (top === undefined) return { _tag: "NotLinearizable", steps, longest }
      const e = entries[top.node.index]!
      state = top.state
      h1 = (h1 ^ mix(top.node.index, 0x1234567)) >>> 0
      h2 = (h2 ^ mix(top.node.index, 0x7654321)) >>> 0
      if (e.ret !== undefined) definiteLeft++
      unlift(top.node)
      entry = top.node.next
    }
  }
  return definiteLeft === 0 ? { _tag: "Linearizable", steps } : { _tag: "NotLinearizable", steps, longest }
}

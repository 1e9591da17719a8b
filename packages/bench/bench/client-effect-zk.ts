/**
 * effect-zk: every operation is an Effect run by the Effect runtime, inside one program per run,
 * written the way an application would write it, so the runtime's cost per request counts.
 *
 * Pipelining (`get-pipe`, `create-pipe`, `set-pipe`, `multi-session`) has two styles:
 * - `effect-zk`: `Effect.forEach(items, op, { concurrency: 256, discard: true })`, what a user
 *   writes first. Its in-flight fiber `Set` was measured (2026-11-29, docs/request-costs.md#bulk-work) at about
 *   500 B per op of extra old-generation memory.
 * - `effect-zk-workers`: 256 fibers that each loop `yield* op(next++)` until the work runs out.
 *
 * Effect is imported module by module (`effect/Effect`), as Effect's own packages do: the
 * `effect` barrel loads every module and adds about 8 MB of RSS (measured 82.7 vs 74.2 MB for a
 * bare process on 2026-11-29), which would be counted against the client.
 */
import { type WatchEvent, type ZkError, ZooKeeper, type ZooKeeperService } from "@effect-zk/core"
import { NodeZooKeeper } from "@effect-zk/node"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { check, heapAfterGc, memoryReport, type Metered, sameBytes, startMeter, SteadyState, toResult } from "./measure.ts"
import {
  childName,
  createBytes,
  getBytes,
  manyPath,
  paths,
  pattern,
  type RunResult,
  type RunSpec,
  setBytes,
  type Sizes,
  type WarmupReport,
  warmSessions
} from "./spec.ts"

type Style = "forEach" | "workers"

const connect = (servers: string): Effect.Effect<ZooKeeperService, unknown, Scope.Scope> =>
  Effect.map(Layer.build(NodeZooKeeper.layer({ servers, sessionTimeout: "10 seconds" })), (ctx) => Context.get(ctx, ZooKeeper))

/** 0 .. n-1; a plain loop, since `Array.from({ length }, f)` costs about 0.5 us per element. */
const range = (n: number): Array<number> => {
  const out = new Array<number>(n)
  for (let i = 0; i < n; i++) out[i] = i
  return out
}

/** `n` operations with at most `window` in flight, in the given style. */
const pipelined = <E>(style: Style, n: number, window: number, op: (i: number) => Effect.Effect<unknown, E>): Effect.Effect<void, E> => {
  if (style === "forEach") return Effect.forEach(range(n), op, { concurrency: window, discard: true })
  return Effect.suspend(() => {
    let next = 0
    const worker = Effect.gen(function*() {
      while (next < n) yield* op(next++)
    })
    return Effect.forEach(range(Math.min(window, n)), () => worker, { concurrency: "unbounded", discard: true })
  })
}

const meter = Effect.sync(startMeter)

/** The warm-up of measure.ts's `warmUp`, as an Effect: windows of `run(n)` until steady state or the maximum. */
const warmUp = <E>(sizes: Sizes, run: (n: number) => Effect.Effect<unknown, E>): Effect.Effect<WarmupReport, E> =>
  Effect.suspend(() => {
    const steady = new SteadyState(sizes)
    return Effect.gen(function*() {
      for (let n = steady.next(); n > 0; n = steady.next()) {
        const stop = steady.start(n)
        yield* run(n)
        stop()
      }
      return steady.report()
    })
  })

const heap = Effect.sync(heapAfterGc)

/** `effect`, `n` times one after the other. */
const times = <E>(n: number, effect: Effect.Effect<unknown, E>): Effect.Effect<void, E> =>
  Effect.gen(function*() {
    for (let i = 0; i < n; i++) yield* effect
  })

const smokeGet = (zk: ZooKeeperService) =>
  Effect.map(zk.get(paths.getNode), ({ data }) => check(sameBytes(data, pattern(getBytes, 1)), "get returns the 100 bytes the parent wrote"))

const body = (spec: RunSpec, style: Style, sessions: ReadonlyArray<ZooKeeperService>): Effect.Effect<RunResult, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const { count, window, children } = spec.sizes
    const [zk, second] = sessions
    if (zk === undefined) return yield* Effect.die("no session")
    let metered: Metered
    switch (spec.workload) {
      case "get-seq": {
        yield* smokeGet(zk)
        const tally = { replies: 0, bad: 0 }
        const latencies: Array<number> = new Array(count)
        const warm = yield* warmUp(spec.sizes, (n) =>
          Effect.gen(function*() {
            for (let i = 0; i < n; i++) {
              const { data } = yield* zk.get(paths.getNode)
              tally.replies++
              if (data.length !== getBytes) tally.bad++
            }
          }))
        const stop = yield* meter
        for (let i = 0; i < count; i++) {
          const t0 = performance.now()
          const { data } = yield* zk.get(paths.getNode)
          latencies[i] = (performance.now() - t0) * 1000
          tally.replies++
          if (data.length !== getBytes) tally.bad++
        }
        metered = stop()
        check(tally.bad === 0 && tally.replies === warm.ops + count, `every get returned ${getBytes} bytes`)
        return toResult(spec, metered, { latenciesUs: latencies, checks: { replies: tally.replies, smokeBytes: true }, warmup: warm })
      }
      case "get-pipe":
      case "multi-session": {
        yield* smokeGet(zk)
        const tally = { replies: 0, bad: 0 }
        const get = (session: ZooKeeperService) => () =>
          Effect.map(session.get(paths.getNode), ({ data }) => {
            tally.replies++
            if (data.length !== getBytes) tally.bad++
          })
        const all = (perSession: number) =>
          Effect.forEach(sessions, (s) => pipelined(style, perSession, window, get(s)), { concurrency: "unbounded", discard: true })
        const per = Math.floor(count / sessions.length)
        let warmed = 0
        const warm = yield* warmUp(spec.sizes, (n) => {
          warmed += Math.floor(n / sessions.length) * sessions.length
          return all(Math.floor(n / sessions.length))
        })
        const stop = yield* meter
        yield* all(per)
        metered = stop()
        const expected = warmed + per * sessions.length
        check(tally.bad === 0 && tally.replies === expected, `every get returned ${getBytes} bytes`)
        return toResult(spec, metered, {
          checks: { replies: tally.replies, sessions: sessions.length, smokeBytes: true },
          notes: `pipelining: ${style}`,
          warmup: warm
        })
      }
      case "create-pipe": {
        const parent = `${paths.createRoot}/${spec.client}-r${spec.round}`
        const data = pattern(createBytes, 3)
        // Each run works below a parent of its own, created and removed outside the timed part.
        const createDelete = (base: string, n: number) =>
          Effect.gen(function*() {
            let created = 0
            yield* pipelined(style, n, window, (i) => {
              const path = `${base}/n${i}`
              return Effect.map(zk.create(path, data), (result) => {
                if (result === path) created++
              })
            })
            let deleted = 0
            yield* pipelined(style, n, window, (i) =>
              Effect.map(zk.delete(`${base}/n${i}`), () => {
                deleted++
              }))
            return { created, deleted }
          })
        yield* zk.create(`${parent}-warmup`)
        const warm = yield* warmUp(spec.sizes, (n) => createDelete(`${parent}-warmup`, n))
        yield* zk.delete(`${parent}-warmup`)
        yield* zk.create(parent)
        const stop = yield* meter
        const done = yield* createDelete(parent, count)
        metered = stop()
        const left = yield* zk.children(parent)
        check(done.created === count && done.deleted === count, "every create returned its path and every delete succeeded")
        check(left.children.length === 0, "no node is left after the deletes")
        yield* zk.delete(parent)
        return toResult(spec, metered, {
          checks: { created: done.created, deleted: done.deleted },
          notes: `pipelining: ${style}`,
          warmup: warm
        })
      }
      case "set-pipe": {
        const data = pattern(setBytes, 5 + spec.round)
        let first = -1
        let last = -1
        const setMany = (n: number) =>
          pipelined(style, n, window, () =>
            Effect.map(zk.set(paths.setNode, data), (stat) => {
              if (first < 0) first = stat.version
              last = stat.version
            }))
        const warm = yield* warmUp(spec.sizes, setMany)
        first = -1
        const stop = yield* meter
        yield* setMany(count)
        metered = stop()
        const readBack = yield* zk.get(paths.setNode)
        check(last - first === count - 1, `versions advanced by one per set (${first} .. ${last})`)
        check(sameBytes(readBack.data, data), "the node holds the 1 KiB that was set")
        return toResult(spec, metered, {
          checks: { firstVersion: first, lastVersion: last, readBack: true },
          notes: `pipelining: ${style}`,
          warmup: warm
        })
      }
      case "watch-rtt": {
        if (second === undefined) return yield* Effect.die("watch-rtt needs two sessions")
        const data = pattern(16, spec.round)
        const latencies: Array<number> = []
        let wrongEvents = 0
        const roundTrip = Effect.gen(function*() {
          const t0 = performance.now()
          const { watch } = yield* zk.getW(paths.watchNode)
          yield* second.set(paths.watchNode, data)
          const event = yield* Stream.runHead(watch)
          latencies.push((performance.now() - t0) * 1000)
          if (Option.isNone(event) || event.value.type !== "NodeDataChanged" || event.value.path !== paths.watchNode) wrongEvents++
        })
        const warm = yield* warmUp(spec.sizes, (n) => times(n, roundTrip))
        latencies.length = 0
        const stop = yield* meter
        for (let i = 0; i < count; i++) yield* roundTrip
        metered = stop()
        check(wrongEvents === 0, "every event is NodeDataChanged on the watched path")
        return toResult(spec, metered, { latenciesUs: latencies, checks: { rounds: latencies.length }, warmup: warm })
      }
      case "children-big": {
        const expected = Array.from({ length: children }, (_, i) => childName(i))
        const first = yield* zk.children(paths.bigNode)
        check(first.children.length === children, `getChildren returns ${children} names`)
        check([...first.children].sort().every((name, i) => name === expected[i]), "getChildren returns exactly the names created")
        const latencies: Array<number> = []
        let bad = 0
        const list = Effect.gen(function*() {
          const t0 = performance.now()
          const result = yield* zk.children(paths.bigNode)
          latencies.push((performance.now() - t0) * 1000)
          if (result.children.length !== children) bad++
        })
        const warm = yield* warmUp(spec.sizes, (n) => times(n, list))
        latencies.length = 0
        const stop = yield* meter
        for (let i = 0; i < count; i++) yield* list
        metered = stop()
        check(bad === 0, `every getChildren returned ${children} names`)
        return toResult(spec, metered, { latenciesUs: latencies, checks: { children, smokeNames: true }, warmup: warm })
      }
      case "watch-many":
        return yield* watchMany(spec, style, zk)
      case "sessions-many":
        return yield* sessionsMany(spec, zk)
    }
  })

/**
 * watch-many (see callback.ts): `count` one-shot watches on distinct nodes; only the watch
 * streams are kept. Then the first and last nodes change and both streams must deliver.
 */
const watchMany = (spec: RunSpec, style: Style, zk: ZooKeeperService) =>
  Effect.gen(function*() {
    const { count, window } = spec.sizes
    const watches: Array<Stream.Stream<WatchEvent, ZkError>> = new Array(count)
    let bad = 0
    const before = yield* heap
    const stop = yield* meter
    yield* pipelined(style, count, window, (i) =>
      Effect.map(zk.getW(manyPath(i)), ({ data, watch }) => {
        if (data.length > 1) bad++
        watches[i] = watch
      }))
    const metered = stop()
    const after = yield* heap
    check(bad === 0, "every watched node returned its data (empty, or the byte an earlier run set)")
    const change = new Uint8Array(1)
    yield* zk.set(manyPath(0), change)
    yield* zk.set(manyPath(count - 1), change)
    for (const i of [0, count - 1]) {
      const watch = watches[i]
      if (watch === undefined) return yield* Effect.die(`watch ${i} missing`)
      const event = yield* Stream.runHead(watch).pipe(Effect.timeout("10 seconds"))
      check(Option.isSome(event) && event.value.type === "NodeDataChanged" && event.value.path === manyPath(i), `watch ${i} fired NodeDataChanged`)
    }
    return toResult(spec, metered, { checks: { watches: count, fired: 2 }, memory: memoryReport(count, before, after), notes: `pipelining: ${style}` })
  })

/** sessions-many (see callback.ts): `count` idle sessions, each after one get, beside a tenth as many connected first. */
const sessionsMany = (spec: RunSpec, first: ZooKeeperService) =>
  Effect.gen(function*() {
    const { count } = spec.sizes
    yield* smokeGet(first)
    const getOnce = (zk: ZooKeeperService) => Effect.map(zk.get(paths.getNode), ({ data }) => data.length)
    const warm: Array<ZooKeeperService> = []
    for (let i = 1; i < warmSessions(count); i++) warm.push(yield* connect(spec.servers))
    const warmSizes = yield* Effect.forEach(warm, getOnce, { concurrency: "unbounded" })
    const before = yield* heap
    const stop = yield* meter
    const held: Array<ZooKeeperService> = []
    for (let i = 0; i < count; i++) held.push(yield* connect(spec.servers))
    const metered = stop()
    const sizes = yield* Effect.forEach(held, getOnce, { concurrency: "unbounded" })
    check([...warmSizes, ...sizes].every((n) => n === getBytes), `every session's get returned ${getBytes} bytes`)
    const after = yield* heap
    return toResult(spec, metered, { checks: { sessions: count, gets: sizes.length }, memory: memoryReport(count, before, after), ops: count })
  })

/** Runs the spec's workload on effect-zk: connect, smoke check, warm up, time, verify, close. */
export const runEffectZk = (spec: RunSpec, style: Style): Promise<RunResult> =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const sessions: Array<ZooKeeperService> = []
    for (let i = 0; i < spec.sizes.sessions; i++) sessions.push(yield* connect(spec.servers))
    return yield* body(spec, style, sessions)
  })))

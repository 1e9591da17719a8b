/**
 * effect-zk: every operation is an Effect run by the Effect runtime, inside one program per run,
 * written the way an application would write it, so the runtime's cost per request counts.
 *
 * Pipelining (`get-pipe`, `create-pipe`, `set-pipe`, `multi-session`) has two styles:
 * - `effect-zk`: `Effect.forEach(items, op, { concurrency: 256, discard: true })`, what a user
 *   writes first. docs/performance.md#bulk-work measured its in-flight fiber `Set` at about
 *   500 B per op of extra old-generation memory.
 * - `effect-zk-workers`: 256 fibers that each loop `yield* op(next++)` until the work runs out.
 *
 * Effect is imported module by module (`effect/Effect`), as Effect's own packages do: the
 * `effect` barrel loads every module and adds about 8 MB of RSS (measured 82.7 vs 74.2 MB for a
 * bare process on 2026-11-29), which would be counted against the client.
 */
import { ZooKeeper, type ZooKeeperService } from "@effect-zk/core"
import { NodeZooKeeper } from "@effect-zk/node"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { check, type Metered, sameBytes, startMeter, toResult } from "./measure.ts"
import { childName, createBytes, getBytes, paths, pattern, type RunResult, type RunSpec, setBytes } from "./spec.ts"

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

const smokeGet = (zk: ZooKeeperService) =>
  Effect.map(zk.get(paths.getNode), ({ data }) => check(sameBytes(data, pattern(getBytes, 1)), "get returns the 100 bytes the parent wrote"))

const body = (spec: RunSpec, style: Style, sessions: ReadonlyArray<ZooKeeperService>): Effect.Effect<RunResult, unknown> =>
  Effect.gen(function*() {
    const { count, warmup, window, children } = spec.sizes
    const [zk, second] = sessions
    if (zk === undefined) return yield* Effect.die("no session")
    let metered: Metered
    switch (spec.workload) {
      case "get-seq": {
        yield* smokeGet(zk)
        const tally = { replies: 0, bad: 0 }
        const latencies: Array<number> = new Array(count)
        for (let i = 0; i < warmup; i++) {
          const { data } = yield* zk.get(paths.getNode)
          tally.replies++
          if (data.length !== getBytes) tally.bad++
        }
        const stop = yield* meter
        for (let i = 0; i < count; i++) {
          const t0 = performance.now()
          const { data } = yield* zk.get(paths.getNode)
          latencies[i] = (performance.now() - t0) * 1000
          tally.replies++
          if (data.length !== getBytes) tally.bad++
        }
        metered = stop()
        check(tally.bad === 0 && tally.replies === warmup + count, `every get returned ${getBytes} bytes`)
        return toResult(spec, metered, { latenciesUs: latencies, checks: { replies: tally.replies, smokeBytes: true } })
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
        yield* all(Math.floor(warmup / sessions.length))
        const stop = yield* meter
        yield* all(per)
        metered = stop()
        const expected = (Math.floor(warmup / sessions.length) + per) * sessions.length
        check(tally.bad === 0 && tally.replies === expected, `every get returned ${getBytes} bytes`)
        return toResult(spec, metered, {
          checks: { replies: tally.replies, sessions: sessions.length, smokeBytes: true },
          notes: `pipelining: ${style}`
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
        yield* createDelete(`${parent}-warmup`, warmup)
        yield* zk.delete(`${parent}-warmup`)
        yield* zk.create(parent)
        const stop = yield* meter
        const done = yield* createDelete(parent, count)
        metered = stop()
        const left = yield* zk.children(parent)
        check(done.created === count && done.deleted === count, "every create returned its path and every delete succeeded")
        check(left.children.length === 0, "no node is left after the deletes")
        yield* zk.delete(parent)
        return toResult(spec, metered, { checks: { created: done.created, deleted: done.deleted }, notes: `pipelining: ${style}` })
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
        yield* setMany(warmup)
        first = -1
        const stop = yield* meter
        yield* setMany(count)
        metered = stop()
        const readBack = yield* zk.get(paths.setNode)
        check(last - first === count - 1, `versions advanced by one per set (${first} .. ${last})`)
        check(sameBytes(readBack.data, data), "the node holds the 1 KiB that was set")
        return toResult(spec, metered, { checks: { firstVersion: first, lastVersion: last, readBack: true }, notes: `pipelining: ${style}` })
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
        for (let i = 0; i < warmup; i++) yield* roundTrip
        latencies.length = 0
        const stop = yield* meter
        for (let i = 0; i < count; i++) yield* roundTrip
        metered = stop()
        check(wrongEvents === 0, "every event is NodeDataChanged on the watched path")
        return toResult(spec, metered, { latenciesUs: latencies, checks: { rounds: latencies.length } })
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
        for (let i = 0; i < warmup; i++) yield* list
        latencies.length = 0
        const stop = yield* meter
        for (let i = 0; i < count; i++) yield* list
        metered = stop()
        check(bad === 0, `every getChildren returned ${children} names`)
        return toResult(spec, metered, { latenciesUs: latencies, checks: { children, smokeNames: true } })
      }
    }
  })

/** Runs the spec's workload on effect-zk: connect, smoke check, warm up, time, verify, close. */
export const runEffectZk = (spec: RunSpec, style: Style): Promise<RunResult> =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const sessions: Array<ZooKeeperService> = []
    for (let i = 0; i < spec.sizes.sessions; i++) sessions.push(yield* connect(spec.servers))
    return yield* body(spec, style, sessions)
  })))

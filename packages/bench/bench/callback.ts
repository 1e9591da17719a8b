/**
 * The workloads for the two peer clients, written once on a small callback interface that each
 * peer adapts (client-nzc.ts, client-native.ts): their own callback APIs, with a window of requests in flight.
 * Payloads are Buffers made once, so neither adapter converts per request. Effect-free (see spec.ts).
 */
import { check, heapAfterGc, memoryReport, type Metered, sameBytes, startMeter, toResult, warmUp } from "./measure.ts"
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
  warmSessions
} from "./spec.ts"

/** A callback's error argument: null or undefined on success. */
export type Failure = unknown

/**
 * One session of a peer client. Callbacks follow Node's convention (error first); an adapter
 * passes a library's callback straight through where the shapes already match.
 */
export interface CallbackClient {
  /** Node data can be null on the wire: a library may pass null instead of empty bytes. */
  readonly get: (path: string, cb: (error: Failure, data?: Uint8Array | null) => void) => void
  /** getData leaving a one-shot data watch; `onEvent` gets the event's path and whether it is a data change. */
  readonly getWatch: (
    path: string,
    onEvent: (path: string, dataChanged: boolean) => void,
    cb: (error: Failure, data?: Uint8Array | null) => void
  ) => void
  readonly create: (path: string, data: Uint8Array, cb: (error: Failure, created?: string) => void) => void
  readonly set: (path: string, data: Uint8Array, cb: (error: Failure, stat?: { readonly version: number }) => void) => void
  readonly delete: (path: string, cb: (error: Failure) => void) => void
  /** getChildren2 (names and the parent's Stat); only the names are used. */
  readonly children: (path: string, cb: (error: Failure, names?: ReadonlyArray<string>) => void) => void
  readonly close: () => Promise<void>
}

export type Connect = (servers: string) => Promise<CallbackClient>

const failed = (error: Failure): boolean => error !== null && error !== undefined

const asError = (error: Failure): Error => (error instanceof Error ? error : new Error(String(error)))

/**
 * Sends `count` requests with at most `window` outstanding: `issue(i, done)` sends request `i`,
 * and its reply callback calls `done` (one shared function), which sends the next one.
 */
export const pipeline = (
  count: number,
  window: number,
  issue: (i: number, done: (error: Failure) => void) => void
): Promise<void> =>
  new Promise((resolve, reject) => {
    let next = 0
    let finished = 0
    let stopped = false
    const done = (error: Failure): void => {
      if (stopped) return
      if (failed(error)) {
        stopped = true
        reject(asError(error))
        return
      }
      finished++
      if (finished === count) resolve()
      else if (next < count) issue(next++, done)
    }
    if (count === 0) return resolve()
    const first = Math.min(window, count)
    while (next < first) issue(next++, done)
  })

const call = <A>(f: (cb: (error: Failure, value?: A) => void) => void): Promise<A | undefined> =>
  new Promise((resolve, reject) => f((error, value) => (failed(error) ? reject(asError(error)) : resolve(value))))

/** Connects `n` sessions one after the other. */
const connectAll = async (connect: Connect, servers: string, n: number): Promise<Array<CallbackClient>> => {
  const clients: Array<CallbackClient> = []
  for (let i = 0; i < n; i++) clients.push(await connect(servers))
  return clients
}

/** Pipelined gets of the 100-byte node, checking each reply's length (and counting them). */
const getMany = (client: CallbackClient, count: number, window: number, tally: { replies: number; bad: number }) =>
  pipeline(count, window, (_, done) =>
    client.get(paths.getNode, (error, data) => {
      tally.replies++
      if (data === undefined || data === null || data.length !== getBytes) tally.bad++
      done(error)
    }))

/** Verifies the data a get returns byte for byte, before anything is timed. */
const smokeGet = async (client: CallbackClient): Promise<void> => {
  const data = await call<Uint8Array | null>((cb) => client.get(paths.getNode, cb))
  check(data !== undefined && data !== null && sameBytes(data, pattern(getBytes, 1)), "get returns the 100 bytes the parent wrote")
}

const body = async (spec: RunSpec, clients: ReadonlyArray<CallbackClient>, connect: Connect): Promise<RunResult> => {
  const { count, window, children } = spec.sizes
  const [client, second] = clients
  if (client === undefined) throw new Error("no session")
  let metered: Metered
  switch (spec.workload) {
    case "get-seq": {
      await smokeGet(client)
      const latencies: Array<number> = new Array(count)
      const tally = { replies: 0, bad: 0 }
      const warm = await warmUp(spec.sizes, (n) => getMany(client, n, 1, tally))
      let t0 = 0
      const stop = startMeter()
      await pipeline(count, 1, (i, done) => {
        t0 = performance.now()
        client.get(paths.getNode, (error, data) => {
          latencies[i] = (performance.now() - t0) * 1000
          tally.replies++
          if (data === undefined || data === null || data.length !== getBytes) tally.bad++
          done(error)
        })
      })
      metered = stop()
      check(tally.bad === 0 && tally.replies === warm.ops + count, `every get returned ${getBytes} bytes`)
      return toResult(spec, metered, { latenciesUs: latencies, checks: { replies: tally.replies, smokeBytes: true }, warmup: warm })
    }
    case "get-pipe":
    case "multi-session": {
      await smokeGet(client)
      const tally = { replies: 0, bad: 0 }
      const per = Math.floor(count / clients.length)
      let warmed = 0
      const all = (perSession: number) => Promise.all(clients.map((c) => getMany(c, perSession, window, tally)))
      const warm = await warmUp(spec.sizes, (n) => {
        warmed += Math.floor(n / clients.length) * clients.length
        return all(Math.floor(n / clients.length))
      })
      const stop = startMeter()
      await all(per)
      metered = stop()
      const expected = warmed + per * clients.length
      check(tally.bad === 0 && tally.replies === expected, `every get returned ${getBytes} bytes`)
      return toResult(spec, metered, { checks: { replies: tally.replies, sessions: clients.length, smokeBytes: true }, warmup: warm })
    }
    case "create-pipe": {
      const parent = `${paths.createRoot}/${spec.client}-r${spec.round}`
      const data = Buffer.from(pattern(createBytes, 3))
      // Each run works below a parent of its own, created and removed outside the timed part.
      const createDelete = async (base: string, n: number) => {
        let created = 0
        await pipeline(n, window, (i, done) => {
          const path = `${base}/n${i}`
          client.create(path, data, (error, result) => {
            if (result === path) created++
            done(error)
          })
        })
        let deleted = 0
        await pipeline(n, window, (i, done) =>
          client.delete(`${base}/n${i}`, (error) => {
            deleted++
            done(error)
          }))
        return { created, deleted }
      }
      await call((cb) => client.create(`${parent}-warmup`, new Uint8Array(0), cb))
      const warm = await warmUp(spec.sizes, (n) => createDelete(`${parent}-warmup`, n))
      await call((cb) => client.delete(`${parent}-warmup`, cb))
      await call((cb) => client.create(parent, new Uint8Array(0), cb))
      const stop = startMeter()
      const done = await createDelete(parent, count)
      metered = stop()
      const left = await call<ReadonlyArray<string>>((cb) => client.children(parent, cb))
      check(done.created === count && done.deleted === count, "every create returned its path and every delete succeeded")
      check(left !== undefined && left.length === 0, "no node is left after the deletes")
      await call((cb) => client.delete(parent, cb))
      return toResult(spec, metered, { checks: { created: done.created, deleted: done.deleted }, warmup: warm })
    }
    case "set-pipe": {
      const data = Buffer.from(pattern(setBytes, 5 + spec.round))
      let first = -1
      let last = -1
      const setMany = (n: number) =>
        pipeline(n, window, (_, done) =>
          client.set(paths.setNode, data, (error, stat) => {
            if (stat !== undefined) {
              if (first < 0) first = stat.version
              last = stat.version
            }
            done(error)
          }))
      const warm = await warmUp(spec.sizes, setMany)
      first = -1
      const stop = startMeter()
      await setMany(count)
      metered = stop()
      const readBack = await call<Uint8Array | null>((cb) => client.get(paths.setNode, cb))
      check(last - first === count - 1, `versions advanced by one per set (${first} .. ${last})`)
      check(readBack !== undefined && readBack !== null && sameBytes(readBack, data), "the node holds the 1 KiB that was set")
      return toResult(spec, metered, { checks: { firstVersion: first, lastVersion: last, readBack: true }, warmup: warm })
    }
    case "watch-rtt": {
      if (second === undefined) throw new Error("watch-rtt needs two sessions")
      const data = Buffer.from(pattern(16, spec.round))
      const latencies: Array<number> = []
      let wrongEvents = 0
      const roundTrip = () =>
        new Promise<void>((resolve, reject) => {
          const t0 = performance.now()
          let pending = 2
          const finish = () => {
            if (--pending === 0) {
              latencies.push((performance.now() - t0) * 1000)
              resolve()
            }
          }
          client.getWatch(paths.watchNode, (path, dataChanged) => {
            if (path !== paths.watchNode || !dataChanged) wrongEvents++
            finish()
          }, (error) => {
            if (failed(error)) return reject(asError(error))
            second.set(paths.watchNode, data, (e) => (failed(e) ? reject(asError(e)) : finish()))
          })
        })
      const warm = await warmUp(spec.sizes, async (n) => {
        for (let i = 0; i < n; i++) await roundTrip()
      })
      latencies.length = 0
      const stop = startMeter()
      for (let i = 0; i < count; i++) await roundTrip()
      metered = stop()
      check(wrongEvents === 0, "every event is NodeDataChanged on the watched path")
      return toResult(spec, metered, { latenciesUs: latencies, checks: { rounds: latencies.length }, warmup: warm })
    }
    case "children-big": {
      const expected = Array.from({ length: children }, (_, i) => childName(i))
      const first = await call<ReadonlyArray<string>>((cb) => client.children(paths.bigNode, cb))
      check(first !== undefined && first.length === children, `getChildren returns ${children} names`)
      check([...(first ?? [])].sort().every((name, i) => name === expected[i]), "getChildren returns exactly the names created")
      const latencies: Array<number> = []
      let bad = 0
      const list = async () => {
        const t0 = performance.now()
        const names = await call<ReadonlyArray<string>>((cb) => client.children(paths.bigNode, cb))
        latencies.push((performance.now() - t0) * 1000)
        if (names === undefined || names.length !== children) bad++
      }
      const warm = await warmUp(spec.sizes, async (n) => {
        for (let i = 0; i < n; i++) await list()
      })
      latencies.length = 0
      const stop = startMeter()
      for (let i = 0; i < count; i++) await list()
      metered = stop()
      check(bad === 0, `every getChildren returned ${children} names`)
      return toResult(spec, metered, { latenciesUs: latencies, checks: { children, smokeNames: true }, warmup: warm })
    }
    case "watch-many":
      return watchMany(spec, client)
    case "sessions-many":
      return sessionsMany(spec, client, connect)
  }
}

/** Polls `condition` every 10 ms; fails after `ms`. */
const until = async (condition: () => boolean, ms: number, what: string): Promise<void> => {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`check failed: ${what} within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/**
 * watch-many: `count` one-shot data watches on distinct nodes, set 256 at a time, then held;
 * the client keeps them (nothing else here does). The heap is read after GC before and after.
 * Then the first and the last node are changed, and both watches must fire.
 */
const watchMany = async (spec: RunSpec, client: CallbackClient): Promise<RunResult> => {
  const { count, window } = spec.sizes
  const fired = { count: 0, wrong: 0, bad: 0 }
  const watch = (i: number, done: (error: Failure) => void) =>
    client.getWatch(manyPath(i), (path, dataChanged) => {
      fired.count++
      if (path !== manyPath(i) || !dataChanged) fired.wrong++
    }, (error, data) => {
      if (data === undefined || data === null || data.length > 1) fired.bad++
      done(error)
    })
  const before = heapAfterGc()
  const stop = startMeter()
  await pipeline(count, window, watch)
  const metered = stop()
  const after = heapAfterGc()
  check(fired.bad === 0, "every watched node returned its data (empty, or the byte an earlier run set)")
  const change = new Uint8Array(1)
  await call((cb) => client.set(manyPath(0), change, cb))
  await call((cb) => client.set(manyPath(count - 1), change, cb))
  await until(() => fired.count >= 2, 10_000, "the first and the last watch fired")
  check(fired.count === 2 && fired.wrong === 0, "exactly the two changed nodes' watches fired, as NodeDataChanged")
  return toResult(spec, metered, { checks: { watches: count, fired: fired.count }, memory: memoryReport(count, before, after) })
}

/**
 * sessions-many: `count` sessions held idle in one process, each after one get. A tenth as many
 * are connected first and kept, outside the figure: the first sessions also pay for code being
 * compiled and for one-time set-up, which would be charged to the others. Heap after GC per
 * session; CPU per session connected.
 */
const sessionsMany = async (spec: RunSpec, first: CallbackClient, connect: Connect): Promise<RunResult> => {
  const { count } = spec.sizes
  await smokeGet(first)
  const tally = { replies: 0, bad: 0 }
  const warm = await connectAll(connect, spec.servers, warmSessions(count) - 1)
  try {
    await Promise.all(warm.map((c) => getMany(c, 1, 1, tally)))
    const before = heapAfterGc()
    const stop = startMeter()
    const held = await connectAll(connect, spec.servers, count)
    const metered = stop()
    warm.push(...held)
    await Promise.all(held.map((c) => getMany(c, 1, 1, tally)))
    check(tally.replies === warm.length && tally.bad === 0, `every session's get returned ${getBytes} bytes`)
    const after = heapAfterGc()
    return toResult(spec, metered, {
      checks: { sessions: count, gets: tally.replies },
      memory: memoryReport(count, before, after),
      ops: count
    })
  } finally {
    await Promise.all(warm.map((c) => c.close()))
  }
}

/** Runs the spec's workload on a peer client: connect, smoke check, warm up, time, verify, close. */
export const runCallbackWorkload = async (spec: RunSpec, connect: Connect): Promise<RunResult> => {
  const clients = await connectAll(connect, spec.servers, spec.sizes.sessions)
  try {
    return await body(spec, clients, connect)
  } finally {
    await Promise.all(clients.map((c) => c.close()))
  }
}

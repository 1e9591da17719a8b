/**
 * Every plain-TCP connection of a process reads into the same buffer. These sessions pipeline
 * large replies at the same time, so reads of different connections alternate and frames span
 * several reads; each reply must still hold exactly its own session's bytes.
 */
import { assert, layer } from "@effect/vitest"
import { ZooKeeperServer } from "@effect-zk/server"
import { Effect } from "effect"
import { connectTo, sandbox } from "./utils/TestZooKeeper.ts"

const SESSIONS = 6
const GETS_PER_SESSION = 8
/** Several 64 KiB reads per reply, and below the 1 MiB frame limit. */
const VALUE_BYTES = 300 * 1024

/** Bytes that differ from session to session at every position. */
const valueOf = (session: number): Uint8Array => {
  const out = new Uint8Array(VALUE_BYTES)
  for (let i = 0; i < VALUE_BYTES; i++) out[i] = (i * 7 + session * 31 + (i >> 8)) & 0xff
  return out
}

const firstDifference = (a: Uint8Array, b: Uint8Array): number => {
  if (a.length !== b.length) return Math.min(a.length, b.length)
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i
  return -1
}

layer(ZooKeeperServer.layer(), { timeout: "60 seconds", excludeTestServices: true })("shared read buffer", (it) => {
  it.effect("concurrent sessions reading large distinct values each get their own bytes", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const sessions = yield* Effect.forEach(Array.from({ length: SESSIONS }, (_, i) => i), () => connectTo(servers))
      yield* Effect.forEach(sessions, (zk, i) => zk.create(`/value-${i}`, valueOf(i)), { concurrency: "unbounded" })
      const mismatches = yield* Effect.forEach(
        sessions,
        (zk, i) => {
          const expected = valueOf(i)
          return Effect.forEach(
            Array.from({ length: GETS_PER_SESSION }, (_, n) => n),
            (n) => Effect.map(zk.get(`/value-${i}`), ({ data }) => {
              const at = firstDifference(data, expected)
              return at < 0 ? [] : [`session ${i} get ${n}: first wrong byte at ${at} of ${data.length}`]
            }),
            { concurrency: "unbounded" }
          )
        },
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(mismatches.flat(2), [])
    }))
})


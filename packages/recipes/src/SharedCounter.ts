/**
 * A shared 64-bit counter (Curator's DistributedAtomicLong, kazoo's Counter). The value is
 * stored as 8 bytes, big-endian two's complement: the encoding of Curator's
 * DistributedAtomicLong, so JVM services read and change the same counter. Curator's SharedCount
 * stores 4 bytes; such a value is read correctly, but the first change here widens it to 8
 * bytes, which a SharedCount would then misread.
 *
 * Changes are optimistic: read with the node's version, write at that version, start over on
 * a conflict.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SharedCounter } from "@effect-zk/recipes"
 *
 * const program = Effect.gen(function*() {
 *   const jobs = yield* SharedCounter.make("/counters/jobs")
 *   const next = yield* jobs.increment(1n)
 * })
 * ```
 *
 * @since 0.1.0
 */
import type { ZkError, ZooKeeperService } from "@effect-zk/core"
import { ZooKeeper } from "@effect-zk/core"
import * as ZNodePath from "@effect-zk/core/ZNodePath"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { validate } from "./internal/contend.ts"
import { whileConnecting, withParents } from "./internal/protected.ts"

/**
 * A shared counter at one path.
 *
 * @since 0.1.0
 * @category models
 */
export interface SharedCounter {
  readonly path: string
  /** The current value. */
  readonly get: Effect.Effect<bigint, ZkError>
  /** Adds `delta` (default 1; wraps around at 64 bits) and returns the new value. */
  readonly increment: (delta?: bigint | number) => Effect.Effect<bigint, ZkError>
  /** Sets `next` if the value is `expected` now; whether it did. */
  readonly compareAndSet: (expected: bigint, next: bigint) => Effect.Effect<boolean, ZkError>
  /** The value now, then after every change (rapid changes may be coalesced into the latest). */
  readonly changes: Stream.Stream<bigint, ZkError>
}

/**
 * 8 bytes big-endian; also 4 bytes (Curator's SharedCount); an empty node reads as 0.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (bytes: Uint8Array): bigint => {
  if (bytes.length === 0) return 0n
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.length === 4) return BigInt(view.getInt32(0))
  return bytes.length >= 8 ? view.getBigInt64(0) : 0n
}

/**
 * The 8-byte big-endian two's complement of `value` (wrapped to 64 bits).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (value: bigint): Uint8Array => {
  const bytes = new Uint8Array(8)
  new DataView(bytes.buffer).setBigInt64(0, BigInt.asIntN(64, value))
  return bytes
}

/** Conflicts are retried promptly, and without end: every retry follows someone else's success. */
const conflictPacing = Schedule.min([Schedule.exponential("2 millis", 2), Schedule.spaced("100 millis")]).pipe(Schedule.jittered)

/** Creates the counter's node with 0 if missing. */
const ensure = (zk: ZooKeeperService, path: string): Effect.Effect<void, ZkError> =>
  withParents(zk, ZNodePath.parent(path), whileConnecting(zk.create(path, encode(0n)))).pipe(
    Effect.catchTag("NodeExists", () => Effect.void),
    Effect.asVoid
  )

/**
 * The counter at `path`, created with 0 (and missing parents) when it does not exist.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (path: string): Effect.Effect<SharedCounter, ZkError, ZooKeeper> =>
  Effect.gen(function*() {
    yield* validate("counter", path)
    const zk = yield* ZooKeeper
    yield* ensure(zk, path)
    const read = Effect.map(whileConnecting(zk.get(path)), ({ data, stat }) => ({ value: decode(data), version: stat.version }))
    /** One optimistic attempt: `Some(result)` if written (or nothing to write), `None` on a conflict. */
    const attempt = <A>(f: (value: bigint) => Option.Option<readonly [bigint, A]>, orElse: A) =>
      Effect.gen(function*() {
        const { value, version } = yield* read
        const next = f(value)
        if (Option.isNone(next)) return Option.some(orElse)
        const [written, result] = next.value
        return yield* zk.set(path, encode(written), { version }).pipe(
          Effect.as(Option.some(result)),
          Effect.catchTag("BadVersion", () => Effect.succeedNone)
        )
      })
    const change = <A>(f: (value: bigint) => Option.Option<readonly [bigint, A]>, orElse: A) =>
      attempt(f, orElse).pipe(
        Effect.repeat({ schedule: conflictPacing, until: Option.isSome }),
        Effect.map(Option.getOrElse(() => orElse))
      )
    return {
      path,
      get: Effect.map(read, (r) => r.value),
      increment: (delta = 1n) =>
        change((v) => {
          const next = BigInt.asIntN(64, v + BigInt(delta))
          return Option.some([next, next] as const)
        }, 0n),
      compareAndSet: (expected, next) =>
        change((v) => (v === BigInt.asIntN(64, expected) ? Option.some([next, true] as const) : Option.none()), false),
      changes: zk.watchData(path).pipe(Stream.map((d) => Option.match(d, { onNone: () => 0n, onSome: (n) => decode(n.data) })))
    }
  })

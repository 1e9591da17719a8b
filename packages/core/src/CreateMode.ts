/**
 * Create modes: what kind of znode `create` makes, the wire flag each mode sends and which
 * create opcode it needs (docs/protocol.md#create-modes).
 *
 * @example
 * import { CreateMode } from "@effect-zk/core"
 * yield* zk.create("/lock/n-", "", { mode: CreateMode.EphemeralSequential })
 * yield* zk.create("/cache/x", "v", { mode: CreateMode.PersistentWithTtl, ttl: "60 seconds" })
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import { OpCode } from "./Protocol.ts"

/**
 * The create modes, named as in Java's `CreateMode` (in PascalCase). Each value is its own name.
 *
 * @since 0.1.0
 * @category constants
 */
export const CreateMode = {
  Persistent: "Persistent",
  Ephemeral: "Ephemeral",
  PersistentSequential: "PersistentSequential",
  EphemeralSequential: "EphemeralSequential",
  Container: "Container",
  PersistentWithTtl: "PersistentWithTtl",
  PersistentSequentialWithTtl: "PersistentSequentialWithTtl"
} as const

/**
 * One create mode.
 *
 * @since 0.1.0
 * @category models
 */
export type CreateMode = (typeof CreateMode)[keyof typeof CreateMode]

const flagByMode: { readonly [M in CreateMode]: number } = {
  Persistent: 0,
  Ephemeral: 1,
  PersistentSequential: 2,
  EphemeralSequential: 3,
  Container: 4,
  PersistentWithTtl: 5,
  PersistentSequentialWithTtl: 6
}

const modeByFlag: ReadonlyArray<CreateMode> = [
  CreateMode.Persistent,
  CreateMode.Ephemeral,
  CreateMode.PersistentSequential,
  CreateMode.EphemeralSequential,
  CreateMode.Container,
  CreateMode.PersistentWithTtl,
  CreateMode.PersistentSequentialWithTtl
]

/**
 * The `flags` field sent in the create request, 0..6.
 *
 * @since 0.1.0
 * @category encoding
 */
export const flags = (mode: CreateMode): number => flagByMode[mode]

/**
 * The mode for a wire flag, or `undefined` for an unknown flag.
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromFlags = (flag: number): CreateMode | undefined => modeByFlag[flag]

/**
 * Whether the server appends a 10-digit sequence suffix to the name.
 *
 * @since 0.1.0
 * @category guards
 */
export const isSequential = (mode: CreateMode): boolean =>
  mode === "PersistentSequential" || mode === "EphemeralSequential" || mode === "PersistentSequentialWithTtl"

/**
 * Whether the node is deleted when the session ends.
 *
 * @since 0.1.0
 * @category guards
 */
export const isEphemeral = (mode: CreateMode): boolean => mode === "Ephemeral" || mode === "EphemeralSequential"

/**
 * Whether the mode needs a `ttl` (the node is deleted once unchanged and childless for that long).
 *
 * @since 0.1.0
 * @category guards
 */
export const isTtl = (mode: CreateMode): boolean => mode === "PersistentWithTtl" || mode === "PersistentSequentialWithTtl"

/**
 * Whether the node is a container (deleted by the server once its last child is gone).
 *
 * @since 0.1.0
 * @category guards
 */
export const isContainer = (mode: CreateMode): boolean => mode === "Container"

/**
 * The opcode a mode needs (create opcodes: docs/protocol.md#create-modes): 15 (create2) for modes 0-3, 19 (createContainer) for `Container` and
 * 21 (createTTL) for the TTL modes. Flag 4 through create2 would silently make a plain
 * persistent node, so the opcode matters.
 *
 * @since 0.1.0
 * @category encoding
 */
export const opcodeFor = (
  mode: CreateMode
): typeof OpCode.Create2 | typeof OpCode.CreateContainer | typeof OpCode.CreateTTL =>
  isContainer(mode) ? OpCode.CreateContainer : isTtl(mode) ? OpCode.CreateTTL : OpCode.Create2

/**
 * The largest TTL the server accepts: 2^40 - 1 milliseconds (about 34.8 years).
 *
 * @since 0.1.0
 * @category constants
 */
export const MaxTtl = 2 ** 40 - 1

/**
 * Why a (mode, ttl) pair is invalid, or `undefined` when it is valid: a TTL mode needs an
 * integer `ttl` from 1 to 2^40 - 1 milliseconds, any other mode must not be given one. Raise it
 * as `BadArguments` (the server answers BADARGUMENTS for the same cases).
 *
 * @example
 * ttlError(CreateMode.PersistentWithTtl, undefined) // "mode PersistentWithTtl needs a ttl"
 *
 * @since 0.1.0
 * @category validation
 */
export const ttlError = (mode: CreateMode, ttl: number | bigint | undefined): string | undefined => {
  if (!isTtl(mode)) return ttl === undefined ? undefined : `ttl is only valid with a TTL mode, not ${mode}`
  if (ttl === undefined) return `mode ${mode} needs a ttl`
  const ok = typeof ttl === "bigint"
    ? ttl >= 1n && ttl <= BigInt(MaxTtl)
    : Number.isInteger(ttl) && ttl >= 1 && ttl <= MaxTtl
  return ok ? undefined : `ttl ${ttl} outside 1..${MaxTtl} ms`
}

/**
 * A `ttl` option in milliseconds: a `Duration.Input` ("60 seconds", a `Duration`, or a
 * number of milliseconds as before). An input that is no duration becomes `NaN`, which
 * {@link ttlError} then reports, so the caller has one check for both.
 *
 * @example
 * ttlMillis("1 minute") // 60000
 *
 * @since 0.1.0
 * @category decoding
 */
export const ttlMillis = (ttl: Duration.Input): number => {
  const d = Duration.fromInput(ttl)
  return Option.isSome(d) && Duration.isFinite(d.value) ? Duration.toMillis(d.value) : Number.NaN
}

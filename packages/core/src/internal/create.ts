/**
 * What `create` and a transaction's create op share: the checks of a create's options and its
 * wire record. (The path itself is checked by whoever sends it, with the sequential suffix
 * allowed for sequential modes.)
 *
 * @internal
 */
import type * as Duration from "effect/Duration"
import * as Acl from "../Acl.ts"
import * as CreateModes from "../CreateMode.ts"
import { CreateMode } from "../CreateMode.ts"
import type * as Protocol from "../Protocol.ts"
import { BadArguments, type ZkError } from "../ZkError.ts"

/** The options of a create, as `create` and `Op.create` take them. */
export interface CreateSettings {
  readonly mode?: CreateMode | undefined
  readonly acl?: ReadonlyArray<Acl.Acl> | undefined
  /** Any duration ("60 seconds") or milliseconds, for the TTL modes only. */
  readonly ttl?: Duration.Input | undefined
}

/** The mode a create uses. */
export const modeOf = (settings: CreateSettings | undefined): CreateMode => settings?.mode ?? CreateMode.Persistent

/** The TTL in milliseconds (`NaN` for an input that is no duration), or `undefined`. */
const ttlOf = (settings: CreateSettings | undefined): number | undefined =>
  settings?.ttl === undefined ? undefined : CreateModes.ttlMillis(settings.ttl)

/** Why a create's TTL or ACL cannot be sent, or `undefined`. */
export const settingsError = (op: string, path: string, settings: CreateSettings | undefined): ZkError | undefined => {
  const ttlError = CreateModes.ttlError(modeOf(settings), ttlOf(settings))
  if (ttlError !== undefined) return new BadArguments({ op, path, detail: ttlError })
  return Acl.checkError(op, path, settings?.acl ?? Acl.openUnsafe)
}

/** The wire record of a create (the TTL is sent only with the createTTL opcode). */
export const record = (serverPath: string, data: Uint8Array, settings: CreateSettings | undefined): Protocol.CreateTTLRequest => ({
  path: serverPath,
  data,
  acl: settings?.acl ?? Acl.openUnsafe,
  flags: CreateModes.flags(modeOf(settings)),
  ttl: BigInt(ttlOf(settings) ?? 0)
})

/** Why a version guard cannot be sent (it must be an int32 >= -1), or `undefined`. */
export const versionError = (op: string, path: string, version: number): BadArguments | undefined =>
  Number.isInteger(version) && version >= -1 && version <= 0x7fffffff
    ? undefined
    : new BadArguments({ op, path, detail: `version must be an integer >= -1, got ${version}` })

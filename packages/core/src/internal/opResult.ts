/**
 * The schema of a transaction op's outcome, on its own so that `ZkError` (whose `results` use
 * it) does not import `Op`, which imports `Acl`, which imports `ZkError`.
 *
 * @internal
 */
import * as Schema from "effect/Schema"

const StatSchema = Schema.Struct({
  czxid: Schema.BigInt,
  mzxid: Schema.BigInt,
  ctime: Schema.BigInt,
  mtime: Schema.BigInt,
  version: Schema.Number,
  cversion: Schema.Number,
  aversion: Schema.Number,
  ephemeralOwner: Schema.BigInt,
  dataLength: Schema.Number,
  numChildren: Schema.Number,
  pzxid: Schema.BigInt
})

/** The outcome of one op of a transaction (see `Op.OpResult`). */
export const OpResult = Schema.Union([
  Schema.TaggedStruct("Create", { path: Schema.String }),
  Schema.TaggedStruct("Delete", {}),
  Schema.TaggedStruct("Set", { stat: StatSchema }),
  Schema.TaggedStruct("Check", {}),
  Schema.TaggedStruct("Get", { data: Schema.Uint8Array, stat: StatSchema }),
  Schema.TaggedStruct("Children", { children: Schema.Array(Schema.String) }),
  Schema.TaggedStruct("Error", { code: Schema.Number })
])

/** One op's outcome. */
export type OpResult = typeof OpResult.Type

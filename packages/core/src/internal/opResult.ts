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

/** The outcome of one op of a transaction, with the path it answers (see `Op.OpResult`). */
export const OpResult = Schema.Union([
  Schema.TaggedStruct("Create", { path: Schema.String }),
  Schema.TaggedStruct("Delete", { path: Schema.String }),
  Schema.TaggedStruct("Set", { path: Schema.String, stat: StatSchema }),
  Schema.TaggedStruct("Check", { path: Schema.String }),
  Schema.TaggedStruct("Get", { path: Schema.String, data: Schema.Uint8Array, stat: StatSchema }),
  Schema.TaggedStruct("Children", { path: Schema.String, children: Schema.Array(Schema.String) }),
  Schema.TaggedStruct("Error", { path: Schema.String, code: Schema.Number, error: Schema.String })
])

/** One op's outcome. */
export type OpResult = typeof OpResult.Type

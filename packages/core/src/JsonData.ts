/**
 * Node data as typed values: JSON text on the wire, a `Schema` on each side (Curator's
 * ModeledFramework, without its caching). `zk.getAs` and `zk.setAs` use these; the functions
 * are exported for data read some other way (a `get` with its Stat, a `multiRead`, a watch).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * const Config = Schema.Struct({ url: Schema.String, retries: Schema.Number })
 * yield* zk.setAs("/app/config", { url: "http://x", retries: 3 }, Config)
 * const config = yield* zk.getAs("/app/config", Config)    // { url: "http://x", retries: 3 }
 * // a node that is not JSON, or not a Config, fails with JsonDataError
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Utf8 from "./internal/utf8.ts"

/**
 * A node's data did not match what the caller expects: it is not JSON (`reason: "json"`), or
 * its JSON does not decode with the schema (`reason: "schema"`); or a value to write did not
 * encode (`reason: "encode"`). Not a `ZkError`: the server did nothing wrong, so retry
 * helpers (`ZkError.isRetryable`) never see it, and it is caught by its own tag,
 * `Effect.catchTag("JsonDataError", ...)`. `cause` holds the JSON or Schema error.
 *
 * @since 0.1.0
 * @category errors
 */
export class JsonDataError extends Schema.TaggedError<JsonDataError>()("JsonDataError", {
  op: Schema.String,
  path: Schema.String,
  reason: Schema.Literals(["json", "schema", "encode"]),
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {
  override get message(): string {
    const what = this.reason === "encode" ? "value does not encode" : this.reason === "json" ? "data is not JSON" : "data does not match the schema"
    return `zookeeper: ${this.op} ${JSON.stringify(this.path)}: ${what}: ${this.detail}`
  }
}

/**
 * Node data as text (UTF-8), the way `zk.getText` reads it.
 *
 * @since 0.1.0
 * @category decoding
 */
export const text = (data: Uint8Array): string => Utf8.decode(data, 0, data.length)

/**
 * Decodes node data: UTF-8 text, parsed as JSON, decoded with `schema`. `op` and `path` name
 * where the data came from, for the error.
 *
 * @example
 * ```ts
 * const { data, stat } = yield* zk.get("/app/config")
 * const config = yield* JsonData.decode(Config, data, { op: "get", path: "/app/config" })
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = <A, I>(
  schema: Schema.Codec<A, I>,
  data: Uint8Array,
  where: { readonly op: string; readonly path: string }
): Effect.Effect<A, JsonDataError> =>
  Effect.try({
    try: (): unknown => JSON.parse(text(data)),
    catch: (cause) => new JsonDataError({ ...where, reason: "json", detail: String(cause), cause })
  }).pipe(
    Effect.flatMap((json) =>
      Schema.decodeUnknownEffect(schema)(json).pipe(
        Effect.mapError((cause) => new JsonDataError({ ...where, reason: "schema", detail: cause.message, cause }))
      )
    )
  )

/**
 * Encodes a value with `schema` and writes it as JSON text (UTF-8 bytes).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = <A, I>(
  schema: Schema.Codec<A, I>,
  value: A,
  where: { readonly op: string; readonly path: string }
): Effect.Effect<Uint8Array, JsonDataError> =>
  Schema.encodeEffect(schema)(value).pipe(
    Effect.mapError((cause) => new JsonDataError({ ...where, reason: "encode", detail: cause.message, cause })),
    Effect.flatMap((encoded) =>
      Effect.try({
        try: () => Utf8.encode(JSON.stringify(encoded)),
        catch: (cause) => new JsonDataError({ ...where, reason: "encode", detail: String(cause), cause })
      })
    )
  )

/**
 * Node data as people and scripts see it: text when it is valid UTF-8, otherwise hex or
 * base64; values read from the command line or, binary-safe, from stdin.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { isUtf8 } from "node:buffer"
import { CommandFailed } from "./Failure.ts"

/**
 * How `zk get` shows data. `text` decodes UTF-8 (invalid bytes become U+FFFD), `json`
 * pretty-prints data that holds a JSON document.
 *
 * @since 0.1.0
 * @category models
 */
export type Format = "text" | "hex" | "base64" | "json"

/**
 * The names `--json` output uses for how `data` is encoded.
 *
 * @since 0.1.0
 * @category models
 */
export type Encoding = "utf8" | "hex" | "base64"

/**
 * Whether bytes are valid UTF-8 (and so can be shown as text without loss).
 *
 * @since 0.1.0
 * @category guards
 */
export const isText = (bytes: Uint8Array): boolean => isUtf8(bytes)

/**
 * Bytes in an encoding.
 *
 * @example
 * ```ts
 * encode(new Uint8Array([0, 255]), "hex") // "00ff"
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (bytes: Uint8Array, encoding: Encoding): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(encoding)

/**
 * Bytes from an encoding; `undefined` when the text is not valid in it (Node's own decoders
 * silently skip bad characters, which would corrupt an import).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (text: string, encoding: Encoding): Uint8Array | undefined => {
  if (encoding === "base64" && !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined
  if (encoding === "hex" && !/^([0-9a-fA-F]{2})*$/.test(text)) return undefined
  return new Uint8Array(Buffer.from(text, encoding))
}

/**
 * The encoding `--json` uses for data when no format is asked for: UTF-8 text when it is
 * valid, base64 otherwise.
 *
 * @since 0.1.0
 * @category encoding
 */
export const naturalEncoding = (bytes: Uint8Array): Encoding => (isText(bytes) ? "utf8" : "base64")

/**
 * Everything on stdin as bytes, exactly (no decoding, no newline handling).
 *
 * @since 0.1.0
 * @category decoding
 */
export const readStdin: Effect.Effect<Uint8Array> = Effect.callback<Uint8Array>((resume) => {
  const chunks: Array<Buffer> = []
  const onData = (chunk: Buffer) => chunks.push(chunk)
  const onEnd = () => resume(Effect.succeed(new Uint8Array(Buffer.concat(chunks))))
  process.stdin.on("data", onData)
  process.stdin.once("end", onEnd)
  return Effect.sync(() => {
    process.stdin.off("data", onData)
    process.stdin.off("end", onEnd)
    process.stdin.pause()
  })
})

/**
 * A `VALUE|-` argument as bytes: `-` reads stdin, anything else is the value's UTF-8. A
 * missing value is empty data.
 *
 * @since 0.1.0
 * @category decoding
 */
export const valueArgument = (value: string | undefined): Effect.Effect<Uint8Array> =>
  value === undefined ? Effect.succeed(new Uint8Array(0)) : value === "-" ? readStdin : Effect.succeed(new TextEncoder().encode(value))

/**
 * Data for display: as text when valid UTF-8 (or asked for), else hex or base64; `json`
 * pretty-prints a JSON document and refuses data that is not one.
 *
 * @since 0.1.0
 * @category encoding
 */
export const show = (path: string, bytes: Uint8Array, format: Format): Effect.Effect<string, CommandFailed> => {
  switch (format) {
    case "text":
      return Effect.succeed(new TextDecoder().decode(bytes))
    case "hex":
    case "base64":
      return Effect.succeed(encode(bytes, format))
    case "json":
      return Effect.try({
        try: () => JSON.stringify(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)), null, 2),
        catch: () => new CommandFailed({ command: "get", subject: path, detail: "the data is not a JSON document" })
      })
  }
}

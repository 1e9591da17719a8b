/**
 * ZooKeeper's four-letter words (`srvr`, `mntr`, `cons`, ...) for `zk server`: sent on a
 * connection of their own (TLS with `--tls`), answered as text, then parsed into rows.
 *
 * The answers come in a few shapes, and the parser goes by shape rather than by word, so
 * words added to later servers still print as a table: `Key: value` lines (`srvr`, `stat`),
 * tab-separated `key value` lines (`mntr`), `key=value` lines (`conf`, `envi`), and connection
 * lines (`cons`, the clients of `stat`). Anything else is shown as the server wrote it.
 *
 * @since 0.1.0
 */
import type { TlsOptions } from "@effect-zk/node/NodeTransport"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Net from "node:net"
import * as Tls from "node:tls"
import { CommandFailed } from "./Failure.ts"

/**
 * A parsed answer.
 *
 * @since 0.1.0
 * @category models
 */
export type Answer =
  | { readonly _tag: "Values"; readonly values: ReadonlyArray<readonly [string, string]>; readonly connections: ReadonlyArray<Connection> }
  | { readonly _tag: "Connections"; readonly connections: ReadonlyArray<Connection> }
  | { readonly _tag: "Text"; readonly text: string }

/**
 * One client connection of `cons` or `stat`: its address and its `key=value` fields.
 *
 * @since 0.1.0
 * @category models
 */
export interface Connection {
  readonly address: string
  readonly fields: ReadonlyArray<readonly [string, string]>
}

const connectionLine = /^\s*\/?(\S+?)\[\d+\]\((.*)\)\s*$/

const parseConnection = (line: string): Connection | undefined => {
  const match = connectionLine.exec(line)
  if (match === null) return undefined
  const fields = (match[2] ?? "").split(",").flatMap((part): Array<readonly [string, string]> => {
    const at = part.indexOf("=")
    return at > 0 ? [[part.slice(0, at), part.slice(at + 1)]] : []
  })
  return { address: match[1] ?? "", fields }
}

const keyValue = (line: string): readonly [string, string] | undefined => {
  for (const separator of ["\t", ": ", "="]) {
    const at = line.indexOf(separator)
    if (at > 0) return [line.slice(0, at).trim(), line.slice(at + separator.length).trim()]
  }
  return undefined
}

/**
 * Parses an answer by its shape.
 *
 * @example
 * ```ts
 * parse("zk_version\t3.8.0\nzk_avg_latency\t0\n")
 * // { _tag: "Values", values: [["zk_version", "3.8.0"], ["zk_avg_latency", "0"]], connections: [] }
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const parse = (text: string): Answer => {
  const lines = text.split("\n").filter((l) => l.trim() !== "")
  const connections: Array<Connection> = []
  const values: Array<readonly [string, string]> = []
  let other = 0
  for (const line of lines) {
    const connection = parseConnection(line)
    if (connection !== undefined) {
      connections.push(connection)
      continue
    }
    // Section headings ("Clients:", "Environment:") carry no value of their own.
    if (/^[A-Za-z ]+:$/.test(line.trim())) continue
    const kv = keyValue(line)
    if (kv === undefined) other++
    else values.push(kv)
  }
  if (lines.length === 0 || other > 0) return { _tag: "Text", text }
  if (values.length === 0) return { _tag: "Connections", connections }
  return { _tag: "Values", values, connections }
}

/**
 * Sends a word to one server and returns its answer; the server closes the connection when
 * it is done.
 *
 * @since 0.1.0
 * @category constructors
 */
export const send = (
  address: { readonly host: string; readonly port: number },
  word: string,
  options: { readonly timeout: Duration.Duration; readonly tls: TlsOptions | undefined }
): Effect.Effect<string, CommandFailed> =>
  Effect.callback<string, CommandFailed>((resume) => {
    const where = `${address.host}:${address.port}`
    const fail = (detail: string) => resume(Effect.fail(new CommandFailed({ command: `server ${word}`, subject: where, detail })))
    const chunks: Array<Buffer> = []
    const tls = options.tls
    const socket = tls === undefined
      ? Net.connect({ host: address.host, port: address.port })
      : Tls.connect({ host: address.host, port: address.port, ...(tls.ca === undefined ? {} : { ca: tlsText(tls.ca) }), ...(tls.cert === undefined ? {} : { cert: tlsText(tls.cert) }), ...(tls.key === undefined ? {} : { key: tlsText(tls.key) }), ...(Net.isIP(address.host) ? {} : { servername: address.host }) })
    socket.setTimeout(Duration.toMillis(options.timeout), () => {
      socket.destroy()
      fail(`no answer within ${Duration.format(options.timeout)}`)
    })
    socket.once(tls === undefined ? "connect" : "secureConnect", () => socket.write(word))
    socket.on("data", (chunk: Buffer) => chunks.push(chunk))
    socket.once("end", () => {
      const text = Buffer.concat(chunks).toString("utf8")
      if (text === "") fail("the server closed the connection without answering (is the word allowed by 4lw.commands.whitelist?)")
      else if (text.includes("is not executed because it is not in the whitelist")) fail(text.trim())
      else resume(Effect.succeed(text))
    })
    socket.once("error", (error) => fail(error.message))
    return Effect.sync(() => socket.destroy())
  })

const tlsText = (value: string | Uint8Array | ReadonlyArray<string | Uint8Array>): string | Buffer | Array<string | Buffer> =>
  typeof value === "string" ? value : value instanceof Uint8Array ? Buffer.from(value) : value.map((v) => (typeof v === "string" ? v : Buffer.from(v)))

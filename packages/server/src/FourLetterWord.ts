/**
 * ZooKeeper's four-letter words over plain TCP, with parsed answers.
 *
 * A word is sent on a fresh connection; the server answers and closes it. Probes use a short
 * timeout because a probe that arrives while the server is still binding can hang for a second.
 *
 * Readiness: `ruok` answers `imok` as soon as the socket accepts, before the database is loaded;
 * only `srvr` (or `mntr`) showing a mode means the server serves requests. While it does not,
 * `srvr`, `stat` and `mntr` answer "This ZooKeeper instance is not currently serving requests",
 * which the parsers here turn into `Option.none()`.
 *
 * This module does not speak TLS (4lw over the secure port needs a TLS socket).
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as net from "node:net"
import { FourLetterWordError } from "./ServerError.ts"

/**
 * Where to send a word: a port on 127.0.0.1, or "host:port".
 *
 * @since 0.1.0
 * @category models
 */
export type Target = number | string

/**
 * Options of {@link send}.
 *
 * @since 0.1.0
 * @category models
 */
export interface SendOptions {
  /** Per-probe timeout, default 2 seconds. */
  readonly timeout?: Duration.Input | undefined
}

const NOT_SERVING = "not currently serving requests"

const splitTarget = (target: Target): { readonly host: string; readonly port: number; readonly address: string } => {
  if (typeof target === "number") return { host: "127.0.0.1", port: target, address: `127.0.0.1:${target}` }
  const at = target.lastIndexOf(":")
  const host = at < 0 ? "127.0.0.1" : target.slice(0, at).replace(/^\[(.*)\]$/, "$1")
  const port = Number(at < 0 ? target : target.slice(at + 1))
  return { host: host === "" ? "127.0.0.1" : host, port, address: target }
}

/**
 * Sends a word and returns the raw answer.
 *
 * @example
 * import { FourLetterWord } from "@effect-zk/server"
 * const text = yield* FourLetterWord.send(2181, "envi")
 *
 * @since 0.1.0
 * @category transport
 */
export const send = (target: Target, word: string, options: SendOptions = {}): Effect.Effect<string, FourLetterWordError> => {
  const { host, port, address } = splitTarget(target)
  const timeoutMillis = Duration.toMillis(options.timeout ?? "2 seconds")
  const fail = (reason: FourLetterWordError["reason"], detail: string) =>
    Effect.fail(new FourLetterWordError({ address, word, reason, detail }))
  if (!Number.isInteger(port) || port < 1 || port > 65535) return fail("Socket", `invalid port in ${JSON.stringify(address)}`)
  return Effect.callback<string, FourLetterWordError>((resume) => {
    const chunks: Array<Buffer> = []
    let done = false
    const socket = net.connect({ host, port })
    const finish = (effect: Effect.Effect<string, FourLetterWordError>) => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resume(effect)
    }
    const timer = setTimeout(() => finish(fail("Timeout", `no complete answer within ${timeoutMillis} ms`)), timeoutMillis)
    // The server answers and then closes; half-closing our side first is not needed.
    socket.once("connect", () => socket.write(word))
    socket.on("data", (chunk: Buffer) => chunks.push(chunk))
    socket.once("end", () => {
      const text = Buffer.concat(chunks).toString("utf8")
      if (text === "") {
        finish(fail("EmptyReply", "the server closed the connection without answering (too many connections from this IP?)"))
      } else if (text.includes("is not executed because it is not in the whitelist")) {
        finish(fail("NotWhitelisted", text.trim()))
      } else {
        finish(Effect.succeed(text))
      }
    })
    socket.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNREFUSED") finish(fail("Refused", `nothing listens on ${address}`))
      // A reset after a complete answer still carries that answer.
      else if (chunks.length > 0) finish(Effect.succeed(Buffer.concat(chunks).toString("utf8")))
      else finish(fail("Socket", error.message))
    })
    return Effect.sync(() => {
      done = true
      clearTimeout(timer)
      socket.destroy()
    })
  })
}

// ---------------------------------------------------------------------------------------------
// Models

/**
 * The role a serving server reports (`read-only` when `readonlymode.enabled` and no quorum).
 *
 * @since 0.1.0
 * @category models
 */
export type Mode = "standalone" | "leader" | "follower" | "observer" | "read-only" | (string & {})

/**
 * The answer of `srvr` (and the common part of `stat`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerStats {
  /** The `Zookeeper version:` line, e.g. "3.8.0-...". */
  readonly version: string
  /** standalone, leader, follower, observer or read-only. */
  readonly mode: Mode
  /** Request latency in milliseconds since the last `srst`. */
  readonly latency: { readonly min: number; readonly avg: number; readonly max: number }
  /** Packets received. */
  readonly received: number
  /** Packets sent. */
  readonly sent: number
  /** Open client connections. */
  readonly connections: number
  /** Requests queued but not yet answered. */
  readonly outstanding: number
  /** The last zxid as a bigint (high 32 bits: epoch, low 32 bits: counter). */
  readonly zxid: bigint
  /** Number of znodes. */
  readonly nodeCount: number
}

/**
 * One client connection, as listed by `cons` and `stat`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientConnection {
  /** "127.0.0.1:54312" */
  readonly address: string
  /** The session id ("0x1000...") once the connection has a session. */
  readonly sessionId: Option.Option<string>
  /** The negotiated session timeout in ms (`to=`), once there is a session. */
  readonly timeout: Option.Option<number>
  /** Every `key=value` of the line, unparsed. */
  readonly fields: ReadonlyMap<string, string>
}

/**
 * The answer of `stat`: server stats and its clients.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stat {
  /** The same figures as `srvr`. */
  readonly stats: ServerStats
  /** The client connections listed before them. */
  readonly clients: ReadonlyArray<ClientConnection>
}

/**
 * The answer of `mntr`: every `zk_*` value, plus the ones tests need most, parsed.
 *
 * @since 0.1.0
 * @category models
 */
export interface Monitor {
  /** `zk_server_state`. */
  readonly serverState: Mode
  /** `zk_znode_count`. */
  readonly znodeCount: number
  /** `zk_watch_count`: watches, summed over connections. */
  readonly watchCount: number
  /** `zk_ephemerals_count`. */
  readonly ephemeralsCount: number
  /** `zk_num_alive_connections`. */
  readonly aliveConnections: number
  /** `zk_outstanding_requests`. */
  readonly outstandingRequests: number
  /** `zk_approximate_data_size`, in bytes. */
  readonly approximateDataSize: number
  /** Leader only: connected followers and observers (`zk_learners`, `zk_followers` before 3.6). */
  readonly followers: Option.Option<number>
  /** Leader only: voting followers in sync. */
  readonly syncedFollowers: Option.Option<number>
  /** Every `zk_*` line, by key, as text. */
  readonly values: ReadonlyMap<string, string>
}

/**
 * The answer of `wchs`.
 *
 * @since 0.1.0
 * @category models
 */
export interface WatchSummary {
  /** Connections that hold at least one watch. */
  readonly connections: number
  /** Distinct watched paths. */
  readonly paths: number
  /** Watches in total. */
  readonly totalWatches: number
}

// ---------------------------------------------------------------------------------------------
// Parsers (pure; exported for tests and for callers that fetched the text themselves)

const isNotServing = (text: string): boolean => text.includes(NOT_SERVING)

const num = (value: string | undefined): number => {
  const n = Number(value)
  return value === undefined || value.trim() === "" || !Number.isFinite(n) ? Number.NaN : n
}

const keyValueLines = (text: string, separator: string): Map<string, string> => {
  const out = new Map<string, string>()
  for (const line of text.split("\n")) {
    const at = line.indexOf(separator)
    if (at > 0) out.set(line.slice(0, at).trim(), line.slice(at + separator.length).trim())
  }
  return out
}

const parseZxid = (value: string | undefined): bigint | undefined => {
  if (value === undefined || !/^(0x[0-9a-fA-F]+|\d+)$/.test(value)) return undefined
  return BigInt(value)
}

/**
 * Parses a `srvr` answer; `None` when the server is not serving, or the text has no `Mode:`.
 *
 * @since 0.1.0
 * @category parsers
 */
export const parseSrvr = (text: string): Option.Option<ServerStats> => {
  if (isNotServing(text)) return Option.none()
  const kv = keyValueLines(text, ": ")
  const mode = kv.get("Mode")
  if (mode === undefined) return Option.none()
  const [min, avg, max] = (kv.get("Latency min/avg/max") ?? "").split("/").map((v) => num(v))
  return Option.some({
    version: kv.get("Zookeeper version") ?? "",
    mode,
    latency: { min: min ?? Number.NaN, avg: avg ?? Number.NaN, max: max ?? Number.NaN },
    received: num(kv.get("Received")),
    sent: num(kv.get("Sent")),
    connections: num(kv.get("Connections")),
    outstanding: num(kv.get("Outstanding")),
    zxid: parseZxid(kv.get("Zxid")) ?? -1n,
    nodeCount: num(kv.get("Node count"))
  })
}

/**
 * Parses one line of `cons`/`stat`, e.g.
 * ` /127.0.0.1:54312[1](queued=0,recved=3,sent=3,sid=0x100..,lop=PING,est=..,to=30000,...)`.
 *
 * @since 0.1.0
 * @category parsers
 */
export const parseConnectionLine = (line: string): Option.Option<ClientConnection> => {
  const match = /^\s*\/?(.+?)\[\d+\]\((.*)\)\s*$/.exec(line)
  if (match === null || match[1] === undefined || match[2] === undefined) return Option.none()
  const fields = new Map<string, string>()
  for (const part of match[2].split(",")) {
    const at = part.indexOf("=")
    if (at > 0) fields.set(part.slice(0, at), part.slice(at + 1))
  }
  const to = fields.get("to")
  return Option.some({
    address: match[1],
    sessionId: Option.fromNullishOr(fields.get("sid")),
    timeout: to === undefined || !Number.isFinite(Number(to)) ? Option.none() : Option.some(Number(to)),
    fields
  })
}

/**
 * Parses a `cons` answer: one entry per connection, including the probe's own connection.
 *
 * @since 0.1.0
 * @category parsers
 */
export const parseCons = (text: string): ReadonlyArray<ClientConnection> =>
  text.split("\n").flatMap((line) => Option.toArray(parseConnectionLine(line)))

/**
 * Parses a `wchc` answer: for each session (hex id, e.g. `0x1000a2b3c4d0000`), the server
 * paths it watches. One-shot and persistent watches are listed alike.
 *
 * @example
 * ```ts
 * parseWchc("0x1000a2b3c4d0000\n\t/app/config\n")
 * // Map { "0x1000a2b3c4d0000" => ["/app/config"] }
 * ```
 *
 * @since 0.1.0
 * @category parsers
 */
export const parseWchc = (text: string): ReadonlyMap<string, ReadonlyArray<string>> => {
  const out = new Map<string, Array<string>>()
  let paths: Array<string> | undefined
  for (const line of text.split("\n")) {
    if (line.startsWith("\t")) {
      paths?.push(line.slice(1).trimEnd())
    } else if (/^0x[0-9a-fA-F]+$/.test(line.trim())) {
      paths = []
      out.set(line.trim().toLowerCase(), paths)
    }
  }
  return out
}

/**
 * Parses a `stat` answer; `None` when the server is not serving.
 *
 * @since 0.1.0
 * @category parsers
 */
export const parseStat = (text: string): Option.Option<Stat> => {
  if (isNotServing(text)) return Option.none()
  const clientsAt = text.indexOf("Clients:")
  const blankAt = clientsAt < 0 ? -1 : text.indexOf("\n\n", clientsAt)
  const clientsText = clientsAt < 0 ? "" : text.slice(clientsAt + "Clients:".length, blankAt < 0 ? undefined : blankAt)
  const rest = clientsAt < 0 ? text : text.slice(0, clientsAt) + (blankAt < 0 ? "" : text.slice(blankAt))
  return Option.map(parseSrvr(rest), (stats) => ({ stats, clients: parseCons(clientsText) }))
}

/**
 * Parses a `mntr` answer; `None` when the server is not serving.
 *
 * @since 0.1.0
 * @category parsers
 */
export const parseMntr = (text: string): Option.Option<Monitor> => {
  if (isNotServing(text)) return Option.none()
  const values = keyValueLines(text, "\t")
  const state = values.get("zk_server_state")
  if (state === undefined) return Option.none()
  const optional = (key: string) => {
    const v = values.get(key)
    return v === undefined ? Option.none<number>() : Option.some(num(v))
  }
  return Option.some({
    serverState: state,
    znodeCount: num(values.get("zk_znode_count")),
    watchCount: num(values.get("zk_watch_count")),
    ephemeralsCount: num(values.get("zk_ephemerals_count")),
    aliveConnections: num(values.get("zk_num_alive_connections")),
    outstandingRequests: num(values.get("zk_outstanding_requests")),
    approximateDataSize: num(values.get("zk_approximate_data_size")),
    followers: Option.orElse(optional("zk_learners"), () => optional("zk_followers")),
    syncedFollowers: optional("zk_synced_followers"),
    values
  })
}

/**
 * Parses a `wchs` answer ("2 connections watching 3 paths\nTotal watches:4").
 *
 * @since 0.1.0
 * @category parsers
 */
export const parseWchs = (text: string): Option.Option<WatchSummary> => {
  const head = /(\d+) connections watching (\d+) paths/.exec(text)
  const total = /Total watches:\s*(\d+)/.exec(text)
  if (head === null || total === null) return Option.none()
  return Option.some({ connections: num(head[1]), paths: num(head[2]), totalWatches: num(total[1]) })
}

// ---------------------------------------------------------------------------------------------
// Words with parsed answers

const parsed = <A>(target: Target, word: string, options: SendOptions | undefined, parse: (text: string) => A) =>
  Effect.map(send(target, word, options), parse)

/**
 * `ruok`: true when the server answers `imok`. Only means the socket is accepting; use
 * {@link srvr} to know whether it serves requests.
 *
 * @since 0.1.0
 * @category words
 */
export const ruok = (target: Target, options?: SendOptions): Effect.Effect<boolean, FourLetterWordError> =>
  parsed(target, "ruok", options, (text) => text.trim() === "imok")

/**
 * `srvr`: server stats, `None` while the server does not serve requests.
 *
 * @example
 * import { FourLetterWord } from "@effect-zk/server"
 * const stats = yield* FourLetterWord.srvr(2181)   // Option.some({ mode: "standalone", nodeCount: 5, ... })
 *
 * @since 0.1.0
 * @category words
 */
export const srvr = (target: Target, options?: SendOptions): Effect.Effect<Option.Option<ServerStats>, FourLetterWordError> =>
  parsed(target, "srvr", options, parseSrvr)

/**
 * `stat`: server stats and client connections, `None` while not serving.
 *
 * @since 0.1.0
 * @category words
 */
export const stat = (target: Target, options?: SendOptions): Effect.Effect<Option.Option<Stat>, FourLetterWordError> =>
  parsed(target, "stat", options, parseStat)

/**
 * `mntr`: monitoring values (`zk_znode_count`, `zk_server_state`, ...), `None` while not serving.
 *
 * @since 0.1.0
 * @category words
 */
export const mntr = (target: Target, options?: SendOptions): Effect.Effect<Option.Option<Monitor>, FourLetterWordError> =>
  parsed(target, "mntr", options, parseMntr)

/**
 * `cons`: the open client connections with their session ids and negotiated timeouts.
 *
 * @since 0.1.0
 * @category words
 */
export const cons = (target: Target, options?: SendOptions): Effect.Effect<ReadonlyArray<ClientConnection>, FourLetterWordError> =>
  parsed(target, "cons", options, parseCons)

/**
 * `wchs`: how many watches are set.
 *
 * @since 0.1.0
 * @category words
 */
export const wchs = (target: Target, options?: SendOptions): Effect.Effect<WatchSummary, FourLetterWordError> => {
  const { address } = splitTarget(target)
  return Effect.flatMap(send(target, "wchs", options), (text) =>
    Option.match(parseWchs(text), {
      onNone: () => Effect.fail(new FourLetterWordError({ address, word: "wchs", reason: "Unparsable", detail: text.trim() })),
      onSome: Effect.succeed
    }))
}

/**
 * `wchc`: the paths each session watches, by session id in hex (see {@link parseWchc}).
 * Useful to know that a watch is in place on the server before making the change it waits for.
 *
 * @since 0.1.0
 * @category words
 */
export const wchc = (target: Target, options?: SendOptions): Effect.Effect<ReadonlyMap<string, ReadonlyArray<string>>, FourLetterWordError> =>
  parsed(target, "wchc", options, parseWchc)

/**
 * `isro`: true when the server runs in read-only mode (`ro`), false when read-write (`rw`).
 *
 * @since 0.1.0
 * @category words
 */
export const isro = (target: Target, options?: SendOptions): Effect.Effect<boolean, FourLetterWordError> =>
  parsed(target, "isro", options, (text) => text.trim() === "ro")

/**
 * Connect strings such as `"zk1:2181,zk2:2181,[::1]:2182/app"`: a comma-separated host list with
 * an optional chroot suffix (everything from the first `/`), as Java's `ConnectStringParser`
 * reads them, but strict: every mistake is a `BadArguments` failure that says what is wrong.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Result from "effect/Result"
import { BadArguments } from "./ZkError.ts"
import * as ZNodePath from "./ZNodePath.ts"

/**
 * The port used when an entry has none.
 *
 * @since 0.1.0
 * @category constants
 */
export const DefaultPort = 2181

/**
 * One server address. An IPv6 host is kept without its brackets (`::1`).
 *
 * @since 0.1.0
 * @category models
 */
export interface HostPort {
  readonly host: string
  readonly port: number
}

/**
 * A parsed connect string. `chroot` is `undefined` when there is none (a chroot of `/` is none).
 *
 * @since 0.1.0
 * @category models
 */
export interface ConnectString {
  readonly hosts: ReadonlyArray<HostPort>
  readonly chroot: string | undefined
}

const parsePort = (text: string, entry: string): Result.Result<number, string> => {
  if (!/^\d{1,5}$/.test(text)) return Result.fail(`invalid port "${text}" in "${entry}": expected a number from 1 to 65535`)
  const port = Number(text)
  return port >= 1 && port <= 65535
    ? Result.succeed(port)
    : Result.fail(`invalid port "${text}" in "${entry}": expected a number from 1 to 65535`)
}

const parseEntry = (entry: string, index: number): Result.Result<HostPort, string> => {
  if (entry.length === 0) return Result.fail(`empty host at position ${index + 1}`)
  let host: string
  let portText: string | undefined
  if (entry.startsWith("[")) {
    const close = entry.indexOf("]")
    if (close < 0) return Result.fail(`unclosed "[" in "${entry}"`)
    host = entry.slice(1, close)
    const rest = entry.slice(close + 1)
    if (rest.length > 0) {
      if (!rest.startsWith(":")) return Result.fail(`unexpected "${rest}" after "]" in "${entry}"`)
      portText = rest.slice(1)
    }
    if (host.length === 0) return Result.fail(`empty host at position ${index + 1}`)
  } else {
    const colon = entry.indexOf(":")
    if (colon >= 0 && entry.indexOf(":", colon + 1) >= 0) {
      return Result.fail(`"${entry}" looks like an IPv6 address: write it in brackets, e.g. "[::1]:2181"`)
    }
    host = colon < 0 ? entry : entry.slice(0, colon)
    portText = colon < 0 ? undefined : entry.slice(colon + 1)
    if (host.length === 0) return Result.fail(`empty host in "${entry}" at position ${index + 1}`)
  }
  if (/[\s,/[\]]/.test(host)) return Result.fail(`invalid host "${host}" in "${entry}"`)
  if (portText === undefined) return Result.succeed({ host, port: DefaultPort })
  return Result.map(parsePort(portText, entry), (port) => ({ host, port }))
}

/**
 * Parses a connect string without effects: the hosts (port 2181 when omitted, whitespace around
 * entries ignored) and the chroot, or the reason it is invalid.
 *
 * @since 0.1.0
 * @category decoding
 */
export const parseResult = (s: string): Result.Result<ConnectString, string> => {
  const text = s.trim()
  if (text.length === 0) return Result.fail("connect string is empty")
  const slash = text.indexOf("/")
  const hostPart = slash < 0 ? text : text.slice(0, slash)
  let chroot: string | undefined
  if (slash >= 0) {
    const raw = text.slice(slash)
    const reason = ZNodePath.validationError(raw)
    if (reason !== undefined) return Result.fail(`invalid chroot "${raw}": ${reason}`)
    chroot = raw === "/" ? undefined : raw
  }
  if (hostPart.trim().length === 0) return Result.fail(`no hosts before the chroot in "${text}"`)
  const hosts: Array<HostPort> = []
  const entries = hostPart.split(",")
  for (let i = 0; i < entries.length; i++) {
    const parsed = parseEntry((entries[i] ?? "").trim(), i)
    if (Result.isFailure(parsed)) return Result.fail(parsed.failure)
    hosts.push(parsed.success)
  }
  return Result.succeed({ hosts, chroot })
}

/**
 * Parses a connect string: `"h1:2181,h2/app"` gives two hosts (`h2` on the default port 2181)
 * and the chroot `/app`. An empty string, an empty host, a bad port (not a number, 0, above
 * 65535), an unbracketed IPv6 address or an invalid chroot fails with `BadArguments` (op
 * `connect`, `detail` saying what is wrong).
 *
 * @example
 * const { hosts, chroot } = yield* ConnectString.parse("[::1]:2181,zk2/app")
 * // hosts: [{ host: "::1", port: 2181 }, { host: "zk2", port: 2181 }], chroot: "/app"
 *
 * @since 0.1.0
 * @category decoding
 */
export const parse = (s: string): Effect.Effect<ConnectString, BadArguments> =>
  Result.match(parseResult(s), {
    onSuccess: (cs) => Effect.succeed(cs),
    onFailure: (detail) => Effect.fail(new BadArguments({ op: "connect", detail }))
  })

/**
 * One server as `host:port`, an IPv6 host in brackets: how sessions name the server they talk
 * to, in events, logs and errors.
 *
 * @example
 * formatHost({ host: "::1", port: 2181 }) // "[::1]:2181"
 *
 * @since 0.1.0
 * @category encoding
 */
export const formatHost = ({ host, port }: HostPort): string => `${host.includes(":") ? `[${host}]` : host}:${port}`

/**
 * Writes hosts and an optional chroot back as a connect string (IPv6 hosts in brackets, ports
 * always written): the inverse of {@link parse}.
 *
 * @example
 * format([{ host: "::1", port: 2181 }], "/app") // "[::1]:2181/app"
 *
 * @since 0.1.0
 * @category encoding
 */
export const format = (hosts: ReadonlyArray<HostPort>, chroot?: string): string =>
  hosts.map(formatHost).join(",") + (chroot === undefined || chroot === "/" ? "" : chroot)

/**
 * A uniformly shuffled copy using the given random source, which returns numbers in
 * [0, 1) like `Math.random`. Clients shuffle hosts so that sessions spread over the ensemble.
 *
 * @since 0.1.0
 * @category combinators
 */
export const shuffle = <A>(items: ReadonlyArray<A>, random: () => number): Array<A> => {
  // Draw without replacement: uniform like Fisher–Yates, and host lists are tiny.
  const rest = items.slice()
  const out: Array<A> = []
  while (rest.length > 0) {
    const j = Math.min(rest.length - 1, Math.floor(random() * rest.length))
    out.push(...rest.splice(j, 1))
  }
  return out
}

/**
 * A shuffled copy drawn from Effect's `Random` service, so tests can seed it
 * (`Random.withSeed`).
 *
 * @since 0.1.0
 * @category combinators
 */
export const shuffled = <A>(items: ReadonlyArray<A>): Effect.Effect<Array<A>> =>
  Effect.gen(function*() {
    const random = yield* Random.Random
    return shuffle(items, () => random.nextDoubleUnsafe())
  })

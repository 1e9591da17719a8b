/**
 * How `zk` reaches ZooKeeper: the global connection flags, checked before connecting, and the
 * one session of an invocation.
 *
 * The server comes from `--server/-s`, else `ZK_SERVERS`, else `127.0.0.1:2181`; a chroot in
 * the connect string (`host:2181/app`) makes every path relative to it. Credentials given
 * with `--auth` are kept `Redacted`, so no error or log line can print them.
 *
 * A command asks for the session with {@link session}; outside the shell that opens one in
 * the command's scope (closed before `zk` exits), inside `zk shell` it is the shell's.
 *
 * @since 0.1.0
 */
import * as ConnectString from "@effect-zk/core/ConnectString"
import type { ZooKeeperService } from "@effect-zk/core/ZooKeeper"
import * as NodeZooKeeper from "@effect-zk/node/NodeZooKeeper"
import type { TlsOptions } from "@effect-zk/node/NodeTransport"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { Flag, GlobalFlag } from "effect/cli"
import { readFileSync } from "node:fs"
import { BadInput } from "./Failure.ts"

/**
 * `--server/-s`: the connect string, with an optional chroot.
 *
 * @since 0.1.0
 * @category flags
 */
export const Server = GlobalFlag.Setting("server")({
  flag: Flag.String("server").pipe(
    Flag.withAlias("s"),
    Flag.withMetavar("HOST:PORT[,...][/chroot]"),
    Flag.withDescription("ZooKeeper connect string (default: $ZK_SERVERS, else 127.0.0.1:2181)"),
    Flag.optional
  )
})

/**
 * `--timeout`: how long to wait for a server, and then for each reply.
 *
 * @since 0.1.0
 * @category flags
 */
export const Timeout = GlobalFlag.Setting("timeout")({
  flag: Flag.String("timeout").pipe(
    Flag.withMetavar("DURATION"),
    Flag.withDescription("wait at most this long to connect and for each reply, e.g. 5s, 500ms (default 10s)"),
    Flag.optional
  )
})

/**
 * `--auth scheme:credential`, repeatable: identities added to the session before anything else.
 *
 * @since 0.1.0
 * @category flags
 */
export const Auth = GlobalFlag.Setting("auth")({
  flag: Flag.Redacted("auth").pipe(
    Flag.withMetavar("SCHEME:CREDENTIAL"),
    Flag.withDescription("add an identity, e.g. digest:alice:secret (repeatable; never printed)"),
    Flag.atLeast(0)
  )
})

/**
 * `--tls`: connect with TLS (to a `secureClientPort`).
 *
 * @since 0.1.0
 * @category flags
 */
export const Tls = GlobalFlag.Setting("tls")({
  flag: Flag.Boolean("tls").pipe(Flag.withDescription("connect with TLS"), Flag.withDefault(false))
})

/**
 * `--ca FILE`: CA certificates (PEM) to trust for `--tls`.
 *
 * @since 0.1.0
 * @category flags
 */
export const Ca = GlobalFlag.Setting("ca")({
  flag: Flag.String("ca").pipe(Flag.withMetavar("FILE"), Flag.withDescription("trusted CA certificates (PEM) for --tls"), Flag.optional)
})

/**
 * `--cert FILE`: the client certificate (PEM) for `--tls`.
 *
 * @since 0.1.0
 * @category flags
 */
export const Cert = GlobalFlag.Setting("cert")({
  flag: Flag.String("cert").pipe(Flag.withMetavar("FILE"), Flag.withDescription("client certificate (PEM) for --tls"), Flag.optional)
})

/**
 * `--key FILE`: the client's private key (PEM) for `--tls`.
 *
 * @since 0.1.0
 * @category flags
 */
export const Key = GlobalFlag.Setting("key")({
  flag: Flag.String("key").pipe(Flag.withMetavar("FILE"), Flag.withDescription("client private key (PEM) for --tls"), Flag.optional)
})

/**
 * `--json`: exact machine output, one JSON document (one per line for streams).
 *
 * @since 0.1.0
 * @category flags
 */
export const Json = GlobalFlag.Setting("json")({
  flag: Flag.Boolean("json").pipe(Flag.withDescription("print JSON for scripts"), Flag.withDefault(false))
})

/**
 * `--debug`: session logs on stderr and stack traces for unexpected failures.
 *
 * @since 0.1.0
 * @category flags
 */
export const Debug = GlobalFlag.Setting("debug")({
  flag: Flag.Boolean("debug").pipe(Flag.withDescription("print session logs and stack traces"), Flag.withDefault(false))
})

/**
 * Every global flag, in the order the help lists them.
 *
 * @since 0.1.0
 * @category flags
 */
export const globalFlags = [Server, Timeout, Auth, Tls, Ca, Cert, Key, Json, Debug] as const

/**
 * The settings of a session, checked and ready to connect with.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  readonly servers: string
  readonly timeout: Duration.Duration
  readonly auth: ReadonlyArray<{ readonly scheme: string; readonly credential: Redacted.Redacted<string> }>
  readonly tls: TlsOptions | undefined
}

/** Where `zk` connects when nothing says otherwise. */
const DEFAULT_SERVERS = "127.0.0.1:2181"
const DEFAULT_TIMEOUT = Duration.seconds(10)

const readPem = (flag: string, file: Option.Option<string>): Effect.Effect<string | undefined, BadInput> =>
  Option.match(file, {
    onNone: () => Effect.succeed(undefined),
    onSome: (name) =>
      Effect.try({
        try: () => readFileSync(name, "utf8"),
        catch: (e) => new BadInput({ command: `--${flag}`, subject: name, detail: e instanceof Error ? e.message : String(e) })
      })
  })

/**
 * A duration typed on the command line: `10s`, `500ms`, `2m`, `1 minute`, or plain
 * milliseconds.
 *
 * @example
 * ```ts
 * parseDuration("5s") // Option.some(Duration.seconds(5))
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const parseDuration = (text: string): Option.Option<Duration.Duration> => {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|millis|s|sec|seconds?|m|min|minutes?|h|hours?)?$/.exec(text.trim())
  if (match === null) return Option.none()
  const millis = Number(match[1]) * unitMillis(match[2] ?? "ms")
  return millis > 0 && Number.isFinite(millis) ? Option.some(Duration.millis(millis)) : Option.none()
}

const unitMillis = (unit: string): number => {
  if (unit === "ms" || unit === "millis") return 1
  if (unit.startsWith("s")) return 1000
  if (unit.startsWith("m")) return 60_000
  return 3_600_000
}

/**
 * Reads and checks the global flags: the connect string parses, the timeout is a duration,
 * every `--auth` is `scheme:credential`, the TLS files can be read. Nothing is sent.
 *
 * @since 0.1.0
 * @category constructors
 */
export const settings = Effect.gen(function*() {
  const servers = Option.getOrElse(yield* Server, () => process.env["ZK_SERVERS"] || DEFAULT_SERVERS)
  const parsed = ConnectString.parseResult(servers)
  if (parsed._tag === "Failure") return yield* new BadInput({ command: "--server", subject: servers, detail: parsed.failure })
  const timeoutText = yield* Timeout
  let timeout = DEFAULT_TIMEOUT
  if (Option.isSome(timeoutText)) {
    const d = parseDuration(timeoutText.value)
    if (Option.isNone(d)) return yield* new BadInput({ command: "--timeout", subject: timeoutText.value, detail: "expected a duration such as 5s or 500ms" })
    timeout = d.value
  }
  const auth: Array<Settings["auth"][number]> = []
  for (const entry of yield* Auth) {
    const text = Redacted.value(entry)
    const at = text.indexOf(":")
    // The credential never appears in the message, only the scheme.
    if (at <= 0) return yield* new BadInput({ command: "--auth", detail: "expected scheme:credential, e.g. digest:alice:secret" })
    auth.push({ scheme: text.slice(0, at), credential: Redacted.make(text.slice(at + 1)) })
  }
  const ca = yield* readPem("ca", yield* Ca)
  const cert = yield* readPem("cert", yield* Cert)
  const key = yield* readPem("key", yield* Key)
  const useTls = (yield* Tls) || ca !== undefined || cert !== undefined
  const tls: TlsOptions | undefined = useTls
    ? { ...(ca === undefined ? {} : { ca }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }) }
    : undefined
  return { servers, timeout, auth, tls } satisfies Settings
})

/**
 * The session of `zk shell`, shared by every command typed in it, and the shell's current
 * node. Outside the shell there is none and the current node is `/`.
 *
 * @since 0.1.0
 * @category services
 */
export const ShellSession = Context.Reference<
  { readonly zk: ZooKeeperService; readonly cwd: string } | undefined
>("@effect-zk/cli/ShellSession", { defaultValue: () => undefined })

/**
 * The node relative paths start from: the shell's current node, else `/`.
 *
 * @since 0.1.0
 * @category getters
 */
export const cwd: Effect.Effect<string> = Effect.map(ShellSession, (shell) => shell?.cwd ?? "/")

/**
 * Opens a session with these settings in the current scope; it is closed when the scope is.
 * `sessionTimeout` is for `zk lock`, whose lock must go soon after a `kill -9`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const open = (
  s: Settings,
  options: { readonly sessionTimeout?: Duration.Input } = {}
) =>
  Effect.flatMap(Debug, (debug) =>
    NodeZooKeeper.make({
      servers: s.servers,
      connectTimeout: s.timeout,
      requestTimeout: s.timeout,
      auth: s.auth,
      tls: s.tls,
      // The session's routine log lines are for services; a command line stays quiet.
      logLevel: debug ? "Info" : "None",
      ...(options.sessionTimeout === undefined ? {} : { sessionTimeout: options.sessionTimeout })
    }))

/**
 * The session for a command: the shell's, or a new one in the command's scope from the
 * (already checked) settings.
 *
 * @since 0.1.0
 * @category constructors
 */
export const session = (s: Settings) =>
  Effect.flatMap(ShellSession, (shell) => (shell === undefined ? open(s) : Effect.succeed(shell.zk)))

/**
 * Everything that can go wrong while creating, starting, stopping or probing a ZooKeeper server.
 *
 * Each failure a caller can act on is its own tagged class, so a test fixture can branch with
 * `Effect.catchTag("PortInUseError", ...)`. Every message says what happened and what to do next
 * (which package to install, which process to stop, which log to read), because these errors
 * usually end up printed in a failed CI run.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * Java or ZooKeeper could not be found. `searched` lists every place that was tried, in order.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotInstalledError extends Schema.TaggedError<NotInstalledError>()("NotInstalledError", {
  /** What is missing. */
  component: Schema.Literals(["ZooKeeper", "Java"]),
  /** Every place that was looked at, in order. */
  searched: Schema.Array(Schema.String),
  /** How to install it, or where to point ZOOKEEPER_HOME / `installDir`. */
  hint: Schema.String
}) {
  override get message(): string {
    return `${this.component} was not found (looked in: ${this.searched.join("; ") || "nowhere"}). ${this.hint}`
  }
}

/**
 * `create` refuses to reuse a directory that already holds files, so it never mixes a new
 * server's data with someone else's.
 *
 * @since 0.1.0
 * @category errors
 */
export class RunDirNotEmptyError extends Schema.TaggedError<RunDirNotEmptyError>()("RunDirNotEmptyError", {
  /** The directory `create` was given. */
  runDir: Schema.String
}) {
  override get message(): string {
    return `run directory ${this.runDir} is not empty: pass an empty or missing directory to create, ` +
      `or use attach(${JSON.stringify(this.runDir)}) to operate the server it already holds`
  }
}

/**
 * `attach` was given a directory that `create` did not make (no readable `server.json`).
 *
 * @since 0.1.0
 * @category errors
 */
export class NotARunDirError extends Schema.TaggedError<NotARunDirError>()("NotARunDirError", {
  /** The directory `attach` was given. */
  runDir: Schema.String,
  /** Why its `server.json` could not be used (missing, unreadable, malformed). */
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.runDir} is not a ZooKeeper run directory made by ZooKeeperServer.create: ${this.reason}`
  }
}

/**
 * `start` found the server of this run directory already running.
 *
 * @since 0.1.0
 * @category errors
 */
export class AlreadyRunningError extends Schema.TaggedError<AlreadyRunningError>()("AlreadyRunningError", {
  /** The server's run directory. */
  runDir: Schema.String,
  /** The pid of the JVM that is already running. */
  pid: Schema.Number
}) {
  override get message(): string {
    return `the server in ${this.runDir} is already running as pid ${this.pid}: stop it before starting it again`
  }
}

/**
 * Something already answers on a port the server needs. Checked before spawning, because a
 * readiness probe would otherwise talk to that other process and report "ready" while the new
 * JVM dies of a BindException.
 *
 * @since 0.1.0
 * @category errors
 */
export class PortInUseError extends Schema.TaggedError<PortInUseError>()("PortInUseError", {
  /** The port on 127.0.0.1 that already accepts connections. */
  port: Schema.Number,
  /** The run directory of the server that needed it. */
  runDir: Schema.String
}) {
  override get message(): string {
    return `port 127.0.0.1:${this.port} already accepts connections, so the server in ${this.runDir} cannot ` +
      `bind it: stop whatever listens there (\`ss -ltnp 'sport = :${this.port}'\`) or create the server with port 0`
  }
}

/**
 * The JVM exited before it served requests. Exit code 1 is usually a bind failure, 2 a bad
 * zoo.cfg; `logTail` holds the end of `zookeeper.log` and `out.log` of this start.
 *
 * @since 0.1.0
 * @category errors
 */
export class ExitedEarlyError extends Schema.TaggedError<ExitedEarlyError>()("ExitedEarlyError", {
  /** The server's run directory; its `zookeeper.log` has the whole story. */
  runDir: Schema.String,
  /** The JVM's exit code, or null when a signal ended it. */
  exitCode: Schema.NullOr(Schema.Number),
  /** The signal that ended the JVM, or null when it exited by itself. */
  signal: Schema.NullOr(Schema.String),
  /** The last lines of `zookeeper.log` and `out.log` from this start. */
  logTail: Schema.String
}) {
  override get message(): string {
    const how = this.exitCode !== null
      ? `with code ${this.exitCode}${
        this.exitCode === 1 ? " (fatal error, often a port already in use)" :
        this.exitCode === 2 ? " (invalid configuration)" : ""
      }`
      : `on signal ${this.signal ?? "unknown"}`
    return `the ZooKeeper JVM of ${this.runDir} exited ${how} before it served requests; ` +
      `see ${this.runDir}/zookeeper.log. Log tail:\n${this.logTail}`
  }
}

/**
 * The server did not report a `Mode:` in `srvr` within the start timeout. The JVM was stopped.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotReadyError extends Schema.TaggedError<NotReadyError>()("NotReadyError", {
  /** The server's (or ensemble's) run directory. */
  runDir: Schema.String,
  /** The client port probed with `srvr` (for an ensemble, the first member's). */
  port: Schema.Number,
  /** The start timeout that ran out. */
  timeoutMillis: Schema.Number,
  /** What the last probe saw; for an ensemble, each member's mode. */
  lastState: Schema.String,
  /** The last lines of `zookeeper.log` and `out.log` from this start. */
  logTail: Schema.String
}) {
  override get message(): string {
    return `the server in ${this.runDir} (port ${this.port}) was not serving after ${this.timeoutMillis} ms ` +
      `(last seen: ${this.lastState}) and was stopped; raise startTimeout on a loaded machine, or read ` +
      `${this.runDir}/zookeeper.log. Log tail:\n${this.logTail}`
  }
}

/**
 * A four-letter word got no usable answer: nothing listens, the probe timed out, the server
 * closed without replying (for example `maxClientCnxns` reached) or the word is not whitelisted.
 *
 * @since 0.1.0
 * @category errors
 */
export class FourLetterWordError extends Schema.TaggedError<FourLetterWordError>()("FourLetterWordError", {
  /** `host:port` that was probed. */
  address: Schema.String,
  /** The four-letter word, e.g. "srvr". */
  word: Schema.String,
  /** The kind of failure, to branch on. */
  reason: Schema.Literals(["Refused", "Timeout", "EmptyReply", "NotWhitelisted", "Unparsable", "Socket"]),
  /** The underlying error or the unexpected answer. */
  detail: Schema.String
}) {
  override get message(): string {
    return `four-letter word "${this.word}" to ${this.address} failed (${this.reason}): ${this.detail}`
  }
}

/**
 * Options that cannot describe a server (a port outside 0..65535, an ensemble of size 0, ...).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidOptionsError extends Schema.TaggedError<InvalidOptionsError>()("InvalidOptionsError", {
  /** Which option is wrong, and why. */
  detail: Schema.String
}) {
  override get message(): string {
    return `invalid ZooKeeper server options: ${this.detail}`
  }
}

/**
 * A file-system or process operation failed unexpectedly (permissions, a full disk, a process
 * that survived SIGKILL, java that could not be spawned).
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerIoError extends Schema.TaggedError<ServerIoError>()("ServerIoError", {
  /** What was being done, e.g. "read", "stop" or "find a free port". */
  operation: Schema.String,
  /** The file, directory or executable involved. */
  path: Schema.String,
  /** The underlying error. */
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.operation} failed for ${this.path}: ${this.detail}`
  }
}

/**
 * Every failure of `@effect-zk/server`.
 *
 * @since 0.1.0
 * @category errors
 */
export type ServerError =
  | NotInstalledError
  | RunDirNotEmptyError
  | NotARunDirError
  | AlreadyRunningError
  | PortInUseError
  | ExitedEarlyError
  | NotReadyError
  | FourLetterWordError
  | InvalidOptionsError
  | ServerIoError

/**
 * Schema of the {@link ServerError} union, e.g. to send a fixture failure across processes.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ServerError = Schema.Union([
  NotInstalledError,
  RunDirNotEmptyError,
  NotARunDirError,
  AlreadyRunningError,
  PortInUseError,
  ExitedEarlyError,
  NotReadyError,
  FourLetterWordError,
  InvalidOptionsError,
  ServerIoError
])

/**
 * Whether a value is one of this package's errors.
 *
 * @since 0.1.0
 * @category guards
 */
export const isServerError: (u: unknown) => u is ServerError = Schema.is(ServerError)

/**
 * What can end a `zk` run other than success, and how each ends the process: the exit status
 * and the one line printed on stderr.
 *
 * - A ZooKeeper error (`NoNode`, `NoAuth`, a connect failure...) is one line in the core's
 *   message format with `zk:` in front (`zk: get "/x": no node`), exit status 1.
 * - Bad input found before connecting (a path, an ACL, a duration) is a {@link BadInput}:
 *   one line, exit status 2, like the usage errors the parser reports with the help text.
 * - {@link ExitStatus} ends the run with a status and nothing printed: `zk exists` answers
 *   through it, and `zk lock` passes on its command's status.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

interface Described {
  readonly command: string
  /** What was refused or failed (a path, an ACL entry); quoted in the message. */
  readonly subject?: string | undefined
  readonly detail: string
}

/** `command "subject": detail`, the core's message shape. */
const describe = ({ command, detail, subject }: Described): string =>
  subject === undefined ? `${command}: ${detail}` : `${command} ${JSON.stringify(subject)}: ${detail}`

/**
 * Input refused before anything is sent: a bad path, ACL notation, duration or value. Exit
 * status 2, like a usage error.
 *
 * @example
 * ```ts
 * new BadInput({ command: "get", subject: "a//b", detail: "empty path segment" }).message
 * // 'get "a//b": empty path segment'
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class BadInput extends Data.TaggedError("BadInput")<Described> {
  override get message(): string {
    return describe(this)
  }
}

/**
 * A failure outside ZooKeeper's own errors: a file that cannot be read, a dump that is not
 * one, a server that does not answer a four-letter word. Exit status 1.
 *
 * @since 0.1.0
 * @category errors
 */
export class CommandFailed extends Data.TaggedError("CommandFailed")<Described> {
  override get message(): string {
    return describe(this)
  }
}

/**
 * Ends the run with this status and prints nothing: the answer of `zk exists`, the status of
 * the command `zk lock` ran.
 *
 * @since 0.1.0
 * @category errors
 */
export class ExitStatus extends Data.TaggedError("ExitStatus")<{ readonly status: number }> {}

/**
 * The line `zk` prints for an error message: the core writes `zookeeper: get "/x": no node`,
 * `zk` prints `zk: get "/x": no node`.
 *
 * @example
 * ```ts
 * errorLine('zookeeper: get "/x": no node') // 'zk: get "/x": no node'
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const errorLine = (message: string): string => `zk: ${message.replace(/^zookeeper: /, "")}`

/**
 * The one request primitive of the service: it validates the path, puts it under the chroot,
 * submits the call, decodes the reply and instruments the effect. An operation is then a
 * static description (`Operation`: opcode, how to write the record, how to read the reply)
 * plus its arguments, as in go-zookeeper's `conn.go`.
 *
 * Cost per request: one `Pending` object (it is the call the connection queues) and one
 * `Effect.callback`, resumed straight from the socket callback (docs/request-costs.md#effect-costs).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { fromCode, type ZkError } from "../ZkError.ts"
import * as ZNodePath from "../ZNodePath.ts"
import type { Call } from "./connection.ts"
import type { JuteReader, JuteWriter } from "./jute.ts"
import type { Instrument } from "./observability.ts"
import type { Supervisor } from "./supervisor.ts"

/**
 * What one kind of request sends and how its reply reads. `I` is the caller's input (e.g. a
 * version and data), `A` the result.
 */
export interface Operation<I, A> {
  /** The name in errors, spans and metrics (e.g. `getW`). */
  readonly name: string
  /** The opcode, fixed or chosen by the input (create picks one per mode). */
  readonly op: number | ((input: I) => number)
  /**
   * What the `path` argument is: `node` (default) is validated and put under the chroot;
   * `raw` is sent as given (the config node outside the chroot, a plain prefix).
   */
  readonly path?: "node" | "raw" | undefined
  /** Whether the path may end in a sequence suffix (sequential create modes). */
  readonly sequential?: ((input: I) => boolean) | undefined
  /** Writes the request record; `serverPath` is the path as the server knows it. */
  readonly write: (w: JuteWriter, serverPath: string, input: I, session: Supervisor) => void
  /** Reads a successful reply (`session` for its chroot and watch manager). */
  readonly read: (r: JuteReader, serverPath: string, input: I, session: Supervisor) => A
  /** A server error that is a result, not a failure (exists' NoNode): its value, else undefined. */
  readonly recover?: ((code: number, serverPath: string, input: I, session: Supervisor) => A | undefined) | undefined
  /** A reply that says OK but carries a failure (multi's per-op codes). */
  readonly failure?: ((value: A, input: I) => ZkError | undefined) | undefined
}

/**
 * Runs one request. `path` is the node's client path (or `undefined` for requests without
 * one); `invalid` is the caller's own validation error (a bad version, ACL...), failed before
 * anything is sent.
 */
export type Request = <I, A>(
  operation: Operation<I, A>,
  path: string | undefined,
  input: I,
  invalid?: ZkError | undefined
) => Effect.Effect<A, ZkError>

/** The call a request hands to the connection: one object, resumed once with the outcome. */
class Pending<I, A> implements Call {
  sentAt = 0
  done = false
  readonly op: number
  private readonly operation: Operation<I, A>
  private readonly path: string | undefined
  private readonly serverPath: string
  private readonly input: I
  private readonly resume: (exit: Exit.Exit<A, ZkError>) => void
  private readonly session: Supervisor
  constructor(
    op: number,
    operation: Operation<I, A>,
    path: string | undefined,
    serverPath: string,
    input: I,
    resume: (exit: Exit.Exit<A, ZkError>) => void,
    session: Supervisor
  ) {
    this.op = op
    this.operation = operation
    this.path = path
    this.serverPath = serverPath
    this.input = input
    this.resume = resume
    this.session = session
  }

  write(w: JuteWriter): void {
    this.operation.write(w, this.serverPath, this.input, this.session)
  }

  reply(err: number, r: JuteReader | undefined): void {
    const operation = this.operation
    if (err === 0 && r !== undefined) {
      const value = operation.read(r, this.serverPath, this.input, this.session)
      const failure = operation.failure?.(value, this.input)
      return this.resume(failure === undefined ? Exit.succeed(value) : Exit.fail(failure))
    }
    const recovered = operation.recover?.(err, this.serverPath, this.input, this.session)
    this.resume(recovered === undefined ? Exit.fail(fromCode(err, operation.name, this.path)) : Exit.succeed(recovered))
  }

  abort(code: number, detail?: string, cause?: unknown): void {
    this.resume(Exit.fail(fromCode(code, { op: this.operation.name, path: this.path, detail, cause })))
  }
}

/** The path check of a sequential create, built once rather than per request. */
const SEQUENTIAL: ZNodePath.ValidateOptions = { sequential: true }

/** The request primitive over a session. */
export const make = (supervisor: Supervisor, instrument: Instrument | undefined): Request =>
<I, A>(
  operation: Operation<I, A>,
  path: string | undefined,
  input: I,
  invalid?: ZkError | undefined
): Effect.Effect<A, ZkError> => {
  let serverPath = ""
  if (path !== undefined) {
    if (operation.path === "raw") serverPath = path
    else {
      const bad = ZNodePath.checkError(operation.name, path, operation.sequential?.(input) === true ? SEQUENTIAL : undefined)
      if (bad !== undefined) return Effect.fail(bad)
      serverPath = ZNodePath.prependChroot(supervisor.chroot, path)
    }
  }
  if (invalid !== undefined) return Effect.fail(invalid)
  const op = typeof operation.op === "number" ? operation.op : operation.op(input)
  const effect = Effect.callback<A, ZkError>((resume) => {
    supervisor.submit(new Pending(op, operation, path, serverPath, input, resume, supervisor))
  })
  return instrument === undefined ? effect : instrument(operation.name, path, effect)
}

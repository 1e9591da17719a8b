/**
 * `zk lock PATH -- CMD ARGS...`: runs a command while holding a Lock (the recipes' mutex,
 * compatible with Curator's and kazoo's), and exits with the command's status.
 *
 * The lock is one ephemeral node of this session, so it goes when the session goes:
 * - the command exits: the node is deleted, then `zk` exits with the command's status;
 * - `zk` gets SIGINT or SIGTERM: the command gets SIGTERM, and once it has exited the node is
 *   deleted and the session closed;
 * - `zk` is killed with SIGKILL: nobody deletes the node, and the server removes it when the
 *   session expires, after the session timeout. That is why `zk lock` asks for a short one
 *   (`--session-timeout`, default 4 seconds; the server may raise it to its minimum).
 *
 * If the lock is lost while the command runs (the session expired), the command gets
 * SIGTERM and `zk` fails with `LockLost`.
 *
 * The command sees `ZK_LOCK_PATH`, `ZK_LOCK_NODE` and `ZK_LOCK_TOKEN` (the fencing token: a
 * number strictly greater for every later holder) in its environment.
 *
 * @since 0.1.0
 */
import { ZooKeeper } from "@effect-zk/core/ZooKeeper"
import * as Lock from "@effect-zk/recipes/Lock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { Argument, Command, Flag } from "effect/cli"
import * as ChildProcess from "node:child_process"
import { constants } from "node:os"
import * as Connection from "../Connection.ts"
import { BadInput, CommandFailed, ExitStatus } from "../Failure.ts"
import { path as checkPath } from "../Handler.ts"

const DEFAULT_SESSION_TIMEOUT = "4 seconds"

/**
 * Runs a command with the terminal's stdio and waits for it; its status, or 128 + the signal
 * number when a signal ended it (as shells report it). Interrupted, it sends SIGTERM and waits
 * for the command to exit, so the lock is only released once the command is gone.
 */
const runCommand = (command: string, args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.callback<number, CommandFailed>((resume) => {
    let exited = false
    const child = ChildProcess.spawn(command, args, { stdio: "inherit", env: { ...process.env, ...env } })
    const onExit = new Promise<void>((done) => child.once("exit", () => done()))
    child.once("error", (error) => {
      exited = true
      resume(Effect.fail(new CommandFailed({ command: "lock", subject: command, detail: error.message })))
    })
    child.once("exit", (code, signal) => {
      exited = true
      resume(Effect.succeed(code ?? 128 + (signal === null ? 0 : constants.signals[signal])))
    })
    return Effect.promise(() => {
      if (exited) return Promise.resolve()
      child.kill("SIGTERM")
      return onExit
    })
  })

/**
 * `zk lock PATH [--wait DURATION] [--session-timeout DURATION] -- CMD ARGS...`.
 *
 * @since 0.1.0
 * @category commands
 */
export const lock = Command.make("lock", {
  path: Argument.String("path").pipe(Argument.withDescription("the lock's node (its contenders are created under it)")),
  command: Argument.String("command").pipe(Argument.withDescription("the command to run, after --"), Argument.variadic({ min: 1 })),
  wait: Flag.String("wait").pipe(Flag.withMetavar("DURATION"), Flag.withDescription("give up after waiting this long for the lock"), Flag.optional),
  sessionTimeout: Flag.String("session-timeout").pipe(
    Flag.withMetavar("DURATION"),
    Flag.withDescription(`how soon the lock goes if zk is killed with SIGKILL (default ${DEFAULT_SESSION_TIMEOUT})`),
    Flag.optional
  )
}, ({ path: input, command, wait, sessionTimeout }) =>
  Effect.gen(function*() {
    const path = yield* checkPath("lock", input)
    const duration = (flag: string, text: Option.Option<string>) =>
      Option.match(text, {
        onNone: () => Effect.succeed(undefined),
        onSome: (t) =>
          Option.match(Connection.parseDuration(t), {
            onNone: () => Effect.fail(new BadInput({ command: "lock", subject: t, detail: `--${flag} expects a duration such as 30s` })),
            onSome: Effect.succeed
          })
      })
    const timeout = yield* duration("wait", wait)
    const session = (yield* duration("session-timeout", sessionTimeout)) ?? DEFAULT_SESSION_TIMEOUT
    const [program, ...args] = command
    if (program === undefined) return yield* new BadInput({ command: "lock", detail: "give the command to run after --" })
    const settings = yield* Connection.settings
    const shell = yield* Connection.ShellSession
    const status = yield* Effect.scoped(
      Effect.gen(function*() {
        const zk = shell?.zk ?? (yield* Connection.open(settings, { sessionTimeout: session }))
        return yield* Lock.withLock(path, (lease) =>
          runCommand(program, args, {
            ZK_LOCK_PATH: path,
            ZK_LOCK_NODE: lease.node,
            ZK_LOCK_TOKEN: lease.fencingToken.toString()
          }), timeout === undefined ? {} : { timeout }).pipe(Effect.provideService(ZooKeeper, zk))
      })
    )
    if (status !== 0) return yield* new ExitStatus({ status })
  })).pipe(Command.withDescription("Run a command while holding a lock; exit with its status"))

/**
 * The `zk` command tree and how a run ends: its exit status, and the one line on stderr when
 * it fails.
 *
 * | ending | stderr | status |
 * |---|---|---|
 * | success | | 0 |
 * | ZooKeeper error, failed command | `zk: get "/x": no node` | 1 |
 * | usage error (unknown flag, missing argument) | the help and the error | 2 |
 * | bad input (path, ACL, duration) | `zk: get "a//b": empty segment...` | 2 |
 * | `zk exists` of a missing node | | 1 |
 * | `zk lock` | whatever the command printed | the command's |
 * | interrupted (Ctrl-C, SIGTERM) | | 130, 143 |
 *
 * @since 0.1.0
 */
import type { ZooKeeperService } from "@effect-zk/core/ZooKeeper"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import { CliConfig, CliError, CliOutput, Command, GlobalFlag } from "effect/cli"
import * as Console from "effect/Console"
import * as Lock from "./commands/Lock.ts"
import * as Read from "./commands/Read.ts"
import * as Server from "./commands/Server.ts"
import * as Shell from "./commands/Shell.ts"
import * as Transfer from "./commands/Transfer.ts"
import * as Watch from "./commands/Watch.ts"
import * as Write from "./commands/Write.ts"
import { globalFlags, ShellSession } from "./Connection.ts"
import { BadInput, errorLine, ExitStatus } from "./Failure.ts"
import * as Signals from "./Signals.ts"

/**
 * The version `zk --version` shows.
 *
 * @since 0.1.0
 * @category constants
 */
export const VERSION = "0.1.0"

const commands = [
  Read.ls,
  Read.tree,
  Read.get,
  Write.set,
  Write.create,
  Write.del,
  Read.stat,
  Read.exists,
  Watch.watch,
  Write.acl,
  Transfer.exportCommand,
  Transfer.importCommand,
  Read.du,
  Lock.lock,
  Server.server
] as const

/** The names Tab completes at the start of a shell line. */
const commandNames = commands.map((c) => c.name)

/**
 * Runs one shell line through the same tree, on the shell's session, printing its error the
 * way `zk` would. Ctrl-C stops the line, not the shell.
 */
const runLine = (zk: ZooKeeperService) => (args: ReadonlyArray<string>, cwd: string): Promise<void> => {
  const debug = args.includes("--debug")
  const fiber = Effect.runFork(
    Command.runWith(root, { version: VERSION })(args).pipe(
      Effect.provideService(ShellSession, { zk, cwd }),
      Effect.provide([NodeServices.layer, presenter, cliConfig])
    )
  )
  const release = Signals.push(() => Effect.runFork(Fiber.interrupt(fiber)))
  return new Promise((resolve) =>
    fiber.addObserver((exit) => {
      release()
      exitStatus(exit, debug)
      resolve()
    })
  )
}

const shell = Shell.make({ commandNames, runLine })

/**
 * The root command with every subcommand and the global flags.
 *
 * @since 0.1.0
 * @category commands
 */
export const zk = Command.make("zk").pipe(
  Command.withDescription("The everyday ZooKeeper command line"),
  Command.withSubcommands([...commands, shell]),
  Command.withGlobalFlags(globalFlags)
)

/** The tree a shell line runs through: everything but `shell` itself. */
const root = Command.make("zk").pipe(
  Command.withDescription("The everyday ZooKeeper command line"),
  Command.withSubcommands(commands),
  Command.withGlobalFlags(globalFlags)
)

/** Help and usage errors: the help goes to stdout when asked for, everything else to stderr. */
const presenter = CliOutput.layerPresenter({
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Effect.gen(function*() {
        const formatter = yield* CliOutput.Formatter
        yield* Console.error(formatter.formatHelpDoc(event.helpDoc))
        yield* Console.error(formatter.formatErrors(event.errors))
      })
      : CliOutput.defaultPresenter.present(event)
})

// The wizard and --log-level built-ins are left out: session logs are --debug's job.
const cliConfig = CliConfig.layer({ builtIns: [GlobalFlag.Help, GlobalFlag.Version, GlobalFlag.Completions] })

/**
 * Runs `zk` with these arguments (without `node` and the script) and returns the exit status.
 * Nothing is thrown: every failure is printed as one line (a stack trace too with `--debug`).
 *
 * @since 0.1.0
 * @category running
 */
export const run = (args: ReadonlyArray<string>): Promise<number> => {
  const debug = args.slice(0, args.indexOf("--") < 0 ? undefined : args.indexOf("--")).includes("--debug")
  const program = Command.runWith(zk, { version: VERSION, renderErrors: true })(args).pipe(
    Effect.provide([NodeServices.layer, presenter, cliConfig])
  )
  const fiber = Effect.runFork(program)
  let signal: "SIGINT" | "SIGTERM" | undefined
  const release = Signals.push((name) => {
    signal = name
    Effect.runFork(Fiber.interrupt(fiber))
  })
  const onInt = () => Signals.deliver("SIGINT")
  const onTerm = () => Signals.deliver("SIGTERM")
  process.on("SIGINT", onInt)
  process.on("SIGTERM", onTerm)
  return new Promise((resolve) => {
    fiber.addObserver((exit) => {
      release()
      process.off("SIGINT", onInt)
      process.off("SIGTERM", onTerm)
      resolve(exitStatus(exit, debug, signal))
    })
  })
}

/**
 * The exit status of a finished run, printing the failure's line.
 *
 * @since 0.1.0
 * @category running
 */
export const exitStatus = (exit: Exit.Exit<unknown, unknown>, debug: boolean, signal?: "SIGINT" | "SIGTERM"): number => {
  if (Exit.isSuccess(exit)) return 0
  const cause = exit.cause
  if (Cause.hasInterruptsOnly(cause)) return signal === "SIGTERM" ? 143 : 130
  const failure = Option.getOrUndefined(Cause.findErrorOption(cause))
  if (failure !== undefined) {
    if (CliError.isCliError(failure)) return 2
    if (failure instanceof ExitStatus) return failure.status
    const message = failure instanceof Error ? failure.message : String(failure)
    process.stderr.write(errorLine(message) + "\n")
    if (debug && failure instanceof Error && failure.stack !== undefined) process.stderr.write(failure.stack + "\n")
    return failure instanceof BadInput ? 2 : 1
  }
  const defect = Cause.squash(cause)
  process.stderr.write(errorLine(`internal error: ${defect instanceof Error ? defect.message : String(defect)}`) + "\n")
  if (debug) process.stderr.write(Cause.pretty(cause) + "\n")
  return 1
}

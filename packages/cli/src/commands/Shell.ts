/**
 * `zk shell`: the same commands at a prompt, on one session, plus `cd`, `pwd`, Tab
 * completion of commands and znode paths, and history (kept in `~/.zk_history`).
 *
 * Each line runs through the same command tree as `zk` itself, so flags, output, `--json`
 * and error lines are the same; a failing line prints its error and the shell goes on.
 *
 * @since 0.1.0
 */
import * as ZNodePath from "@effect-zk/core/ZNodePath"
import type { ZooKeeperService } from "@effect-zk/core/ZooKeeper"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { Command } from "effect/cli"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as NodePath from "node:path"
import * as Readline from "node:readline"
import * as Connection from "../Connection.ts"
import * as Output from "../Output.ts"
import * as Paths from "../Paths.ts"

/**
 * Splits a line into words like a POSIX shell does for the simple cases: blanks separate,
 * quotes group, a backslash escapes the next character.
 *
 * @example
 * ```ts
 * words(`set /a "hello world"`) // ["set", "/a", "hello world"]
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const words = (line: string): Array<string> => {
  const out: Array<string> = []
  let current = ""
  let inWord = false
  let quote: string | undefined
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (quote !== undefined) {
      if (c === quote) quote = undefined
      else if (c === "\\" && quote === "\"" && i + 1 < line.length) current += line[++i]
      else current += c
    } else if (c === "'" || c === "\"") {
      quote = c
      inWord = true
    } else if (c === "\\" && i + 1 < line.length) {
      current += line[++i]
      inWord = true
    } else if (c === " " || c === "\t") {
      if (inWord) out.push(current)
      current = ""
      inWord = false
    } else {
      current += c
      inWord = true
    }
  }
  if (inWord) out.push(current)
  return out
}

const BUILTINS = ["cd", "pwd", "help", "exit", "quit"]
const HISTORY_FILE = NodePath.join(Os.homedir(), ".zk_history")
const HISTORY_SIZE = 1000

/**
 * Completions for the word under the cursor: command names first, then znode paths
 * (absolute, or relative to the current node) from the server's children lists.
 */
const completer = (
  zk: ZooKeeperService,
  commandNames: ReadonlyArray<string>,
  cwd: () => string
) =>
(line: string, callback: (error: null, result: [Array<string>, string]) => void): void => {
  const atWordStart = line === "" || line.endsWith(" ")
  const typed = words(line)
  const word = atWordStart ? "" : typed[typed.length - 1] ?? ""
  if (typed.length === 0 || (typed.length === 1 && !atWordStart)) {
    callback(null, [[...commandNames, ...BUILTINS].filter((n) => n.startsWith(word)).map((n) => n + " "), word])
    return
  }
  const slash = word.lastIndexOf("/")
  const dirPart = slash < 0 ? "" : word.slice(0, slash + 1)
  const prefix = word.slice(slash + 1)
  const dir = dirPart === "" ? cwd() : dirPart === "/" ? "/" : Paths.resolve(cwd(), dirPart.slice(0, -1))
  Effect.runPromiseExit(zk.children(dir)).then((exit) => {
    const names = Exit.isSuccess(exit) ? [...exit.value.children].sort() : []
    callback(null, [names.filter((n) => n.startsWith(prefix)).map((n) => dirPart + n), word])
  })
}

const loadHistory = (): Array<string> => {
  try {
    return Fs.readFileSync(HISTORY_FILE, "utf8").split("\n").filter((l) => l !== "").reverse().slice(0, HISTORY_SIZE)
  } catch {
    return []
  }
}

const saveHistory = (history: ReadonlyArray<string>): void => {
  try {
    Fs.writeFileSync(HISTORY_FILE, [...history].slice(0, HISTORY_SIZE).reverse().join("\n") + "\n", { mode: 0o600 })
  } catch {
    // A read-only home directory only costs the history.
  }
}

/** Runs one line of the shell through the command tree with the shell's session and current node. */
type RunLine = (args: ReadonlyArray<string>, cwd: string) => Promise<void>

/**
 * The shell loop, given the way to run a line (the root command, which contains this one,
 * is only known to `Main`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly commandNames: ReadonlyArray<string>
  readonly runLine: (zk: ZooKeeperService) => RunLine
}) =>
  Command.make("shell", {}, () =>
    Effect.scoped(Effect.gen(function*() {
      const settings = yield* Connection.settings
      const zk = yield* Connection.open(settings)
      const runLine = options.runLine(zk)
      let cwd = "/"
      const history = loadHistory()
      const rl = Readline.createInterface({
        input: process.stdin,
        output: process.stdout,
        completer: completer(zk, options.commandNames, () => cwd),
        history,
        historySize: HISTORY_SIZE,
        removeHistoryDuplicates: true,
        terminal: process.stdin.isTTY === true
      })
      let latest: ReadonlyArray<string> = history
      rl.on("history", (h: Array<string>) => {
        latest = h
      })
      const prompt = () => {
        rl.setPrompt(`${Output.style.bold("zk")}:${Output.style.blue(cwd)}> `)
        rl.prompt()
      }
      const handle = async (line: string): Promise<boolean> => {
        const args = words(line)
        const [first, ...rest] = args
        if (first === undefined) return true
        if (first === "exit" || first === "quit") return false
        if (first === "pwd") {
          process.stdout.write(cwd + "\n")
        } else if (first === "cd") {
          const target = Paths.resolve(cwd, rest[0] ?? "/")
          const problem = ZNodePath.validationError(target)
          const exit = problem === undefined ? await Effect.runPromiseExit(zk.exists(target)) : undefined
          if (problem !== undefined) process.stderr.write(`zk: cd ${JSON.stringify(rest[0])}: ${problem}\n`)
          else if (exit !== undefined && Exit.isSuccess(exit) && exit.value._tag === "Some") cwd = target
          else process.stderr.write(`zk: cd ${JSON.stringify(target)}: no node\n`)
        } else if (first === "help") {
          await runLine(["--help"], cwd)
          process.stdout.write("Shell commands: cd PATH, pwd, exit. Tab completes commands and paths.\n")
        } else if (first === "shell") {
          process.stderr.write("zk: already in the shell\n")
        } else {
          // While a line runs, Ctrl-C is a signal again, so it stops the line (not the shell).
          const raw = process.stdin.isTTY === true && process.stdin.isRaw
          if (raw) process.stdin.setRawMode(false)
          await runLine(args, cwd)
          if (raw) process.stdin.setRawMode(true)
        }
        return true
      }
      yield* Effect.callback<void>((resume) => {
        let queue = Promise.resolve(true)
        rl.on("line", (line) => {
          rl.pause()
          queue = queue.then((go) => (go ? handle(line) : false)).then((go) => {
            if (go) {
              rl.resume()
              prompt()
            } else rl.close()
            return go
          })
        })
        rl.on("close", () => resume(Effect.void))
        // Ctrl-C at the prompt clears the line, as in bash; Ctrl-D leaves.
        rl.on("SIGINT", () => {
          rl.write(null, { ctrl: true, name: "u" })
          process.stdout.write("\n")
          prompt()
        })
        prompt()
        return Effect.sync(() => rl.close())
      })
      saveHistory(latest)
    }))).pipe(Command.withDescription("Interactive: the same commands with cd, Tab completion and history"))

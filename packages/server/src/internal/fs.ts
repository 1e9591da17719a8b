/**
 * Small node:fs wrappers whose failures become `ServerIoError`, so no Node exception leaks out of
 * the public API.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { ServerIoError } from "../ServerError.ts"

/** A readable one-line description of anything thrown by Node. */
export const describe = (cause: unknown): string => {
  if (cause instanceof Error) return cause.message
  if (typeof cause === "string") return cause
  try {
    return JSON.stringify(cause) ?? String(cause)
  } catch {
    return String(cause)
  }
}

/** The `code` of a Node system error (`ENOENT`, `EPERM`, ...), if any. */
export const errnoCode = (cause: unknown): string | undefined => {
  if (typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string") {
    return cause.code
  }
  return undefined
}

/** Runs a promise-returning node call, mapping a rejection to `ServerIoError`. */
export const tryIo = <A>(operation: string, path: string, thunk: () => Promise<A>): Effect.Effect<A, ServerIoError> =>
  Effect.tryPromise({
    try: thunk,
    catch: (cause) => new ServerIoError({ operation, path, detail: describe(cause) })
  })

/** The file's text, or `None` when it does not exist. */
export const readTextOption = (path: string): Effect.Effect<Option.Option<string>, ServerIoError> =>
  Effect.tryPromise({
    try: () => fs.readFile(path, "utf8").then(Option.some),
    catch: (cause) => cause
  }).pipe(
    Effect.catch((cause) =>
      errnoCode(cause) === "ENOENT"
        ? Effect.succeed(Option.none<string>())
        : Effect.fail(new ServerIoError({ operation: "read", path, detail: describe(cause) }))
    )
  )

export const writeText = (path: string, text: string, mode?: number): Effect.Effect<void, ServerIoError> =>
  tryIo("write", path, () => fs.writeFile(path, text, mode === undefined ? "utf8" : { encoding: "utf8", mode }))

export const removeFile = (path: string): Effect.Effect<void, ServerIoError> =>
  tryIo("remove", path, () => fs.rm(path, { force: true }))

export const removeDir = (path: string): Effect.Effect<void, ServerIoError> =>
  tryIo("remove directory", path, () => fs.rm(path, { recursive: true, force: true, maxRetries: 3 }))

export const makeDir = (path: string): Effect.Effect<void, ServerIoError> =>
  tryIo("create directory", path, () => fs.mkdir(path, { recursive: true }).then(() => undefined))

/** Entries of a directory; `None` when it does not exist. */
export const listDir = (path: string): Effect.Effect<Option.Option<ReadonlyArray<string>>, ServerIoError> =>
  Effect.tryPromise({
    try: () => fs.readdir(path).then((names): Option.Option<ReadonlyArray<string>> => Option.some(names)),
    catch: (cause) => cause
  }).pipe(
    Effect.catch((cause) =>
      errnoCode(cause) === "ENOENT"
        ? Effect.succeed(Option.none<ReadonlyArray<string>>())
        : Effect.fail(new ServerIoError({ operation: "list directory", path, detail: describe(cause) }))
    )
  )

/** Size in bytes, 0 for a missing file. Used to read only what one start appended to a log. */
export const sizeOf = (path: string): Effect.Effect<number> =>
  Effect.promise(() => fs.stat(path).then((s) => s.size, () => 0))

/**
 * The last `maxLines` non-empty lines written to `path` after byte `from`, or "" when there is
 * nothing. Never fails: it only decorates error messages.
 */
export const tailOf = (path: string, from: number, maxLines: number): Effect.Effect<string> =>
  Effect.promise(async () => {
    try {
      const handle = await fs.open(path, "r")
      try {
        const { size } = await handle.stat()
        // Cap what we read: a crash loop can make a log large, and only its end matters.
        const start = Math.max(from, size - 64 * 1024)
        const buffer = Buffer.alloc(Math.max(0, size - start))
        await handle.read(buffer, 0, buffer.length, start)
        const lines = buffer.toString("utf8").split("\n").filter((line) => line.trim() !== "")
        return lines.slice(-maxLines).join("\n")
      } finally {
        await handle.close()
      }
    } catch {
      return ""
    }
  })

/** A fresh, empty temporary directory, removed again when the scope closes. */
export const tempRunDir = (prefix: string): Effect.Effect<string, ServerIoError, Scope.Scope> =>
  Effect.acquireRelease(
    tryIo("create a temporary directory", os.tmpdir(), () => fs.mkdtemp(path.join(os.tmpdir(), prefix))),
    (dir) => Effect.ignore(removeDir(dir))
  )

/** Finalizers must not fail; a failed cleanup is logged instead of hidden. */
export const quietly = <E>(what: string, effect: Effect.Effect<void, E>): Effect.Effect<void> =>
  Effect.catchCause(effect, (cause) => Effect.logWarning(`@effect-zk/server: ${what} failed`, cause))

/**
 * Paths as typed on the command line: absolute, or relative to the shell's current node
 * (`/` outside the shell), with `.` and `..` resolved in relative paths only (`zk get .` is the current node). The result is
 * checked with the core's rules before anything is sent, so a bad path never reaches a server.
 *
 * @since 0.1.0
 */
import * as ZNodePath from "@effect-zk/core/ZNodePath"
import * as Effect from "effect/Effect"
import { BadInput } from "./Failure.ts"

/**
 * An input path against a current node: absolute paths stay as typed (ZooKeeper rejects `.`
 * and `..` segments, and so does the check afterwards); relative ones are joined and
 * normalised.
 *
 * @example
 * ```ts
 * resolve("/app", "config") // "/app/config"
 * resolve("/app/config", "..") // "/app"
 * resolve("/app", "/other") // "/other"
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const resolve = (cwd: string, input: string): string => {
  if (input.startsWith("/")) return input
  const segments = cwd === "/" ? [] : cwd.slice(1).split("/")
  for (const segment of input.split("/")) {
    // An empty segment stays, so the check below refuses "a//b" as it would "/a//b".
    if (segment === ".") continue
    if (segment === "..") segments.pop()
    else segments.push(segment)
  }
  return "/" + segments.join("/")
}

/**
 * Resolves and validates a path argument of a command; `BadInput` (exit status 2) when it is
 * not a valid znode path. `sequential` allows the trailing prefix of a sequential create
 * (`/jobs/job-`).
 *
 * @since 0.1.0
 * @category validation
 */
export const check = (
  command: string,
  cwd: string,
  input: string,
  options: { readonly sequential?: boolean } = {}
): Effect.Effect<string, BadInput> => {
  const path = resolve(cwd, input)
  const problem = ZNodePath.validationError(path, { sequential: options.sequential ?? false })
  return problem === undefined ? Effect.succeed(path) : Effect.fail(new BadInput({ command, subject: input, detail: problem }))
}

/**
 * The path of a node relative to a root, `""` for the root itself: how export files name
 * nodes, so a dump can be imported anywhere.
 *
 * @since 0.1.0
 * @category encoding
 */
export const relative = (root: string, path: string): string =>
  path === root ? "" : root === "/" ? path.slice(1) : path.slice(root.length + 1)

/**
 * The inverse of {@link relative}.
 *
 * @since 0.1.0
 * @category decoding
 */
export const under = (root: string, rel: string): string => (rel === "" ? root : ZNodePath.join(root, rel))

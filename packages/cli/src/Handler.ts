/**
 * The shape every command handler shares: check the input (nothing sent yet), then open the
 * session, then run. Keeping the order in one place is what guarantees that a bad path or
 * ACL is refused before connecting.
 *
 * @since 0.1.0
 */
import type { ZooKeeperService } from "@effect-zk/core/ZooKeeper"
import * as Effect from "effect/Effect"
import { Flag } from "effect/cli"
import * as Connection from "./Connection.ts"
import * as Paths from "./Paths.ts"

/**
 * Runs `f` with the session, after the global flags were checked. The session is the shell's,
 * or one opened for this command and closed when it ends.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withSession = <A, E, R>(
  f: (zk: ZooKeeperService) => Effect.Effect<A, E, R>
) =>
  Effect.scoped(
    Effect.gen(function*() {
      const settings = yield* Connection.settings
      const zk = yield* Connection.session(settings)
      return yield* f(zk)
    })
  )

/**
 * Resolves a path argument against the current node and checks it.
 *
 * @since 0.1.0
 * @category validation
 */
export const path = (command: string, input: string | undefined, options: { readonly sequential?: boolean } = {}) =>
  Effect.flatMap(Connection.cwd, (cwd) => Paths.check(command, cwd, input ?? ".", options))

/**
 * A boolean flag, off unless given.
 *
 * @since 0.1.0
 * @category constructors
 */
export const toggle = (name: string, description: string, alias?: string): Flag.Flag<boolean> => {
  const flag = Flag.Boolean(name).pipe(Flag.withDescription(description), Flag.withDefault(false))
  return alias === undefined ? flag : Flag.withAlias(flag, alias)
}

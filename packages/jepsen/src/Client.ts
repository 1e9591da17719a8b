/**
 * A client lane: one worker that runs a workload's operations through sessions of its own,
 * recording each one, and opening a new session when the old one expires. Its connection goes
 * through one `FaultProxy` per ensemble member, so a nemesis can cut this lane off alone.
 *
 * @since 0.1.0
 */
import type { ZooKeeperService } from "@effect-zk/core"
import { ZooKeeper } from "@effect-zk/core"
import { isTerminal } from "@effect-zk/core/Session"
import type { FaultProxy } from "@effect-zk/node"
import { NodeZooKeeper } from "@effect-zk/node"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { type Invocation, outcomeOf, type Recorder, type Result } from "./History.ts"

/**
 * A lane's mutable state, shared with the nemesis: its proxies, and its current session.
 *
 * @since 0.1.0
 * @category models
 */
export interface Lane {
  readonly process: number
  readonly recorder: Recorder
  readonly proxies: ReadonlyArray<FaultProxy.FaultProxy>
  /** The live session, if any (the nemesis expires it). */
  zk: ZooKeeperService | undefined
  session: string
  /** What the lane is doing now, e.g. `create /r3-1 (op 812)`: reported if it never finishes. */
  doing: string
}

/**
 * How a lane's sessions behave. The session timeout is short so that partitions and paused
 * leaders expire sessions within a run.
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionSettings {
  readonly sessionTimeoutMs: number
  readonly requestTimeoutMs: number
}

/**
 * The error tag of a failed exit (`Interrupted`, `Defect` when there is no typed error).
 *
 * @since 0.1.0
 * @category getters
 */
export const errorTag = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.findErrorOption(cause)
  if (Option.isSome(error)) {
    const e = error.value
    return typeof e === "object" && e !== null && "_tag" in e && typeof e._tag === "string" ? e._tag : "Error"
  }
  return Cause.hasInterruptsOnly(cause) ? "Interrupted" : "Defect"
}

/**
 * Runs `effect` as one recorded operation of `lane`: invoke before, then ok with `shape`'s
 * result, fail for definite errors, info for the rest. `onFail` adds to a failure's result
 * (e.g. the value a dequeue tried to take). Returns the operation's id and the exit, so the
 * caller can react and refer to the operation.
 *
 * @since 0.1.0
 * @category combinators
 */
export const recorded = <A, E>(
  lane: Lane,
  invocation: Omit<Invocation, "process" | "session">,
  effect: Effect.Effect<A, E>,
  shape: (a: A) => Result,
  onFail: Result = {}
): Effect.Effect<{ readonly id: number; readonly exit: Exit.Exit<A, E> }> =>
  Effect.suspend(() => {
    const id = lane.recorder.invoke({ ...invocation, process: lane.process, session: lane.session })
    lane.doing = `${invocation.f} ${invocation.key} (op ${id}, session ${lane.session})`
    return Effect.map(Effect.exit(effect), (exit) => {
      lane.doing = `between operations (last: op ${id})`
      if (Exit.isSuccess(exit)) lane.recorder.complete(id, "ok", shape(exit.value))
      else {
        const tag = errorTag(exit.cause)
        lane.recorder.complete(id, outcomeOf(tag), { ...onFail, error: tag })
      }
      return { id, exit }
    })
  })

/** Whether a session can no longer be used. */
const dead = (zk: ZooKeeperService): Effect.Effect<boolean> => Effect.map(zk.state, isTerminal)

/**
 * Opens a session through the lane's proxies for the current scope, and makes it the lane's.
 *
 * @since 0.1.0
 * @category constructors
 */
export const connect = (lane: Lane, settings: SessionSettings): Effect.Effect<ZooKeeperService, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const context = yield* Layer.build(NodeZooKeeper.layer({
      servers: lane.proxies.map((p) => p.address).join(","),
      sessionTimeout: settings.sessionTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      connectTimeout: settings.sessionTimeoutMs
    }))
    const zk = Context.get(context, ZooKeeper)
    lane.zk = zk
    lane.session = (yield* zk.clientId).hex
    yield* Effect.addFinalizer(() => Effect.sync(() => void (lane.zk = undefined)))
    return zk
  })

/**
 * Runs `step` over and over until `until` (a monotonic deadline in ns) passes, each session
 * until it dies (the step's scope is the session's: fibers it forks end with the session), then a new one; a failed connect is retried after a short pause (the
 * ensemble or this lane's network may be down).
 *
 * @since 0.1.0
 * @category combinators
 */
export const loop = (
  lane: Lane,
  settings: SessionSettings,
  until: bigint,
  step: (zk: ZooKeeperService) => Effect.Effect<void, never, Scope.Scope>
): Effect.Effect<void> =>
  Effect.gen(function*() {
    while (process.hrtime.bigint() < until) {
      lane.doing = "connecting"
      const exit = yield* Effect.exit(Effect.scoped(Effect.gen(function*() {
        const zk = yield* connect(lane, settings)
        yield* Effect.addFinalizer(() => Effect.sync(() => void (lane.doing = `closing session ${lane.session}`)))
        while (process.hrtime.bigint() < until && !(yield* dead(zk))) yield* step(zk)
      })))
      lane.doing = "done"
      if (Exit.isFailure(exit)) yield* Effect.sleep(100)
    }
  })

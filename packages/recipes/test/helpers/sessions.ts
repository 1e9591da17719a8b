/**
 * Test helpers for recipes: sessions in a sandboxed chroot of the shared server (the node
 * package's fixtures), a recorder of critical sections, and checks over what it recorded.
 */
import { ZooKeeper, type ZkError, type ZooKeeperService } from "@effect-zk/core"
import { Testing } from "@effect-zk/node"
import { type Duration, Effect, Option, Schedule } from "effect"

export { chrootOf, connectTo, sandbox } from "../../../node/test/utils/TestZooKeeper.ts"

/** Waits until `condition` holds (the test kit's poll), within `timeout`. */
export const eventually = <E, R>(condition: Effect.Effect<boolean, E, R>, timeout: Duration.Input = "10 seconds") =>
  Testing.eventually(condition, { timeout })

/** A chroot of its own on `servers` (e.g. an ensemble), removed when the test's scope closes: its path (`/sandbox-...`). */
export const newChroot = (servers: string) => Effect.map(Testing.sandbox(servers), (box) => box.chroot)

/** Runs `effect` with `zk` as its ZooKeeper service. */
export const using = (zk: ZooKeeperService) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideService(effect, ZooKeeper, zk)

/** One critical section: who held it, from when to when (ms, wall clock), with which token. */
export interface Section {
  readonly who: string
  readonly token: bigint
  readonly start: number
  end: number
  /** When the holder learned its guarantee lapsed (then the section counts only up to here). */
  lapsedAt?: number
}

/** Records sections; `open` returns the section to close with `close`. */
export const sectionLog = () => {
  const sections: Array<Section> = []
  return {
    sections,
    /**
     * Runs `body` as one section. `lapse` (a lease's `lost`) marks the moment the holder learns
     * its guarantee lapsed: from then on the section no longer counts, however long the
     * interruption of `body` takes on a loaded machine.
     */
    section: <A, E, R>(who: string, token: bigint, body: Effect.Effect<A, E, R>, lapse?: Effect.Effect<unknown, unknown>) =>
      Effect.suspend(() => {
        const s: Section = { who, token, start: performance.now(), end: Number.POSITIVE_INFINITY }
        sections.push(s)
        const noteLapse = lapse === undefined ? Effect.void : Effect.forkChild(Effect.exit(lapse).pipe(
          Effect.andThen(Effect.sync(() => {
            if (s.end === Number.POSITIVE_INFINITY) s.lapsedAt = performance.now()
          }))
        ), { startImmediately: true })
        return Effect.andThen(noteLapse, Effect.ensuring(body, Effect.sync(() => {
          s.end = performance.now()
        })))
      })
  }
}

/** Pairs of sections that overlap in time (each counted until it ended or lapsed). */
export const overlaps = (sections: ReadonlyArray<Section>): Array<readonly [Section, Section]> => {
  const until = (s: Section) => Math.min(s.end, s.lapsedAt ?? Number.POSITIVE_INFINITY)
  const sorted = [...sections].sort((a, b) => a.start - b.start)
  const out: Array<readonly [Section, Section]> = []
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length && sorted[j]!.start < until(sorted[i]!); j++) {
      out.push([sorted[i]!, sorted[j]!])
    }
  }
  return out
}

/** Whether tokens strictly increase in the order sections started. */
export const tokensIncrease = (sections: ReadonlyArray<Section>): boolean => {
  const sorted = [...sections].sort((a, b) => a.start - b.start)
  return sorted.every((s, i) => i === 0 || s.token > sorted[i - 1]!.token)
}

/** Nodes left under a recipe's root: 0 also when the root is gone (an empty container is reaped). */
export const leftover = (zk: ZooKeeperService, path: string) =>
  zk.getAllChildrenNumber(path).pipe(Effect.catchTag("NoNode", () => Effect.succeed(0)))

/**
 * One critical section checked without clocks: claim the ephemeral `occupant` node (false if
 * another holder, ours or an anchor's, is inside), hold, leave. Every party of a test uses the
 * same occupant path.
 */
export const occupy = (zk: ZooKeeperService, occupant: string, holdMs: number) =>
  Effect.acquireUseRelease(
    reliably(zk.create(occupant, undefined, { mode: "Ephemeral" })).pipe(
      Effect.as(true),
      // After a ConnectionLoss our own create may have gone through: ours is not a violation.
      Effect.catchTag("NodeExists", () => ownedBy(zk, occupant))
    ),
    (alone) => Effect.as(Effect.sleep(`${holdMs} millis`), alone),
    // Also when interrupted (the guarantee lapsed): leave before the lock is released.
    (alone) => (alone ? reliably(zk.delete(occupant)).pipe(Effect.ignore) : Effect.void)
  )

/** Tries again while the connection is down (up to 30 s); the session's end stops it. */
const reliably = <A>(effect: Effect.Effect<A, ZkError>) =>
  Effect.retry(effect, { schedule: Schedule.spaced("50 millis"), times: 600, while: (e) => e._tag === "ConnectionLoss" })

/** Whether `path` is an ephemeral of this session. */
const ownedBy = (zk: ZooKeeperService, path: string) =>
  Effect.gen(function*() {
    const stat = yield* reliably(zk.exists(path))
    const { sessionId } = yield* zk.clientId
    return Option.isSome(stat) && stat.value.ephemeralOwner === sessionId
  })

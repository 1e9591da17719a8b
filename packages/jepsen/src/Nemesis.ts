/**
 * The nemesis: faults injected into a real ensemble on 127.0.0.1 while the workloads run, one
 * kind per phase. Each fault is injected, held for a random while, then healed; `heal` undoes
 * anything still in force at the end (members started, JVMs continued, proxies passing).
 *
 * - `none`: no faults (the baseline);
 * - `kill`: stop a random member, then start it again;
 * - `kill-leader`: the same, with the current leader (found with the `srvr` four-letter word);
 * - `pause-leader`: SIGSTOP the leader's JVM, then SIGCONT: a stop-the-world pause, the others
 *   elect a new leader while the old one still believes it leads;
 * - `partition`: one lane's proxies drop everything both ways (no FIN, no RST);
 * - `partition-oneway`: the same in one direction only, requests or replies;
 * - `expire`: expire one lane's session (another connection takes it over and closes it).
 *
 * @since 0.1.0
 */
import { Testing } from "@effect-zk/node"
import type { ZooKeeperEnsemble } from "@effect-zk/server"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { Lane } from "./Client.ts"
import type { Random } from "./Workloads.ts"

/**
 * The kinds of fault.
 *
 * @since 0.1.0
 * @category models
 */
export type NemesisName = "none" | "kill" | "kill-leader" | "pause-leader" | "partition" | "partition-oneway" | "expire"

/**
 * Every kind, in the order a full run goes through them.
 *
 * @since 0.1.0
 * @category constants
 */
export const ALL: ReadonlyArray<NemesisName> = ["none", "kill", "kill-leader", "pause-leader", "partition", "partition-oneway", "expire"]

/**
 * What a nemesis did.
 *
 * @since 0.1.0
 * @category models
 */
export interface Log {
  faults: number
  readonly lines: Array<string>
}

/** SIGSTOPped pids, continued by `heal` whatever happens. */
const paused = new Set<number>()

const signal = (pid: number, sig: "SIGSTOP" | "SIGCONT") =>
  Effect.sync(() => {
    try {
      process.kill(pid, sig)
    } catch {
      // The JVM exited meanwhile: nothing to stop or continue.
    }
  })

const pick = <A>(random: Random, items: ReadonlyArray<A>): A | undefined => items[Math.floor(random() * items.length)]

/** One fault, held for `holdMs`, then healed. */
const inject = (
  name: NemesisName,
  ensemble: ZooKeeperEnsemble.Ensemble,
  lanes: ReadonlyArray<Lane>,
  random: Random,
  holdMs: number,
  log: Log
): Effect.Effect<void> =>
  Effect.gen(function*() {
    const note = (line: string) => Effect.sync(() => {
      log.faults++
      log.lines.push(line)
    })
    switch (name) {
      case "none":
        return
      case "kill":
      case "kill-leader": {
        const leader = yield* ensemble.leader
        const victim = name === "kill-leader" ? Option.getOrUndefined(leader) : Math.floor(random() * ensemble.members.length)
        if (victim === undefined) return
        yield* note(`stop n${victim + 1}${Option.getOrUndefined(leader) === victim ? " (leader)" : ""} for ${holdMs} ms`)
        yield* Effect.ignore(ensemble.stop(victim))
        yield* Effect.sleep(holdMs)
        yield* Effect.ignore(ensemble.start(victim))
        return
      }
      case "pause-leader": {
        const leader = Option.getOrUndefined(yield* ensemble.leader)
        const member = leader === undefined ? undefined : ensemble.members[leader]
        if (member === undefined || leader === undefined) return
        const pid = Option.getOrUndefined(yield* Effect.orElseSucceed(member.pid, () => Option.none<number>()))
        if (pid === undefined) return
        yield* note(`SIGSTOP n${leader + 1} (leader, pid ${pid}) for ${holdMs} ms`)
        paused.add(pid)
        yield* Effect.ensuring(
          Effect.andThen(signal(pid, "SIGSTOP"), Effect.sleep(holdMs)),
          Effect.andThen(signal(pid, "SIGCONT"), Effect.sync(() => paused.delete(pid)))
        )
        return
      }
      case "partition":
      case "partition-oneway": {
        const lane = pick(random, lanes)
        if (lane === undefined) return
        const direction = name === "partition" ? "both" : random() < 0.5 ? "toServer" : "toClient"
        yield* note(`partition p${lane.process} ${direction} for ${holdMs} ms`)
        yield* Effect.ensuring(
          Effect.andThen(Effect.forEach(lane.proxies, (p) => p.setMode("blackhole", direction)), Effect.sleep(holdMs)),
          Effect.forEach(lane.proxies, (p) => p.setMode("pass"))
        )
        return
      }
      case "expire": {
        const lane = pick(random, lanes.filter((l) => l.zk !== undefined))
        const zk = lane?.zk
        if (lane === undefined || zk === undefined) return
        yield* note(`expire p${lane.process}'s session ${lane.session}`)
        yield* Effect.ignore(Effect.timeout(Testing.expireSession(zk, ensemble.connectString), "10 seconds"))
        yield* Effect.sleep(holdMs)
        return
      }
    }
  })

/**
 * Injects faults of one kind until `until` (monotonic ns): a quiet gap of 1-3 s, then a fault
 * held 1-5 s (expiry: the gap only), and so on.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = (
  name: NemesisName,
  ensemble: ZooKeeperEnsemble.Ensemble,
  lanes: ReadonlyArray<Lane>,
  random: Random,
  until: bigint,
  log: Log
): Effect.Effect<void> =>
  Effect.gen(function*() {
    while (process.hrtime.bigint() < until) {
      yield* Effect.sleep(1000 + Math.floor(random() * 2000))
      const left = Number((until - process.hrtime.bigint()) / 1_000_000n)
      if (left < 1500) return
      yield* inject(name, ensemble, lanes, random, Math.min(left - 500, 1000 + Math.floor(random() * 4000)), log)
    }
  })

/**
 * Undoes every fault still in force and waits for the ensemble's quorum.
 *
 * @since 0.1.0
 * @category constructors
 */
export const heal = (ensemble: ZooKeeperEnsemble.Ensemble, lanes: ReadonlyArray<Lane>): Effect.Effect<void> =>
  Effect.gen(function*() {
    for (const pid of paused) yield* signal(pid, "SIGCONT")
    paused.clear()
    yield* Effect.forEach(lanes, (lane) => Effect.forEach(lane.proxies, (p) => p.setMode("pass")), { discard: true })
    yield* Effect.forEach(ensemble.members, (_, i) => Effect.ignore(ensemble.start(i)), { concurrency: "unbounded", discard: true })
    yield* Effect.ignore(ensemble.awaitQuorum("60 seconds"))
  })

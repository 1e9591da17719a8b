/**
 * A real 3-member ensemble: quorum, failover with one member stopped, its return, and cleanup.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Schedule } from "effect"
import { FourLetterWord, ZooKeeperEnsemble } from "@effect-zk/server"
import { exists, portAnswers } from "./utils/helpers.ts"
import { createNode, getNode } from "./utils/rawClient.ts"

/** A raw request right after a re-election may meet a member still syncing: retry for a while. */
const untilServed = { schedule: Schedule.spaced("100 millis"), times: 150 } as const

const modeCounts = (modes: ReadonlyArray<Option.Option<string>>) => ({
  leader: modes.filter((m) => Option.getOrUndefined(m) === "leader").length,
  follower: modes.filter((m) => Option.getOrUndefined(m) === "follower").length,
  down: modes.filter(Option.isNone).length
})

describe("ZooKeeperEnsemble", () => {
  it.live("3 members form a quorum, keep serving with one stopped, take it back; release stops all", () =>
    Effect.gen(function*() {
      const { ports, runDir } = yield* Effect.scoped(Effect.gen(function*() {
        const ensemble = yield* ZooKeeperEnsemble.scoped({ size: 3, tickTime: "500 millis" })
        const ports = ensemble.members.map((m) => m.port)
        const portOf = (i: number) => ports[i] ?? 0
        assert.strictEqual(ensemble.connectString, ports.map((p) => `127.0.0.1:${p}`).join(","))
        assert.strictEqual(new Set(ports).size, 3)
        assert.deepStrictEqual(modeCounts(yield* ensemble.modes), { leader: 1, follower: 2, down: 0 })

        const leader = Option.getOrThrow(yield* ensemble.leader)
        const [first = 0, second = 0] = [0, 1, 2].filter((i) => i !== leader)
        yield* createNode(portOf(leader), "/before", "b")

        // Stopping the leader is the hard case: the followers drop their clients and re-elect.
        yield* ensemble.stop(leader)
        const stopped = yield* Effect.fromNullishOr(ensemble.members[leader])
        assert.isTrue(Option.isNone(yield* stopped.pid))
        assert.isFalse(yield* portAnswers(portOf(leader)))
        yield* ensemble.awaitQuorum("30 seconds")
        assert.deepStrictEqual(modeCounts(yield* ensemble.modes), { leader: 1, follower: 1, down: 1 })
        assert.notStrictEqual(Option.getOrThrow(yield* ensemble.leader), leader, "a survivor leads")
        yield* Effect.retry(createNode(portOf(first), "/during", "d"), untilServed)
        assert.strictEqual(yield* Effect.retry(getNode(portOf(second), "/before"), untilServed), "b")

        yield* ensemble.start(leader)
        yield* ensemble.awaitQuorum("30 seconds")
        assert.deepStrictEqual(modeCounts(yield* ensemble.modes), { leader: 1, follower: 2, down: 0 })
        const rejoined = Option.getOrThrow(yield* FourLetterWord.srvr(portOf(leader)))
        assert.strictEqual(rejoined.mode, "follower", "the old leader rejoins as a follower")
        assert.strictEqual(yield* getNode(portOf(leader), "/during"), "d", "it caught up with what it missed")

        const badIndex = yield* Effect.flip(ensemble.stop(3))
        assert.strictEqual(badIndex._tag, "InvalidOptionsError")
        return { ports, runDir: ensemble.runDir }
      }))
      for (const port of ports) assert.isFalse(yield* portAnswers(port), "release stopped every member")
      assert.isFalse(yield* exists(runDir), "release removed the directory")
    }))
})

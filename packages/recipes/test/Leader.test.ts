/**
 * Leader election and membership against a real server: one leader at a time with increasing
 * tokens, failover when the leader's session closes, latches and their participants, members
 * coming and going, and a leader and a member coming back with a new session after expiry.
 */
import { assert, layer } from "@effect/vitest"
import { ZooKeeper, type ZooKeeperService } from "@effect-zk/core"
import { NodeZooKeeper, Testing } from "@effect-zk/node"
import { ZooKeeperServer } from "@effect-zk/server"
import { Effect, Exit, Fiber, Option, Ref, Scope, Stream } from "effect"
import { Leader, Membership, Recipes } from "../src/index.ts"
import { connectTo, eventually, overlaps, sandbox, sectionLog, tokensIncrease, using, leftover } from "./helpers/sessions.ts"

const text = (b: Uint8Array) => new TextDecoder().decode(b)

layer(ZooKeeperServer.layer({ minSessionTimeout: "1 second" }), { timeout: "60 seconds", excludeTestServices: true })("Leader", (it) => {
  it.effect("run: one leader at a time; when the leader's session closes another takes over with a greater token", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const log = sectionLog()
      const sessions = yield* Effect.all([0, 1, 2].map(() => connectTo(servers, { sessionTimeout: "2 seconds" })))
      const leading = yield* Ref.make<ReadonlyArray<number>>([])
      for (const [i, zk] of sessions.entries()) {
        yield* Effect.forkChild(Effect.ignore(Leader.run("/election", (l) =>
          log.section(`p${i}`, l.fencingToken, Effect.andThen(Ref.update(leading, (xs) => [...xs, i]), Effect.never)), { id: `p${i}` }).pipe(using(zk))))
      }
      for (let round = 0; round < 2; round++) {
        yield* eventually(Effect.map(Ref.get(leading), (xs) => xs.length === round + 1))
        const leader = (yield* Ref.get(leading)).at(-1)!
        const closedAt = performance.now()
        yield* sessions[leader]!.close
        yield* eventually(Effect.map(Ref.get(leading), (xs) => xs.length === round + 2))
        assert.isBelow(performance.now() - closedAt, 2000, "a new leader follows at once after a clean close")
      }
      assert.strictEqual(new Set(yield* Ref.get(leading)).size, 3)
      assert.deepStrictEqual(overlaps(log.sections), [])
      assert.isTrue(tokensIncrease(log.sections))
    }))

  it.effect("latch: exactly one leader, participants leader first with their ids; closing the leader's scope hands over", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const zks = yield* Effect.all([0, 1, 2].map(() => connectTo(servers)))
      const scopes = yield* Effect.all([0, 1, 2].map(() => Scope.make()))
      const latches = yield* Effect.forEach([0, 1, 2], (i) =>
        Leader.latch("/latch", { id: `n${i}` }).pipe(using(zks[i]!), Scope.provide(scopes[i]!)))
      const flags = Effect.forEach(latches, (l) => Effect.map(Stream.runHead(l.isLeader), Option.getOrElse(() => false)))
      yield* eventually(Effect.map(flags, (fs) => fs.filter(Boolean).length === 1))
      const participants = yield* latches[2]!.participants
      assert.deepStrictEqual(participants.map((p) => p.id), ["n0", "n1", "n2"])
      assert.isTrue(participants[0]!.fencingToken < participants[1]!.fencingToken)
      assert.deepStrictEqual(Option.map(yield* latches[1]!.leader, (p) => p.id), Option.some("n0"))
      assert.deepStrictEqual(yield* flags, [true, false, false])
      const becameLeader = yield* Effect.forkChild(Stream.runHead(Stream.filter(latches[1]!.isLeader, (b) => b)))
      yield* Scope.close(scopes[0]!, Exit.void)
      yield* Fiber.join(becameLeader)
      assert.deepStrictEqual((yield* latches[2]!.participants).map((p) => p.id), ["n1", "n2"])
      yield* Scope.close(scopes[1]!, Exit.void)
      yield* Scope.close(scopes[2]!, Exit.void)
      assert.strictEqual(yield* leftover(zks[0]!, "/latch"), 0)
    }))

  it.effect("membership: members listed with data; a deleted member node comes back; leaving removes it", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const a = yield* connectTo(servers)
      const b = yield* connectTo(servers)
      const scope = yield* Scope.make()
      yield* Membership.join("/group", { id: "a", data: "1" }).pipe(using(a), Scope.provide(scope))
      yield* Effect.scoped(Effect.gen(function*() {
        yield* Membership.join("/group", { id: "b", data: "2" }).pipe(using(b))
        const seen = yield* Membership.members("/group").pipe(
          Stream.filter((ms) => ms.length === 2),
          Stream.runHead,
          using(b)
        )
        assert.deepStrictEqual(Option.map(seen, (ms) => ms.map((m) => `${m.id}=${text(m.data)}`)), Option.some(["a=1", "b=2"]))
        const first = yield* b.exists("/group/a")
        yield* b.delete("/group/a")
        yield* eventually(Effect.map(b.exists("/group/a"), (s) => Option.isSome(s) && Option.isSome(first) && s.value.czxid > first.value.czxid))
      }))
      assert.deepStrictEqual((yield* a.children("/group")).children, ["a"])
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(yield* leftover(a, "/group"), 0)
    }))

  it.effect("resilient: a leader and a member come back with a new session after Testing.expireSession", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const observer = yield* connectTo(servers)
      // Each term: the session that leads (the component's own ZooKeeper service).
      const terms = yield* Ref.make<ReadonlyArray<ZooKeeperService>>([])
      const component = Effect.gen(function*() {
        const zk = yield* ZooKeeper
        yield* Membership.join("/svc/members", { id: "me" })
        return yield* Leader.run("/svc/leader", Effect.andThen(Ref.update(terms, (ts) => [...ts, zk]), Effect.never), { id: "me" })
      }).pipe(Effect.scoped)
      const session = NodeZooKeeper.layer({ servers, sessionTimeout: "2 seconds" })
      const fiber = yield* Effect.forkChild(Recipes.resilient(component, session))
      const ownerOf = (path: string) => Effect.map(observer.exists(path), Option.map((s) => s.ephemeralOwner))
      yield* eventually(Effect.map(Ref.get(terms), (ts) => ts.length === 1))
      const first = (yield* Ref.get(terms))[0]!
      const before = (yield* first.clientId).sessionId
      assert.deepStrictEqual(yield* ownerOf("/svc/members/me"), Option.some(before))
      yield* Testing.expireSession(first, servers)
      yield* eventually(Effect.map(Ref.get(terms), (ts) => ts.length === 2), "15 seconds")
      const after = (yield* (yield* Ref.get(terms))[1]!.clientId).sessionId
      assert.notStrictEqual(after, before)
      assert.strictEqual(yield* first.state, "Expired")
      yield* eventually(Effect.map(ownerOf("/svc/members/me"), (o) => Option.isSome(o) && o.value === after))
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(yield* leftover(observer, "/svc/members"), 0)
      assert.strictEqual(yield* leftover(observer, "/svc/leader"), 0)
    }))
})

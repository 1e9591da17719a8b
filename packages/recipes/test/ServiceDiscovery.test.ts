/**
 * ServiceDiscovery against a real server: interop with Curator's x-discovery on the JVM (each
 * side lists, watches and queries by id the other's instances with every field intact, reads
 * the other's updates, and sees the other unregister), the providers' strategies, an update
 * that drains an instance, and a registration that comes back after someone deleted its node.
 */
import { assert, layer } from "@effect/vitest"
import { ZooKeeper, type ZooKeeperService } from "@effect-zk/core"
import { NodeZooKeeper, Testing } from "@effect-zk/node"
import { Recipes, ServiceDiscovery } from "@effect-zk/recipes"
import { ZooKeeperServer } from "@effect-zk/server"
import { Effect, Exit, Option, Schema, Scope, Stream } from "effect"
import * as JavaPeer from "./helpers/javaPeer.ts"
import { chrootOf, connectTo, eventually, sandbox, twoSessions } from "./utils.ts"

const Payload = Schema.Struct({ zone: Schema.String, weight: Schema.Number })

/** An instance as Curator's JSON has it, for field-by-field comparison (payload without @class). */
const curatorView = (i: ServiceDiscovery.ServiceInstance<unknown>) => ({
  name: i.name,
  id: i.id,
  address: i.address,
  port: i.port,
  sslPort: i.sslPort,
  payload: i.payload,
  registrationTimeUTC: i.registrationTimeUTC,
  serviceType: i.serviceType,
  uriSpec: i.uriSpec
})

const fromJava = (o: Record<string, unknown>): Record<string, unknown> => {
  const { builtUri: _builtUri, payload, ...rest } = o
  const p = typeof payload === "object" && payload !== null ? Object.fromEntries(Object.entries(payload).filter(([k]) => k !== "@class")) : payload
  return { ...rest, payload: p }
}

/** The one instance of a `queryOne` reply, or null (Curator's queryForInstance found none). */
const one = (reply: Record<string, unknown>): Record<string, unknown> | null => {
  const v = reply["instance"]
  return typeof v === "object" && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v)) : null
}

const list = (reply: Record<string, unknown>): Array<Record<string, unknown>> => {
  const v = reply["instances"]
  return Array.isArray(v) ? v : []
}

layer(ZooKeeperServer.layer(), { timeout: "90 seconds", excludeTestServices: true })("ServiceDiscovery", (it) => {
  it.effect("interop with Curator's ServiceDiscovery: each side sees the other's instances (listed, by id, after updates) with every field intact, and their removal", () =>
    Effect.gen(function*() {
      const servers = yield* sandbox
      const zk = yield* connectTo(servers)
      const dir = yield* JavaPeer.compile("DiscoveryPeer")
      const address = servers.slice(0, servers.indexOf("/"))
      const java = yield* JavaPeer.start(dir, "DiscoveryPeer", [`${address}${chrootOf(servers)}`, "/services"])
      const sd = ServiceDiscovery.make({ basePath: "/services", payload: Payload })

      const seen: Array<ReadonlyArray<string>> = []
      yield* Stream.runForEach(sd.watch("api"), (l) => Effect.sync(() => seen.push(l.map((i) => i.id)))).pipe(
        Effect.provideService(ZooKeeper, zk),
        Effect.forkScoped
      )

      // Curator registers: one instance with every optional field, one with none.
      assert.deepStrictEqual(
        yield* java.send({
          op: "register", name: "api", id: "j1", address: "10.0.0.1", port: 8080, sslPort: 8443,
          payload: { zone: "eu", weight: 3 }, uriSpec: "{scheme}://{address}:{port}/v1", serviceType: "DYNAMIC"
        }),
        { ok: true }
      )
      assert.deepStrictEqual(yield* java.send({ op: "register", name: "api", id: "j2", address: "10.0.0.2", port: 8081, serviceType: "DYNAMIC" }), { ok: true })
      const javaView = list(yield* java.send({ op: "query", name: "api" })).map(fromJava)
      const ours = yield* sd.instances("api").pipe(Effect.provideService(ZooKeeper, zk))
      assert.deepStrictEqual(ours.map(curatorView), javaView.sort((a, b) => String(a["id"]).localeCompare(String(b["id"]))))
      assert.deepStrictEqual(ours.map((i) => i.enabled), [true, true])
      assert.deepStrictEqual(ours[0]!.payload, { zone: "eu", weight: 3 })
      assert.strictEqual(Option.getOrUndefined(ServiceDiscovery.uri(ours[0]!)), "https://10.0.0.1:8080/v1")
      yield* eventually(Effect.sync(() => seen.at(-1)?.join() === "j1,j2"))

      // Ours, seen by Curator with every field intact and the same URI.
      const scope = yield* Scope.make()
      const mine = yield* sd.register({
        name: "api", id: "e1", address: "10.0.0.3", port: 9090, sslPort: 9443, payload: { zone: "us", weight: 1 },
        uriSpec: "{scheme}://{address}:{ssl-port}/{name}"
      }).pipe(Effect.provideService(ZooKeeper, zk), Scope.provide(scope))
      const javaNow = list(yield* java.send({ op: "query", name: "api" }))
      const e1 = javaNow.find((o) => o["id"] === "e1")
      assert.isDefined(e1)
      assert.deepStrictEqual(fromJava(e1!), curatorView(mine))
      assert.strictEqual(e1!["builtUri"], Option.getOrUndefined(ServiceDiscovery.uri(mine)))
      assert.deepStrictEqual((yield* java.send({ op: "names" }))["names"], ["api"])
      assert.deepStrictEqual(yield* sd.names.pipe(Effect.provideService(ZooKeeper, zk)), ["api"])
      yield* eventually(Effect.sync(() => seen.at(-1)?.join() === "e1,j1,j2"))

      // One instance by id, both ways (Curator's queryForInstance), and none for an unknown id.
      const ours2 = Option.getOrThrow(yield* sd.instance("api", "j2").pipe(Effect.provideService(ZooKeeper, zk)))
      assert.deepStrictEqual(curatorView(ours2), fromJava(one(yield* java.send({ op: "queryOne", name: "api", id: "j2" }))!))
      assert.deepStrictEqual(fromJava(one(yield* java.send({ op: "queryOne", name: "api", id: "e1" }))!), curatorView(mine))
      assert.isTrue(Option.isNone(yield* sd.instance("api", "nope").pipe(Effect.provideService(ZooKeeper, zk))))
      assert.isNull(one(yield* java.send({ op: "queryOne", name: "api", id: "nope" })))

      // Curator's updateService rewrites j2: our read by id has the new fields.
      assert.deepStrictEqual(
        yield* java.send({ op: "update", name: "api", id: "j2", address: "10.0.0.22", port: 8082, payload: { zone: "ap", weight: 7 }, serviceType: "DYNAMIC" }),
        { ok: true }
      )
      const j2 = Option.getOrThrow(yield* sd.instance("api", "j2").pipe(Effect.provideService(ZooKeeper, zk)))
      assert.deepStrictEqual([j2.address, j2.port, j2.payload], ["10.0.0.22", 8082, { zone: "ap", weight: 7 }])
      assert.deepStrictEqual(curatorView(j2), fromJava(one(yield* java.send({ op: "queryOne", name: "api", id: "j2" }))!))

      // Our update rewrites e1: Curator's queryForInstance reads every new field.
      const updated = { ...mine, address: "10.0.0.33", port: 9091, payload: { zone: "us", weight: 2 } }
      yield* sd.update(updated)
      assert.deepStrictEqual(fromJava(one(yield* java.send({ op: "queryOne", name: "api", id: "e1" }))!), curatorView(updated))
      // Only what this client registered can be updated, as in Curator.
      assert.strictEqual((yield* Effect.flip(sd.update(j2)))._tag, "BadArguments")

      // Removals cross over both ways.
      assert.deepStrictEqual(yield* java.send({ op: "unregister", id: "j1" }), { ok: true })
      yield* eventually(Effect.sync(() => seen.at(-1)?.join() === "e1,j2"))
      yield* Scope.close(scope, Exit.void)
      const after = list(yield* java.send({ op: "query", name: "api" })).map((o) => o["id"])
      assert.deepStrictEqual(after, ["j2"])
      yield* eventually(Effect.sync(() => seen.at(-1)?.join() === "j2"))
    }))

  it.effect("providers: roundRobin visits every instance, sticky keeps one while it lives, random stays in the set; a deleted registration comes back, with its updated fields", () =>
    Effect.gen(function*() {
      const { writer: other, zk } = yield* twoSessions
      const sd = ServiceDiscovery.make({ basePath: "/svc" })
      const regs = yield* Effect.forEach(["a", "b", "c"], (id) => sd.register({ name: "db", id, address: `10.1.0.${id.charCodeAt(0)}`, port: 5432 }))
        .pipe(Effect.provideService(ZooKeeper, zk))
      assert.strictEqual(regs.length, 3)
      const rr = yield* sd.provider("db", { strategy: "roundRobin" }).pipe(Effect.provideService(ZooKeeper, zk))
      const picks = yield* Effect.forEach([1, 2, 3, 4, 5, 6], () => Effect.map(rr.instance, (o) => Option.getOrThrow(o).id))
      assert.deepStrictEqual(picks, ["a", "b", "c", "a", "b", "c"])

      const sticky = yield* sd.provider("db", { strategy: "sticky" }).pipe(Effect.provideService(ZooKeeper, zk))
      const first = Option.getOrThrow(yield* sticky.instance).id
      for (let i = 0; i < 5; i++) assert.strictEqual(Option.getOrThrow(yield* sticky.instance).id, first)

      const random = yield* sd.provider("db", { strategy: "random" }).pipe(Effect.provideService(ZooKeeper, zk))
      for (let i = 0; i < 10; i++) assert.include(["a", "b", "c"], Option.getOrThrow(yield* random.instance).id)

      // Someone else deletes our node: it is registered again, and the providers follow.
      yield* other.delete(`/svc/db/${first}`)
      yield* eventually(Effect.map(other.exists(`/svc/db/${first}`), Option.isSome))
      yield* eventually(Effect.map(sticky.all, (l) => l.length === 3))
      assert.deepStrictEqual(yield* sd.names.pipe(Effect.provideService(ZooKeeper, zk)), ["db"])

      // update drains an instance (enabled: false): providers stop picking it, and a
      // re-registration after someone deletes its node keeps the new fields.
      yield* sd.update({ ...regs[1]!, enabled: false })
      yield* eventually(Effect.map(rr.all, (l) => l.map((i) => i.id).join() === "a,c"))
      yield* other.delete("/svc/db/b")
      yield* eventually(Effect.map(
        sd.instance("db", "b").pipe(Effect.provideService(ZooKeeper, other)),
        (o) => Option.isSome(o) && !o.value.enabled
      ))
      const none = yield* sd.provider("nothing").pipe(Effect.provideService(ZooKeeper, zk))
      assert.isTrue(Option.isNone(yield* none.instance))
      const bad = yield* Effect.flip(sd.register({ name: "a/b", address: "x" }).pipe(Effect.provideService(ZooKeeper, zk)))
      assert.strictEqual(bad._tag, "BadArguments")
    }))

  it.effect("a registration run with Recipes.resilient is published again on the new session after its session expired", () =>
    Effect.gen(function*() {
      const { servers, writer } = yield* twoSessions
      const sd = ServiceDiscovery.make({ basePath: "/svc" })
      const sessions: Array<ZooKeeperService> = []
      const component = Effect.scoped(Effect.gen(function*() {
        sessions.push(yield* ZooKeeper)
        yield* sd.register({ name: "api", id: "x", address: "10.2.0.1", port: 80 })
        return yield* Effect.never
      }))
      yield* Effect.forkScoped(Recipes.resilient(component, NodeZooKeeper.layer({ servers, sessionTimeout: "4 seconds" })))
      const ownerIs = (zk: ZooKeeperService) =>
        Effect.gen(function*() {
          const stat = yield* writer.exists("/svc/api/x")
          return Option.isSome(stat) && stat.value.ephemeralOwner === (yield* zk.clientId).sessionId
        })
      yield* eventually(Effect.suspend(() => (sessions.length === 1 ? ownerIs(sessions[0]!) : Effect.succeed(false))))
      yield* Testing.expireSession(sessions[0]!, servers)
      yield* eventually(Effect.suspend(() => (sessions.length === 2 ? ownerIs(sessions[1]!) : Effect.succeed(false))), "20 seconds")
      const listed = yield* sd.instances("api").pipe(Effect.provideService(ZooKeeper, writer))
      assert.deepStrictEqual(listed.map((i) => i.id), ["x"])
    }))
})

/**
 * The checkers catch a real client bug. A deliberately broken client re-sends a create after
 * ConnectionLoss; the connection is cut after the server applied the first create but before
 * its reply arrived (replies held by the proxy). The broken client then reports `NodeExists` for
 * a node it created itself, and the register checker must find that no linearization explains
 * it, shrink it, and write the HTML timeline. The correct client, in the same situation,
 * reports an unknown outcome and its history is valid.
 */
import { assert, layer } from "@effect/vitest"
import { CreateMode, ZooKeeper } from "@effect-zk/core"
import { FaultProxy, NodeZooKeeper } from "@effect-zk/node"
import { ZooKeeperServer } from "@effect-zk/server"
import { Context, Effect, Fiber, Layer, Option } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Checker from "../src/Checker.ts"
import * as Client from "../src/Client.ts"
import * as History from "../src/History.ts"
import * as Timeline from "../src/Timeline.ts"
import * as Workloads from "../src/Workloads.ts"

const session = (servers: string) =>
  Effect.map(Layer.build(NodeZooKeeper.layer({ servers, sessionTimeout: "10 seconds" })), (c) => Context.get(c, ZooKeeper))

/** Polls until `condition` holds (at most 10 s). */
const eventually = (condition: Effect.Effect<boolean, unknown>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 500; i++) {
      if (yield* Effect.orElseSucceed(condition, () => false)) return
      yield* Effect.sleep(20)
    }
    return yield* Effect.die(new Error("condition never held"))
  })

/**
 * One create whose reply is lost after the server applied it, then a synced read; returns the
 * recorded history. `mode` sequential makes it an enqueue, followed by a drain.
 */
const scenario = (broken: Workloads.Broken | undefined, f: "create" | "enqueue") =>
  Effect.gen(function*() {
    const server = yield* ZooKeeperServer.ZooKeeperServer
    const direct = yield* session(`127.0.0.1:${server.port}`)
    const root = `/broken-${f}-${broken ?? "correct"}`
    // The queue's elements live in `<base>/queue`, where `drain` looks for them.
    const dir = f === "create" ? root : `${root}/queue`
    yield* direct.create(root)
    if (dir !== root) yield* direct.create(dir)
    const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: server.port })
    const recorder = History.makeRecorder()
    const lane: Client.Lane = { process: 0, recorder, proxies: [proxy], zk: undefined, session: "", doing: "starting" }
    const zk = yield* Client.connect(lane, { sessionTimeoutMs: 10_000, requestTimeoutMs: 10_000 })
    const key = f === "create" ? `${root}/k` : `${dir}/e-`
    const mode = f === "create" ? CreateMode.Persistent : CreateMode.PersistentSequential

    yield* proxy.setMode("pause", "toClient")
    const fiber = yield* Effect.forkChild(Client.recorded(lane, { f, key: f === "create" ? key : dir, value: "v1" }, Workloads.create2(zk, broken, key, "v1", mode), (r) => ({
      zxid: r.stat.czxid
    })))
    // The server has applied it; its reply is held. Cutting the connection loses the reply.
    yield* eventually(Effect.map(direct.children(dir), (r) => r.children.length === 1))
    yield* proxy.cut
    yield* proxy.setMode("pass")
    yield* Fiber.join(fiber)

    if (f === "create") {
      yield* Client.recorded(lane, { f: "sget", key }, Effect.andThen(zk.sync(key), zk.get(key)), (r) => ({
        value: new TextDecoder().decode(r.data),
        version: r.stat.version,
        zxid: r.stat.mzxid
      }))
    } else {
      yield* Workloads.drain({ ...lane, process: 1 }, direct, root)
    }
    return { history: recorder.operations(), dir, direct }
  })

layer(ZooKeeperServer.layer({ minSessionTimeout: "1 second" }), { timeout: "60 seconds", excludeTestServices: true })("broken client", (it) => {
  it.effect("re-sent create after ConnectionLoss: the register checker finds it, shrinks it and writes the timeline", () =>
    Effect.gen(function*() {
      const { history } = yield* scenario("resend-creates", "create")
      const create = history.find((op) => op.f === "create")
      assert.strictEqual(create?.type, "fail")
      assert.strictEqual(create?.result.error, "NodeExists")
      const report = Checker.check("register", history)
      assert.strictEqual(report.verdict, "invalid")
      assert.deepStrictEqual(report.minimal.map((op) => op.id), [create!.id])
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jepsen-timeline-"))
      const file = path.join(dir, "timeline.html")
      fs.writeFileSync(file, Timeline.render(history, { title: "broken create", seed: 0, violations: report.violations, minimal: report.minimal }))
      const html = fs.readFileSync(file, "utf8")
      assert.include(html, "not linearizable")
      assert.include(html, "NodeExists")
      fs.rmSync(dir, { recursive: true })
    }))

  it.effect("the correct client reports the lost reply as unknown (info) and the history is valid", () =>
    Effect.gen(function*() {
      const { history } = yield* scenario(undefined, "create")
      const create = history.find((op) => op.f === "create")
      assert.strictEqual(create?.type, "info")
      assert.strictEqual(create?.result.error, "ConnectionLoss")
      assert.strictEqual(Checker.check("register", history).verdict, "valid")
    }))

  it.effect("re-sent sequential create: the queue checker finds the element enqueued once and dequeued twice", () =>
    Effect.gen(function*() {
      const { history, direct, dir } = yield* scenario("resend-creates", "enqueue")
      // Two nodes with the same value: the re-sent create made a second one.
      assert.lengthOf((yield* direct.children(dir)).children, 2)
      const report = Checker.check("queue", history)
      assert.strictEqual(report.verdict, "invalid")
      assert.match(report.violations[0] ?? "", /^duplicated: v1 dequeued 2 times/)
      assert.isTrue(Option.isSome(Option.fromNullishOr(report.minimal.find((op) => op.f === "enqueue"))))
    }))
})

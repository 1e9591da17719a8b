/**
 * The long-running commands through the built binary: `zk lock` excluding a second `zk lock`
 * and releasing on exit, SIGTERM and SIGKILL; `zk shell` in a real terminal (tmux), with Tab
 * completion, `cd` and relative paths.
 */
import { assert, layer } from "@effect/vitest"
import { ZooKeeperServer } from "@effect-zk/server"
import { Effect } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { address, baseEnv, BIN, client, eventually, fresh, start } from "./utils/Zk.ts"

const contenders = (path: string) =>
  Effect.flatMap(client, (c) => c.children(path).pipe(Effect.map((r) => r.children.length), Effect.orElseSucceed(() => 0)))

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** tmux on a private socket, so the test never touches a user's sessions. */
const tmux = (socket: string, args: ReadonlyArray<string>): string =>
  ChildProcess.execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" })

layer(ZooKeeperServer.layer(), { timeout: "90 seconds", excludeTestServices: true })("zk lock and zk shell", (it) => {
  it.effect("lock: a second zk lock waits until the first command exits, then runs; the status is the command's", () =>
    Effect.scoped(Effect.gen(function*() {
      const s = yield* address
      const p = fresh("lock")
      const release = Path.join(Os.tmpdir(), `zk-lock-${process.pid}-${Date.now()}`)
      const first = yield* start(["-s", s, "lock", p, "--", "sh", "-c", `echo holding $ZK_LOCK_TOKEN; while [ ! -e ${release} ]; do sleep 0.05; done`])
      yield* eventually(Effect.sync(() => first.lines.length > 0))
      assert.match(first.lines[0]!, /^holding \d+$/)
      const second = yield* start(["-s", s, "lock", p, "--", "sh", "-c", "echo second; exit 7"])
      // The second contender queues behind the first, and its command has not run.
      yield* eventually(Effect.map(contenders(p), (n) => n === 2))
      assert.deepStrictEqual(second.lines, [])
      Fs.writeFileSync(release, "")
      const firstExit = yield* Effect.promise(() => first.exited)
      assert.strictEqual(firstExit.status, 0)
      const secondExit = yield* Effect.promise(() => second.exited)
      assert.deepStrictEqual([secondExit.status, second.lines], [7, ["second"]])
      assert.strictEqual(yield* contenders(p), 0)
      Fs.rmSync(release, { force: true })
    })))

  it.effect("lock: SIGTERM stops the command and releases at once; after SIGKILL the lock goes with the session", () =>
    Effect.scoped(Effect.gen(function*() {
      const s = yield* address
      const p = fresh("killed")
      const holder = yield* start(["-s", s, "lock", p, "--", "sh", "-c", "echo $$; exec sleep 600"])
      yield* eventually(Effect.sync(() => holder.lines.length > 0))
      const sleeper = Number(holder.lines[0])
      holder.child.kill("SIGTERM")
      assert.strictEqual((yield* Effect.promise(() => holder.exited)).status, 143)
      assert.isFalse(alive(sleeper))
      assert.strictEqual(yield* contenders(p), 0)

      const killed = yield* start(["-s", s, "lock", "--session-timeout", "4s", p, "--", "sh", "-c", "echo $$; exec sleep 600"])
      yield* eventually(Effect.sync(() => killed.lines.length > 0))
      const orphan = Number(killed.lines[0])
      killed.child.kill("SIGKILL")
      const next = yield* start(["-s", s, "lock", p, "--", "sh", "-c", "echo next"])
      // The next holder gets the lock once the server expires the killed zk's session.
      yield* eventually(Effect.sync(() => next.lines.includes("next")), "30 seconds")
      assert.strictEqual((yield* Effect.promise(() => next.exited)).status, 0)
      process.kill(orphan, "SIGKILL")
    })))

  it.effect("shell in a terminal: Tab completes a path, cd then a relative ls works", () =>
    Effect.gen(function*() {
      const s = yield* address
      const c = yield* client
      const p = fresh("shell")
      yield* c.create(p)
      yield* c.create(`${p}/completion-target`, "x")
      yield* c.create(`${p}/completion-target/leaf-one`)
      yield* c.create(`${p}/completion-target/leaf-two`)
      const socket = `zk-test-${process.pid}`
      const env = baseEnv()
      const command = `HOME=${env["HOME"]} NO_COLOR=1 ${process.execPath} ${BIN} -s ${s} shell`
      tmux(socket, ["new-session", "-d", "-s", "zk", "-x", "160", "-y", "40", command])
      const screen = () => tmux(socket, ["capture-pane", "-p", "-t", "zk"])
      try {
        yield* eventually(Effect.sync(() => screen().includes("zk:/>")), "15 seconds", screen)
        tmux(socket, ["send-keys", "-t", "zk", `ls ${p}/compl`, "Tab"])
        yield* eventually(Effect.sync(() => screen().includes(`ls ${p}/completion-target`)), "15 seconds", screen)
        tmux(socket, ["send-keys", "-t", "zk", "Enter"])
        yield* eventually(Effect.sync(() => screen().includes("leaf-two")), "15 seconds", screen)
        tmux(socket, ["send-keys", "-t", "zk", `cd ${p}`, "Enter"])
        yield* eventually(Effect.sync(() => screen().includes(`zk:${p}>`)), "15 seconds", screen)
        const after = (typed: string) => () => {
          const lines = screen().split("\n").map((l) => l.trimEnd())
          const at = lines.lastIndexOf(`zk:${p}> ${typed}`)
          return at < 0 ? [] : lines.slice(at + 1)
        }
        tmux(socket, ["send-keys", "-t", "zk", "ls completion-target", "Enter"])
        yield* eventually(Effect.sync(() => after("ls completion-target")().join("|").startsWith("leaf-one|leaf-two|")), "15 seconds", screen)
        tmux(socket, ["send-keys", "-t", "zk", "get completion-target", "Enter"])
        yield* eventually(Effect.sync(() => after("get completion-target")()[0] === "x"), "15 seconds", screen)
        tmux(socket, ["send-keys", "-t", "zk", "get nothing-here", "Enter"])
        yield* eventually(Effect.sync(() => screen().includes(`zk: get "${p}/nothing-here": no node`)), "15 seconds", screen)
        tmux(socket, ["send-keys", "-t", "zk", "exit", "Enter"])
        yield* eventually(Effect.sync(() => {
          try {
            tmux(socket, ["has-session", "-t", "zk"])
            return false
          } catch {
            return true
          }
        }))
        const history = Fs.readFileSync(Path.join(env["HOME"] ?? "", ".zk_history"), "utf8")
        assert.include(history, `cd ${p}\n`)
      } finally {
        try {
          tmux(socket, ["kill-server"])
        } catch {
          // Already gone with its last session.
        }
      }
    }))
})

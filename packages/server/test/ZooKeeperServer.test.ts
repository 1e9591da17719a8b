/**
 * gozk's server tests, ported, against real JVMs on free ports in temporary directories.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import { FourLetterWord, ZooKeeperServer } from "@effect-zk/server"
import { execFile } from "node:child_process"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { exists, freshPath, occupyPort, portAnswers, processGone, tempDir, waitUntil } from "./utils/helpers.ts"
import { createNode, getNode, holdSession } from "./utils/rawClient.ts"

const somePid = (pid: Option.Option<number>): number => {
  assert.isTrue(Option.isSome(pid), "expected the server to run")
  return Option.getOrThrow(pid)
}

describe("ZooKeeperServer", () => {
  it.live("create → address → create on the same dir fails (not empty) → destroy removes it", () =>
    Effect.gen(function*() {
      const runDir = yield* tempDir
      const server = yield* ZooKeeperServer.create({ port: 0, runDir })
      assert.notStrictEqual(server.port, 0, "port 0 resolves to a free port at create time")
      assert.strictEqual(yield* server.address, `127.0.0.1:${server.port}`)
      assert.isTrue(Option.isNone(yield* server.pid), "create does not start anything")

      const again = yield* Effect.flip(ZooKeeperServer.create({ port: 0, runDir }))
      assert.strictEqual(again._tag, "RunDirNotEmptyError")
      assert.include(again.message, "not empty")

      yield* server.start
      const pid = somePid(yield* server.pid)
      yield* server.destroy
      assert.isFalse(yield* exists(runDir), "destroy removes the run directory")
      assert.isTrue(yield* processGone(pid), "destroy stops the JVM")
      assert.isFalse(yield* portAnswers(server.port))
    }))

  it.live("stop, then attach and start: the data written before survives", () =>
    Effect.gen(function*() {
      const server = yield* ZooKeeperServer.scoped()
      yield* createNode(server.port, "/x", "v")
      const pid = somePid(yield* server.pid)

      yield* server.stop
      assert.isTrue(Option.isNone(yield* server.pid))
      assert.isTrue(yield* processGone(pid))
      assert.isFalse(yield* portAnswers(server.port))
      yield* server.stop // a no-op when not running

      const attached = yield* ZooKeeperServer.attach(server.runDir)
      assert.strictEqual(attached.port, server.port)
      assert.isTrue(Option.isNone(yield* attached.pid))
      yield* attached.start
      assert.notStrictEqual(somePid(yield* attached.pid), pid)
      assert.strictEqual(yield* getNode(server.port, "/x"), "v")
      const monitor = Option.getOrThrow(yield* FourLetterWord.mntr(server.port))
      assert.strictEqual(monitor.znodeCount, 6, "the 5 system znodes plus /x")
    }))

  it.live("attach after a SIGKILL sees it stopped and can start it again", () =>
    Effect.gen(function*() {
      const server = yield* ZooKeeperServer.scoped()
      const pid = somePid(yield* server.pid)
      process.kill(pid, "SIGKILL")
      yield* waitUntil("the killed JVM to be gone", processGone(pid))

      const attached = yield* ZooKeeperServer.attach(server.runDir)
      assert.isTrue(Option.isNone(yield* attached.pid), "a stale pid file does not count as running")
      yield* attached.start
      const stats = Option.getOrThrow(yield* attached.status)
      assert.strictEqual(stats.mode, "standalone")
    }))

  it.live("start fails while the server runs, from the same handle and from an attached one", () =>
    Effect.gen(function*() {
      const server = yield* ZooKeeperServer.scoped()
      const pid = somePid(yield* server.pid)

      const error = yield* Effect.flip(server.start)
      assert.strictEqual(error._tag, "AlreadyRunningError")
      assert.include(error.message, `pid ${pid}`)
      const attached = yield* ZooKeeperServer.attach(server.runDir)
      assert.strictEqual((yield* Effect.flip(attached.start))._tag, "AlreadyRunningError")

      assert.strictEqual(somePid(yield* server.pid), pid, "the running server was left alone")
      assert.isTrue(Option.isSome(yield* server.status))
    }))

  it.live("a pid file naming someone else's process (pid reuse) is ignored, never signalled", () =>
    Effect.gen(function*() {
      const server = yield* ZooKeeperServer.create({ port: 0, runDir: yield* freshPath })
      const pidFile = path.join(server.runDir, "zookeeper.pid")
      // This very process is alive, but its command line does not name the server's zoo.cfg.
      yield* Effect.promise(() => fs.writeFile(pidFile, `${process.pid}\n`))
      assert.isTrue(Option.isNone(yield* server.pid))
      yield* server.stop
      assert.isFalse(yield* exists(pidFile), "the stale pid file is cleaned up")
    }))

  it.live("a server started by another process is attached and stopped by this one", () =>
    Effect.gen(function*() {
      const runDir = yield* freshPath
      const script = fileURLToPath(new URL("./fixtures/start-server.ts", import.meta.url))
      const stdout = yield* Effect.callback<string, Error>((resume) => {
        execFile(
          process.execPath,
          ["--conditions=@effect-zk/source", "--disable-warning=ExperimentalWarning", script, runDir],
          { cwd: path.dirname(script), timeout: 90_000 },
          (error, out, err) => resume(error ? Effect.fail(new Error(`${error.message}\n${err}`)) : Effect.succeed(out))
        )
      })
      const started: { readonly runDir: string; readonly port: number; readonly pid: number } = JSON.parse(stdout)
      assert.strictEqual(started.runDir, runDir)

      // The child has exited; its JVM must still serve.
      const server = yield* ZooKeeperServer.attach(runDir)
      assert.strictEqual(somePid(yield* server.pid), started.pid)
      assert.strictEqual(Option.getOrThrow(yield* FourLetterWord.srvr(started.port)).mode, "standalone")

      yield* server.stop
      assert.isTrue(yield* processGone(started.pid))
      assert.isFalse(yield* portAnswers(started.port))
      yield* server.destroy
    }))

  it.live("releasing scoped stops the JVM, frees the port and removes the directory", () =>
    Effect.gen(function*() {
      const { pid, port, runDir } = yield* Effect.scoped(
        Effect.gen(function*() {
          const server = yield* ZooKeeperServer.scoped()
          assert.isTrue(yield* portAnswers(server.port))
          return { pid: somePid(yield* server.pid), port: server.port, runDir: server.runDir }
        })
      )
      assert.isFalse(yield* portAnswers(port))
      assert.isTrue(yield* processGone(pid))
      assert.isFalse(yield* exists(runDir))
    }))

  it.live("start fails with PortInUseError when something answers on the port, without spawning", () =>
    Effect.gen(function*() {
      const port = yield* occupyPort
      const server = yield* ZooKeeperServer.create({ port, runDir: yield* freshPath })
      const error = yield* Effect.flip(server.start)
      assert.strictEqual(error._tag, "PortInUseError")
      assert.include(error.message, `127.0.0.1:${port}`)
      assert.isTrue(Option.isNone(yield* server.pid))
      assert.isFalse(yield* exists(path.join(server.runDir, "out.log")), "no JVM was spawned")
    }))

  it.live("an early JVM exit fails with its exit code and the log's tail", () =>
    Effect.gen(function*() {
      const server = yield* ZooKeeperServer.create({
        port: 0,
        runDir: yield* freshPath,
        extraConfig: { tickTime: "abc" }
      })
      const error = yield* Effect.flip(server.start)
      assert.strictEqual(error._tag, "ExitedEarlyError")
      if (error._tag !== "ExitedEarlyError") return
      assert.strictEqual(error.exitCode, 2, "ZooKeeper exits with 2 on a bad config")
      assert.include(error.logTail, "Invalid config")
      assert.include(error.logTail, "\"abc\"")
      assert.include(error.message, "invalid configuration")
      assert.isTrue(Option.isNone(yield* server.pid))
    }))

  it.live("a server not serving within startTimeout fails with NotReadyError and is stopped", () =>
    Effect.gen(function*() {
      const server = yield* ZooKeeperServer.create({ port: 0, runDir: yield* freshPath, startTimeout: "100 millis" })
      const error = yield* Effect.flip(server.start)
      assert.strictEqual(error._tag, "NotReadyError")
      assert.include(error.message, "100 ms")
      assert.isTrue(Option.isNone(yield* server.pid))
      yield* waitUntil("the port to be free", Effect.map(portAnswers(server.port), (b) => !b), 5_000)
    }))

  it.live("a missing installation is a NotInstalledError that says what to install", () =>
    Effect.gen(function*() {
      const installDir = path.join(yield* tempDir, "no-zookeeper-here")
      const error = yield* Effect.flip(ZooKeeperServer.create({ port: 0, runDir: yield* freshPath, installDir }))
      assert.strictEqual(error._tag, "NotInstalledError")
      assert.include(error.message, "apt-get install zookeeper")
      assert.include(error.message, installDir)
    }))

  it.live("attach on a directory create did not make fails with NotARunDirError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ZooKeeperServer.attach(yield* tempDir))
      assert.strictEqual(error._tag, "NotARunDirError")
    }))

  it.live("invalid options are typed errors", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ZooKeeperServer.create({ port: 70000, runDir: yield* freshPath }))
      assert.strictEqual(error._tag, "InvalidOptionsError")
      const bad = yield* Effect.flip(
        ZooKeeperServer.create({ port: 0, runDir: yield* freshPath, extraConfig: { "a\nb": 1 } })
      )
      assert.strictEqual(bad._tag, "InvalidOptionsError")
    }))
})

layer(
  ZooKeeperServer.layer({
    tickTime: "500 millis",
    minSessionTimeout: "1 second",
    maxSessionTimeout: "60 seconds",
    juteMaxBuffer: 4_194_304,
    jvmFlags: ["-Dreadonlymode.enabled=true"]
  }),
  { timeout: "120 seconds", excludeTestServices: true }
)("a shared server from ZooKeeperServer.layer", (it) => {
  it.effect("answers the four-letter words, parsed", () =>
    Effect.gen(function*() {
      const server = yield* ZooKeeperServer.ZooKeeperServer
      const port = server.port
      assert.isTrue(yield* FourLetterWord.ruok(port))
      assert.isFalse(yield* FourLetterWord.isro(port))
      const stats = Option.getOrThrow(yield* FourLetterWord.srvr(yield* server.address))
      assert.strictEqual(stats.mode, "standalone")
      assert.include(stats.version, "3.")
      assert.isAtLeast(stats.nodeCount, 5)

      yield* holdSession(port, 5_000)
      const connections = yield* FourLetterWord.cons(port)
      const timeouts = connections.flatMap((c) => Option.toArray(c.timeout))
      assert.deepStrictEqual(timeouts, [5_000], "cons lists the open session with its negotiated timeout")
      const stat = Option.getOrThrow(yield* FourLetterWord.stat(port))
      assert.strictEqual(stat.stats.mode, "standalone")
      assert.isAtLeast(stat.clients.length, 2)
      const monitor = Option.getOrThrow(yield* FourLetterWord.mntr(port))
      assert.strictEqual(monitor.serverState, "standalone")
      assert.isAtLeast(monitor.aliveConnections, 2)
      const watches = yield* FourLetterWord.wchs(port)
      assert.strictEqual(watches.totalWatches, 0)
    }))

  it.effect("applies zoo.cfg options and JVM flags", () =>
    Effect.gen(function*() {
      const server = yield* ZooKeeperServer.ZooKeeperServer
      const conf = yield* FourLetterWord.send(server.port, "conf")
      assert.include(conf, "tickTime=500")
      assert.include(conf, "minSessionTimeout=1000")
      assert.include(conf, "maxSessionTimeout=60000")
      assert.include(conf, "maxClientCnxns=0")
      const pid = somePid(yield* server.pid)
      const cmdline = (yield* Effect.promise(() => fs.readFile(`/proc/${pid}/cmdline`, "utf8"))).split("\0")
      assert.includeMembers(cmdline, [
        "-Djute.maxbuffer=4194304",
        "-Dreadonlymode.enabled=true",
        "-Dznode.container.checkIntervalMs=1000",
        path.join(server.runDir, "zoo.cfg")
      ])
      const cfg = yield* Effect.promise(() => fs.readFile(path.join(server.runDir, "zoo.cfg"), "utf8"))
      assert.include(cfg, "extendedTypesEnabled=true")
      assert.include(cfg, "admin.enableServer=false")
    }))
})

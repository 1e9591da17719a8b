import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Installation } from "@effect-zk/server"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { tempDir } from "./utils/helpers.ts"

const write = (file: string, text = "") =>
  Effect.promise(async () => {
    await fs.mkdir(path.dirname(file), { recursive: true })
    await fs.writeFile(file, text)
  })

describe("Installation", () => {
  it("parses Debian's environment file", () => {
    const vars = Installation.parseEnvironmentFile(
      "ZOOMAIN=org.apache.zookeeper.server.quorum.QuorumPeerMain\nJAVA_OPTS=\"\"\n# comment\n" +
        "CLASSPATH=\"/etc/zookeeper/conf:/usr/share/java/zookeeper.jar\"\nX=$HOME/y\n"
    )
    assert.strictEqual(vars["CLASSPATH"], "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar")
    assert.strictEqual(vars["JAVA_OPTS"], "")
    assert.isUndefined(vars["X"], "expansions are skipped, not guessed")
  })

  it.live("finds the system install and adds the log binding and netty-codec", () =>
    Effect.gen(function*() {
      const install = yield* Installation.locate({ env: { PATH: process.env["PATH"] } })
      assert.strictEqual(install.source, "system")
      const jars = install.classpath.map((entry) => path.basename(entry))
      assert.includeMembers(jars, ["zookeeper.jar", "slf4j-log4j12.jar", "log4j-1.2.jar", "netty-codec.jar"])
      assert.match(install.java, /\/java$/)
    }))

  it.live("uses a ZOOKEEPER_HOME release layout (lib/*.jar) before the system install", () =>
    Effect.gen(function*() {
      const home = yield* tempDir
      yield* write(path.join(home, "lib", "zookeeper-3.9.9.jar"))
      yield* write(path.join(home, "lib", "logback-classic-1.2.13.jar"))
      const install = yield* Installation.locate({ env: { ZOOKEEPER_HOME: home, PATH: process.env["PATH"] } })
      assert.strictEqual(install.source, "ZOOKEEPER_HOME")
      assert.deepStrictEqual(install.classpath, [
        path.join(home, "lib", "logback-classic-1.2.13.jar"),
        path.join(home, "lib", "zookeeper-3.9.9.jar")
      ])
    }))

  it.live("an installDir without ZooKeeper fails instead of falling through", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const error = yield* Effect.flip(Installation.locate({ installDir: dir }))
      assert.strictEqual(error.component, "ZooKeeper")
      assert.include(error.message, dir)
      assert.include(error.message, "apt-get install zookeeper")
    }))

  it.live("no system install: the error names the package", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Installation.locate({ env: {}, systemEnvironmentFile: "/nonexistent/environment" }))
      assert.strictEqual(error.component, "ZooKeeper")
      assert.include(error.message, "apt-get install zookeeper")
      assert.include(error.message, "/nonexistent/environment")
    }))

  it.live("no java: the error says how to get one", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const envFile = path.join(dir, "environment")
      yield* write(envFile, "CLASSPATH=\"/usr/share/java/zookeeper.jar\"\n")
      const error = yield* Effect.flip(Installation.locate({ env: { PATH: dir }, systemEnvironmentFile: envFile }))
      assert.strictEqual(error.component, "Java")
      assert.include(error.message, "default-jre-headless")
    }))
})

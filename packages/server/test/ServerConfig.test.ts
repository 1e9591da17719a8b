import { assert, describe, it } from "@effect/vitest"
import { ServerConfig } from "@effect-zk/server"

describe("ServerConfig", () => {
  it("renders a standalone test server: loopback, no AdminServer, all 4lw, no per-IP limit, TTL", () => {
    const text = ServerConfig.render(ServerConfig.make({ dataDir: "/run/data", clientPort: 2181 }))
    assert.strictEqual(
      text,
      [
        "tickTime=2000",
        "initLimit=10",
        "syncLimit=5",
        "dataDir=/run/data",
        "clientPort=2181",
        "clientPortAddress=127.0.0.1",
        "maxClientCnxns=0",
        "admin.enableServer=false",
        "4lw.commands.whitelist=*",
        "extendedTypesEnabled=true",
        ""
      ].join("\n")
    )
  })

  it("renders ensemble members and lets extra lines override defaults in place", () => {
    const config = ServerConfig.make({
      dataDir: "/d",
      clientPort: 3000,
      tickTime: 500,
      servers: [
        { id: 1, quorumPort: 3003, electionPort: 3006 },
        { id: 2, quorumPort: 3004, electionPort: 3007, role: "observer" }
      ],
      extra: { tickTime: 250, minSessionTimeout: 1000, skipACL: "yes" }
    })
    const lines = ServerConfig.render(config).trimEnd().split("\n")
    assert.strictEqual(lines[0], "tickTime=250", "an override keeps the default's position")
    assert.strictEqual(lines.filter((l) => l.startsWith("tickTime=")).length, 1)
    assert.includeMembers(lines, [
      "server.1=127.0.0.1:3003:3006",
      "server.2=127.0.0.1:3004:3007:observer",
      "minSessionTimeout=1000",
      "skipACL=yes"
    ])
    assert.deepStrictEqual(ServerConfig.validate(config), [])
  })

  it("renders TLS (Netty factory, PEM defaults, clientAuth none) and SASL", () => {
    const entries = new Map(ServerConfig.entries(ServerConfig.make({
      dataDir: "/d",
      clientPort: 3000,
      tls: { keyStore: "/k.pem", trustStore: "/ca.pem", securePort: 3001 },
      sasl: true
    })))
    assert.strictEqual(entries.get("secureClientPort"), "3001")
    assert.strictEqual(entries.get("secureClientPortAddress"), "127.0.0.1")
    assert.strictEqual(entries.get("serverCnxnFactory"), "org.apache.zookeeper.server.NettyServerCnxnFactory")
    assert.strictEqual(entries.get("ssl.keyStore.type"), "PEM")
    assert.strictEqual(entries.get("ssl.trustStore.location"), "/ca.pem")
    assert.strictEqual(entries.get("ssl.clientAuth"), "none")
    assert.strictEqual(entries.get("authProvider.1"), "org.apache.zookeeper.server.auth.SASLAuthenticationProvider")
  })

  it("validate catches what would change the file's meaning", () => {
    const problems = ServerConfig.validate(ServerConfig.make({
      dataDir: "/d",
      clientPort: 0,
      servers: [{ id: 0, quorumPort: 70000, electionPort: 1 }],
      extra: { "bad key": 1, note: "two\nlines" }
    }))
    assert.strictEqual(problems.length, 5, problems.join("; "))
  })

  it("renders log4j, logback and JAAS files", () => {
    assert.include(ServerConfig.renderLog4j("/r/zookeeper.log"), "log4j.appender.FILE.File=/r/zookeeper.log")
    assert.include(ServerConfig.renderLogback("/r/a&b.log"), "<file>/r/a&amp;b.log</file>")
    const jaas = ServerConfig.renderJaas({ alice: "se\"cret" })
    assert.include(jaas, "org.apache.zookeeper.server.auth.DigestLoginModule required")
    assert.include(jaas, "user_alice=\"se\\\"cret\"")
  })
})

/**
 * The zoo.cfg of a test server, as data, and its pure rendering (plus the two small files that go
 * with it: a log4j configuration and a JAAS file for SASL).
 *
 * Defaults suit throw-away servers on one machine: bind 127.0.0.1 only, AdminServer off (it would
 * take port 8080), every four-letter word allowed (the default whitelist is only `srvr`), no
 * per-IP connection limit (every test client is 127.0.0.1, and the default of 60 also starves
 * 4lw probes) and extended types on (TTL nodes).
 *
 * Not everything is a zoo.cfg key: `jute.maxbuffer` and `znode.container.checkIntervalMs` are read
 * only as JVM system properties (see `ZooKeeperServer.CreateOptions`). Unknown zoo.cfg keys
 * become `zookeeper.`-prefixed system properties, which is why `extendedTypesEnabled` works here.
 *
 * @since 0.1.0
 */

/**
 * One `server.N` line of an ensemble.
 *
 * @since 0.1.0
 * @category models
 */
export interface QuorumMember {
  /** The member's `myid`, 1..255. */
  readonly id: number
  /** Port followers use to talk to the leader (the first port of `server.N=host:a:b`). */
  readonly quorumPort: number
  /** Port for leader election (the second one). */
  readonly electionPort: number
  /** Defaults to 127.0.0.1. */
  readonly host?: string | undefined
  /** Default "participant" (a voting member). */
  readonly role?: "participant" | "observer" | undefined
}

/**
 * TLS for clients on a second, secure port. The key store may be a PEM file holding the
 * certificate followed by its unencrypted key.
 *
 * @since 0.1.0
 * @category models
 */
export interface TlsOptions {
  /** Absolute path of the server's key store. */
  readonly keyStore: string
  /** Default "PEM". */
  readonly keyStoreType?: "PEM" | "PKCS12" | "JKS" | undefined
  /** Needed for PKCS12 and JKS stores; a PEM key must be unencrypted. */
  readonly keyStorePassword?: string | undefined
  /** Absolute path of the CA bundle used to check client certificates. */
  readonly trustStore?: string | undefined
  /** Default "PEM". */
  readonly trustStoreType?: "PEM" | "PKCS12" | "JKS" | undefined
  /** Needed for PKCS12 and JKS stores. */
  readonly trustStorePassword?: string | undefined
  /** ZooKeeper's default is "need" (mutual TLS); this package defaults to "none". */
  readonly clientAuth?: "none" | "want" | "need" | undefined
  /** The secure client port; 0 or absent picks a free one. */
  readonly securePort?: number | undefined
}

/**
 * A value of an extra zoo.cfg line.
 *
 * @since 0.1.0
 * @category models
 */
export type Value = string | number | boolean

/**
 * A complete zoo.cfg.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerConfig {
  /** Absolute path of the snapshot and transaction log directory. */
  readonly dataDir: string
  /** The plain client port, on 127.0.0.1. */
  readonly clientPort: number
  /** Milliseconds; ZooKeeper's unit of time (sessions last 2 to 20 ticks by default). */
  readonly tickTime: number
  /** Ticks a follower may take to connect and sync to the leader. */
  readonly initLimit: number
  /** Ticks a follower may lag behind the leader. */
  readonly syncLimit: number
  /** Connections per client IP; 0 = unlimited. */
  readonly maxClientCnxns: number
  /** TTL nodes (`extendedTypesEnabled`). */
  readonly extendedTypes: boolean
  /** Empty for a standalone server. */
  readonly servers: ReadonlyArray<QuorumMember>
  /** The secure client port and its key and trust stores; `undefined` for no TLS. */
  readonly tls: (TlsOptions & { readonly securePort: number }) | undefined
  /** Adds the SASL authentication provider (the JAAS file is passed to the JVM separately). */
  readonly sasl: boolean
  /** Extra lines; a key that is also a default replaces the default's value. */
  readonly extra: Readonly<Record<string, Value>>
}

/**
 * Options of {@link make}: everything but the data directory and the client port is optional.
 *
 * @since 0.1.0
 * @category models
 */
export interface MakeOptions {
  /** Absolute path of the snapshot and transaction log directory. */
  readonly dataDir: string
  /** The plain client port, on 127.0.0.1. */
  readonly clientPort: number
  /** Milliseconds; default 2000 (sessions may then last 4-40 s unless min/maxSessionTimeout say otherwise). */
  readonly tickTime?: number | undefined
  /** Default 10 ticks. */
  readonly initLimit?: number | undefined
  /** Default 5 ticks. */
  readonly syncLimit?: number | undefined
  /** Default 0 (unlimited): every test client is 127.0.0.1. */
  readonly maxClientCnxns?: number | undefined
  /** Default true (TTL nodes). */
  readonly extendedTypes?: boolean | undefined
  /** Ensemble members; default none (standalone). */
  readonly servers?: ReadonlyArray<QuorumMember> | undefined
  /** A secure client port; default none. */
  readonly tls?: (TlsOptions & { readonly securePort: number }) | undefined
  /** Adds the SASL authentication provider; default false. */
  readonly sasl?: boolean | undefined
  /** Extra lines; a key that is also a default replaces the default's value. */
  readonly extra?: Readonly<Record<string, Value>> | undefined
}

/**
 * Fills in the defaults.
 *
 * @example
 * import { ServerConfig } from "@effect-zk/server"
 * ServerConfig.render(ServerConfig.make({ dataDir: "/tmp/zk/data", clientPort: 2181 }))
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: MakeOptions): ServerConfig => ({
  dataDir: options.dataDir,
  clientPort: options.clientPort,
  tickTime: options.tickTime ?? 2000,
  initLimit: options.initLimit ?? 10,
  syncLimit: options.syncLimit ?? 5,
  maxClientCnxns: options.maxClientCnxns ?? 0,
  extendedTypes: options.extendedTypes ?? true,
  servers: options.servers ?? [],
  tls: options.tls,
  sasl: options.sasl ?? false,
  extra: options.extra ?? {}
})

/**
 * The zoo.cfg lines as ordered key/value pairs, extra keys merged in.
 *
 * @since 0.1.0
 * @category rendering
 */
export const entries = (config: ServerConfig): ReadonlyArray<readonly [string, string]> => {
  const lines = new Map<string, string>([
    ["tickTime", String(config.tickTime)],
    ["initLimit", String(config.initLimit)],
    ["syncLimit", String(config.syncLimit)],
    ["dataDir", config.dataDir],
    ["clientPort", String(config.clientPort)],
    // Loopback only; the socket then shows as ::ffff:127.0.0.1.
    ["clientPortAddress", "127.0.0.1"],
    ["maxClientCnxns", String(config.maxClientCnxns)],
    ["admin.enableServer", "false"],
    ["4lw.commands.whitelist", "*"],
    ["extendedTypesEnabled", String(config.extendedTypes)]
  ])
  for (const member of config.servers) {
    const suffix = member.role === "observer" ? ":observer" : ""
    lines.set(
      `server.${member.id}`,
      `${member.host ?? "127.0.0.1"}:${member.quorumPort}:${member.electionPort}${suffix}`
    )
  }
  const tls = config.tls
  if (tls !== undefined) {
    lines.set("secureClientPort", String(tls.securePort))
    lines.set("secureClientPortAddress", "127.0.0.1")
    // TLS needs the Netty factory (and netty-codec.jar, which Installation adds).
    lines.set("serverCnxnFactory", "org.apache.zookeeper.server.NettyServerCnxnFactory")
    lines.set("ssl.keyStore.location", tls.keyStore)
    lines.set("ssl.keyStore.type", tls.keyStoreType ?? "PEM")
    if (tls.keyStorePassword !== undefined) lines.set("ssl.keyStore.password", tls.keyStorePassword)
    if (tls.trustStore !== undefined) {
      lines.set("ssl.trustStore.location", tls.trustStore)
      lines.set("ssl.trustStore.type", tls.trustStoreType ?? "PEM")
      if (tls.trustStorePassword !== undefined) lines.set("ssl.trustStore.password", tls.trustStorePassword)
    }
    lines.set("ssl.clientAuth", tls.clientAuth ?? "none")
  }
  if (config.sasl) {
    lines.set("authProvider.1", "org.apache.zookeeper.server.auth.SASLAuthenticationProvider")
  }
  for (const [key, value] of Object.entries(config.extra)) lines.set(key, String(value))
  return [...lines]
}

/**
 * Problems that would make the rendered file mean something else than the config (a newline in
 * a value would smuggle in another line); empty when the config is sound.
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (config: ServerConfig): ReadonlyArray<string> => {
  const problems: Array<string> = []
  const port = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1 || value > 65535) problems.push(`${name} ${value} is not a TCP port`)
  }
  port("clientPort", config.clientPort)
  if (config.tls !== undefined) port("securePort", config.tls.securePort)
  for (const member of config.servers) {
    if (!Number.isInteger(member.id) || member.id < 1 || member.id > 255) {
      problems.push(`server id ${member.id} must be an integer in 1..255`)
    }
    port(`server.${member.id} quorum port`, member.quorumPort)
    port(`server.${member.id} election port`, member.electionPort)
  }
  if (!Number.isInteger(config.tickTime) || config.tickTime < 1) problems.push(`tickTime ${config.tickTime} must be a positive integer (ms)`)
  for (const [key, value] of entries(config)) {
    if (!/^[A-Za-z0-9_.\-]+$/.test(key)) problems.push(`zoo.cfg key ${JSON.stringify(key)} has characters other than letters, digits, "_", "." and "-"`)
    if (/[\r\n]/.test(value)) problems.push(`zoo.cfg value of ${key} contains a line break`)
  }
  return problems
}

/**
 * The zoo.cfg text.
 *
 * @since 0.1.0
 * @category rendering
 */
export const render = (config: ServerConfig): string =>
  entries(config).map(([key, value]) => `${key}=${value}`).join("\n") + "\n"

/**
 * A log4j 1.2 configuration writing INFO and above to `logFile`. Debian ships log4j 1.2, not
 * upstream's logback; with a binding but no configuration log4j only warns "No appenders".
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderLog4j = (logFile: string): string =>
  [
    "log4j.rootLogger=INFO, FILE",
    "log4j.appender.FILE=org.apache.log4j.FileAppender",
    `log4j.appender.FILE.File=${logFile}`,
    "log4j.appender.FILE.Append=true",
    "log4j.appender.FILE.layout=org.apache.log4j.PatternLayout",
    "log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n",
    ""
  ].join("\n")

/**
 * The same for logback, used by Apache release tarballs (`lib/logback-classic-*.jar`).
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderLogback = (logFile: string): string =>
  [
    "<configuration>",
    "  <appender name=\"FILE\" class=\"ch.qos.logback.core.FileAppender\">",
    `    <file>${logFile.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</file>`,
    "    <encoder><pattern>%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n</pattern></encoder>",
    "  </appender>",
    "  <root level=\"INFO\"><appender-ref ref=\"FILE\"/></root>",
    "</configuration>",
    ""
  ].join("\n")

const jaasString = (value: string): string => `"${value.replace(/\\/g, "\\\\").replace(/"/g, "\\\"")}"`

/**
 * A JAAS file with a `Server` section accepting SASL DIGEST-MD5 logins for `users`
 * (user name → password). Clients authenticate with the same pair.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderJaas = (users: Readonly<Record<string, string>>): string =>
  [
    "Server {",
    "  org.apache.zookeeper.server.auth.DigestLoginModule required",
    ...Object.entries(users).map(([user, password]) => `  user_${user}=${jaasString(password)}`),
    "  ;",
    "};",
    ""
  ].join("\n")

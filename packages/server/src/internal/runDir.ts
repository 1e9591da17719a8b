/**
 * The on-disk contract of a run directory. Everything a process needs to start, stop or address
 * a server lives here, so `attach(runDir)` in another process sees exactly what `create` made:
 *
 *   zoo.cfg            the server's configuration (its absolute path also identifies our JVM)
 *   server.json        ports, java, classpath, JVM flags, timeouts ({@link Metadata})
 *   zookeeper.pid      pid of the running JVM, absent when stopped
 *   data/              ZooKeeper's dataDir (and data/myid for ensemble members)
 *   log4j.properties   private log configuration → zookeeper.log
 *   logback.xml        the same for Apache releases that ship logback
 *   out.log            the JVM's stdout and stderr
 *   jaas.conf          only with SASL
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as path from "node:path"
import { NotARunDirError, type ServerIoError } from "../ServerError.ts"
import { describe, readTextOption, removeFile, writeText } from "./fs.ts"

export interface Layout {
  readonly runDir: string
  readonly zooCfg: string
  readonly metadata: string
  readonly pidFile: string
  readonly dataDir: string
  readonly log4j: string
  readonly logback: string
  readonly logFile: string
  readonly outFile: string
  readonly jaas: string
}

export const layout = (runDir: string): Layout => {
  const dir = path.resolve(runDir)
  return {
    runDir: dir,
    zooCfg: path.join(dir, "zoo.cfg"),
    metadata: path.join(dir, "server.json"),
    pidFile: path.join(dir, "zookeeper.pid"),
    dataDir: path.join(dir, "data"),
    log4j: path.join(dir, "log4j.properties"),
    logback: path.join(dir, "logback.xml"),
    logFile: path.join(dir, "zookeeper.log"),
    outFile: path.join(dir, "out.log"),
    jaas: path.join(dir, "jaas.conf")
  }
}

const FORMAT = "effect-zk/server@1"

export const Metadata = Schema.Struct({
  format: Schema.Literal(FORMAT),
  clientPort: Schema.Number,
  securePort: Schema.NullOr(Schema.Number),
  /** Quorum and election ports of an ensemble member; empty for a standalone server. */
  peerPorts: Schema.Array(Schema.Number),
  java: Schema.String,
  classpath: Schema.Array(Schema.String),
  /** Every JVM argument before `-cp`, log configuration included. */
  jvmFlags: Schema.Array(Schema.String),
  startTimeoutMillis: Schema.Number,
  stopTimeoutMillis: Schema.Number
})
export type Metadata = typeof Metadata.Type

export const makeMetadata = (fields: Omit<Metadata, "format">): Metadata => ({ format: FORMAT, ...fields })

export const writeMetadata = (l: Layout, metadata: Metadata): Effect.Effect<void, ServerIoError> =>
  writeText(l.metadata, JSON.stringify(metadata, null, 2) + "\n")

const decodeMetadata = Schema.decodeUnknownOption(Metadata)

export const readMetadata = (l: Layout): Effect.Effect<Metadata, NotARunDirError | ServerIoError> =>
  Effect.gen(function*() {
    const text = yield* readTextOption(l.metadata)
    if (Option.isNone(text)) {
      return yield* new NotARunDirError({ runDir: l.runDir, reason: `${l.metadata} does not exist` })
    }
    const json = yield* Effect.try({
      try: (): unknown => JSON.parse(text.value),
      catch: (cause) => new NotARunDirError({ runDir: l.runDir, reason: `${l.metadata} is not JSON: ${describe(cause)}` })
    })
    return yield* Option.match(decodeMetadata(json), {
      onNone: () =>
        Effect.fail(
          new NotARunDirError({ runDir: l.runDir, reason: `${l.metadata} is not in the ${FORMAT} format` })
        ),
      onSome: Effect.succeed
    })
  })

/** The recorded pid; `None` when there is no (valid) pid file. */
export const readPidFile = (l: Layout): Effect.Effect<Option.Option<number>, ServerIoError> =>
  Effect.map(readTextOption(l.pidFile), (text) =>
    Option.flatMap(text, (t) => {
      const pid = Number(t.trim())
      return Number.isInteger(pid) && pid > 0 ? Option.some(pid) : Option.none()
    }))

export const writePidFile = (l: Layout, pid: number): Effect.Effect<void, ServerIoError> =>
  writeText(l.pidFile, `${pid}\n`)

export const removePidFile = (l: Layout): Effect.Effect<void, ServerIoError> => removeFile(l.pidFile)

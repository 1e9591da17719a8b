/**
 * Finds a ZooKeeper installation and a `java` to run it, and builds the classpath.
 *
 * Order (as gozk): an explicit `installDir`, then `$ZOOKEEPER_HOME`, then the system install
 * described by `/etc/zookeeper/conf/environment` (Debian/Ubuntu's `zookeeper` package). An
 * explicit directory that does not hold ZooKeeper is an error, not a reason to fall through:
 * silently running another version than the one asked for would be worse.
 *
 * Debian's `zookeeper.jar` names its dependencies in its manifest but misses three jars that a
 * test server needs, which are added when they sit next to it:
 * - `slf4j-log4j12.jar` + `log4j-1.2.jar`: without an SLF4J binding the server logs nothing,
 *   not even the BindException that makes it exit with code 1;
 * - `netty-codec.jar`: without it the Netty connection factory (required for TLS) accepts
 *   connections and then kills each one with a NoClassDefFoundError.
 *
 * This module does not check the ZooKeeper version, and it never downloads anything.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { NotInstalledError } from "./ServerError.ts"

/**
 * What is needed to launch `QuorumPeerMain`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Installation {
  /** Absolute path of the `java` executable. */
  readonly java: string
  /** Classpath entries, in order (jars and directories). */
  readonly classpath: ReadonlyArray<string>
  /** Where ZooKeeper was found. */
  readonly source: "installDir" | "ZOOKEEPER_HOME" | "system"
  /** The directory or environment file it was found in. */
  readonly location: string
}

/**
 * Options of {@link locate}.
 *
 * @since 0.1.0
 * @category models
 */
export interface LocateOptions {
  /** A ZooKeeper directory: a release (`lib/*.jar`), a jar directory holding `zookeeper.jar`, or a home with `bin/zkEnv.sh` setting CLASSPATH. */
  readonly installDir?: string | undefined
  /** Defaults to `process.env`; tests pass their own. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
  /** The system environment file; defaults to `/etc/zookeeper/conf/environment`. */
  readonly systemEnvironmentFile?: string | undefined
}

/**
 * Debian's environment file.
 *
 * @since 0.1.0
 * @category constants
 */
export const SYSTEM_ENVIRONMENT_FILE = "/etc/zookeeper/conf/environment"

const INSTALL_HINT = "Install it with `apt-get install zookeeper` (Debian/Ubuntu), or unpack an Apache ZooKeeper " +
  "release and set ZOOKEEPER_HOME or the installDir option to its directory."

const JAVA_HINT = "Install a Java runtime (`apt-get install default-jre-headless` on Debian/Ubuntu), or set JAVA_HOME."

/** Jars that Debian's zookeeper.jar manifest does not pull in but a test server needs (see module doc). */
const COMPANION_JARS = ["slf4j-log4j12.jar", "log4j-1.2.jar", "netty-codec.jar"] as const

/**
 * Reads `KEY=value` / `KEY="value"` assignments from a shell environment file such as Debian's
 * `/etc/zookeeper/conf/environment`. Only literal assignments are understood, which is all that
 * file contains; anything with `$` expansion is skipped rather than guessed.
 *
 * @example
 * parseEnvironmentFile('CLASSPATH="/etc/zookeeper/conf:/usr/share/java/zookeeper.jar"\nJAVA=/usr/bin/java')
 * // => { CLASSPATH: "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar", JAVA: "/usr/bin/java" }
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseEnvironmentFile = (text: string): Readonly<Record<string, string>> => {
  const out: Record<string, string> = {}
  for (const raw of text.split("\n")) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw)
    if (match === null) continue
    const [, key, rest] = match
    if (key === undefined || rest === undefined) continue
    let value = rest.trim()
    const quote = value.charAt(0)
    if ((quote === "\"" || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1)
    } else {
      value = value.replace(/\s+#.*$/, "")
    }
    if (value.includes("$") || value.includes("`")) continue
    out[key] = value
  }
  return out
}

const exists = (p: string): Promise<boolean> => fs.access(p).then(() => true, () => false)

const isExecutableFile = (p: string): Promise<boolean> =>
  fs.stat(p).then(
    (s) => s.isFile() && fs.access(p, fs.constants.X_OK).then(() => true, () => false),
    () => false
  )

const readDirSafe = (dir: string): Promise<ReadonlyArray<string>> => fs.readdir(dir).catch(() => [])

/** Adds the companion jars found next to any jar of `classpath` that are not on it yet. */
const withCompanions = async (classpath: ReadonlyArray<string>): Promise<ReadonlyArray<string>> => {
  const out = [...classpath]
  const dirs = [...new Set(classpath.filter((entry) => entry.endsWith(".jar")).map((jar) => path.dirname(jar)))]
  for (const jar of COMPANION_JARS) {
    if (out.some((entry) => path.basename(entry) === jar)) continue
    for (const dir of dirs) {
      const candidate = path.join(dir, jar)
      if (await exists(candidate)) {
        out.push(candidate)
        break
      }
    }
  }
  return out
}

const hasZooKeeperJar = async (classpath: ReadonlyArray<string>): Promise<boolean> => {
  for (const entry of classpath) {
    if (/(^|\/)zookeeper(-\d[^/]*)?\.jar$/.test(entry) && await exists(entry)) return true
  }
  return false
}

/**
 * The classpath a ZooKeeper directory provides, or a reason why it provides none.
 * Layouts: an Apache release (`lib/*.jar`, plus `conf/`), a jar directory (`zookeeper.jar`), or
 * a Debian-style home whose `bin/zkEnv.sh` assigns CLASSPATH literally.
 */
const classpathOfDir = async (dir: string): Promise<ReadonlyArray<string> | string> => {
  if (!(await exists(dir))) return `${dir} does not exist`
  const libJars = (await readDirSafe(path.join(dir, "lib"))).filter((name) => name.endsWith(".jar")).sort()
  if (libJars.length > 0) {
    const topJars = (await readDirSafe(dir)).filter((name) => /^zookeeper.*\.jar$/.test(name)).sort()
    const classpath = [...topJars.map((name) => path.join(dir, name)), ...libJars.map((name) => path.join(dir, "lib", name))]
    if (await hasZooKeeperJar(classpath)) return withCompanions(classpath)
    return `${dir}/lib has no zookeeper-*.jar`
  }
  if (await exists(path.join(dir, "zookeeper.jar"))) return withCompanions([path.join(dir, "zookeeper.jar")])
  for (const envFile of [path.join(dir, "bin", "zkEnv.sh"), path.join(dir, "conf", "environment")]) {
    const text = await fs.readFile(envFile, "utf8").catch(() => undefined)
    const cp = text === undefined ? undefined : parseEnvironmentFile(text)["CLASSPATH"]
    if (cp !== undefined) {
      const classpath = cp.split(":").filter((entry) => entry !== "")
      if (await hasZooKeeperJar(classpath)) return withCompanions(classpath)
    }
  }
  return `${dir} has no lib/*.jar, no zookeeper.jar and no bin/zkEnv.sh with a CLASSPATH`
}

const findJava = async (
  env: Readonly<Record<string, string | undefined>>,
  preferred: string | undefined,
  searched: Array<string>
): Promise<string | undefined> => {
  const candidates: Array<string> = []
  if (env["JAVA_HOME"]) candidates.push(path.join(env["JAVA_HOME"], "bin", "java"))
  if (preferred !== undefined && preferred !== "") candidates.push(preferred)
  for (const dir of (env["PATH"] ?? "").split(path.delimiter)) {
    if (dir !== "") candidates.push(path.join(dir, "java"))
  }
  for (const candidate of candidates) {
    searched.push(candidate)
    if (await isExecutableFile(candidate)) return candidate
  }
  return undefined
}

/**
 * Locates ZooKeeper and `java`.
 *
 * @example
 * import { Installation } from "@effect-zk/server"
 * const install = yield* Installation.locate()            // the system install on Debian
 * const custom = yield* Installation.locate({ installDir: "/opt/apache-zookeeper-3.8.4-bin" })
 *
 * @since 0.1.0
 * @category constructors
 */
export const locate = (options: LocateOptions = {}): Effect.Effect<Installation, NotInstalledError> =>
  Effect.promise(async (): Promise<Installation | NotInstalledError> => {
    const env = options.env ?? process.env
    const searched: Array<string> = []
    let found: { classpath: ReadonlyArray<string>; source: Installation["source"]; location: string } | undefined
    let javaFromEnvFile: string | undefined

    const explicit: ReadonlyArray<[Installation["source"], string | undefined]> = [
      ["installDir", options.installDir],
      ["ZOOKEEPER_HOME", env["ZOOKEEPER_HOME"]]
    ]
    for (const [source, dir] of explicit) {
      if (dir === undefined || dir === "") continue
      const location = path.resolve(dir)
      const result = await classpathOfDir(location)
      if (typeof result === "string") {
        return new NotInstalledError({
          component: "ZooKeeper",
          searched: [`${source}=${location} (${result})`],
          hint: `Point ${source} at an Apache ZooKeeper directory, or unset it to use the system install. ` +
            INSTALL_HINT
        })
      }
      found = { classpath: result, source, location }
      break
    }

    if (found === undefined) {
      const envFile = options.systemEnvironmentFile ?? SYSTEM_ENVIRONMENT_FILE
      const text = await fs.readFile(envFile, "utf8").catch(() => undefined)
      if (text === undefined) {
        searched.push(`${envFile} (missing)`)
      } else {
        const vars = parseEnvironmentFile(text)
        javaFromEnvFile = vars["JAVA"]
        const classpath = (vars["CLASSPATH"] ?? "").split(":").filter((entry) => entry !== "")
        if (await hasZooKeeperJar(classpath)) {
          found = { classpath: await withCompanions(classpath), source: "system", location: envFile }
        } else {
          searched.push(`${envFile} (its CLASSPATH names no existing zookeeper.jar)`)
        }
      }
    }
    if (found === undefined) {
      return new NotInstalledError({
        component: "ZooKeeper",
        searched: ["installDir option (unset)", "ZOOKEEPER_HOME (unset)", ...searched],
        hint: INSTALL_HINT
      })
    }

    const javaSearched: Array<string> = []
    const java = await findJava(env, javaFromEnvFile, javaSearched)
    if (java === undefined) {
      return new NotInstalledError({ component: "Java", searched: javaSearched, hint: JAVA_HINT })
    }
    return { java, ...found }
  }).pipe(
    Effect.flatMap((result) => result instanceof NotInstalledError ? Effect.fail(result) : Effect.succeed(result))
  )

/**
 * What a new user does first, on every run of the suite: pack the published packages, install the
 * tarballs into a fresh npm project (next to `effect` from the registry, pinned), copy the
 * README's "Using it" example into it verbatim, type-check it with strict settings and run it
 * twice against a fresh server. It also checks what the tarballs carry (README, LICENSE, no build
 * info) and that each package declares exactly the packages its code imports.
 *
 * The example's third-party imports are installed at the versions this workspace uses, so a
 * rewritten example keeps working here without touching this file; the server's address reaches
 * it through `ZK_SERVERS`.
 */
import { assert, layer } from "@effect/vitest"
import { ZooKeeperServer } from "@effect-zk/server"
import { Effect, type Scope } from "effect"
import { execFile } from "node:child_process"
import * as fs from "node:fs/promises"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const PUBLISHED = ["core", "node", "server"] as const

interface Run {
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command; fails with its output when it exits non-zero. */
const run = (command: string, args: ReadonlyArray<string>, options: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv }) =>
  Effect.callback<Run, Error>((resume) => {
    execFile(
      command,
      [...args],
      { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) =>
        resume(
          error
            ? Effect.fail(new Error(`${command} ${args.join(" ")} (in ${options.cwd}) failed: ${error.message}\n${stdout}\n${stderr}`))
            : Effect.succeed({ stdout, stderr })
        )
    )
  })

const tempDir: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(() => fs.mkdtemp(path.join(os.tmpdir(), "effect-zk-consumer-"))),
  (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
)

const readJson = (file: string): Effect.Effect<Record<string, unknown>> =>
  Effect.promise(async () => JSON.parse(await fs.readFile(file, "utf8")) as Record<string, unknown>)

const keysOf = (value: unknown): Array<string> => (typeof value === "object" && value !== null ? Object.keys(value).sort() : [])

/** The first ```ts block after the README's "## Using it" heading, as written. */
const readmeExample = Effect.promise(async () => {
  const readme = await fs.readFile(path.join(root, "README.md"), "utf8")
  const section = readme.slice(readme.indexOf("\n## Using it"))
  const match = /```ts\n([\s\S]*?)```/.exec(section)
  if (readme.indexOf("\n## Using it") < 0 || match?.[1] === undefined) throw new Error("README.md has no ```ts block under \"## Using it\"")
  return match[1]
})

/** Package names of the bare imports in TypeScript or JavaScript source (`node:` builtins left out). */
const importedPackages = (source: string): Array<string> => {
  const names = new Set<string>()
  for (const m of source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^"'`;]*?from\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g)) {
    const specifier = m[1] ?? m[2] ?? ""
    if (specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("node:")) continue
    const parts = specifier.split("/")
    names.add(specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!)
  }
  return [...names].sort()
}

/** The version of `name` this workspace resolves (from packages/node, then the root), so the consumer matches what we test. */
const workspaceVersion = (name: string): Effect.Effect<string> =>
  Effect.suspend(() => {
    for (const from of ["packages/node/package.json", "package.json"]) {
      try {
        return Effect.map(readJson(createRequire(path.join(root, from)).resolve(`${name}/package.json`)), (pkg) => String(pkg["version"]))
      } catch {
        // not resolvable from there
      }
    }
    return Effect.die(new Error(`the README imports ${name}, which this workspace does not install`))
  })

const TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2022"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    exactOptionalPropertyTypes: true,
    skipLibCheck: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    types: ["node"]
  },
  include: ["*.ts"]
}

layer(ZooKeeperServer.layer(), { timeout: "60 seconds", excludeTestServices: true })("a user's first hour", (it) => {
  it.effect("the packed packages install with a pinned effect, and the README example type-checks strictly and runs twice", () =>
    Effect.gen(function*() {
      // The tarballs: built from the current sources, packed as `npm publish` would.
      yield* run(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-b"], { cwd: root })
      const packs = yield* tempDir
      yield* Effect.forEach(PUBLISHED, (name) => run("pnpm", ["pack", "--pack-destination", packs], { cwd: path.join(root, "packages", name) }), {
        concurrency: "unbounded"
      })
      const tarballs = (yield* Effect.promise(() => fs.readdir(packs))).filter((f) => f.endsWith(".tgz")).sort()
      assert.deepStrictEqual(tarballs, ["effect-zk-core-0.1.0.tgz", "effect-zk-node-0.1.0.tgz", "effect-zk-server-0.1.0.tgz"])

      // A fresh project, as a user starts one.
      const project = yield* tempDir
      const example = yield* readmeExample
      const thirdParty = importedPackages(example).filter((name) => !name.startsWith("@effect-zk/"))
      const pinned = yield* Effect.forEach([...new Set([...thirdParty, "effect", "@types/node"])], (name) =>
        Effect.map(workspaceVersion(name), (version) => `${name}@${version}`))
      yield* Effect.promise(() => fs.writeFile(path.join(project, "package.json"), JSON.stringify({ name: "first-hour", private: true, type: "module" })))
      yield* Effect.promise(() => fs.writeFile(path.join(project, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2)))
      yield* Effect.promise(() => fs.writeFile(path.join(project, "readme.ts"), example))
      // npm, not pnpm: what most users have. A peer conflict fails here with ERESOLVE.
      yield* run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...tarballs.map((t) => path.join(packs, t)), ...pinned], {
        cwd: project
      })

      // What each tarball carries, and what each package declares.
      for (const name of PUBLISHED) {
        const installed = path.join(project, "node_modules/@effect-zk", name)
        const files = yield* Effect.promise(() => fs.readdir(installed))
        assert.includeMembers(files, ["README.md", "LICENSE", "package.json", "dist"], `@effect-zk/${name}`)
        assert.notInclude(yield* Effect.promise(() => fs.readdir(path.join(installed, "dist"))), ".tsbuildinfo", `@effect-zk/${name}`)
        assert.include(yield* Effect.promise(() => fs.readFile(path.join(installed, "LICENSE"), "utf8")), "Apache License")
        const manifest = yield* readJson(path.join(installed, "package.json"))
        const dist = yield* Effect.promise(() => fs.readdir(path.join(installed, "dist")))
        const sources = yield* Effect.forEach(dist.filter((f) => f.endsWith(".js")), (f) =>
          Effect.promise(() => fs.readFile(path.join(installed, "dist", f), "utf8")))
        const imported = importedPackages(sources.join("\n"))
        const declared = [...keysOf(manifest["dependencies"]), ...keysOf(manifest["peerDependencies"])].sort()
        assert.deepStrictEqual(declared, imported, `@effect-zk/${name} declares exactly what its code imports`)
      }

      // The example as written: a strict type-check, and meanwhile two runs against one fresh server.
      const servers = yield* (yield* ZooKeeperServer.ZooKeeperServer).address
      const twice = Effect.forEach([1, 2], (round) =>
        Effect.flatMap(Effect.result(run(process.execPath, ["readme.ts"], { cwd: project, env: { ZK_SERVERS: servers } })), (result) =>
          Effect.sync(() =>
            assert.strictEqual(result._tag, "Success", `run ${round} of the README example: ${result._tag === "Failure" ? result.failure.message : ""}`)
          )), { discard: true })
      const typeCheck = run(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", project], { cwd: project })
      yield* Effect.all([typeCheck, twice], { concurrency: "unbounded", discard: true })
    }), { timeout: 240_000 })
})

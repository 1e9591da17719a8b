/**
 * `pnpm bench [SUITE] [options]`: one entry point for every benchmark, so each is run the same
 * way and none is a timed test.
 *
 *   pnpm bench                 # the request path: effect-zk, the floor client and the peers (main.ts)
 *   pnpm bench recipes         # locks and leaders against Curator (JVM) and kazoo (recipes/main.ts)
 *   pnpm bench caches          # TreeCache against Curator's CuratorCache and kazoo's TreeCache (caches/main.ts)
 *   pnpm bench cli             # zk against zkCli.sh: start-up plus a get, and an export (cli/startup.ts)
 *   pnpm bench cluster         # Effect Cluster shard failover and runner start-up: ZooKeeper against PostgreSQL (cluster/main.ts)
 *
 * The options after the suite's name are the suite's own (see each file's header).
 */
const suites: Record<string, string> = {
  recipes: "./recipes/main.ts",
  caches: "./caches/main.ts",
  cli: "./cli/startup.ts",
  cluster: "./cluster/main.ts"
}

const suite = process.argv[2]
if (suite !== undefined && suite in suites) {
  // Each suite reads its options from process.argv, as if run on its own.
  process.argv.splice(2, 1)
  // The cli suite times the bundled bin a user runs, so build it first.
  if (suite === "cli") {
    const { spawnSync } = await import("node:child_process")
    const built = spawnSync("pnpm", ["--filter", "@effect-zk/cli", "run", "build"], { stdio: "inherit" })
    if (built.status !== 0) process.exit(built.status ?? 1)
  }
  await import(suites[suite]!)
} else {
  await import("./main.ts")
}

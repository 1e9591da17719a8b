/**
 * The test projects, one per package. vitest 5 no longer reads this file on its own:
 * `vitest.config.ts` loads it into `test.projects`.
 */
export default ["packages/core", "packages/node", "packages/server", "packages/recipes", "packages/cluster", "packages/cli", "packages/jepsen"]

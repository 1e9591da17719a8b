import type { UserWorkspaceConfig } from "vitest/config"

/**
 * Settings every package's test project shares. Workspace packages resolve to their TypeScript
 * sources through the `@effect-zk/source` export condition, so tests never run against a stale
 * `dist/`.
 */
export const shared = {
  resolve: { conditions: ["@effect-zk/source"] },
  ssr: { resolve: { conditions: ["@effect-zk/source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000
  }
} satisfies UserWorkspaceConfig

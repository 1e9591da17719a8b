import { describe, it, assert } from "@effect/vitest"
import { Effect } from "effect"
import { n } from "@effect-zk/node"
describe("x", () => { it.effect("works", () => Effect.sync(() => assert.strictEqual(n(), "core"))) })

import { assert, describe, it } from "@effect/vitest"
import * as CreateMode from "../src/CreateMode.ts"

const M = CreateMode.CreateMode

// [mode, flag, opcode, sequential, ephemeral, ttl, container]
const table: ReadonlyArray<readonly [CreateMode.CreateMode, number, number, boolean, boolean, boolean, boolean]> = [
  [M.Persistent, 0, 15, false, false, false, false],
  [M.Ephemeral, 1, 15, false, true, false, false],
  [M.PersistentSequential, 2, 15, true, false, false, false],
  [M.EphemeralSequential, 3, 15, true, true, false, false],
  [M.Container, 4, 19, false, false, false, true],
  [M.PersistentWithTtl, 5, 21, false, false, true, false],
  [M.PersistentSequentialWithTtl, 6, 21, true, false, true, false]
]

describe("CreateMode", () => {
  it("maps every mode to its flag, opcode and kind", () => {
    assert.strictEqual(Object.keys(M).length, table.length)
    for (const [mode, flag, opcode, sequential, ephemeral, ttl, container] of table) {
      assert.strictEqual(CreateMode.flags(mode), flag, mode)
      assert.strictEqual(CreateMode.fromFlags(flag), mode)
      assert.strictEqual(CreateMode.opcodeFor(mode), opcode, mode)
      assert.strictEqual(CreateMode.isSequential(mode), sequential, mode)
      assert.strictEqual(CreateMode.isEphemeral(mode), ephemeral, mode)
      assert.strictEqual(CreateMode.isTtl(mode), ttl, mode)
      assert.strictEqual(CreateMode.isContainer(mode), container, mode)
    }
    assert.isUndefined(CreateMode.fromFlags(7))
    assert.isUndefined(CreateMode.fromFlags(-1))
  })

  it("validates ttl per mode", () => {
    const max = 2 ** 40 - 1
    assert.strictEqual(CreateMode.MaxTtl, max)
    for (const mode of [M.PersistentWithTtl, M.PersistentSequentialWithTtl]) {
      assert.isUndefined(CreateMode.ttlError(mode, 1))
      assert.isUndefined(CreateMode.ttlError(mode, max))
      assert.isUndefined(CreateMode.ttlError(mode, BigInt(max)))
      assert.match(CreateMode.ttlError(mode, undefined) ?? "", /needs a ttl/)
      assert.match(CreateMode.ttlError(mode, 0) ?? "", /ttl 0 outside 1\.\.1099511627775/)
      assert.match(CreateMode.ttlError(mode, max + 1) ?? "", /outside/)
      assert.match(CreateMode.ttlError(mode, BigInt(max) + 1n) ?? "", /outside/)
      assert.match(CreateMode.ttlError(mode, -5) ?? "", /outside/)
      assert.match(CreateMode.ttlError(mode, 1.5) ?? "", /outside/)
      assert.match(CreateMode.ttlError(mode, Number.NaN) ?? "", /outside/)
    }
    for (const mode of [M.Persistent, M.Ephemeral, M.PersistentSequential, M.EphemeralSequential, M.Container]) {
      assert.isUndefined(CreateMode.ttlError(mode, undefined), mode)
      assert.match(CreateMode.ttlError(mode, 1000) ?? "", /only valid with a TTL mode/, mode)
    }
  })
})

import { assert, describe, it } from "@effect/vitest"
import { Effect, Random } from "effect"
import * as ConnectString from "../src/ConnectString.ts"

describe("ConnectString.parse", () => {
  it.effect("parses hosts, ports and the chroot", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, ConnectString.ConnectString]> = [
        ["127.0.0.1:2181", { hosts: [{ host: "127.0.0.1", port: 2181 }], chroot: undefined }],
        ["zk1", { hosts: [{ host: "zk1", port: 2181 }], chroot: undefined }],
        ["h1:2181,h2:2182/app", { hosts: [{ host: "h1", port: 2181 }, { host: "h2", port: 2182 }], chroot: "/app" }],
        ["h1,h2:1/app/x", { hosts: [{ host: "h1", port: 2181 }, { host: "h2", port: 1 }], chroot: "/app/x" }],
        ["h1:65535/", { hosts: [{ host: "h1", port: 65535 }], chroot: undefined }],
        [" h1:2181 , h2 ,\th3:3 ", {
          hosts: [{ host: "h1", port: 2181 }, { host: "h2", port: 2181 }, { host: "h3", port: 3 }],
          chroot: undefined
        }],
        ["[::1]:2182", { hosts: [{ host: "::1", port: 2182 }], chroot: undefined }],
        ["[::1]", { hosts: [{ host: "::1", port: 2181 }], chroot: undefined }],
        ["[fe80::1%eth0]:2181,zk2/c", {
          hosts: [{ host: "fe80::1%eth0", port: 2181 }, { host: "zk2", port: 2181 }],
          chroot: "/c"
        }]
      ]
      for (const [input, expected] of cases) {
        assert.deepStrictEqual(yield* ConnectString.parse(input), expected, JSON.stringify(input))
      }
    }))

  it.effect("rejects each invalid form with BadArguments and a helpful detail", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, RegExp]> = [
        ["", /connect string is empty/],
        ["   ", /connect string is empty/],
        ["/app", /no hosts/],
        [",h1", /empty host at position 1/],
        ["h1,,h2", /empty host at position 2/],
        ["h1,", /empty host at position 2/],
        [":2181", /empty host/],
        ["[]:2181", /empty host/],
        ["h1:abc", /invalid port "abc" in "h1:abc"/],
        ["h1:", /invalid port ""/],
        ["h1:0", /invalid port "0".*1 to 65535/],
        ["h1:65536", /invalid port "65536"/],
        ["h1:-1", /invalid port "-1"/],
        ["h1:21 81", /invalid port/],
        ["h1:2181:2", /IPv6.*brackets/],
        ["::1", /IPv6.*brackets/],
        ["[::1", /unclosed/],
        ["[::1]x", /unexpected "x"/],
        ["h 1:2181", /invalid host "h 1"/],
        ["h1/app/", /invalid chroot "\/app\/".*end with/],
        ["h1//app", /invalid chroot "\/\/app".*empty segment/],
        ["h1/app/../x", /invalid chroot.*relative segment/],
        ["h1/a\u0001", /invalid chroot.*invalid character/]
      ]
      for (const [input, detail] of cases) {
        const e = yield* Effect.flip(ConnectString.parse(input))
        assert.strictEqual(e._tag, "BadArguments", JSON.stringify(input))
        assert.strictEqual(e.op, "connect")
        assert.match(e.detail ?? "", detail, JSON.stringify(input))
        assert.match(e.message, /^zookeeper: connect: bad arguments: /)
      }
    }))
})

describe("ConnectString.format", () => {
  it.effect("writes what parse reads", () =>
    Effect.gen(function*() {
      assert.strictEqual(ConnectString.format([{ host: "::1", port: 2181 }], "/app"), "[::1]:2181/app")
      assert.strictEqual(ConnectString.format([{ host: "a", port: 1 }, { host: "b", port: 2 }]), "a:1,b:2")
      assert.strictEqual(ConnectString.format([{ host: "a", port: 1 }], "/"), "a:1")
      for (const input of ["h1:2181,h2:2182/app", "[::1]:2181,h:1", "h1:2181"]) {
        const parsed = yield* ConnectString.parse(input)
        const formatted = ConnectString.format(parsed.hosts, parsed.chroot)
        assert.strictEqual(formatted, input)
        assert.deepStrictEqual(yield* ConnectString.parse(formatted), parsed)
      }
    }))
})

describe("ConnectString.shuffle", () => {
  it("permutes with the given random source", () => {
    const items = [1, 2, 3, 4, 5]
    // Always picking the last remaining element reverses the list.
    assert.deepStrictEqual(ConnectString.shuffle(items, () => 0.9999), [5, 4, 3, 2, 1])
    // Always picking the first keeps the order.
    assert.deepStrictEqual(ConnectString.shuffle(items, () => 0), [1, 2, 3, 4, 5])
    assert.deepStrictEqual(items, [1, 2, 3, 4, 5], "input untouched")
    // A random source returning exactly 1 stays in range.
    assert.deepStrictEqual(ConnectString.shuffle(items, () => 1), [5, 4, 3, 2, 1])
    assert.deepStrictEqual(ConnectString.shuffle([], () => 0.5), [])
  })

  it("reaches every permutation", () => {
    let seed = 12345
    const lcg = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed / 2147483648
    }
    const seen = new Set<string>()
    for (let i = 0; i < 2000; i++) seen.add(ConnectString.shuffle(["a", "b", "c"], lcg).join(""))
    assert.strictEqual(seen.size, 6)
  })

  it.effect("shuffled uses the Random service and is reproducible with a seed", () =>
    Effect.gen(function*() {
      const hosts = Array.from({ length: 8 }, (_, i) => ({ host: `h${i}`, port: 2181 }))
      const a = yield* ConnectString.shuffled(hosts).pipe(Random.withSeed("zk"))
      const b = yield* ConnectString.shuffled(hosts).pipe(Random.withSeed("zk"))
      assert.deepStrictEqual(a, b)
      assert.deepStrictEqual([...a].sort((x, y) => x.host.localeCompare(y.host)), hosts)
    }))
})

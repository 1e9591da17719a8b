/**
 * The session, watch, lock and queue checkers, and the timeline, on small hand-written
 * histories that are known to satisfy the promise or known to break it.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Checker from "../src/Checker.ts"
import * as LockSafety from "../src/LockSafety.ts"
import * as QueueCheck from "../src/QueueCheck.ts"
import * as SessionOrder from "../src/SessionOrder.ts"
import * as Timeline from "../src/Timeline.ts"
import * as WatchOrder from "../src/WatchOrder.ts"
import { history } from "./utils/ops.ts"

describe("SessionOrder", () => {
  it("read-your-writes: a session's read older than its own acknowledged set", () => {
    const ops = history(
      { p: 0, f: "create", value: "a", at: [0, 1], result: { zxid: 5n, version: 0 } },
      { p: 0, f: "set", value: "b", version: 0, at: [2, 3], result: { zxid: 10n, version: 1 } },
      { p: 0, f: "get", at: [4, 5], result: { value: "a", version: 0, zxid: 5n } }
    )
    expect(SessionOrder.check(ops).map((v) => [v.kind, v.read.id, v.missed.id])).toEqual([["read-your-writes", 2, 1]])
  })

  it("monotonic reads: a later read older than an earlier one of the same key", () => {
    const ops = history(
      { p: 1, f: "create", value: "a", at: [0, 1], result: { zxid: 5n } },
      { p: 1, f: "set", value: "b", version: 0, at: [2, 3], result: { zxid: 10n, version: 1 } },
      { p: 0, f: "get", at: [4, 5], result: { value: "b", version: 1, zxid: 10n } },
      { p: 0, f: "get", at: [6, 7], result: { value: "a", version: 0, zxid: 5n } }
    )
    expect(SessionOrder.check(ops).map((v) => v.kind)).toEqual(["monotonic-reads"])
  })

  it("session order: after seeing zxid 20 elsewhere, a read must include every write up to 20", () => {
    const ops = (readZxid: bigint) =>
      history(
        { p: 1, f: "create", value: "a", at: [0, 1], result: { zxid: 5n } },
        { p: 1, f: "set", value: "b", version: 0, at: [2, 3], result: { zxid: 15n, version: 1 } },
        { p: 1, f: "set", value: "c", version: 1, at: [4, 5], result: { zxid: 25n, version: 2 } },
        { p: 0, f: "get", key: "other", at: [6, 7], result: { value: "x", zxid: 20n } },
        { p: 0, f: "get", at: [8, 9], result: { zxid: readZxid } }
      )
    expect(SessionOrder.check(ops(5n)).map((v) => [v.kind, v.missed.id])).toEqual([["session-order", 1]])
    // Seeing 15 is enough: the write at 25 is newer than anything the session saw.
    expect(SessionOrder.check(ops(15n))).toEqual([])
  })

  it("stale reads by a session that saw nothing newer are allowed (followers lag)", () => {
    const ops = history(
      { p: 1, f: "create", value: "a", at: [0, 1], result: { zxid: 5n } },
      { p: 1, f: "set", value: "b", version: 0, at: [2, 3], result: { zxid: 10n } },
      { p: 0, f: "get", at: [4, 5], result: { value: "a", zxid: 5n } }
    )
    expect(SessionOrder.check(ops)).toEqual([])
  })
})

describe("WatchOrder", () => {
  const base = (eventAt: number | undefined) =>
    history(
      { p: 1, f: "create", value: "a", at: [0, 1], result: { zxid: 5n } },
      { p: 0, f: "getw", at: [2, 3], result: { zxid: 5n, version: 0 } },
      { p: 1, f: "set", value: "b", version: 0, at: [4, 5], result: { zxid: 8n } },
      { p: 0, f: "get", key: "other", at: [6, 10], result: { zxid: 9n } },
      ...(eventAt === undefined ? [] : [{ p: 0, f: "event", armedBy: 1, at: [eventAt, eventAt] as const, result: { value: "NodeDataChanged" } }])
    )

  it("an event before the first reply that reflects the change is in order", () => {
    expect(WatchOrder.check(base(7))).toEqual([])
  })

  it("a reply with a later zxid that overtakes the event is a violation, and so is a missing event", () => {
    expect(WatchOrder.check(base(11)).map((v) => [v.armed.id, v.change.id, v.reply.id])).toEqual([[1, 2, 3]])
    expect(WatchOrder.check(base(undefined)).map((v) => v.event)).toEqual([undefined])
  })

  it("replies on other sessions do not count", () => {
    const ops = base(undefined).map((op) => (op.id === 3 ? { ...op, session: "another" } : op))
    expect(WatchOrder.check(ops)).toEqual([])
  })
})

describe("LockSafety", () => {
  it("holders one after another with increasing tokens are safe", () => {
    const ops = history(
      { p: 0, f: "acquire", at: [0, 2], result: { token: 10n } },
      { p: 1, f: "acquire", at: [1, 6], result: { token: 11n } },
      { p: 0, f: "release", at: [4, 5] },
      { p: 1, f: "release", at: [7, 8] }
    )
    expect(LockSafety.check(ops)).toEqual([])
  })

  it("overlapping holders are a violation", () => {
    const ops = history(
      { p: 0, f: "acquire", at: [0, 2], result: { token: 10n } },
      { p: 1, f: "acquire", at: [1, 3], result: { token: 11n } },
      { p: 0, f: "release", at: [4, 5] }
    )
    expect(LockSafety.check(ops).map((v) => v.kind)).toEqual(["overlap"])
  })

  it("a lapsed lease ends its hold: the next holder may start before the old holder's release", () => {
    const ops = history(
      { p: 0, f: "acquire", at: [0, 2], result: { token: 10n } },
      { p: 0, f: "lost", at: [3, 3] },
      { p: 1, f: "acquire", at: [1, 4], result: { token: 11n } },
      { p: 0, f: "release", at: [5, 6], type: "info" as const }
    )
    expect(LockSafety.check(ops)).toEqual([])
  })

  it("a later holder with a smaller or equal token is a violation", () => {
    const ops = history(
      { p: 0, f: "acquire", at: [0, 2], result: { token: 10n } },
      { p: 0, f: "release", at: [3, 4] },
      { p: 1, f: "acquire", at: [1, 5], result: { token: 10n } }
    )
    expect(LockSafety.check(ops).map((v) => v.kind)).toEqual(["token-not-increasing"])
  })
})

describe("QueueCheck", () => {
  it("every acknowledged element dequeued once, unknown enqueues optional: valid", () => {
    const ops = history(
      { p: 0, f: "enqueue", value: "a", at: [0, 1] },
      { p: 0, f: "enqueue", value: "b", at: 2 },
      { p: 0, f: "enqueue", value: "c", at: [3, 4] },
      { p: 1, f: "dequeue", at: [5, 6], result: { value: "a" } },
      { p: 1, f: "dequeue", at: 7, result: { value: "c" } },
      { p: 1, f: "list", at: [8, 9], result: { value: "0" } }
    )
    expect(QueueCheck.check(ops)).toEqual([])
    expect(Checker.check("queue", ops).verdict).toBe("valid")
  })

  it("without a final listing nothing is called lost, and the verdict is unknown", () => {
    const ops = history(
      { p: 0, f: "enqueue", value: "a", at: [0, 1] },
      { p: 1, f: "list", at: [2, 3], type: "info", result: { error: "ConnectionLoss" } }
    )
    expect(QueueCheck.check(ops)).toEqual([])
    expect(Checker.check("queue", ops).verdict).toBe("unknown")
  })

  it("lost, duplicated and unexpected elements", () => {
    const ops = history(
      { p: 0, f: "enqueue", value: "a", at: [0, 1] },
      { p: 0, f: "enqueue", value: "b", at: [2, 3] },
      { p: 1, f: "dequeue", at: [4, 5], result: { value: "b" } },
      { p: 1, f: "list", at: [6, 7], result: { value: "2" } },
      { p: 1, f: "drain", at: [6, 7], result: { value: "b" } },
      { p: 1, f: "drain", at: [6, 7], result: { value: "zzz" } }
    )
    expect(QueueCheck.check(ops).map((v) => [v.kind, v.value])).toEqual([["duplicated", "b"], ["unexpected", "zzz"], ["lost", "a"]])
  })
})

describe("Timeline", () => {
  it("renders one lane per client, outlines the minimal sub-history, and escapes text", () => {
    const ops = history(
      { p: 0, f: "create", value: "<a>", at: [0, 5_000_000], type: "fail", result: { error: "NodeExists" } },
      { p: 3, f: "sget", at: [6_000_000, 7_000_000], result: { value: "<a>", version: 0 } },
      { p: 3, f: "set", value: "b", version: 0, at: 8_000_000 }
    )
    const report = Checker.check("register", ops)
    expect(report.verdict).toBe("invalid")
    const html = Timeline.render(ops, { title: "register", seed: 42, violations: report.violations, minimal: report.minimal })
    expect(html).toContain("seed <b>42</b>")
    expect(html.match(/class="lane"/g)?.length).toBe(2 + 1)
    expect(html.match(/class="op fail bad"/g)?.length).toBe(2)
    expect(html).toContain("&lt;a&gt;")
    expect(html).not.toContain("\"<a>\"")
  })
})

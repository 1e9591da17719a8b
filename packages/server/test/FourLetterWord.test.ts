/**
 * Parsers against answers captured from ZooKeeper 3.8.0 (standalone and an ensemble's leader).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { FourLetterWord } from "@effect-zk/server"
import { occupyPort } from "./utils/helpers.ts"

const VERSION = "3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC"
const SRVR_LEADER = `Zookeeper version: ${VERSION}\nLatency min/avg/max: 18/18.0/18\nReceived: 5\nSent: 4\n` +
  "Connections: 2\nOutstanding: 0\nZxid: 0x100000001\nMode: leader\nNode count: 5\nProposal sizes last/min/max: 48/48/48\n"
const STAT_LEADER = `Zookeeper version: ${VERSION}\nClients:\n /127.0.0.1:59174[1](queued=0,recved=1,sent=1)\n` +
  " /127.0.0.1:59186[0](queued=0,recved=1,sent=0)\n\nLatency min/avg/max: 18/18.0/18\nReceived: 6\nSent: 5\n" +
  "Connections: 2\nOutstanding: 0\nZxid: 0x100000001\nMode: leader\nNode count: 5\nProposal sizes last/min/max: 48/48/48\n"
const CONS = " /127.0.0.1:59174[1](queued=0,recved=1,sent=1,sid=0x300000c818d0000,lop=SESS,est=1795941777168," +
  "to=5000,lcxid=0x0,lzxid=0x100000001,lresp=819872,llat=18,minlat=0,avglat=18,maxlat=18)\n" +
  " /127.0.0.1:59200[0](queued=0,recved=1,sent=0)\n\n"
const MNTR = `zk_version\t${VERSION}\nzk_server_state\tleader\nzk_peer_state\tleading - broadcast\n` +
  "zk_ephemerals_count\t1\nzk_num_alive_connections\t2\nzk_outstanding_requests\t0\nzk_znode_count\t7\n" +
  "zk_synced_followers\t2\nzk_watch_count\t3\nzk_approximate_data_size\t182\nzk_learners\t2\nzk_quorum_size\t3\n"
const NOT_SERVING = "This ZooKeeper instance is not currently serving requests\n"

describe("FourLetterWord parsers", () => {
  it("srvr: a leader's stats, zxid as bigint", () => {
    const stats = Option.getOrThrow(FourLetterWord.parseSrvr(SRVR_LEADER))
    assert.strictEqual(stats.mode, "leader")
    assert.strictEqual(stats.version, VERSION)
    assert.deepStrictEqual(stats.latency, { min: 18, avg: 18, max: 18 })
    assert.strictEqual(stats.zxid, 0x100000001n)
    assert.strictEqual(stats.nodeCount, 5)
    assert.strictEqual(stats.connections, 2)
  })

  it("srvr, stat and mntr: None while not serving (imok is not enough)", () => {
    assert.isTrue(Option.isNone(FourLetterWord.parseSrvr(NOT_SERVING)))
    assert.isTrue(Option.isNone(FourLetterWord.parseStat(NOT_SERVING)))
    assert.isTrue(Option.isNone(FourLetterWord.parseMntr(NOT_SERVING)))
  })

  it("stat: stats plus the client list", () => {
    const stat = Option.getOrThrow(FourLetterWord.parseStat(STAT_LEADER))
    assert.strictEqual(stat.stats.mode, "leader")
    assert.strictEqual(stat.stats.received, 6)
    assert.deepStrictEqual(stat.clients.map((c) => c.address), ["127.0.0.1:59174", "127.0.0.1:59186"])
  })

  it("cons: session id and negotiated timeout when there is a session", () => {
    const [session, probe] = FourLetterWord.parseCons(CONS)
    assert.deepStrictEqual(session?.sessionId, Option.some("0x300000c818d0000"))
    assert.deepStrictEqual(session?.timeout, Option.some(5000))
    assert.strictEqual(session?.fields.get("lop"), "SESS")
    assert.isTrue(probe !== undefined && Option.isNone(probe.sessionId))
  })

  it("mntr: parsed fields and every raw value", () => {
    const monitor = Option.getOrThrow(FourLetterWord.parseMntr(MNTR))
    assert.strictEqual(monitor.serverState, "leader")
    assert.strictEqual(monitor.znodeCount, 7)
    assert.strictEqual(monitor.watchCount, 3)
    assert.strictEqual(monitor.ephemeralsCount, 1)
    assert.deepStrictEqual(monitor.followers, Option.some(2))
    assert.deepStrictEqual(monitor.syncedFollowers, Option.some(2))
    assert.strictEqual(monitor.values.get("zk_peer_state"), "leading - broadcast")
  })

  it("wchs", () => {
    assert.deepStrictEqual(
      FourLetterWord.parseWchs("2 connections watching 3 paths\nTotal watches:4\n"),
      Option.some({ connections: 2, paths: 3, totalWatches: 4 })
    )
    assert.isTrue(Option.isNone(FourLetterWord.parseWchs("garbage")))
  })

  it("wchc", () => {
    const watches = FourLetterWord.parseWchc("0x1000A2B3C4D0000\n\t/a\n\t/a/b\n0x2\n\t/c\n\n")
    assert.deepStrictEqual([...watches.entries()], [["0x1000a2b3c4d0000", ["/a", "/a/b"]], ["0x2", ["/c"]]])
    assert.strictEqual(FourLetterWord.parseWchc("").size, 0)
  })
})

describe("FourLetterWord.send", () => {
  it.live("a closed port is Refused, a silent listener an EmptyReply", () =>
    Effect.gen(function*() {
      const port = yield* occupyPort // accepts, then closes without a word
      const empty = yield* Effect.flip(FourLetterWord.send(port, "ruok"))
      assert.strictEqual(empty.reason, "EmptyReply")
      const closed = yield* Effect.scoped(occupyPort) // free again once its scope closed
      const refused = yield* Effect.flip(FourLetterWord.srvr(closed))
      assert.strictEqual(refused.reason, "Refused")
    }))
})

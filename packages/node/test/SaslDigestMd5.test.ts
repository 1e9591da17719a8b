/**
 * `@effect-zk/core/Sasl` against a real ZooKeeper 3.8 server with a JAAS DigestLoginModule. The
 * test speaks the wire protocol itself over a raw socket (ConnectRequest, then op-102 packets),
 * without the session code, so it checks the pure DIGEST-MD5 client and the exchange that
 * `Sasl.ts` documents: an empty first token, a challenge, the response, and `rspauth`. After that
 * the connection is `sasl:alice`: whoAmI says so, and a node with ACL `sasl:alice:cdrwa` can be
 * created and read, but not by an unauthenticated session.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Sasl from "@effect-zk/core/Sasl"
import { ZooKeeperServer } from "@effect-zk/server"
import { Effect, Redacted, Result, type Scope } from "effect"
import { connect, connectRequest, frames, Reader, Writer } from "../../server/test/utils/rawJute.ts"

const OP_CREATE = 1
const OP_GET_DATA = 4
const OP_SASL = 102
const OP_WHO_AM_I = 107
const AUTH_FAILED = -115
const NO_AUTH = -102

interface Reply {
  readonly xid: number
  readonly zxid: bigint
  readonly err: number
  readonly body: Reader
}

/** One raw connection with an open session: `call` sends a request and waits for its reply. */
interface RawSession {
  readonly call: (type: number, body: (w: Writer) => Writer) => Promise<Reply>
  /** Resolves once the server has closed the connection. */
  readonly closed: Promise<void>
}

const openSession = (port: number): Effect.Effect<RawSession, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const socket = await connect(port)
        const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()))
        const next = frames(socket)
        socket.write(connectRequest())
        const response = new Reader(await next())
        response.int()
        if (response.int() <= 0) throw new Error("session refused")
        let xid = 0
        const call = async (type: number, body: (w: Writer) => Writer): Promise<Reply> => {
          xid += 1
          socket.write(body(new Writer().int(xid).int(type)).frame())
          while (true) {
            const r = new Reader(await next())
            const reply = { xid: r.int(), zxid: r.long(), err: r.int(), body: r }
            if (reply.xid === xid) return reply // skips notifications (-1) and pings (-2)
          }
        }
        return { socket, session: { call, closed } }
      },
      catch: (cause) => (cause instanceof Error ? cause : new Error(String(cause)))
    }),
    ({ socket }) => Effect.sync(() => socket.destroy())
  ).pipe(Effect.map(({ session }) => session))

const promise = <A>(f: () => Promise<A>) =>
  Effect.tryPromise({ try: f, catch: (cause) => (cause instanceof Error ? cause : new Error(String(cause))) })

const saslPacket = (session: RawSession, token: Uint8Array | null) =>
  promise(() => session.call(OP_SASL, (w) => w.buffer(token)))

interface Exchange {
  readonly challenge: string
  readonly replies: ReadonlyArray<Reply>
  readonly outcome: Result.Result<Sasl.Step, Sasl.SaslError> | "server refused"
}

/** Runs the exchange the way Sasl.ts describes it, recording what the server sent. */
const authenticate = (session: RawSession, credentials: Sasl.Credentials) =>
  Effect.gen(function*() {
    const options = { cnonce: yield* Sasl.makeCnonce }
    const replies: Array<Reply> = []
    let reply = yield* saslPacket(session, Sasl.initialToken)
    replies.push(reply)
    let token = reply.body.buffer()
    const challenge = token === null ? "" : token.toString("latin1")
    let state: Sasl.ClientState = Sasl.start
    while (true) {
      const next = Sasl.step(state, token, credentials, options)
      if (Result.isFailure(next)) return { challenge, replies, outcome: next } satisfies Exchange
      state = next.success.state
      const send = next.success.send
      if (send === undefined) return { challenge, replies, outcome: next } satisfies Exchange
      reply = yield* saslPacket(session, send)
      replies.push(reply)
      if (reply.err !== 0) return { challenge, replies, outcome: "server refused" } satisfies Exchange
      token = reply.body.buffer()
    }
  })

const whoAmI = (session: RawSession) =>
  Effect.map(promise(() => session.call(OP_WHO_AM_I, (w) => w)), (reply) => {
    assert.strictEqual(reply.err, 0)
    const n = reply.body.int()
    return Array.from({ length: n }, () => `${reply.body.string()}:${reply.body.string()}`)
  })

const users = { alice: "secret", bob: "sécret", carol: "пароль😀" }

describe("SASL DIGEST-MD5 against a real server", () => {
  it.live("alice logs in: whoAmI is sasl:alice and a sasl:alice:cdrwa node is hers alone", () =>
    Effect.gen(function*() {
      const server = yield* ZooKeeperServer.scoped({ sasl: { users } })
      const session = yield* openSession(server.port)
      const exchange = yield* authenticate(session, { username: "alice", password: Redacted.make("secret") })

      assert.match(exchange.challenge, /realm="zk-sasl-md5"/, "ZooKeeper's realm is its server name")
      assert.match(exchange.challenge, /algorithm=md5-sess/)
      assert.strictEqual(exchange.replies.length, 2, "two round trips: challenge, then rspauth")
      for (const reply of exchange.replies) {
        assert.strictEqual(reply.err, 0)
        assert.strictEqual(reply.zxid, 0n, "SASL replies carry zxid 0")
      }
      assert.isTrue(exchange.outcome !== "server refused" && Result.isSuccess(exchange.outcome))
      if (exchange.outcome !== "server refused" && Result.isSuccess(exchange.outcome)) {
        assert.deepStrictEqual(exchange.outcome.success, { state: { _tag: "Complete" }, send: undefined })
      }

      assert.include(yield* whoAmI(session), "sasl:alice")
      const created = yield* promise(() =>
        session.call(OP_CREATE, (w) => w.string("/alice").buffer(Buffer.from("hers")).int(1).int(31).string("sasl").string("alice").int(0))
      )
      assert.strictEqual(created.err, 0, "create with ACL sasl:alice:cdrwa")
      const read = yield* promise(() => session.call(OP_GET_DATA, (w) => w.string("/alice").bool(false)))
      assert.strictEqual(read.err, 0)
      assert.strictEqual(read.body.buffer()?.toString("utf8"), "hers")

      const stranger = yield* openSession(server.port)
      assert.notInclude(yield* whoAmI(stranger), "sasl:alice")
      const denied = yield* promise(() => stranger.call(OP_GET_DATA, (w) => w.string("/alice").bool(false)))
      assert.strictEqual(denied.err, NO_AUTH)
    }))

  it.live("non-ASCII passwords (ISO 8859-1 and UTF-8 hashing), an authzid, and a wrong password", () =>
    Effect.gen(function*() {
      const server = yield* ZooKeeperServer.scoped({ sasl: { users } })
      for (const [username, password] of [["bob", "sécret"], ["carol", "пароль😀"]] as const) {
        const session = yield* openSession(server.port)
        const exchange = yield* authenticate(session, { username, password })
        assert.isTrue(exchange.outcome !== "server refused" && Result.isSuccess(exchange.outcome), `${username} logs in`)
        assert.include(yield* whoAmI(session), `sasl:${username}`)
      }

      // Java's client sends the username as authzid; the server accepts that too.
      const withAuthzid = yield* openSession(server.port)
      const authzid = yield* authenticate(withAuthzid, { username: "alice", password: "secret", authzid: "alice" })
      assert.isTrue(authzid.outcome !== "server refused" && Result.isSuccess(authzid.outcome))
      assert.include(yield* whoAmI(withAuthzid), "sasl:alice")

      // A wrong password: AuthFailed (-115) on the response packet, then the server hangs up.
      const wrong = yield* openSession(server.port)
      const refused = yield* authenticate(wrong, { username: "alice", password: "wrong" })
      assert.strictEqual(refused.outcome, "server refused")
      assert.strictEqual(refused.replies.at(-1)?.err, AUTH_FAILED)
      assert.isNull(refused.replies.at(-1)?.body.buffer(), "no token with AuthFailed")
      yield* promise(() => wrong.closed).pipe(Effect.timeout("20 seconds"))
    }))

  it.live("a server without SASL answers the first packet with a null token, which Sasl.step explains", () =>
    Effect.gen(function*() {
      const server = yield* ZooKeeperServer.scoped()
      const session = yield* openSession(server.port)
      const reply = yield* saslPacket(session, Sasl.initialToken)
      assert.strictEqual(reply.err, 0)
      const token = reply.body.buffer()
      assert.isNull(token)
      const step = Sasl.step(Sasl.start, token, { username: "alice", password: "secret" }, { cnonce: "c" })
      assert.isTrue(Result.isFailure(step))
      if (Result.isFailure(step)) assert.include(step.failure.message, "is SASL enabled")
    }))
})

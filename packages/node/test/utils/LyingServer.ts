/**
 * A lying ZooKeeper server on 127.0.0.1: a test double that speaks the wire protocol (frames,
 * the handshake, request and reply headers) and misbehaves on purpose, one scenario per
 * connection. Connection n follows `script[n]`; later ones follow `then`. So "the first
 * connection lies, the second behaves" shows that the client drops a lying connection and
 * reconnects.
 *
 * With a `backend` (a real server), every connection is forwarded to it frame by frame, and
 * the lie is told in the middle of a real session: the client's session survives the lie and
 * resumes on the next connection. Without one, the double answers alone: a ConnectResponse
 * (37 bytes: protocol 0, the requested timeout, a session id, a 16-byte password, readOnly 0),
 * ping, auth, setWatches and closeSession replies, and NoNode to everything else: a server with
 * no nodes, enough for "no good server at all" scenarios.
 */
import { FrameDecoder, JuteReader, JuteWriter, OpCode, Xid } from "@effect-zk/core/Protocol"
import { Effect, type Scope } from "effect"
import * as Net from "node:net"

/**
 * What a connection does wrong. Request lies fire at the first user request (not a ping, auth,
 * setWatches or closeSession); handshake lies replace the ConnectResponse.
 */
export type Lie =
  /** A 5-byte frame of garbage instead of the first reply. */
  | "garbage"
  /** A length prefix of 2^31-1 instead of the first reply. */
  | "hugeLength"
  /** A reply to an xid that was never sent (the request's + 1000). */
  | "unknownXid"
  /** Holds the first request and answers the second one first. */
  | "outOfOrder"
  /** 20 bytes of a 100-byte reply frame, then silence in both directions (no ping replies). */
  | "truncatedThenSilence"
  /** Before the first reply: notifications for paths nobody watched (and one of an unknown type). */
  | "unwatchedNotification"
  /** Right after the handshake: a reply although no request is waiting. */
  | "replyWithoutRequest"
  /** Garbage instead of the ConnectResponse. */
  | "handshakeGarbage"
  /** A 2^31-1 length prefix instead of the ConnectResponse. */
  | "handshakeHugeLength"
  /** Half a ConnectResponse, then silence. */
  | "handshakeTruncated"
  /** No ConnectResponse at all, the socket left open. */
  | "handshakeSilence"
  /** Closes the socket as soon as the ConnectRequest arrives. */
  | "handshakeHangUp"
  /**
   * 37 zero bytes for a ConnectResponse: the right size, and a timeout of 0, but no 16-byte
   * password: garbage, not the server's expiry answer (which carries 16 zero bytes).
   */
  | "handshakeZeros"

/** A connection's behaviour: a lie, or none. */
export type Behaviour = Lie | "honest"

/** The path of the notifications `unwatchedNotification` sends (server paths, no chroot). */
export const UNWATCHED_PATHS = ["/never-watched", "/never/watched/either"] as const

/** The xid of the reply `replyWithoutRequest` sends. */
export const REPLY_WITHOUT_REQUEST_XID = 0x7ffffff0

/** What one connection saw and did. */
export interface ConnectionLog {
  readonly index: number
  readonly behaviour: Behaviour
  /** Requests received after the handshake, in order (pings included). */
  readonly requests: Array<{ readonly xid: number; readonly op: number }>
  /** Whether the lie has been told. */
  lied: boolean
  /** Whether the client end has closed. */
  closed: boolean
}

/** Options of {@link make}. */
export interface LyingServerOptions {
  /** The behaviour of connection n (0-based). */
  readonly script: ReadonlyArray<Behaviour>
  /** The behaviour of connections past the script. Default "honest". */
  readonly then?: Behaviour | undefined
  /** A real server to forward to; absent, the double answers alone. */
  readonly backend?: { readonly host: string; readonly port: number } | undefined
  /** Without a backend: the session timeout the double grants. Default: what the client asked for. */
  readonly grantTimeout?: number | undefined
}

/** A running lying server. */
export interface LyingServer {
  /** `127.0.0.1:PORT`, for a connect string. */
  readonly address: string
  readonly port: number
  /** Connections accepted so far. */
  readonly accepted: Effect.Effect<number>
  /** Connections whose client end is still open. */
  readonly open: Effect.Effect<number>
  /** Every connection so far. */
  readonly log: Effect.Effect<ReadonlyArray<ConnectionLog>>
}

const frame = (write: (w: JuteWriter) => void): Buffer => {
  const w = new JuteWriter(64)
  const at = w.beginFrame()
  write(w)
  w.endFrame(at)
  return Buffer.from(w.take())
}

const replyHeader = (xid: number, zxid: bigint, err: number): Buffer => frame((w) => w.int(xid).long(zxid).int(err))

const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}

/** Ops the double answers without telling a request lie: the session's own housekeeping. */
const HOUSEKEEPING: ReadonlySet<number> = new Set([
  OpCode.Ping,
  OpCode.Auth,
  OpCode.SetWatches,
  OpCode.SetWatches2,
  OpCode.CloseSession,
  OpCode.Sasl
])

const isHandshakeLie = (b: Behaviour): boolean => b.startsWith("handshake")

/**
 * Starts a lying server on a free port of 127.0.0.1; it stops (closing every connection) when
 * the scope closes.
 */
export const make = (options: LyingServerOptions): Effect.Effect<LyingServer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ readonly server: LyingServer; readonly close: () => void }>((resume) => {
      const logs: Array<ConnectionLog> = []
      const sockets = new Set<Net.Socket>()
      let nextSession = 0x7e570000n

      const server = Net.createServer((client) => {
        const index = logs.length
        const behaviour = options.script[index] ?? options.then ?? "honest"
        const log: ConnectionLog = { index, behaviour, requests: [], lied: false, closed: false }
        logs.push(log)
        sockets.add(client)
        client.setNoDelay(true)
        const upstream = options.backend === undefined ? undefined : Net.connect(options.backend)
        if (upstream !== undefined) sockets.add(upstream)
        /** Silence: nothing reaches the client any more, nothing is forwarded. */
        let silent = false
        let handshakeDone = false
        let held: { readonly xid: number; readonly bytes: Buffer } | undefined = undefined
        const end = () => {
          log.closed = true
          client.destroy()
          upstream?.destroy()
          sockets.delete(client)
          if (upstream !== undefined) sockets.delete(upstream)
        }
        client.on("close", end)
        client.on("error", end)
        upstream?.on("close", () => {
          // The real server hung up (e.g. after closeSession): the client sees it too, unless
          // this connection is playing dead.
          if (!silent) end()
        })
        upstream?.on("error", () => {
          if (!silent) end()
        })
        const toClient = (bytes: Buffer) => {
          if (!silent && !client.destroyed) client.write(bytes)
        }
        const lie = () => {
          log.lied = true
        }

        // -- Emulated answers, when there is no backend -------------------------------------
        const emulate = (xid: number, op: number) => {
          switch (op) {
            case OpCode.Ping:
              return toClient(replyHeader(Xid.Ping, 1n, 0))
            case OpCode.Auth:
              return toClient(replyHeader(Xid.Auth, 0n, 0))
            case OpCode.CloseSession:
              toClient(replyHeader(xid, 2n, 0))
              client.end()
              return
            case OpCode.SetWatches:
            case OpCode.SetWatches2:
              return toClient(replyHeader(xid, 1n, 0))
            default:
              // A server with no nodes.
              return toClient(replyHeader(xid, 1n, -101))
          }
        }

        // -- Client to server ----------------------------------------------------------------
        const fromClient = new FrameDecoder(16 * 1024 * 1024)
        const onClientFrame = (buf: Uint8Array, start: number, end_: number) => {
          const bytes = Buffer.concat([int32(end_ - start), buf.subarray(start, end_)])
          if (!handshakeDone) {
            handshakeDone = true
            if (isHandshakeLie(behaviour)) return handshakeLie()
            if (upstream !== undefined) return void upstream.write(bytes)
            const r = new JuteReader(buf, start, end_)
            r.int()
            r.long()
            const timeOut = r.int()
            const sessionId = r.long()
            const session = sessionId === 0n ? ++nextSession : sessionId
            const response = frame((w) => w.int(0).int(options.grantTimeout ?? timeOut).long(session).buffer(new Uint8Array(16).fill(7)).bool(false))
            toClient(response)
            afterHandshake()
            return
          }
          if (silent) return
          const header = new JuteReader(buf, start, end_)
          const xid = header.int()
          const op = header.int()
          log.requests.push({ xid, op })
          const forwardOrAnswer = () => (upstream !== undefined ? void upstream.write(bytes) : emulate(xid, op))
          if (log.lied || HOUSEKEEPING.has(op) || !requestLie(xid, op, bytes)) forwardOrAnswer()
        }

        const handshakeLie = () => {
          lie()
          switch (behaviour) {
            case "handshakeGarbage":
              return toClient(Buffer.from([0, 0, 0, 7, 0x47, 0x41, 0x52, 0x42, 0x41, 0x47, 0x45]))
            case "handshakeHugeLength":
              return toClient(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]))
            case "handshakeTruncated":
              toClient(frame((w) => w.int(0).int(30000).long(1n).buffer(new Uint8Array(16)).bool(false)).subarray(0, 20))
              silent = true
              return
            case "handshakeSilence":
              silent = true
              return
            case "handshakeHangUp":
              return end()
            case "handshakeZeros":
              return toClient(Buffer.concat([int32(37), Buffer.alloc(37)]))
          }
        }

        /** Tells the request lie, if this is the moment; false to pass the request on. */
        const requestLie = (xid: number, _op: number, bytes: Buffer): boolean => {
          switch (behaviour) {
            case "garbage":
              lie()
              toClient(Buffer.from([0, 0, 0, 5, 0x47, 0x41, 0x52, 0x42, 0x47]))
              return true
            case "hugeLength":
              lie()
              toClient(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xde, 0xad, 0xbe]))
              return true
            case "unknownXid":
              lie()
              toClient(replyHeader(xid + 1000, 1n, 0))
              return true
            case "outOfOrder":
              if (held === undefined) {
                held = { xid, bytes }
                return true
              }
              lie()
              // The second request answered first: header only, as an error reply would be.
              toClient(replyHeader(xid, 1n, 0))
              toClient(replyHeader(held.xid, 1n, 0))
              return true
            case "truncatedThenSilence": {
              lie()
              const partial = Buffer.concat([int32(100), replyHeader(xid, 1n, 0).subarray(4), Buffer.alloc(4)])
              toClient(partial)
              silent = true
              return true
            }
            case "unwatchedNotification":
              lie()
              for (const path of UNWATCHED_PATHS) {
                toClient(frame((w) => w.int(Xid.Notification).long(-1n).int(0).int(3).int(3).ustring(path)))
              }
              // An event type no server sends, and a NodeDeleted: both for unwatched paths.
              toClient(frame((w) => w.int(Xid.Notification).long(-1n).int(0).int(42).int(3).ustring("/odd-type")))
              toClient(frame((w) => w.int(Xid.Notification).long(-1n).int(0).int(2).int(3).ustring(UNWATCHED_PATHS[0])))
              return false
            default:
              return false
          }
        }

        const afterHandshake = () => {
          if (behaviour === "replyWithoutRequest") {
            lie()
            // An xid no fresh session has used yet, so it cannot pass for a real reply.
            toClient(replyHeader(REPLY_WITHOUT_REQUEST_XID, 1n, 0))
          }
        }

        client.on("data", (chunk: Buffer) => {
          const error = fromClient.push(chunk, onClientFrame)
          if (error !== undefined) end()
        })

        // -- Server to client ----------------------------------------------------------------
        if (upstream !== undefined) {
          let first = true
          const fromServer = new FrameDecoder(16 * 1024 * 1024)
          upstream.on("data", (chunk: Buffer) => {
            const error = fromServer.push(chunk, (buf, start, end_) => {
              toClient(Buffer.concat([int32(end_ - start), buf.subarray(start, end_)]))
              if (first) {
                first = false
                afterHandshake()
              }
            })
            if (error !== undefined) end()
          })
        }
      })

      server.listen(0, "127.0.0.1", () => {
        const info = server.address()
        const port = typeof info === "object" && info !== null ? info.port : 0
        resume(Effect.succeed({
          server: {
            address: `127.0.0.1:${port}`,
            port,
            accepted: Effect.sync(() => logs.length),
            open: Effect.sync(() => logs.filter((l) => !l.closed).length),
            log: Effect.sync(() => logs.map((l) => ({ ...l, requests: [...l.requests] })))
          },
          close: () => {
            for (const socket of sockets) socket.destroy()
            server.close()
          }
        }))
      })
    }),
    ({ close }) => Effect.sync(close)
  ).pipe(Effect.map(({ server }) => server))

/**
 * An in-memory `Transport` whose far end is a scripted ZooKeeper server speaking the real
 * codec: it reads the client's frames with `FrameDecoder`, answers the ConnectRequest with a
 * ConnectResponse at the requested timeout, pings, auth and SetWatches with an empty OK reply,
 * and every other request according to `answer` (by default NoNode). Replies are delivered in
 * a microtask, as a socket would, never inside the client's own write.
 *
 * The far end can stop talking (`silence`, a half-open connection), hold requests, refuse new
 * connections, and counts what it saw, so tests drive the session's timers with the TestClock
 * and check what went over the wire.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Protocol from "../../src/Protocol.ts"
import { type Channel, type ChannelHandlers, Transport, TransportError } from "../../src/Transport.ts"

/** What the scripted server does with a user request (not ping, auth, SetWatches, closeSession). */
export type Answer = "noNode" | "hold"

/** One connection as the server sees it. */
export interface ServerConnection {
  readonly received: Array<number>
  /** Drops the connection from the server's side. */
  readonly drop: () => void
  closed: boolean
  /** Stop answering anything on this connection, pings included (a half-open network). */
  silent: boolean
}

/** The scripted server: knobs and counters. */
export interface ScriptedServer {
  /** Connection attempts, refused ones included. */
  attempts: number
  readonly connections: Array<ServerConnection>
  /** Refuse new connections (as a server that is down). */
  refuse: boolean
  /** New connections get no answer at all, not even to their handshake. */
  silence: boolean
  answer: Answer
  /** The session timeout granted (ms); default: the one requested. */
  grant: number | undefined
  readonly layer: Layer.Layer<Transport>
}

const SESSION_ID = 0x1234n

const frame = (write: (w: Protocol.JuteWriter) => void): Uint8Array => Protocol.encodeFrame(write)

const reply = (xid: number, err: number): Uint8Array =>
  frame((w) => {
    w.int(xid)
    w.long(1n)
    w.int(err)
  })

/** Makes a scripted server; its `layer` is the Transport the session under test uses. */
export const make = (): ScriptedServer => {
  const server: ScriptedServer = {
    attempts: 0,
    connections: [],
    refuse: false,
    silence: false,
    answer: "noNode",
    grant: undefined,
    layer: Layer.succeed(Transport, {
      connect: (address, handlers, _timeoutMillis) =>
        Effect.suspend(() => {
          server.attempts++
          if (server.refuse) {
            return Effect.fail(new TransportError({ address: `${address.host}:${address.port}`, reason: "connection refused" }))
          }
          return Effect.succeed(open(server, handlers))
        })
    })
  }
  return server
}

const open = (server: ScriptedServer, handlers: ChannelHandlers): Channel => {
  const decoder = new Protocol.FrameDecoder()
  let handshaken = false
  const connection: ServerConnection = {
    received: [],
    closed: false,
    silent: server.silence,
    drop: () => close()
  }
  server.connections.push(connection)
  const close = () => {
    if (connection.closed) return
    connection.closed = true
    queueMicrotask(() => handlers.onClose())
  }
  const send = (bytes: Uint8Array) => {
    queueMicrotask(() => {
      if (!connection.closed) handlers.onData(bytes)
    })
  }
  const onFrame = (buf: Uint8Array, start: number, end: number) => {
    const r = new Protocol.JuteReader(buf, start, end)
    if (!handshaken) {
      handshaken = true
      // ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly.
      r.int()
      r.long()
      const requested = r.int()
      if (connection.silent) return
      send(frame((w) => {
        w.int(0)
        w.int(server.grant ?? requested)
        w.long(SESSION_ID)
        w.buffer(new Uint8Array(16))
        w.bool(false)
      }))
      return
    }
    const xid = r.int()
    const op = r.int()
    connection.received.push(op)
    if (connection.silent) return
    switch (op) {
      case Protocol.OpCode.Ping:
      case Protocol.OpCode.Auth:
      case Protocol.OpCode.SetWatches:
      case Protocol.OpCode.SetWatches2:
      case Protocol.OpCode.CloseSession:
        send(reply(xid, 0))
        return
    }
    if (server.answer === "noNode") send(reply(xid, -101))
  }
  return {
    write: (bytes) => {
      if (connection.closed) return
      const error = decoder.push(bytes, onFrame)
      if (error !== undefined) close()
    },
    close
  }
}

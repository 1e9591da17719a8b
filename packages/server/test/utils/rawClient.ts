/**
 * Just enough of the ZooKeeper client protocol to write and read a znode from a test, before
 * (and independently of) @effect-zk/core: ConnectRequest, create, getData, closeSession over one
 * TCP connection. Record layouts follow zookeeper.jute; everything is big-endian.
 */
import { Effect, type Scope } from "effect"
import * as net from "node:net"

const OP_CREATE = 1
const OP_GET_DATA = 4
const OP_CLOSE = -11
const PERM_ALL = 31

class Writer {
  private readonly parts: Array<Buffer> = []
  int(n: number): this {
    const b = Buffer.alloc(4)
    b.writeInt32BE(n)
    this.parts.push(b)
    return this
  }
  long(n: bigint): this {
    const b = Buffer.alloc(8)
    b.writeBigInt64BE(n)
    this.parts.push(b)
    return this
  }
  bool(v: boolean): this {
    this.parts.push(Buffer.from([v ? 1 : 0]))
    return this
  }
  buffer(b: Uint8Array): this {
    this.int(b.length)
    this.parts.push(Buffer.from(b))
    return this
  }
  string(s: string): this {
    return this.buffer(Buffer.from(s, "utf8"))
  }
  frame(): Buffer {
    const body = Buffer.concat(this.parts)
    const len = Buffer.alloc(4)
    len.writeInt32BE(body.length)
    return Buffer.concat([len, body])
  }
}

/** Reads length-prefixed frames off a socket, in order. */
const frames = (socket: net.Socket) => {
  let pending = Buffer.alloc(0)
  const ready: Array<Buffer> = []
  const waiting: Array<{ resolve: (b: Buffer) => void; reject: (e: Error) => void }> = []
  let failure: Error | undefined
  const pump = () => {
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const len = pending.readInt32BE(0)
      const frame = pending.subarray(4, 4 + len)
      pending = pending.subarray(4 + len)
      const waiter = waiting.shift()
      if (waiter) waiter.resolve(frame)
      else ready.push(frame)
    }
  }
  const fail = (e: Error) => {
    failure = e
    for (const w of waiting.splice(0)) w.reject(e)
  }
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk])
    pump()
  })
  socket.on("error", fail)
  socket.on("close", () => fail(new Error("connection closed by the server")))
  return (): Promise<Buffer> => {
    const next = ready.shift()
    if (next) return Promise.resolve(next)
    if (failure) return Promise.reject(failure)
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }))
  }
}

const connect = (port: number): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    socket.once("connect", () => resolve(socket))
    socket.once("error", reject)
  })

/** Opens a session, runs `ops`, closes the session. */
const withSession = async <A>(
  port: number,
  ops: (call: (type: number, body: (w: Writer) => Writer) => Promise<Buffer>) => Promise<A>
): Promise<A> => {
  const socket = await connect(port)
  const next = frames(socket)
  try {
    socket.write(new Writer().int(0).long(0n).int(10_000).long(0n).buffer(Buffer.alloc(16)).bool(false).frame())
    const connectResponse = await next()
    if (connectResponse.readInt32BE(4) <= 0) throw new Error("session refused (timeout 0)")
    let xid = 0
    const call = async (type: number, body: (w: Writer) => Writer): Promise<Buffer> => {
      xid += 1
      socket.write(body(new Writer().int(xid).int(type)).frame())
      const reply = await next()
      const err = reply.readInt32BE(12)
      if (err !== 0) throw new Error(`ZooKeeper error code ${err}`)
      return reply.subarray(16)
    }
    const result = await ops(call)
    await call(OP_CLOSE, (w) => w)
    return result
  } finally {
    socket.destroy()
  }
}

/** `create path data` (persistent, world:anyone:cdrwa). */
export const createNode = (port: number, path: string, data: string): Effect.Effect<void, Error> =>
  Effect.tryPromise({
    try: () =>
      withSession(port, async (call) => {
        await call(OP_CREATE, (w) =>
          w.string(path).buffer(Buffer.from(data, "utf8")).int(1).int(PERM_ALL).string("world").string("anyone").int(0))
      }),
    catch: (cause) => (cause instanceof Error ? cause : new Error(String(cause)))
  })

/** `get path`: the node's data as text. Fails with "error code -101" when it does not exist. */
export const getNode = (port: number, path: string): Effect.Effect<string, Error> =>
  Effect.tryPromise({
    try: () =>
      withSession(port, async (call) => {
        const reply = await call(OP_GET_DATA, (w) => w.string(path).bool(false))
        const len = reply.readInt32BE(0)
        return len < 0 ? "" : reply.subarray(4, 4 + len).toString("utf8")
      }),
    catch: (cause) => (cause instanceof Error ? cause : new Error(String(cause)))
  })

/** Opens a session that stays open until the scope closes (for `cons`). */
export const holdSession = (port: number, timeoutMillis = 30_000): Effect.Effect<void, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const socket = await connect(port)
        const next = frames(socket)
        socket.write(new Writer().int(0).long(0n).int(timeoutMillis).long(0n).buffer(Buffer.alloc(16)).bool(false).frame())
        await next()
        return socket
      },
      catch: (cause) => (cause instanceof Error ? cause : new Error(String(cause)))
    }),
    (socket) => Effect.sync(() => socket.destroy())
  ).pipe(Effect.asVoid)

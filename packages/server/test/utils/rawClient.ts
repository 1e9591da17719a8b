/**
 * Just enough of the ZooKeeper client protocol to write and read a znode from a test, before
 * (and independently of) @effect-zk/core: ConnectRequest, create, getData, closeSession over one
 * TCP connection. Record layouts follow zookeeper.jute; everything is big-endian.
 */
import { Effect, type Scope } from "effect"
import { connect, connectRequest, frames, Writer } from "./rawJute.ts"

const OP_CREATE = 1
const OP_GET_DATA = 4
const OP_CLOSE = -11
const PERM_ALL = 31

/** Opens a session, runs `ops`, closes the session. */
const withSession = async <A>(
  port: number,
  ops: (call: (type: number, body: (w: Writer) => Writer) => Promise<Buffer>) => Promise<A>
): Promise<A> => {
  const socket = await connect(port)
  const next = frames(socket)
  try {
    socket.write(connectRequest())
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
        socket.write(connectRequest(timeoutMillis))
        await next()
        return socket
      },
      catch: (cause) => (cause instanceof Error ? cause : new Error(String(cause)))
    }),
    (socket) => Effect.sync(() => socket.destroy())
  ).pipe(Effect.asVoid)

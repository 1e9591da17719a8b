/**
 * Just enough jute to speak ZooKeeper over a raw socket in tests that must not depend on the
 * client under test: a record writer, a frame reader, a frame splitter and a connect helper.
 * Everything is big-endian, as in zookeeper.jute.
 */
import * as net from "node:net"

/** A jute record under construction; `frame()` adds the length prefix. */
export class Writer {
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
  buffer(b: Uint8Array | null): this {
    if (b === null) return this.int(-1)
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

/** Reads jute values off one frame. */
export class Reader {
  private offset = 0
  private readonly bytes: Buffer
  constructor(bytes: Buffer) {
    this.bytes = bytes
  }
  int(): number {
    const n = this.bytes.readInt32BE(this.offset)
    this.offset += 4
    return n
  }
  long(): bigint {
    const n = this.bytes.readBigInt64BE(this.offset)
    this.offset += 8
    return n
  }
  buffer(): Buffer | null {
    const len = this.int()
    if (len < 0) return null
    const b = this.bytes.subarray(this.offset, this.offset + len)
    this.offset += len
    return b
  }
  string(): string {
    return (this.buffer() ?? Buffer.alloc(0)).toString("utf8")
  }
}

/** Reads length-prefixed frames off a socket, in order: each call gives the next frame. */
export const frames = (socket: net.Socket): (() => Promise<Buffer>) => {
  let pending = Buffer.alloc(0)
  const ready: Array<Buffer> = []
  const waiting: Array<{ resolve: (b: Buffer) => void; reject: (e: Error) => void }> = []
  let failure: Error | undefined
  const fail = (e: Error) => {
    failure = e
    for (const w of waiting.splice(0)) w.reject(e)
  }
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk])
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const len = pending.readInt32BE(0)
      const frame = pending.subarray(4, 4 + len)
      pending = pending.subarray(4 + len)
      const waiter = waiting.shift()
      if (waiter) waiter.resolve(frame)
      else ready.push(frame)
    }
  })
  socket.on("error", fail)
  socket.on("close", () => fail(new Error("connection closed by the server")))
  return () => {
    const next = ready.shift()
    if (next) return Promise.resolve(next)
    if (failure) return Promise.reject(failure)
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }))
  }
}

/** A TCP connection to 127.0.0.1:port, once it is open. */
export const connect = (port: number): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    socket.once("connect", () => resolve(socket))
    socket.once("error", reject)
  })

/** A ConnectRequest for a new session (no read-only). */
export const connectRequest = (timeoutMillis = 10_000): Buffer =>
  new Writer().int(0).long(0n).int(timeoutMillis).long(0n).buffer(Buffer.alloc(16)).bool(false).frame()

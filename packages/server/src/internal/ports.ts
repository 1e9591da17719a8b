/**
 * Free ports from the OS, and "does anything answer here?" probes. Only 127.0.0.1 is ever used.
 */
import * as Effect from "effect/Effect"
import * as net from "node:net"
import { ServerIoError } from "../ServerError.ts"
import { describe } from "./fs.ts"

export const LOOPBACK = "127.0.0.1"

const listenOnZero = (): Promise<net.Server> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen({ port: 0, host: LOOPBACK, exclusive: true }, () => resolve(server))
  })

const closeServer = (server: net.Server): Promise<void> =>
  new Promise((resolve) => server.close(() => resolve()))

/**
 * `count` distinct free ports. All listeners stay open until every port is known, so the OS cannot
 * hand the same port out twice; they are closed before returning, which leaves the usual small
 * window in which another process could take one (the start-up port check catches that).
 */
export const freePorts = (count: number): Effect.Effect<ReadonlyArray<number>, ServerIoError> =>
  Effect.tryPromise({
    try: async () => {
      const servers: Array<net.Server> = []
      try {
        for (let i = 0; i < count; i++) servers.push(await listenOnZero())
        return servers.map((server) => {
          const address = server.address()
          if (address === null || typeof address === "string") throw new Error("listener has no TCP address")
          return address.port
        })
      } finally {
        await Promise.all(servers.map(closeServer))
      }
    },
    catch: (cause) => new ServerIoError({ operation: "find a free port", path: LOOPBACK, detail: describe(cause) })
  })

/**
 * Whether something accepts a TCP connection on 127.0.0.1:port. A timeout counts as "in use": on
 * loopback a refusal is immediate, so silence means a listener with a full backlog.
 */
export const isAnswering = (port: number, timeoutMillis = 1000): Effect.Effect<boolean> =>
  Effect.callback<boolean>((resume) => {
    const socket = net.connect({ port, host: LOOPBACK })
    const finish = (answer: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resume(Effect.succeed(answer))
    }
    const timer = setTimeout(() => finish(true), timeoutMillis)
    socket.once("connect", () => finish(true))
    socket.once("error", () => finish(false))
    return Effect.sync(() => {
      clearTimeout(timer)
      socket.destroy()
    })
  })

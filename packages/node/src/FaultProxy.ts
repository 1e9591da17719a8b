/**
 * A TCP proxy on 127.0.0.1 that injects network faults between a client and a ZooKeeper server,
 * for tests of what a session does when the network misbehaves. Shipped with the library so
 * users can test their own code the same way (kazoo and Curator ship such kits too).
 *
 * Modes apply to every connection through the proxy, in both directions or in one:
 * - `pass`: bytes flow (after `delay`, if set);
 * - `pause`: bytes are held, then delivered in order when the mode returns to `pass` (a stalled
 *   network or a stop-the-world pause);
 * - `blackhole`: bytes are silently dropped and connections stay open (a partition: no data, no
 *   FIN, no RST);
 * `cut()` closes every open connection at once (a crashed peer or reset); `cutAfter(n)` lets `n`
 * more bytes reach the client first (a connection that dies in the middle of a reply).
 *
 * @example
 * ```ts
 * const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: 2181 })
 * const zk = ...connect to proxy.address...
 * yield* proxy.setMode("blackhole")
 * yield* proxy.setMode("pause", "toClient")   // requests arrive, replies are held
 * ```
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Net from "node:net"

/**
 * What the proxy does with bytes.
 *
 * @since 0.1.0
 * @category models
 */
export type Mode = "pass" | "pause" | "blackhole"

/**
 * Which way a mode applies: client to server, server to client, or both.
 *
 * @since 0.1.0
 * @category models
 */
export type Direction = "both" | "toServer" | "toClient"

/**
 * A running proxy.
 *
 * @since 0.1.0
 * @category models
 */
export interface FaultProxy {
  /** `127.0.0.1:PORT`, to put in a connect string. */
  readonly address: string
  /** The proxy's port on 127.0.0.1. */
  readonly port: number
  /** Sets the mode of one direction, or of both (the default). */
  readonly setMode: (mode: Mode, direction?: Direction) => Effect.Effect<void>
  /** Delays every chunk by this long: a `Duration.Input` ("200 millis"), a number is milliseconds (0 = none). */
  readonly setDelay: (delay: Duration.Input) => Effect.Effect<void>
  /** Closes every open connection now; new ones are still accepted. */
  readonly cut: Effect.Effect<void>
  /**
   * Lets `bytes` more bytes through from the server to the client, then closes every open
   * connection: the client sees part of a reply, then the end of the stream.
   */
  readonly cutAfter: (bytes: number) => Effect.Effect<void>
  /** Refuse (close at once) new connections while true. */
  readonly setRefuse: (refuse: boolean) => Effect.Effect<void>
  /** Connections currently open through the proxy. */
  readonly connections: Effect.Effect<number>
  /** Connections accepted since the start, refused ones included: a client's connection attempts. */
  readonly accepted: Effect.Effect<number>
  /**
   * Bytes held back by `pause` right now, both directions together: e.g. to wait until a request
   * has reached the paused proxy before acting on it.
   */
  readonly held: Effect.Effect<number>
}

interface Link {
  readonly client: Net.Socket
  readonly server: Net.Socket
  /** Chunks held while paused, with their direction. */
  held: Array<{ readonly to: Net.Socket; readonly chunk: Buffer }>
}

/**
 * Starts a proxy to `target` on a free port of 127.0.0.1; it stops when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (target: { readonly host: string; readonly port: number }): Effect.Effect<FaultProxy, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ proxy: FaultProxy; close: () => void }>((resume) => {
      const modes: { toServer: Mode; toClient: Mode } = { toServer: "pass", toClient: "pass" }
      let delay = 0
      let refuse = false
      let accepted = 0
      /** Bytes still allowed to reach a client before `cutAfter` closes everything. */
      let cutBudget: number | undefined = undefined
      const links = new Set<Link>()
      const closeAll = () => {
        for (const link of links) {
          link.client.destroy()
          link.server.destroy()
        }
        links.clear()
      }
      const deliver = (link: Link, to: Net.Socket, chunk: Buffer) => {
        if (to.destroyed || to.writableEnded) return
        if (to !== link.client || cutBudget === undefined) {
          to.write(chunk)
          return
        }
        if (chunk.length < cutBudget) {
          cutBudget -= chunk.length
          to.write(chunk)
          return
        }
        // The last bytes, then FIN: `end` flushes them, where `destroy` could drop them.
        const part = chunk.subarray(0, cutBudget)
        cutBudget = undefined
        links.delete(link)
        link.server.destroy()
        link.client.end(part)
        closeAll()
      }
      const modeOf = (link: Link, to: Net.Socket): Mode => (to === link.client ? modes.toClient : modes.toServer)
      const forward = (link: Link, to: Net.Socket, chunk: Buffer) => {
        const mode = modeOf(link, to)
        if (mode === "blackhole") return
        if (mode === "pause") {
          link.held.push({ to, chunk })
          return
        }
        if (delay > 0) setTimeout(() => deliver(link, to, chunk), delay)
        else deliver(link, to, chunk)
      }
      const server = Net.createServer((client) => {
        accepted++
        if (refuse) {
          client.destroy()
          return
        }
        const upstream = Net.connect({ host: target.host, port: target.port })
        const link: Link = { client, server: upstream, held: [] }
        links.add(link)
        const end = () => {
          links.delete(link)
          client.destroy()
          upstream.destroy()
        }
        client.on("data", (chunk: Buffer) => forward(link, upstream, chunk))
        upstream.on("data", (chunk: Buffer) => forward(link, client, chunk))
        client.on("close", end)
        upstream.on("close", end)
        client.on("error", end)
        upstream.on("error", end)
      })
      server.listen(0, "127.0.0.1", () => {
        const addressInfo = server.address()
        const port = typeof addressInfo === "object" && addressInfo !== null ? addressInfo.port : 0
        const proxy: FaultProxy = {
          address: `127.0.0.1:${port}`,
          port,
          setMode: (next, direction = "both") =>
            Effect.sync(() => {
              if (direction !== "toClient") modes.toServer = next
              if (direction !== "toServer") modes.toClient = next
              for (const link of links) {
                const held = link.held
                link.held = []
                for (const entry of held) {
                  const mode = modeOf(link, entry.to)
                  if (mode === "pass") deliver(link, entry.to, entry.chunk)
                  else if (mode === "pause") link.held.push(entry)
                  // blackhole: dropped
                }
              }
            }),
          setDelay: (input) => Effect.sync(() => void (delay = Duration.toMillis(Duration.fromInputUnsafe(input)))),
          cut: Effect.sync(closeAll),
          cutAfter: (bytes) => Effect.sync(() => void (cutBudget = Math.max(0, bytes))),
          setRefuse: (value) => Effect.sync(() => void (refuse = value)),
          connections: Effect.sync(() => links.size),
          accepted: Effect.sync(() => accepted),
          held: Effect.sync(() => {
            let bytes = 0
            for (const link of links) for (const { chunk } of link.held) bytes += chunk.length
            return bytes
          })
        }
        resume(Effect.succeed({ proxy, close: () => {
          closeAll()
          server.close()
        } }))
      })
    }),
    ({ close }) => Effect.sync(close)
  ).pipe(Effect.map(({ proxy }) => proxy))

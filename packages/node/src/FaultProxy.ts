/**
 * A TCP proxy on 127.0.0.1 that injects network faults between a client and a ZooKeeper server,
 * for tests of what a session does when the network misbehaves. Shipped with the library so
 * users can test their own code the same way (kazoo and Curator ship such kits too).
 *
 * Modes apply to every connection through the proxy, in both directions:
 * - `pass`: bytes flow (after `delay`, if set);
 * - `pause`: bytes are held, then delivered in order when the mode returns to `pass` (a stalled
 *   network or a stop-the-world pause);
 * - `blackhole`: bytes are silently dropped and connections stay open (a partition: no data, no
 *   FIN, no RST);
 * `cut()` closes every open connection at once (a crashed peer or reset).
 *
 * @example
 * ```ts
 * const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: 2181 })
 * const zk = ...connect to proxy.address...
 * yield* proxy.setMode("blackhole")
 * ```
 *
 * @since 0.1.0
 */
import { Effect, type Scope } from "effect"
import * as Net from "node:net"

/**
 * What the proxy does with bytes.
 *
 * @since 0.1.0
 * @category models
 */
export type Mode = "pass" | "pause" | "blackhole"

/**
 * A running proxy.
 *
 * @since 0.1.0
 * @category models
 */
export interface FaultProxy {
  /** `127.0.0.1:PORT`, to put in a connect string. */
  readonly address: string
  readonly port: number
  readonly setMode: (mode: Mode) => Effect.Effect<void>
  /** Delays every chunk by this many milliseconds (0 = none). */
  readonly setDelay: (millis: number) => Effect.Effect<void>
  /** Closes every open connection now; new ones are still accepted. */
  readonly cut: Effect.Effect<void>
  /** Refuse (close at once) new connections while true. */
  readonly setRefuse: (refuse: boolean) => Effect.Effect<void>
  /** Connections currently open through the proxy. */
  readonly connections: Effect.Effect<number>
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
      let mode: Mode = "pass"
      let delay = 0
      let refuse = false
      const links = new Set<Link>()
      const forward = (link: Link, to: Net.Socket, chunk: Buffer) => {
        if (mode === "blackhole") return
        if (mode === "pause") {
          link.held.push({ to, chunk })
          return
        }
        if (delay > 0) setTimeout(() => to.destroyed || to.write(chunk), delay)
        else to.write(chunk)
      }
      const server = Net.createServer((client) => {
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
        const closeAll = () => {
          for (const link of links) {
            link.client.destroy()
            link.server.destroy()
          }
          links.clear()
        }
        const proxy: FaultProxy = {
          address: `127.0.0.1:${port}`,
          port,
          setMode: (next) =>
            Effect.sync(() => {
              mode = next
              if (next === "pass") {
                for (const link of links) {
                  const held = link.held
                  link.held = []
                  for (const { to, chunk } of held) if (!to.destroyed) to.write(chunk)
                }
              } else if (next === "blackhole") {
                for (const link of links) link.held = []
              }
            }),
          setDelay: (millis) => Effect.sync(() => void (delay = millis)),
          cut: Effect.sync(closeAll),
          setRefuse: (value) => Effect.sync(() => void (refuse = value)),
          connections: Effect.sync(() => links.size)
        }
        resume(Effect.succeed({ proxy, close: () => {
          closeAll()
          server.close()
        } }))
      })
    }),
    ({ close }) => Effect.sync(close)
  ).pipe(Effect.map(({ proxy }) => proxy))

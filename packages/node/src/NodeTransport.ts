/**
 * The Node.js transport for `@effect-zk/core`: plain TCP (`node:net`) or TLS (`node:tls`) to
 * a ZooKeeper client port.
 *
 * It is written on the socket's own callbacks rather than on `@effect/platform`'s pull-based
 * `Socket`: every reply crosses this boundary, and handing each chunk straight to the codec is
 * what keeps the per-request cost near Node's floor (docs/request-costs.md#floor; the bench's `floor`
 * client measures it).
 *
 * Plain TCP reads with `onread` into one buffer shared by every connection of the process: no
 * Buffer allocated per read and no stream machinery between the socket and the codec. That took
 * about a fifth off the CPU of a watch round trip, where every reply is a wake-up of its own.
 * Sharing is safe because reads are callbacks on one thread, each runs to completion before
 * the next read is made, and the codec decodes or copies every frame before `onData` returns
 * (the `ChannelHandlers.onData` contract); so an idle connection keeps no read buffer at all.
 * TLS sockets do not support `onread` and keep the `data` event.
 *
 * @since 0.1.0
 */
import { formatHost } from "@effect-zk/core/ConnectString"
import { type Channel, type ChannelHandlers, type HostPort, Transport, TransportError } from "@effect-zk/core/Transport"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Net from "node:net"
import type * as Tls from "node:tls"

/**
 * TLS settings for a server's `secureClientPort`. Certificates are verified by default (the
 * server's certificate must chain to `ca` and name the host, e.g. `IP:127.0.0.1`).
 *
 * @since 0.1.0
 * @category models
 */
export interface TlsOptions {
  /** Trusted CA certificates (PEM). Default: Node's bundled roots. */
  readonly ca?: string | Uint8Array | ReadonlyArray<string | Uint8Array> | undefined
  /** Client certificate chain (PEM), for servers with `ssl.clientAuth=need`. */
  readonly cert?: string | Uint8Array | undefined
  /** Client private key (PEM). */
  readonly key?: string | Uint8Array | undefined
  /** Set to `false` only for throw-away test setups: it accepts any certificate. */
  readonly rejectUnauthorized?: boolean | undefined
  /** SNI / certificate name to check, when it differs from the host in the connect string. */
  readonly servername?: string | undefined
}

/**
 * Options of the Node transport.
 *
 * @since 0.1.0
 * @category models
 */
export interface NodeTransportOptions {
  /** Connect with TLS; omit for plain TCP. */
  readonly tls?: TlsOptions | undefined
}

const toBuffer = (b: string | Uint8Array): string | Buffer => (typeof b === "string" ? b : Buffer.from(b))

const tlsConnectOptions = (address: HostPort, tls: TlsOptions): Tls.ConnectionOptions => ({
  host: address.host,
  port: address.port,
  ...(tls.ca === undefined ? {} : { ca: typeof tls.ca === "string" || tls.ca instanceof Uint8Array ? toBuffer(tls.ca) : tls.ca.map(toBuffer) }),
  ...(tls.cert === undefined ? {} : { cert: toBuffer(tls.cert) }),
  ...(tls.key === undefined ? {} : { key: toBuffer(tls.key) }),
  rejectUnauthorized: tls.rejectUnauthorized ?? true,
  // An IP address is not a valid SNI name; Node checks the certificate's IP SAN without it.
  ...(tls.servername !== undefined ? { servername: tls.servername } : Net.isIP(address.host) ? {} : { servername: address.host })
})

// openssl's verify codes that mean "this certificate does not chain to a CA you trust".
const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE"
])

const stringField = (error: Error, field: "code" | "reason"): string | undefined => {
  const value: unknown = Reflect.get(error, field)
  return typeof value === "string" ? value : undefined
}

/**
 * Why a connection attempt failed, in words that point at the fix. Node's TLS errors are terse
 * ("unable to verify the first certificate") or raw OpenSSL text, and the reader has to guess
 * which side is unhappy. The original error stays available as the `cause`.
 */
const describeFailure = (error: Error, tls: boolean, label: string): string => {
  const code = stringField(error, "code")
  if (!tls || code === undefined) return error.message
  if (UNTRUSTED.has(code)) {
    return `TLS: the server's certificate is not trusted (${error.message}, ${code}); pass the CA that issued it as tls.ca`
  }
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") {
    return `TLS: the server's certificate is not valid at this time (${error.message}, ${code})`
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return `TLS: the server's certificate does not name this host (${error.message}); connect to a name or IP it lists, or set tls.servername`
  }
  if (code.startsWith("ERR_SSL_")) {
    const reason = stringField(error, "reason") ?? error.message
    return /certificate/i.test(reason) && /alert/i.test(reason)
      ? `TLS: the server refused the handshake with "${reason}": it wants a client certificate issued by a CA it trusts (ssl.clientAuth=need); pass tls.cert and tls.key`
      : `TLS handshake failed: ${reason} (${code})`
  }
  if (code === "ECONNRESET") {
    return `TLS: the server closed the connection during the handshake (${error.message}); is ${label} the server's secureClientPort?`
  }
  return error.message
}

/** 64 KiB is also what Node reads per call by default. */
const READ_BUFFER_BYTES = 64 * 1024

/**
 * What every plain TCP connection of the process reads into, made on the first connection.
 * Each read's bytes are handed to that connection's `onData` and are dead once it returns.
 */
let sharedReadBuffer: Uint8Array | undefined

const readBuffer = (): Uint8Array => (sharedReadBuffer ??= new Uint8Array(READ_BUFFER_BYTES))

/** Starts connecting, with every chunk read going to `onData`: `onread` for TCP, `data` for TLS. */
const openSocket = (address: HostPort, tls: TlsOptions | undefined, onData: (chunk: Uint8Array) => void): Net.Socket => {
  if (tls === undefined) {
    return Net.connect({
      host: address.host,
      port: address.port,
      onread: {
        buffer: readBuffer(),
        // true: keep reading (false would pause the socket).
        callback: (bytes: number, buffer: Uint8Array) => {
          onData(buffer.subarray(0, bytes))
          return true
        }
      }
    })
  }
  // Loaded on first use: node:tls costs a plain-TCP process 3-4 MB of peak RSS for nothing.
  const socket = process.getBuiltinModule("node:tls").connect(tlsConnectOptions(address, tls))
  socket.on("data", onData)
  return socket
}

/**
 * One connection: the socket and its state until it is open. Its methods live on the
 * prototype and nothing it keeps refers to the fiber that opened it (a closure over the
 * connect callback's `resume` would keep that whole fiber alive as long as the socket), so an
 * open connection costs little more than Node's socket.
 */
class NodeChannel implements Channel {
  private readonly socket: Net.Socket
  private readonly handlers: ChannelHandlers
  private readonly label: string
  private readonly tls: boolean
  private timer: ReturnType<typeof setTimeout> | undefined
  /** Reports the attempt's outcome; cleared once it is known. */
  private settle: ((exit: Exit.Exit<Channel, TransportError>) => void) | undefined
  private tcpConnected = false
  private open = false
  private lastError: unknown = undefined

  constructor(
    address: HostPort,
    tls: TlsOptions | undefined,
    handlers: ChannelHandlers,
    timeoutMillis: number,
    settle: (exit: Exit.Exit<Channel, TransportError>) => void
  ) {
    this.label = formatHost(address)
    this.tls = tls !== undefined
    this.handlers = handlers
    this.settle = settle
    const socket = this.socket = openSocket(address, tls, handlers.onData)
    socket.setNoDelay(true)
    this.timer = setTimeout(() => this.timedOut(timeoutMillis), timeoutMillis)
    // A TLS socket reports the TCP connection first, then "secureConnect".
    socket.once("connect", () => {
      this.tcpConnected = true
    })
    socket.once(this.tls ? "secureConnect" : "connect", () => this.opened())
    socket.on("error", (error: Error) => this.failed(error))
    socket.on("close", () => this.closed())
  }

  // A write the kernel took whole leaves nothing queued: Node no longer holds `bytes`, so the
  // session may reuse its write buffer.
  write(bytes: Uint8Array): boolean {
    this.socket.write(bytes)
    return this.socket.writableLength === 0
  }

  close(): void {
    this.socket.destroy()
  }

  /** The connecting fiber was interrupted. */
  abandon(): void {
    this.settle = undefined
    clearTimeout(this.timer)
    this.socket.destroy()
  }

  private opened(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.open = true
    const settle = this.settle
    this.settle = undefined
    settle?.(Exit.succeed(this))
  }

  private fail(reason: string, cause?: unknown): void {
    clearTimeout(this.timer)
    this.socket.destroy()
    const settle = this.settle
    this.settle = undefined
    settle?.(Exit.fail(new TransportError({ address: this.label, reason, cause })))
  }

  private timedOut(timeoutMillis: number): void {
    this.fail(
      this.tcpConnected && this.tls ? `TLS handshake not finished within ${timeoutMillis} ms` : `no connection within ${timeoutMillis} ms`
    )
  }

  private failed(error: Error): void {
    if (!this.open) this.fail(describeFailure(error, this.tls, this.label), error)
    else this.lastError = error
  }

  private closed(): void {
    if (this.open) this.handlers.onClose(this.lastError)
  }
}

/**
 * Builds the transport.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: NodeTransportOptions = {}): Transport["Service"] => ({
  connect: (address: HostPort, handlers: ChannelHandlers, timeoutMillis: number) =>
    Effect.callback<Channel, TransportError>((resume) => {
      const channel = new NodeChannel(address, options.tls, handlers, timeoutMillis, resume)
      return Effect.sync(() => channel.abandon())
    })
})

/**
 * The transport as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: NodeTransportOptions = {}): Layer.Layer<Transport> => Layer.succeed(Transport, make(options))

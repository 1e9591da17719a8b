/**
 * TLS against real servers with certificates made by openssl for this run: a session over the
 * `secureClientPort` (with a working plain port next to it), and certificate verification that
 * is on by default. A client that does not trust the server's CA, or expects another name, is
 * refused, and so is a client without a certificate when the server wants one
 * (`ssl.clientAuth=need`). A refusal fails the layer build with a typed `ConnectionLoss`. The
 * transport's error says which side is unhappy and what to pass.
 */
import { assert, layer } from "@effect/vitest"
import type { ZooKeeperService } from "@effect-zk/core"
import { FaultProxy, NodeTransport } from "@effect-zk/node"
import { ZooKeeperServer } from "@effect-zk/server"
import { Context, Effect, Fiber, Layer, Option, Stream } from "effect"
import { type Certificates, makeCertificates } from "../../server/test/utils/certificates.ts"
import { connectTo } from "./utils/TestZooKeeper.ts"

/** The certificates, and one server that uses them. */
class Fixture extends Context.Service<Fixture, {
  readonly certs: Certificates
  readonly server: ZooKeeperServer.ServerHandle
  /** `127.0.0.1:<secureClientPort>` */
  readonly secure: string
  readonly securePort: number
}>()("test/TlsFixture") {}

const fixture = (clientAuth: "none" | "need") =>
  Layer.effect(
    Fixture,
    Effect.gen(function*() {
      const certs = yield* makeCertificates
      const server = yield* ZooKeeperServer.scoped({
        tls: { keyStore: certs.serverKeyStore, trustStore: certs.caFile, clientAuth }
      })
      const securePort = Option.getOrThrow(server.securePort)
      return { certs, server, secure: `127.0.0.1:${securePort}`, securePort }
    })
  )

let counter = 0
const freshPath = () => `/tls-${++counter}-${Math.random().toString(36).slice(2, 8)}`

const roundTrip = (zk: ZooKeeperService) =>
  Effect.gen(function*() {
    const path = freshPath()
    yield* zk.create(path, "over tls")
    assert.strictEqual(new TextDecoder().decode((yield* zk.get(path)).data), "over tls")
    return path
  })

/** What one connection attempt of the transport alone says when it fails. */
const transportError = (port: number, tls: NodeTransport.TlsOptions | undefined) =>
  Effect.flip(
    NodeTransport.make({ tls }).connect({ host: "127.0.0.1", port }, { onData: () => {}, onClose: () => {} }, 20_000)
  ).pipe(Effect.map((error) => error.message))

/** The layer build fails, with a ConnectionLoss; returns the error. */
const layerRefused = (servers: string, tls: NodeTransport.TlsOptions | undefined) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(connectTo(servers, { tls, connectTimeout: "4 seconds" }))
    assert.isTrue(error instanceof Error && "_tag" in error && error._tag === "ConnectionLoss", String(error))
    return error instanceof Error ? error : new Error(String(error))
  })

/** An error's message and those of its causes, joined: what a user would read in a log. */
const fullText = (error: unknown): string => {
  const parts: Array<string> = []
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) parts.push(e.message)
  return parts.join(" <- ")
}

layer(fixture("none"), { timeout: "180 seconds", excludeTestServices: true })("TLS, server certificate only", (it) => {
  it.effect("connects with the right CA: Connected, create/get round trip, reconnects over TLS; the plain port still works", () =>
    Effect.gen(function*() {
      const { certs, secure, securePort, server } = yield* Fixture
      const direct = yield* connectTo(secure, { tls: { ca: certs.ca } })
      assert.strictEqual(yield* direct.state, "Connected")
      const path = yield* roundTrip(direct)

      // Session events over TLS, through a proxy that can drop the connection.
      const proxy = yield* FaultProxy.make({ host: "127.0.0.1", port: securePort })
      const zk = yield* connectTo(proxy.address, { tls: { ca: certs.ca } })
      const events = yield* Effect.forkChild(
        zk.sessionEvents.pipe(Stream.takeUntil((e) => e.state === "Connected"), Stream.runCollect),
        { startImmediately: true }
      )
      yield* proxy.cut
      const states = (yield* Fiber.join(events)).map((e) => e.state)
      assert.strictEqual(states[0], "Disconnected")
      assert.strictEqual(states.at(-1), "Connected")
      assert.strictEqual(yield* proxy.accepted, 2, "a second TLS connection")
      yield* roundTrip(zk)

      const plain = yield* connectTo(yield* server.address)
      assert.strictEqual(new TextDecoder().decode((yield* plain.get(path)).data), "over tls", "the same server on its plain port")
    }))

  it.effect("verifies by default: without tls.ca (Node's own roots) the private CA is not trusted", () =>
    Effect.gen(function*() {
      const { secure, securePort } = yield* Fixture
      const message = yield* transportError(securePort, {})
      assert.include(message, `cannot connect to ${secure}: TLS: the server's certificate is not trusted`)
      assert.include(message, "UNABLE_TO_VERIFY_LEAF_SIGNATURE")
      assert.include(message, "tls.ca")
      yield* layerRefused(secure, {})
    }))

  it.effect("refuses a server certificate issued by another CA", () =>
    Effect.gen(function*() {
      const { certs, secure, securePort } = yield* Fixture
      assert.include(yield* transportError(securePort, { ca: certs.otherCa }), "the server's certificate is not trusted")
      yield* layerRefused(secure, { ca: certs.otherCa })
    }))

  it.effect("checks the name: a certificate for IP 127.0.0.1 does not do for servername localhost", () =>
    Effect.gen(function*() {
      const { certs, secure, securePort } = yield* Fixture
      const message = yield* transportError(securePort, { ca: certs.ca, servername: "localhost" })
      assert.include(message, "the server's certificate does not name this host")
      assert.include(message, "localhost")
      yield* layerRefused(secure, { ca: certs.ca, servername: "localhost" })
    }))

  it.effect("rejectUnauthorized: false accepts any certificate (throw-away setups only)", () =>
    Effect.gen(function*() {
      const { secure } = yield* Fixture
      yield* roundTrip(yield* connectTo(secure, { tls: { rejectUnauthorized: false } }))
    }))

  it.effect("a TLS client on the plain port, or a plain client on the secure port, is refused", () =>
    Effect.gen(function*() {
      const { certs, secure, server } = yield* Fixture
      const message = yield* transportError(server.port, { ca: certs.ca })
      assert.include(message, "TLS: the server closed the connection during the handshake")
      assert.include(message, "secureClientPort")
      yield* layerRefused(yield* server.address, { ca: certs.ca })
      yield* layerRefused(secure, undefined)
    }))

  it.effect("the layer's ConnectionLoss says why: the TLS problem is in its message or cause", () =>
    Effect.gen(function*() {
      const { secure } = yield* Fixture
      const error = yield* layerRefused(secure, {})
      assert.include(fullText(error), "the server's certificate is not trusted")
    }))
})

layer(fixture("need"), { timeout: "180 seconds", excludeTestServices: true })("TLS, ssl.clientAuth=need", (it) => {
  it.effect("refuses a client without a certificate", () =>
    Effect.gen(function*() {
      const { certs, secure, securePort } = yield* Fixture
      const message = yield* transportError(securePort, { ca: certs.ca })
      assert.include(message, "the server refused the handshake")
      assert.include(message, "tls.cert and tls.key")
      yield* layerRefused(secure, { ca: certs.ca })
    }))

  it.effect("accepts a client with a certificate from the trusted CA", () =>
    Effect.gen(function*() {
      const { certs, secure } = yield* Fixture
      const zk = yield* connectTo(secure, { tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } })
      yield* roundTrip(zk)
      assert.strictEqual(yield* zk.state, "Connected")
    }))
})

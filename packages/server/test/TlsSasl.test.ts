/**
 * The TLS and SASL options against a real server: a TLS client port that a Node TLS client can
 * use (certificates made with openssl for this run), and a JAAS login the server accepts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { FourLetterWord, ZooKeeperServer } from "@effect-zk/server"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as tls from "node:tls"
import { makeCertificates } from "./utils/certificates.ts"

/** `srvr` over TLS, checking the server's certificate against `ca`. */
const srvrOverTls = (port: number, ca: Buffer) =>
  Effect.callback<{ readonly authorized: boolean; readonly text: string }, Error>((resume) => {
    let text = ""
    const socket = tls.connect({ host: "127.0.0.1", port, ca }, () => socket.end("srvr"))
    socket.setEncoding("utf8")
    socket.on("data", (chunk: string) => {
      text += chunk
    })
    socket.once("end", () => resume(Effect.succeed({ authorized: socket.authorized, text })))
    socket.once("error", (error) => resume(Effect.fail(error)))
    return Effect.sync(() => socket.destroy())
  })

describe("ZooKeeperServer TLS and SASL options", () => {
  it.live("serves 4lw over the TLS port with a verified certificate, and logs the SASL login in", () =>
    Effect.gen(function*() {
      const certs = yield* makeCertificates
      const server = yield* ZooKeeperServer.scoped({
        tls: { keyStore: certs.serverKeyStore, trustStore: certs.caFile },
        sasl: { users: { alice: "secret" } }
      })
      const securePort = Option.getOrThrow(server.securePort)
      assert.notStrictEqual(securePort, server.port)

      const answer = yield* srvrOverTls(securePort, certs.ca)
      assert.isTrue(answer.authorized, "the certificate verifies against the CA")
      assert.strictEqual(Option.getOrThrow(FourLetterWord.parseSrvr(answer.text)).mode, "standalone")
      assert.isTrue(Option.isSome(yield* FourLetterWord.srvr(server.port)), "the plain port keeps working")

      const jaas = yield* Effect.promise(() => fs.readFile(path.join(server.runDir, "jaas.conf"), "utf8"))
      assert.include(jaas, "user_alice=\"secret\"")
      const log = yield* Effect.promise(() => fs.readFile(path.join(server.runDir, "zookeeper.log"), "utf8"))
      assert.include(log, "Server successfully logged in.", "the JAAS Server section was loaded")
    }))
})

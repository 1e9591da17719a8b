/**
 * The TLS and SASL options against a real server: a TLS client port that a Node TLS client can
 * use (certificates made with openssl for this run), and a JAAS login the server accepts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { FourLetterWord, ZooKeeperServer } from "@effect-zk/server"
import { execFile } from "node:child_process"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as tls from "node:tls"
import { tempDir } from "./utils/helpers.ts"

const openssl = (cwd: string, args: ReadonlyArray<string>) =>
  Effect.callback<void, Error>((resume) => {
    execFile("openssl", [...args], { cwd, timeout: 30_000 }, (error, _out, err) =>
      resume(error ? Effect.fail(new Error(`openssl ${args[0]}: ${error.message}\n${err}`)) : Effect.void))
  })

/** A CA and a server certificate for IP 127.0.0.1; the key store is cert + key in one PEM. */
const makeCertificates = Effect.gen(function*() {
  const dir = yield* tempDir
  const subj = (cn: string) => ["-subj", `/CN=${cn}`]
  yield* openssl(dir, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", ...subj("effect-zk test CA")])
  yield* openssl(dir, ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", ...subj("127.0.0.1")])
  yield* Effect.promise(() => fs.writeFile(path.join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1\n"))
  yield* openssl(dir, ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"])
  const combined = path.join(dir, "server-combined.pem")
  yield* Effect.promise(async () => {
    const [cert, key] = await Promise.all([fs.readFile(path.join(dir, "server.pem")), fs.readFile(path.join(dir, "server.key"))])
    await fs.writeFile(combined, Buffer.concat([cert, key]))
  })
  return { ca: path.join(dir, "ca.pem"), keyStore: combined }
})

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
        tls: { keyStore: certs.keyStore, trustStore: certs.ca },
        sasl: { users: { alice: "secret" } }
      })
      const securePort = Option.getOrThrow(server.securePort)
      assert.notStrictEqual(securePort, server.port)

      const answer = yield* srvrOverTls(securePort, yield* Effect.promise(() => fs.readFile(certs.ca)))
      assert.isTrue(answer.authorized, "the certificate verifies against the CA")
      assert.strictEqual(Option.getOrThrow(FourLetterWord.parseSrvr(answer.text)).mode, "standalone")
      assert.isTrue(Option.isSome(yield* FourLetterWord.srvr(server.port)), "the plain port keeps working")

      const jaas = yield* Effect.promise(() => fs.readFile(path.join(server.runDir, "jaas.conf"), "utf8"))
      assert.include(jaas, "user_alice=\"secret\"")
      const log = yield* Effect.promise(() => fs.readFile(path.join(server.runDir, "zookeeper.log"), "utf8"))
      assert.include(log, "Server successfully logged in.", "the JAAS Server section was loaded")
    }))
})

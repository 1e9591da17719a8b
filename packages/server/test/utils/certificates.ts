/**
 * Throw-away TLS material made with openssl for one test run: a CA, a server certificate for IP
 * 127.0.0.1 (plus the PEM key store ZooKeeper reads: certificate and unencrypted key in one file),
 * a client certificate for mutual TLS, and an unrelated second CA to play the wrong one.
 * Also used by packages/node's TLS tests.
 */
import { Effect, type Scope } from "effect"
import { execFile } from "node:child_process"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { tempDir } from "./helpers.ts"

export interface Certificates {
  /** The CA that signed both certificates: its file (for a server's trust store) and PEM. */
  readonly caFile: string
  readonly ca: Buffer
  /** The server's certificate followed by its key, for `tls.keyStore` (type PEM). */
  readonly serverKeyStore: string
  /** A client certificate (CN effect-zk-client, SAN IP:127.0.0.1) and its key, PEM. */
  readonly clientCert: Buffer
  readonly clientKey: Buffer
  /** A CA that signed nothing here. */
  readonly otherCa: Buffer
}

const openssl = (cwd: string, args: ReadonlyArray<string>) =>
  Effect.callback<void, Error>((resume) => {
    execFile("openssl", [...args], { cwd, timeout: 60_000 }, (error, _out, err) =>
      resume(error ? Effect.fail(new Error(`openssl ${args[0]}: ${error.message}\n${err}`)) : Effect.void))
  })

const read = (file: string) => Effect.promise(() => fs.readFile(file))
const write = (file: string, text: string | Buffer) => Effect.promise(() => fs.writeFile(file, text))

/** A self-signed CA: `<name>.pem` and `<name>.key` in `dir`. */
const makeCa = (dir: string, name: string) =>
  openssl(dir, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=effect-zk test ${name}`])

/** `<name>.pem` / `<name>.key` signed by ca.pem, valid for IP 127.0.0.1, with the given key usage. */
const makeLeaf = (dir: string, name: string, cn: string, usage: "serverAuth" | "clientAuth") =>
  Effect.gen(function*() {
    yield* openssl(dir, ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`])
    // ZooKeeper checks a client certificate's host name too (ssl.hostnameVerification), so the
    // client gets the IP SAN as well.
    yield* write(path.join(dir, `${name}.ext`), `subjectAltName=IP:127.0.0.1\nextendedKeyUsage=${usage}\n`)
    yield* openssl(dir, [
      "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
      "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`
    ])
  })

/** Makes the certificates in a temporary directory that lives as long as the scope. */
export const makeCertificates: Effect.Effect<Certificates, Error, Scope.Scope> = Effect.gen(function*() {
  const dir = yield* tempDir
  yield* makeCa(dir, "ca")
  yield* makeCa(dir, "other-ca")
  yield* makeLeaf(dir, "server", "127.0.0.1", "serverAuth")
  yield* makeLeaf(dir, "client", "effect-zk-client", "clientAuth")
  const serverKeyStore = path.join(dir, "server-combined.pem")
  yield* write(serverKeyStore, Buffer.concat([yield* read(path.join(dir, "server.pem")), yield* read(path.join(dir, "server.key"))]))
  return {
    caFile: path.join(dir, "ca.pem"),
    ca: yield* read(path.join(dir, "ca.pem")),
    serverKeyStore,
    clientCert: yield* read(path.join(dir, "client.pem")),
    clientKey: yield* read(path.join(dir, "client.key")),
    otherCa: yield* read(path.join(dir, "other-ca.pem"))
  }
})

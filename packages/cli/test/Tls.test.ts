/**
 * `--tls`, `--ca`, `--cert` and `--key` through the built binary, against a server whose secure
 * port requires a client certificate.
 */
import { assert, describe, it } from "@effect/vitest"
import { ZooKeeperServer } from "@effect-zk/server"
import { Effect, Option } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { makeCertificates } from "../../server/test/utils/certificates.ts"
import { zk } from "./utils/Zk.ts"

describe("zk over TLS", () => {
  it.live("connects with --tls --ca --cert --key, and refuses a server its CA does not vouch for", () =>
    Effect.gen(function*() {
      const certs = yield* makeCertificates
      const server = yield* ZooKeeperServer.scoped({
        tls: { keyStore: certs.serverKeyStore, trustStore: certs.caFile, clientAuth: "need" }
      })
      const secure = `127.0.0.1:${Option.getOrThrow(server.securePort)}`
      const dir = Path.dirname(certs.caFile)
      const cert = Path.join(dir, "cli-client.pem")
      const key = Path.join(dir, "cli-client.key")
      const otherCa = Path.join(dir, "cli-other-ca.pem")
      Fs.writeFileSync(cert, certs.clientCert)
      Fs.writeFileSync(key, certs.clientKey)
      Fs.writeFileSync(otherCa, certs.otherCa)
      const tls = ["-s", secure, "--tls", "--ca", certs.caFile, "--cert", cert, "--key", key]
      const created = yield* zk([...tls, "create", "/over-tls", "secret"])
      assert.deepStrictEqual([created.status, created.out, created.stderr], [0, "/over-tls\n", ""])
      const [got, srvr, wrongCa, missingFile] = yield* Effect.all([
        zk([...tls, "get", "/over-tls"]),
        zk([...tls, "server", "srvr"]),
        zk(["-s", secure, "--timeout", "3s", "--tls", "--ca", otherCa, "--cert", cert, "--key", key, "get", "/over-tls"]),
        zk(["-s", secure, "--tls", "--ca", Path.join(dir, "missing.pem"), "get", "/over-tls"])
      ], { concurrency: "unbounded" })
      assert.strictEqual(got.out, "secret\n")
      assert.match(srvr.out, /^Mode\s+standalone$/m)
      assert.strictEqual(wrongCa.status, 1)
      assert.match(wrongCa.stderr, /^zk: connect[^\n]*\n$/)
      assert.strictEqual(missingFile.status, 2)
      assert.match(missingFile.stderr, /^zk: --ca "[^"]*missing\.pem": ENOENT/)
    }), 120_000)
})

/**
 * Finding a server for a session: one attempt on the next host (connection, handshake, SASL),
 * retried on the reconnect schedule until a server takes the session or the session ends; and,
 * while a read-only server holds the session, looking for a read-write one.
 *
 * It lives apart from the supervisor because it is the only part of a session that waits:
 * a search runs in a fiber of its own only while no connection is live, and ends once one is.
 * An idle connected session so keeps no fiber here. The supervisor decides what a result
 * means; this module only drives attempts, through the `Connecting` view below.
 *
 * @internal
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Schedule from "effect/Schedule"
import * as ConnectString from "../ConnectString.ts"
import type * as Protocol from "../Protocol.ts"
import type { SessionState } from "../Session.ts"
import type { HostPort, Transport } from "../Transport.ts"
import { ErrorCode, fromCode, type ZkError } from "../ZkError.ts"
import type { Connection } from "./connection.ts"
import * as Handshake from "./handshake.ts"

/** What a search reads of its session and asks of it. */
export interface Connecting {
  readonly transport: Transport["Service"]
  /** Close was called or the session ended: no attempt may start or succeed. */
  readonly stopped: boolean
  /** The session ended for good (expired, auth failed, closed). */
  readonly ended: boolean
  readonly state: SessionState
  /** The live connection, if any. */
  readonly conn: Connection | undefined
  readonly hosts: ReadonlyArray<HostPort>
  readonly sessionTimeout: number
  readonly sasl: Handshake.SaslOptions | undefined
  /** The next host in rotation. */
  nextHost(): HostPort
  /** Makes the next attempt start at `hosts[index]`. */
  moveTo(index: number): void
  /** A connection for `host`, wired to the session, and the ConnectRequest to send on it. */
  open(host: HostPort): { readonly conn: Connection; readonly request: Protocol.ConnectRequest }
  /** A server took the session on `conn`. */
  establish(conn: Connection, response: Protocol.ConnectResponse): void
  /** A refusal that ends the session (expired, SASL rejected); returns the error to report. */
  refused(conn: Connection, refusal: Handshake.Refusal): ZkError
  /** The error a call gets once the session is over (Closing while closing). */
  endedError(op: string): ZkError
  /** Remembers why the latest attempt failed, for the error of a connect that times out. */
  attemptFailed(error: ZkError): void
}

/** One attempt on the next host: the connection, the handshake, SASL; then establish. */
const connectOnce = (s: Connecting): Effect.Effect<void, ZkError> =>
  Effect.suspend(() => {
    if (s.ended) return Effect.fail(s.endedError("connect"))
    const host = s.nextHost()
    // Java gives each host sessionTimeout/hostCount; at least three attempts fit in the session
    // timeout here, so one swallowed handshake cannot use up the whole session.
    const attemptTimeout = Math.max(1000, Math.floor(s.sessionTimeout / Math.max(3, s.hosts.length)))
    const { conn, request } = s.open(host)
    const sasl = s.sasl
    return Handshake.connect(s.transport, host, conn, request, attemptTimeout).pipe(
      Effect.flatMap((response) => {
        if (s.stopped) {
          // Expired client-side or closed while this handshake was on its way: the session is
          // over for the caller, so a late reply must not bring it back.
          conn.close("the session ended during the handshake")
          return Effect.fail(s.endedError("connect"))
        }
        if (sasl === undefined) return Effect.succeed(response)
        return Handshake.saslLogin(conn, sasl, attemptTimeout).pipe(
          Effect.flatMap(() =>
            conn.isClosed || s.stopped
              ? Effect.fail(fromCode(ErrorCode.ConnectionLoss, { op: "connect", detail: `${conn.address}: closed during SASL` }))
              : Effect.succeed(response)
          )
        )
      }),
      Effect.flatMap((response) => Effect.sync(() => s.establish(conn, response))),
      Effect.catchIf(
        (e): e is Handshake.Refusal => !("message" in e),
        (refusal) => Effect.fail(s.refused(conn, refusal))
      ),
      Effect.onInterrupt(() => Effect.sync(() => conn.close("interrupted")))
    )
  })

/**
 * Attempts on the schedule until a server takes the session or the session ends. Only expiry
 * or close ends the search: when the schedule runs out first, it pauses a second and starts
 * over, so a finite schedule cannot become a hot loop. True when a server took the session.
 */
export const search = (s: Connecting, schedule: Schedule.Schedule<unknown, ZkError>): Effect.Effect<boolean> => {
  const attempt = connectOnce(s).pipe(
    Effect.tapError((e) => {
      s.attemptFailed(e)
      return Effect.logDebug(`ZooKeeper connection attempt failed: ${e.message}`)
    }),
    Effect.retry({ schedule, while: (e) => e._tag === "ConnectionLoss" && !s.stopped })
  )
  const again: Effect.Effect<boolean> = Effect.matchEffect(attempt, {
    onSuccess: () => Effect.succeed(true),
    onFailure: (e) =>
      s.stopped || e._tag !== "ConnectionLoss" ? Effect.succeed(false) : Effect.andThen(Effect.sleep(Duration.seconds(1)), again)
  })
  return again
}

/**
 * While connected to a read-only server, look for a read-write one (Java's pingRwServer):
 * ask every other server `isro`, with a backoff from 250 ms to 5 s, and move to the first
 * that answers `rw`.
 */
export const seekReadWrite = (s: Connecting): Effect.Effect<void> =>
  Effect.gen(function*() {
    let interval = 250
    for (;;) {
      yield* Effect.sleep(Duration.millis(interval))
      const conn = s.conn
      if (s.state !== "ConnectedReadOnly" || conn === undefined) {
        interval = 250
        continue
      }
      interval = Math.min(interval * 2, 5000)
      const hosts = s.hosts
      for (let i = 0; i < hosts.length; i++) {
        const host = hosts[i]!
        const address = ConnectString.formatHost(host)
        if (address === conn.address) continue
        if ((yield* isReadWrite(s.transport, host)) && s.conn === conn) {
          s.moveTo(i)
          conn.close(`a read-write server is available at ${address}`)
          break
        }
      }
    }
  })

const ISRO = new Uint8Array([0x69, 0x73, 0x72, 0x6f])

/** The `isro` four-letter word: "rw" from a server in the quorum. */
const isReadWrite = (transport: Transport["Service"], host: HostPort): Effect.Effect<boolean> =>
  Effect.gen(function*() {
    const answer = Deferred.makeUnsafe<string>()
    let text = ""
    const channel = yield* transport.connect(host, {
      onData: (chunk) => {
        for (const byte of chunk) text += String.fromCharCode(byte)
      },
      onClose: () => Deferred.doneUnsafe(answer, Exit.succeed(text))
    }, 1000)
    channel.write(ISRO)
    const reply = yield* Deferred.await(answer).pipe(
      Effect.timeoutOrElse({ duration: "1 second", orElse: () => Effect.succeed("") }),
      Effect.ensuring(Effect.sync(() => channel.close()))
    )
    return reply.trim() === "rw"
  }).pipe(Effect.orElseSucceed(() => false))

/**
 * Opt-in tracing and metrics for operations, and the session-change log (on by default, at a
 * configurable level).
 *
 * Off by default because a span per request about doubles the client's CPU per operation
 * (docs/request-costs.md#tracing); when off, operations run with no wrapper at all. Nothing here
 * ever sees credentials: spans carry the operation name and path only.
 *
 * Metrics (Effect `Metric`, exported by whatever registry the application uses):
 * - `zookeeper_requests_total{op, outcome}`: outcome is `ok` or the error's `_tag`;
 * - `zookeeper_request_duration_ms{op}`: histogram;
 * - `zookeeper_outstanding_requests`: gauge of requests awaiting a reply;
 * - `zookeeper_reconnects_total`: connections re-established after a loss.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import { hexId, type SessionEvent } from "../Session.ts"
import type { ZkError } from "../ZkError.ts"

/** Wraps one operation's effect. */
export type Instrument = <A>(op: string, path: string | undefined, effect: Effect.Effect<A, ZkError>) => Effect.Effect<A, ZkError>

const requests = Metric.counter("zookeeper_requests_total", {
  description: "ZooKeeper operations by op and outcome (ok or the error tag)",
  incremental: true
})
const duration = Metric.histogram("zookeeper_request_duration_ms", {
  description: "ZooKeeper operation latency in milliseconds",
  boundaries: Metric.exponentialBoundaries({ start: 0.05, factor: 2, count: 18 })
})
const outstanding = Metric.gauge("zookeeper_outstanding_requests", { description: "ZooKeeper requests awaiting a reply" })
const reconnects = Metric.counter("zookeeper_reconnects_total", {
  description: "ZooKeeper connections re-established after a loss",
  incremental: true
})

/** The instrument for the chosen options, or undefined when both are off (the fast path). */
export const makeInstrument = (options: { readonly tracing: boolean; readonly metrics: boolean }): Instrument | undefined => {
  if (!options.tracing && !options.metrics) return undefined
  let inFlight = 0
  const counters = new Map<string, Metric.Counter<number>>()
  const histograms = new Map<string, Metric.Histogram<number>>()
  const counterFor = (op: string, outcome: string) => {
    const key = `${op}\u0000${outcome}`
    let counter = counters.get(key)
    if (counter === undefined) counters.set(key, counter = Metric.withAttributes(requests, { op, outcome }))
    return counter
  }
  const histogramFor = (op: string) => {
    let histogram = histograms.get(op)
    if (histogram === undefined) histograms.set(op, histogram = Metric.withAttributes(duration, { op }))
    return histogram
  }
  const measured: Instrument = (op, _path, effect) =>
    Effect.flatMap(Clock.currentTimeNanos, (start) => {
      inFlight++
      return Metric.update(outstanding, inFlight).pipe(
        Effect.andThen(effect),
        Effect.onExit((exit) =>
          Effect.flatMap(Clock.currentTimeNanos, (end) => {
            inFlight--
            const outcome = Exit.isSuccess(exit) ? "ok" : Exit.isFailure(exit) ? failureTag(exit) : "interrupted"
            return Effect.all([
              Metric.update(counterFor(op, outcome), 1),
              Metric.update(histogramFor(op), Number(end - start) / 1e6),
              Metric.update(outstanding, inFlight)
            ], { discard: true })
          })
        )
      )
    })
  return <A>(op: string, path: string | undefined, effect: Effect.Effect<A, ZkError>): Effect.Effect<A, ZkError> => {
    const inner = options.metrics ? measured(op, path, effect) : effect
    return options.tracing ? Effect.withSpan(inner, `zookeeper.${op}`, spanOptions(op, path)) : inner
  }
}

const spanOptions = (op: string, path: string | undefined) => ({
  attributes: path === undefined ? { "zookeeper.op": op } : { "zookeeper.op": op, "zookeeper.path": path }
})

const failureTag = (exit: Exit.Exit<unknown, ZkError>): string => {
  if (!Exit.isFailure(exit)) return "ok"
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  return error !== undefined && error._tag === "Fail" ? error.error._tag : "defect"
}

/** What the session logs: the level of routine changes, or nothing at all. */
export type SessionLogLevel = LogLevel.Severity | "None"

/**
 * Logs one session state through Effect's logger: Disconnected as a warning, Expired and
 * AuthFailed as errors, everything else at `level`; nothing when `level` is "None".
 */
export const logSessionState = (
  level: SessionLogLevel,
  event: { readonly state: SessionEvent["state"]; readonly sessionId: bigint; readonly server?: string | undefined }
): Effect.Effect<void> => {
  if (level === "None") return Effect.void
  const severity: LogLevel.Severity = event.state === "Disconnected"
    ? "Warn"
    : event.state === "Expired" || event.state === "AuthFailed"
    ? "Error"
    : level
  return Effect.logWithLevel(severity)(`ZooKeeper session ${event.state}`).pipe(
    // A verdict reached while no server is connected (client-side expiry) names none, rather
    // than an empty string that reads as a bug in the log line.
    Effect.annotateLogs(
      event.server === undefined || event.server === ""
        ? { sessionId: hexId(event.sessionId) }
        : { sessionId: hexId(event.sessionId), server: event.server }
    )
  )
}

/**
 * Logs every session change (see `logSessionState`) and counts reconnects when metrics are on.
 * Listens before it returns, so no change after this point is missed; it stops when
 * the session's scope closes (see `Supervisor.observe`). No fiber waits for events: each change runs its log line with the
 * services of the caller. Neither logging nor metrics: it does not listen at all.
 */
export const logSessionEvents = (
  session: { observe(f: (event: SessionEvent) => void): void },
  options: { readonly metrics: boolean; readonly logLevel: SessionLogLevel }
): Effect.Effect<void> =>
  Effect.contextWith((services: Context.Context<never>) => {
    if (options.logLevel === "None" && !options.metrics) return Effect.void
    const run = Effect.runForkWith(services)
    // Listening starts after the first connection, so the next Connected after a
    // Disconnected is a reconnect.
    let lost = false
    session.observe((event) => {
      const line = logSessionState(options.logLevel, event)
      if (event.state === "Disconnected") lost = true
      if (event.state !== "Connected" && event.state !== "ConnectedReadOnly") return void run(line)
      const reconnected = lost && options.metrics
      lost = false
      run(reconnected ? Effect.andThen(Metric.update(reconnects, 1), line) : line)
    })
    return Effect.void
  })

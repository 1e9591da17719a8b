/**
 * `zk server WORD`: a four-letter word sent to every server of the connect string, its
 * answer parsed into a table (or JSON).
 *
 * @since 0.1.0
 */
import * as ConnectString from "@effect-zk/core/ConnectString"
import * as Effect from "effect/Effect"
import { Argument, Command } from "effect/cli"
import * as Connection from "../Connection.ts"
import { BadInput } from "../Failure.ts"
import * as FourLetter from "../FourLetter.ts"
import * as Output from "../Output.ts"

/** A number where the server wrote one, so `--json` consumers can compare without parsing. */
const value = (text: string): string | number => (/^-?\d+(\.\d+)?$/.test(text) && Number.isFinite(Number(text)) ? Number(text) : text)

const toJson = (server: string, word: string, answer: FourLetter.Answer) => {
  const connections = (cs: ReadonlyArray<FourLetter.Connection>) =>
    cs.map((c) => ({ address: c.address, ...Object.fromEntries(c.fields.map(([k, v]) => [k, value(v)])) }))
  switch (answer._tag) {
    case "Text":
      return { server, word, text: answer.text }
    case "Connections":
      return { server, word, connections: connections(answer.connections) }
    case "Values":
      return {
        server,
        word,
        values: Object.fromEntries(answer.values.map(([k, v]) => [k, value(v)])),
        ...(answer.connections.length === 0 ? {} : { connections: connections(answer.connections) })
      }
  }
}

const connectionRows = (cs: ReadonlyArray<FourLetter.Connection>): Array<string> => {
  const keys = ["sid", "lop", "to", "queued", "recved", "sent", "lresp", "llat", "minlat", "avglat", "maxlat"]
  const rows = cs.map((c) => [c.address, ...keys.map((k) => c.fields.find(([f]) => f === k)?.[1] ?? "")])
  return Output.columns([["client", ...keys].map(Output.style.dim), ...rows])
}

const toLines = (answer: FourLetter.Answer): Array<string> => {
  switch (answer._tag) {
    case "Text":
      return [answer.text.trimEnd()]
    case "Connections":
      return connectionRows(answer.connections)
    case "Values":
      return [
        ...Output.columns(answer.values.map(([k, v]) => [Output.style.dim(k), v])),
        ...(answer.connections.length === 0 ? [] : ["", ...connectionRows(answer.connections)])
      ]
  }
}

/**
 * `zk server srvr|stat|mntr|cons|ruok|conf|envi|wchs|...`: needs no session, only the
 * servers' client ports (and `4lw.commands.whitelist` allowing the word).
 *
 * @since 0.1.0
 * @category commands
 */
export const server = Command.make("server", {
  word: Argument.String("word").pipe(Argument.withDescription("a four-letter word: srvr, stat, mntr, cons, ruok, conf, envi, wchs, isro, ..."))
}, ({ word }) =>
  Effect.gen(function*() {
    if (!/^[a-z]{4}$/.test(word)) return yield* new BadInput({ command: "server", subject: word, detail: "expected a four-letter word such as srvr or mntr" })
    const settings = yield* Connection.settings
    const json = yield* Connection.Json
    const { hosts } = yield* ConnectString.parse(settings.servers).pipe(
      Effect.mapError((e) => new BadInput({ command: "--server", subject: settings.servers, detail: e.message }))
    )
    const answers = yield* Effect.forEach(hosts, (host) =>
      Effect.map(FourLetter.send(host, word, { timeout: settings.timeout, tls: settings.tls }), (text) => ({
        server: ConnectString.formatHost(host),
        answer: FourLetter.parse(text)
      })), { concurrency: "unbounded" })
    if (json) return yield* Output.json(answers.map((a) => toJson(a.server, word, a.answer)))
    const out: Array<string> = []
    for (const { server: name, answer } of answers) {
      if (hosts.length > 1) out.push(Output.style.bold(name))
      out.push(...toLines(answer))
      if (hosts.length > 1) out.push("")
    }
    yield* Output.lines(out)
  })).pipe(Command.withDescription("Ask the servers a four-letter word (srvr, mntr, cons, ...) and show the answer"))

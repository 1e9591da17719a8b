/**
 * Output for people and for scripts. People get aligned columns, with colour only when stdout
 * is a terminal and `NO_COLOR` is unset (https://no-color.org); scripts ask for `--json` and
 * get exactly one JSON document (one per line for streams).
 *
 * Everything is written synchronously to the process's streams: a CLI that exits right after
 * printing must not lose buffered output, and `process.stdout.write` keeps bytes exact.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"

/**
 * Whether stdout gets ANSI colour: a terminal, `NO_COLOR` unset or empty, `TERM` not `dumb`.
 *
 * @since 0.1.0
 * @category getters
 */
export const colourEnabled = (): boolean =>
  process.stdout.isTTY === true && (process.env["NO_COLOR"] ?? "") === "" && process.env["TERM"] !== "dumb"

const sgr = (code: string) => (text: string): string => (colourEnabled() ? `\u001b[${code}m${text}\u001b[0m` : text)

/**
 * ANSI styles that fall back to plain text when colour is off.
 *
 * @since 0.1.0
 * @category constructors
 */
export const style = {
  bold: sgr("1"),
  dim: sgr("2"),
  blue: sgr("34"),
  green: sgr("32"),
  yellow: sgr("33"),
  red: sgr("31"),
  cyan: sgr("36")
} as const

// eslint-disable-next-line no-control-regex
const ansi = /\u001b\[[0-9;]*m/g

/** Printed width of a cell: colour codes take no room. */
const width = (cell: string): number => cell.replace(ansi, "").length

/**
 * Rows as aligned columns: each column as wide as its widest cell, two spaces between, the
 * columns listed in `right` aligned right (numbers). The last column is never padded.
 *
 * @example
 * ```ts
 * columns([["a", "1"], ["bbb", "22"]], { right: [1] }) // ["a     1", "bbb  22"]
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const columns = (
  rows: ReadonlyArray<ReadonlyArray<string>>,
  options: { readonly right?: ReadonlyArray<number> } = {}
): Array<string> => {
  const widths: Array<number> = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, width(cell))))
  const right = new Set(options.right ?? [])
  return rows.map((row) =>
    row.map((cell, i) => {
      const pad = " ".repeat((widths[i] ?? 0) - width(cell))
      if (right.has(i)) return pad + cell
      return i === row.length - 1 ? cell : cell + pad
    }).join("  ").trimEnd()
  )
}

/**
 * Writes text to stdout as is.
 *
 * @since 0.1.0
 * @category rendering
 */
export const write = (text: string | Uint8Array): Effect.Effect<void> => Effect.sync(() => void process.stdout.write(text))

/**
 * Writes lines to stdout, each ending in a newline.
 *
 * @since 0.1.0
 * @category rendering
 */
export const lines = (items: ReadonlyArray<string>): Effect.Effect<void> =>
  items.length === 0 ? Effect.void : write(items.join("\n") + "\n")

/**
 * Writes one line to stdout.
 *
 * @since 0.1.0
 * @category rendering
 */
export const line = (text: string): Effect.Effect<void> => write(text + "\n")

/**
 * Writes one JSON document on one line: what `--json` promises, so `jq` and line-oriented
 * readers both work.
 *
 * @since 0.1.0
 * @category rendering
 */
export const json = (value: unknown): Effect.Effect<void> => line(JSON.stringify(value))

/**
 * Writes a line to stderr (warnings, progress, errors).
 *
 * @since 0.1.0
 * @category rendering
 */
export const warn = (text: string): Effect.Effect<void> => Effect.sync(() => void process.stderr.write(text + "\n"))

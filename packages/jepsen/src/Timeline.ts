/**
 * A history as a self-contained HTML page in the style of porcupine's visualisation: one lane
 * per client, each operation a bar from its invocation to its completion (an unknown outcome
 * runs to the end of the lane, hatched), coloured by outcome. The operations of the minimal
 * failing sub-history are outlined in red and listed at the top with the violation and the
 * seed. No scripts or external files: it opens from disk anywhere.
 *
 * @since 0.1.0
 */
import { describe, type Operation } from "./History.ts"

/**
 * What the page shows besides the history.
 *
 * @since 0.1.0
 * @category models
 */
export interface TimelineOptions {
  readonly title: string
  readonly seed: number
  /** One line per violation. */
  readonly violations: ReadonlyArray<string>
  /** The minimal failing sub-history: outlined, and drawn again on its own first. */
  readonly minimal: ReadonlyArray<Operation>
}

const escape = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

const COLORS: Record<Operation["type"], string> = { ok: "#b7e4b0", fail: "#f6c48f", info: "#d0d0d0" }

const ms = (nanos: bigint): number => Number(nanos / 1000n) / 1000

/** The lanes of one history, as absolutely positioned bars scaled to `width` pixels. */
const lanes = (ops: ReadonlyArray<Operation>, highlight: ReadonlySet<number>, width: number): string => {
  if (ops.length === 0) return "<p>(no operations)</p>"
  const start = ops.reduce((min, op) => (op.invoke < min ? op.invoke : min), ops[0]!.invoke)
  const end = ops.reduce((max, op) => {
    const t = op.complete ?? op.invoke
    return t > max ? t : max
  }, start + 1n)
  const span = ms(end - start) * 1.02 + 0.001
  const x = (t: bigint) => (ms(t - start) / span) * width
  const processes = [...new Set(ops.map((op) => op.process))].sort((a, b) => a - b)
  const laneHeight = 34
  const rows = processes.map((process, row) => {
    const bars = ops.filter((op) => op.process === process).map((op) => {
      const left = x(op.invoke)
      const right = op.complete === undefined ? width : Math.max(x(op.complete), left + 3)
      // The last path segment is enough inside a lane; the tooltip has the full operation.
      const label = `${op.f} ${op.key.slice(op.key.lastIndexOf("/") + 1)}${op.value === undefined ? "" : ` ${op.value}`}${
        op.result.value === undefined ? "" : ` → ${op.result.value}`
      }${op.result.error === undefined ? "" : ` ${op.result.error}`}`
      const classes = ["op", op.type, highlight.has(op.id) ? "bad" : ""].join(" ")
      return `<div class="${classes}" style="left:${left.toFixed(1)}px;width:${(right - left).toFixed(1)}px;background-color:${
        COLORS[op.type]
      }" title="${escape(`${describe(op)}\ninvoke +${ms(op.invoke - start).toFixed(3)} ms${
        op.complete === undefined ? "" : `, complete +${ms(op.complete - start).toFixed(3)} ms`
      }\nsession ${op.session}`)}">${escape(label)}</div>`
    })
    return `<div class="lane" style="top:${row * laneHeight}px"><span class="name">p${process}</span>${bars.join("")}</div>`
  })
  return `<div class="lanes" style="height:${processes.length * laneHeight}px;width:${width + 60}px">${rows.join("")}</div>`
}

/**
 * Renders the page.
 *
 * @example
 * ```ts
 * fs.writeFileSync("timeline.html", Timeline.render(history, { title: "register", seed: 7, violations, minimal }))
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const render = (history: ReadonlyArray<Operation>, options: TimelineOptions): string => {
  const highlight = new Set(options.minimal.map((op) => op.id))
  const shown = history.length > 4000 ? history.filter((op) => highlight.has(op.id) || op.id >= history.length - 4000) : history
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escape(options.title)}</title>
<style>
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222 }
h1 { font-size: 18px } h2 { font-size: 15px; margin-top: 24px }
.verdict { color: #b00020; font-weight: 600 }
.lanes { position: relative; margin: 8px 0 8px 0; border-top: 1px solid #ddd }
.lane { position: absolute; left: 0; right: 0; height: 34px; border-bottom: 1px solid #eee }
.name { position: absolute; left: 0; top: 8px; width: 50px; font-weight: 600 }
.op { position: absolute; top: 5px; height: 22px; margin-left: 60px; box-sizing: border-box; border: 1px solid #888;
  border-radius: 3px; font-size: 11px; line-height: 20px; white-space: nowrap; overflow: hidden; padding: 0 3px }
.op.info { background-image: repeating-linear-gradient(45deg, transparent 0 6px, rgba(255,255,255,.6) 6px 12px) }
.op.bad { border: 2px solid #d00000; z-index: 2 }
.legend span { display: inline-block; padding: 0 8px; margin-right: 8px; border: 1px solid #888; border-radius: 3px }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto }
</style></head><body>
<h1>${escape(options.title)}</h1>
<p>seed <b>${options.seed}</b> · ${history.length} operations ·
<span class="${options.violations.length === 0 ? "" : "verdict"}">${
    options.violations.length === 0 ? "valid" : `${options.violations.length} violation(s)`
  }</span></p>
<p class="legend"><span style="background:${COLORS.ok}">ok</span><span style="background:${COLORS.fail}">fail (definite)</span><span style="background:${COLORS.info}">info (unknown outcome)</span><span style="border:2px solid #d00000">in the minimal failing sub-history</span></p>
${options.violations.length === 0 ? "" : `<pre>${escape(options.violations.join("\n"))}</pre>`}
${
    options.minimal.length === 0
      ? ""
      : `<h2>Minimal failing sub-history (${options.minimal.length} operations)</h2>
<pre>${escape(options.minimal.map(describe).join("\n"))}</pre>
${lanes(options.minimal, highlight, 1100)}`
  }
<h2>Full history${shown.length < history.length ? ` (last ${shown.length} operations)` : ""}</h2>
${lanes(shown, highlight, Math.min(20000, Math.max(1100, shown.length * 6)))}
</body></html>
`
}

/**
 * A progress bar on stderr for long exports and imports, drawn only when stderr is a
 * terminal: a pipe or a log file gets no carriage returns, and stdout (where an export goes)
 * never sees it.
 *
 * @since 0.1.0
 */

/**
 * A bar that can be moved and then cleared.
 *
 * @since 0.1.0
 * @category models
 */
export interface Bar {
  readonly update: (done: number, total?: number) => void
  readonly finish: () => void
}

const silent: Bar = { update: () => {}, finish: () => {} }

/** Below this many nodes the work is over before a bar would help. */
const THRESHOLD = 500

/**
 * A bar labelled `label`; silent when stderr is not a terminal or the work is small.
 *
 * @since 0.1.0
 * @category constructors
 */
export const bar = (label: string, total: number | undefined): Bar => {
  if (process.stderr.isTTY !== true) return silent
  let known = total
  let drawnAt = 0
  let drawn = false
  const draw = (done: number) => {
    const now = Date.now()
    if (now - drawnAt < 100 && done !== known) return
    drawnAt = now
    if (known === undefined || known < THRESHOLD) {
      if (done < THRESHOLD) return
      process.stderr.write(`\r${label} ${done} nodes`)
    } else {
      const width = 30
      const filled = Math.min(width, Math.round((done / known) * width))
      process.stderr.write(`\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${known}`)
    }
    drawn = true
  }
  return {
    update: (done, total) => {
      if (total !== undefined) known = total
      draw(done)
    },
    finish: () => {
      if (drawn) process.stderr.write("\r\u001b[K")
    }
  }
}

/**
 * Who Ctrl-C (SIGINT) and SIGTERM stop. Outside the shell it is the whole run; inside
 * `zk shell` a running line (a `watch`, a `lock`) is stopped and the shell goes on.
 *
 * @since 0.1.0
 */

type Handler = (signal: "SIGINT" | "SIGTERM") => void

const handlers: Array<Handler> = []

/**
 * Makes `handler` receive the signals until the returned function is called.
 *
 * @since 0.1.0
 * @category constructors
 */
export const push = (handler: Handler): (() => void) => {
  handlers.push(handler)
  return () => {
    const at = handlers.lastIndexOf(handler)
    if (at >= 0) handlers.splice(at, 1)
  }
}

/**
 * Delivers a signal to the innermost handler.
 *
 * @since 0.1.0
 * @category constructors
 */
export const deliver = (signal: "SIGINT" | "SIGTERM"): void => handlers[handlers.length - 1]?.(signal)

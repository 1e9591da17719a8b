/**
 * Shrinking a failing history to a minimal one that still fails, so that a person can read the
 * violation in a handful of operations instead of thousands.
 *
 * @since 0.1.0
 */

/**
 * The smallest prefix that still fails (binary search, then confirmed), then delta debugging:
 * remove chunks of halving size while the rest still fails. The result fails and, when the
 * budget allowed it to finish, removing any single element makes it pass (1-minimal).
 *
 * `fails` must be deterministic. The budget bounds the number of `fails` calls.
 *
 * @example
 * ```ts
 * const minimal = shrink(ops, (subset) => !isLinearizable(subset))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const shrink = <T>(
  items: ReadonlyArray<T>,
  fails: (subset: ReadonlyArray<T>) => boolean,
  options: { readonly maxChecks?: number | undefined } = {}
): ReadonlyArray<T> => {
  let budget = options.maxChecks ?? 2_000
  const failing = (subset: ReadonlyArray<T>): boolean => {
    budget--
    return fails(subset)
  }
  let current: ReadonlyArray<T> = items
  // Prefix: failure is usually monotone in the prefix length, and if not the confirmation
  // below keeps the whole history.
  let lo = 1
  let hi = items.length
  while (lo < hi && budget > 0) {
    const mid = Math.floor((lo + hi) / 2)
    if (failing(items.slice(0, mid))) hi = mid
    else lo = mid + 1
  }
  if (hi < items.length && failing(items.slice(0, hi))) current = items.slice(0, hi)
  let chunk = Math.max(1, Math.floor(current.length / 2))
  while (budget > 0) {
    let removed = false
    for (let start = 0; start < current.length && budget > 0;) {
      const candidate = [...current.slice(0, start), ...current.slice(start + chunk)]
      if (candidate.length > 0 && failing(candidate)) {
        current = candidate
        removed = true
      } else {
        start += chunk
      }
    }
    if (chunk === 1 && !removed) break
    if (!removed || chunk > 1) chunk = Math.max(1, Math.floor(chunk / 2))
  }
  return current
}

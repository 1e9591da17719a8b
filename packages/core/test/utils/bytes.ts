/** Byte helpers shared by the codec tests. */

export const fromHex = (h: string): Uint8Array => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16))

/** Hex of `b` (one parameter, so it can be passed to `map`). */
export const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")

/** Hex of the first `max` bytes of `b`, with an ellipsis when cut. */
export const toHexCut = (b: Uint8Array, max: number): string =>
  toHex(b.subarray(0, Math.min(b.length, max))) + (b.length > max ? "…" : "")

/** A big-endian i32 as bytes. */
export const int32 = (n: number): Array<number> => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]

export const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

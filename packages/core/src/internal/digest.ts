/**
 * What MD5 and SHA-1 share: 32-bit rotation and Merkle–Damgård padding (0x80, zeros, then the
 * message length in bits as a 64-bit integer, to a multiple of 64 bytes). They differ only in
 * byte order, which is the parameter.
 *
 * @internal
 */

export const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n))

/** The padded message and a view on it, for reading 32-bit words in the same byte order. */
export const pad = (data: Uint8Array, littleEndian: boolean): { readonly buf: Uint8Array; readonly view: DataView } => {
  const blocks = Math.ceil((data.length + 9) / 64)
  const buf = new Uint8Array(blocks * 64)
  buf.set(data)
  buf[data.length] = 0x80
  const view = new DataView(buf.buffer)
  const bits = data.length * 8
  const low = bits >>> 0
  const high = Math.floor(bits / 0x100000000)
  view.setUint32(buf.length - 8, littleEndian ? low : high, littleEndian)
  view.setUint32(buf.length - 4, littleEndian ? high : low, littleEndian)
  return { buf, view }
}

/**
 * UTF-8 for node data (ids, member data). Core keeps its codec private and recipes have no
 * platform typings, so this goes through effect's Hex helpers, which encode and decode UTF-8.
 */
import * as Hex from "effect/encoding/Hex"
import * as Result from "effect/Result"

/** The UTF-8 bytes of `s`. */
export const encode = (s: string): Uint8Array => Result.getOrElse(Hex.decode(Hex.encode(s)), () => new Uint8Array(0))

/** `bytes` read as UTF-8 (malformed sequences become U+FFFD). */
export const decode = (bytes: Uint8Array): string => Result.getOrElse(Hex.decodeString(Hex.encode(bytes)), () => "")

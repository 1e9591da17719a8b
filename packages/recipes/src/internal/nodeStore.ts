/**
 * The memory of a TreeCache: every cached znode as one record of bytes, its Stat (68 bytes, the
 * wire layout) followed by its data, packed into a few large arenas instead of one object graph
 * per node. A JavaScript object per node (a Stat with six bigints, a Uint8Array with its
 * ArrayBuffer) costs several hundred bytes of headers before any data; here a node costs its
 * path string, one Map entry, three 32-bit slot fields and its record. Space freed by updates
 * and deletes is reclaimed by copying the live records into fresh arenas once more than half
 * of the arena bytes are garbage.
 *
 * @internal
 */
import type { Stat } from "@effect-zk/core"

/** Bytes of a Stat in the wire layout. */
export const STAT_BYTES = 68

/** Arena size (the most a partly filled arena wastes); a record over an eighth of it gets its own. */
const ARENA = 1 << 20

/** What identifies one value of a node: its incarnation and its data version. */
export interface Stamp {
  readonly czxid: bigint
  readonly mzxid: bigint
}

/** @internal */
export class NodeStore {
  private readonly slots = new Map<string, number>()
  private arenaOf = new Uint32Array(1024)
  private offsetOf = new Uint32Array(1024)
  private lengthOf = new Uint32Array(1024)
  private readonly freeSlots: Array<number> = []
  private nextSlot = 0
  private arenas: Array<Uint8Array | undefined> = []
  private views: Array<DataView | undefined> = []
  private live: Array<number> = []
  private current = -1
  private cursor = 0
  private liveBytes = 0
  private arenaBytes = 0

  get size(): number {
    return this.slots.size
  }

  has(path: string): boolean {
    return this.slots.has(path)
  }

  paths(): IterableIterator<string> {
    return this.slots.keys()
  }

  /** Bytes held in arenas (live records plus garbage not yet reclaimed). */
  get heldBytes(): number {
    return this.arenaBytes
  }

  stamp(path: string): Stamp | undefined {
    const slot = this.slots.get(path)
    if (slot === undefined) return undefined
    const view = this.views[this.arenaOf[slot]!]!
    const at = this.offsetOf[slot]!
    return { czxid: view.getBigInt64(at), mzxid: view.getBigInt64(at + 8) }
  }

  /** The node's data (a copy the caller owns) and Stat. */
  read(path: string): { readonly data: Uint8Array; readonly stat: Stat } | undefined {
    const slot = this.slots.get(path)
    if (slot === undefined) return undefined
    const arena = this.arenas[this.arenaOf[slot]!]!
    const view = this.views[this.arenaOf[slot]!]!
    const at = this.offsetOf[slot]!
    const end = at + this.lengthOf[slot]!
    return { data: arena.slice(at + STAT_BYTES, end), stat: decodeStat(view, at) }
  }

  /** Stores (or replaces) a node's value; `data` is copied, so the caller may reuse it. */
  write(path: string, stat: Stat, data: Uint8Array): void {
    const length = STAT_BYTES + data.length
    let slot = this.slots.get(path)
    if (slot !== undefined && this.lengthOf[slot] === length) {
      this.fill(this.arenaOf[slot]!, this.offsetOf[slot]!, stat, data)
      return
    }
    if (slot !== undefined) this.release(slot)
    else {
      slot = this.freeSlots.pop() ?? this.newSlot()
      this.slots.set(path, slot)
    }
    const [arena, offset] = this.allocate(length)
    this.arenaOf[slot] = arena
    this.offsetOf[slot] = offset
    this.lengthOf[slot] = length
    this.fill(arena, offset, stat, data)
    this.maybeCompact()
  }

  delete(path: string): boolean {
    const slot = this.slots.get(path)
    if (slot === undefined) return false
    this.slots.delete(path)
    this.release(slot)
    this.freeSlots.push(slot)
    this.maybeCompact()
    return true
  }

  private newSlot(): number {
    const slot = this.nextSlot++
    if (slot >= this.arenaOf.length) {
      const grow = (a: Uint32Array) => {
        const b = new Uint32Array(a.length * 2)
        b.set(a)
        return b
      }
      this.arenaOf = grow(this.arenaOf)
      this.offsetOf = grow(this.offsetOf)
      this.lengthOf = grow(this.lengthOf)
    }
    return slot
  }

  private fill(arena: number, at: number, stat: Stat, data: Uint8Array): void {
    encodeStat(this.views[arena]!, at, stat)
    this.arenas[arena]!.set(data, at + STAT_BYTES)
  }

  private allocate(length: number): readonly [number, number] {
    this.liveBytes += length
    if (length > ARENA / 8) {
      const index = this.addArena(length)
      this.live[index] = length
      return [index, 0]
    }
    if (this.current < 0 || this.cursor + length > this.arenas[this.current]!.length) {
      this.current = this.addArena(ARENA)
      this.cursor = 0
    }
    const offset = this.cursor
    this.cursor += length
    this.live[this.current] = this.live[this.current]! + length
    return [this.current, offset]
  }

  private addArena(size: number): number {
    const bytes = new Uint8Array(size)
    let index = this.arenas.indexOf(undefined)
    if (index < 0) index = this.arenas.length
    this.arenas[index] = bytes
    this.views[index] = new DataView(bytes.buffer)
    this.live[index] = 0
    this.arenaBytes += size
    return index
  }

  private release(slot: number): void {
    const arena = this.arenaOf[slot]!
    const length = this.lengthOf[slot]!
    this.liveBytes -= length
    this.live[arena] = this.live[arena]! - length
    if (this.live[arena] === 0 && arena !== this.current) this.dropArena(arena)
  }

  private dropArena(arena: number): void {
    this.arenaBytes -= this.arenas[arena]!.length
    this.arenas[arena] = undefined
    this.views[arena] = undefined
  }

  /** Copies the live records into fresh arenas when most arena bytes are garbage. */
  private maybeCompact(): void {
    if (this.arenaBytes <= 16 * ARENA || this.liveBytes * 2 > this.arenaBytes) return
    const oldArenas = this.arenas
    this.arenas = []
    this.views = []
    this.live = []
    this.current = -1
    this.cursor = 0
    this.liveBytes = 0
    this.arenaBytes = 0
    for (const slot of this.slots.values()) {
      const from = oldArenas[this.arenaOf[slot]!]!
      const at = this.offsetOf[slot]!
      const length = this.lengthOf[slot]!
      const [arena, offset] = this.allocate(length)
      this.arenas[arena]!.set(from.subarray(at, at + length), offset)
      this.arenaOf[slot] = arena
      this.offsetOf[slot] = offset
    }
  }
}

const encodeStat = (view: DataView, at: number, stat: Stat): void => {
  view.setBigInt64(at, stat.czxid)
  view.setBigInt64(at + 8, stat.mzxid)
  view.setBigInt64(at + 16, stat.ctime)
  view.setBigInt64(at + 24, stat.mtime)
  view.setInt32(at + 32, stat.version)
  view.setInt32(at + 36, stat.cversion)
  view.setInt32(at + 40, stat.aversion)
  view.setBigInt64(at + 44, stat.ephemeralOwner)
  view.setInt32(at + 52, stat.dataLength)
  view.setInt32(at + 56, stat.numChildren)
  view.setBigInt64(at + 60, stat.pzxid)
}

const decodeStat = (view: DataView, at: number): Stat => ({
  czxid: view.getBigInt64(at),
  mzxid: view.getBigInt64(at + 8),
  ctime: view.getBigInt64(at + 16),
  mtime: view.getBigInt64(at + 24),
  version: view.getInt32(at + 32),
  cversion: view.getInt32(at + 36),
  aversion: view.getInt32(at + 40),
  ephemeralOwner: view.getBigInt64(at + 44),
  dataLength: view.getInt32(at + 52),
  numChildren: view.getInt32(at + 56),
  pzxid: view.getBigInt64(at + 60)
})

/**
 * The one watch manager of a session, as the Java client's ZKWatchManager (docs/protocol.md#watch-events): it
 * owns every table of watches and makes every decision about what to tell the server about
 * them: nothing extra on a read, the 3.8 persistent re-add after a read, the server-side removal
 * once a persistent watch's last subscriber leaves, and SetWatches after a reconnect. The
 * service only turns its listeners into Streams.
 *
 * One-shot watches live in three tables keyed by *server* path (so SetWatches replays them as
 * is and a notification is looked up without rewriting its path), each entry a set of local
 * listeners that all fire on the one server event.
 *
 * - `exists` registers in `data` when the node exists and in `exist` when it does not;
 *   `get` registers in `data`, `children` in `child`, and only when the read succeeded.
 * - NodeCreated and NodeDataChanged fire `data` and `exist`; NodeChildrenChanged fires
 *   `child`; NodeDeleted fires all three.
 *
 * Persistent watches (addWatch, 3.6+) live in two more tables, `persistent` (every event of
 * the path) and `recursive` (the path and its descendants, never NodeChildrenChanged). Their
 * listeners are bounded queues: a listener that falls `capacity` events behind fails with
 * `WatchOverflow` rather than losing events silently.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Queue from "effect/Queue"
import * as Protocol from "../Protocol.ts"
import { type PersistentWatchEvent, type WatchEvent, WatchOverflow } from "../WatchEvent.ts"
import type { ZkError } from "../ZkError.ts"
import * as ZNodePath from "../ZNodePath.ts"
import type { JuteWriter } from "./jute.ts"

/** @internal */
export type WatchTable = "data" | "exist" | "child"

/** @internal */
export type PersistentMode = "persistent" | "recursive"

/** Which one-shot tables a `removeWatches` kind addresses, and whether it ends persistent watches. */
export type RemovalKind = "data" | "children" | "any"

/** How a one-shot watch ends: with its event, removed on purpose (no event), or failed with the session. */
export type Outcome =
  | { readonly _tag: "Fired"; readonly event: WatchEvent }
  | { readonly _tag: "Removed" }
  | { readonly _tag: "Failed"; readonly error: ZkError }

const removed: Outcome = { _tag: "Removed" }

/**
 * A registered one-shot watch: a plain slot that holds its outcome once settled, and at most
 * a few callbacks of consumers waiting for it. Nothing else is allocated until someone waits,
 * so a process can hold many unconsumed watches cheaply.
 */
export class OneShot {
  outcome: Outcome | undefined = undefined
  private waiters: ((outcome: Outcome) => void) | Array<(outcome: Outcome) => void> | undefined = undefined

  readonly table: WatchTable
  readonly serverPath: string
  constructor(table: WatchTable, serverPath: string) {
    this.table = table
    this.serverPath = serverPath
  }

  /** Calls `f` with the outcome, now or once settled; returns a canceller for a pending wait. */
  await(f: (outcome: Outcome) => void): void {
    if (this.outcome !== undefined) return f(this.outcome)
    const w = this.waiters
    this.waiters = w === undefined ? f : typeof w === "function" ? [w, f] : [...w, f]
  }

  /** Stops waiting with `f`; true when nobody waits any more and the watch has not fired. */
  cancel(f: (outcome: Outcome) => void): boolean {
    const w = this.waiters
    if (w === f) this.waiters = undefined
    else if (Array.isArray(w)) {
      const rest = w.filter((g) => g !== f)
      this.waiters = rest.length === 0 ? undefined : rest
    }
    return this.waiters === undefined && this.outcome === undefined
  }

  settle(outcome: Outcome): void {
    if (this.outcome !== undefined) return
    this.outcome = outcome
    const w = this.waiters
    this.waiters = undefined
    if (w === undefined) return
    if (typeof w === "function") w(outcome)
    else for (const f of w) f(outcome)
  }
}

/** A persistent watch's subscriber: the queue behind its stream. */
export interface PersistentListener {
  readonly clientPath: string
  readonly queue: Queue.Queue<PersistentWatchEvent, ZkError | WatchOverflow | Cause.Done>
  readonly capacity: number
}

/** A request the manager sends for itself; nobody waits for its outcome. */
export type Send = (op: number, write: (w: JuteWriter) => void, replied?: () => void) => void

/** What the manager needs from its session. */
export interface WatchPort {
  /** Sends on the live connection; dropped without one (the next SetWatches covers it). */
  send(op: number, write: (w: JuteWriter) => void, replied?: () => void): void
  /** The last zxid seen, for SetWatches. */
  lastZxid(): bigint
}

/** Java's SET_WATCHES_MAX_LENGTH: a SetWatches batch closes once its paths reach 128 KiB. */
const SET_WATCHES_MAX_LENGTH = 128 * 1024

const addWatchMode: Record<PersistentMode, number> = {
  persistent: Protocol.AddWatchMode.Persistent,
  recursive: Protocol.AddWatchMode.PersistentRecursive
}

const tablesOf: Record<RemovalKind, ReadonlyArray<WatchTable>> = {
  data: ["data", "exist"],
  children: ["child"],
  any: ["data", "exist", "child"]
}

/** @internal */
export class WatchManager {
  private readonly data = new Map<string, Set<OneShot>>()
  private readonly exist = new Map<string, Set<OneShot>>()
  private readonly child = new Map<string, Set<OneShot>>()
  private readonly persistent = new Map<string, Set<PersistentListener>>()
  private readonly recursive = new Map<string, Set<PersistentListener>>()
  private count = 0

  private readonly port: WatchPort
  constructor(port: WatchPort) {
    this.port = port
  }

  /** Sends through the port (made per use: a manager keeps no function of its own). */
  private get toPort(): Send {
    return (op, write, replied) => this.port.send(op, write, replied)
  }

  /** One-shot watches registered and not yet fired (gozk's CountPendingWatches). */
  get size(): number {
    return this.count
  }

  // -- One-shot watches -----------------------------------------------------------------------

  /**
   * Registers the watch a successful read left, in the table its reply implies. ZooKeeper 3.8
   * keeps one watch mode per (path, table): this standard watch just replaced a persistent one
   * at the same path, so the persistent ones there are re-added (fixed in 3.9).
   */
  afterRead(table: WatchTable, serverPath: string): OneShot {
    const listener = new OneShot(table, serverPath)
    const map = this[table]
    const set = map.get(serverPath)
    if (set === undefined) map.set(serverPath, new Set([listener]))
    else set.add(listener)
    this.count++
    if (this.persistent.size > 0 || this.recursive.size > 0) {
      for (const mode of this.persistentModesAt(serverPath)) this.sendAddWatch(serverPath, mode, this.toPort)
    }
    return listener
  }

  /** Forgets a listener whose consumer stopped waiting before it fired. */
  forget(listener: OneShot): void {
    const map = this[listener.table]
    const set = map.get(listener.serverPath)
    if (set === undefined || !set.delete(listener)) return
    this.count--
    if (set.size === 0) map.delete(listener.serverPath)
  }

  /** Fires the listeners a server event reaches; `event.path` is already chroot-stripped. */
  dispatch(serverPath: string, event: WatchEvent): void {
    if (this.persistent.size > 0) this.deliver(this.persistent.get(serverPath), event)
    if (this.recursive.size > 0 && event.type !== "NodeChildrenChanged") {
      for (let p = serverPath; ; p = ZNodePath.parent(p)) {
        this.deliver(this.recursive.get(p), event)
        if (p === "/") break
      }
    }
    const fired: Outcome = { _tag: "Fired", event }
    switch (event.type) {
      case "NodeCreated":
      case "NodeDataChanged":
        this.settle("data", serverPath, fired)
        this.settle("exist", serverPath, fired)
        break
      case "NodeChildrenChanged":
        this.settle("child", serverPath, fired)
        break
      case "NodeDeleted":
        this.settle("data", serverPath, fired)
        this.settle("exist", serverPath, fired)
        this.settle("child", serverPath, fired)
        break
    }
  }

  /**
   * The server removed this session's watches of a kind at a path (removeWatches succeeded):
   * their one-shot streams end without an event; for `any` the persistent ones end too.
   */
  removed(kind: RemovalKind, serverPath: string): void {
    for (const table of tablesOf[kind]) this.settle(table, serverPath, removed)
    if (kind === "any") this.endPersistentAt(serverPath)
  }

  /** Unregisters the one-shot listeners of a table at a path and settles them. */
  private settle(table: WatchTable, serverPath: string, outcome: Outcome): void {
    const map = this[table]
    const set = map.get(serverPath)
    if (set === undefined) return
    map.delete(serverPath)
    this.count -= set.size
    for (const listener of set) listener.settle(outcome)
  }

  // -- Persistent watches ---------------------------------------------------------------------

  /**
   * Registers a subscriber. Returns the AddWatch the caller must send (and whose failure it
   * reports) when it is the first for (mode, path), else `undefined`.
   */
  subscribe(
    mode: PersistentMode,
    serverPath: string,
    listener: PersistentListener
  ): ((w: JuteWriter) => void) | undefined {
    const map = this[mode]
    const set = map.get(serverPath)
    if (set !== undefined) {
      set.add(listener)
      return undefined
    }
    map.set(serverPath, new Set([listener]))
    return (w) => Protocol.writeAddWatchRequest(w, serverPath, addWatchMode[mode])
  }

  /**
   * Unregisters a subscriber. Once the last one at (mode, path) is gone, the server-side
   * watches at the path are removed; removeWatches can only remove everything at a path (Any),
   * so whatever still needs a watch there is re-armed right after: the other persistent mode,
   * and one-shot watches via SetWatches at the current zxid (nothing is replayed for them).
   */
  unsubscribe(mode: PersistentMode, serverPath: string, listener: PersistentListener): void {
    const map = this[mode]
    const set = map.get(serverPath)
    if (set === undefined || !set.delete(listener) || set.size > 0) return
    map.delete(serverPath)
    const send = this.toPort
    send(Protocol.OpCode.RemoveWatches, (w) => Protocol.writeWatcherRequest(w, serverPath, Protocol.WatcherType.Any))
    const has = (table: WatchTable): Array<string> => (this[table].has(serverPath) ? [serverPath] : [])
    this.sendSetWatches([has("data"), has("exist"), has("child"), [], []], send)
    for (const other of this.persistentModesAt(serverPath)) this.sendAddWatch(serverPath, other, send)
  }

  private sendAddWatch(serverPath: string, mode: PersistentMode, send: Send): void {
    send(Protocol.OpCode.AddWatch, (w) => Protocol.writeAddWatchRequest(w, serverPath, addWatchMode[mode]))
  }

  private persistentModesAt(serverPath: string): Array<PersistentMode> {
    const modes: Array<PersistentMode> = []
    if (this.persistent.has(serverPath)) modes.push("persistent")
    if (this.recursive.has(serverPath)) modes.push("recursive")
    return modes
  }

  /** Ends the streams of every persistent subscriber at a path (their watch was removed). */
  private endPersistentAt(serverPath: string): void {
    for (const map of [this.persistent, this.recursive]) {
      const set = map.get(serverPath)
      if (set === undefined) continue
      map.delete(serverPath)
      for (const listener of set) Queue.endUnsafe(listener.queue)
    }
  }

  private deliver(set: Set<PersistentListener> | undefined, event: WatchEvent): void {
    if (set === undefined) return
    for (const listener of set) this.offer(listener, event)
  }

  private offer(listener: PersistentListener, event: PersistentWatchEvent): void {
    if (Queue.offerUnsafe(listener.queue, event)) return
    // Full: the consumer is too slow. Fail its stream loudly; its finalizer unregisters it.
    Queue.failCauseUnsafe(
      listener.queue,
      Cause.fail(new WatchOverflow({ path: listener.clientPath, capacity: listener.capacity }))
    )
  }

  // -- Reconnect ------------------------------------------------------------------------------

  /**
   * Re-registers every watch on a new connection, with `relativeZxid` = the last zxid seen, so
   * the server fires at once the one-shot watches whose node changed while we were away
   * (docs/protocol.md#set-watches). Once the server has the persistent watches back, their subscribers get a
   * `Resync`: the server re-arms them without replaying anything.
   */
  replay(send: Send): void {
    if (this.count === 0 && !this.hasPersistent) return
    const keys = (map: Map<string, unknown>) => Array.from(map.keys())
    this.sendSetWatches(
      [keys(this.data), keys(this.exist), keys(this.child), keys(this.persistent), keys(this.recursive)],
      send,
      this.hasPersistent ? this.resyncWhenArmed() : undefined
    )
  }

  /**
   * The one SetWatches builder. SetWatches2 (3.6+) only when persistent paths are included, so
   * older servers keep working. Batches close once their paths reach 128 KiB, in Java's order:
   * data, exist, child, persistent, recursive (standard watches before persistent ones on a
   * path, the order 3.8 needs for both to survive). `armed` runs on the last batch's reply.
   */
  private sendSetWatches(lists: ReadonlyArray<ReadonlyArray<string>>, send: Send, armed?: () => void): void {
    const persistent = (lists[3]?.length ?? 0) + (lists[4]?.length ?? 0) > 0
    const relativeZxid = this.port.lastZxid()
    let batch: Array<Array<string>> = [[], [], [], [], []]
    let length = 0
    let paths = 0
    const requests: Array<Protocol.SetWatches2> = []
    const flush = () => {
      const [dataWatches = [], existWatches = [], childWatches = [], persistentWatches = [], persistentRecursiveWatches = []] = batch
      requests.push({ relativeZxid, dataWatches, existWatches, childWatches, persistentWatches, persistentRecursiveWatches })
      batch = [[], [], [], [], []]
      length = 0
      paths = 0
    }
    lists.forEach((list, table) => {
      for (const path of list) {
        batch[table]!.push(path)
        length += path.length
        paths++
        if (length >= SET_WATCHES_MAX_LENGTH) flush()
      }
    })
    if (paths > 0) flush()
    requests.forEach((request, i) => {
      const replied = i === requests.length - 1 ? armed : undefined
      if (persistent) send(Protocol.OpCode.SetWatches2, (w) => Protocol.writeSetWatches2(w, request), replied)
      else send(Protocol.OpCode.SetWatches, (w) => Protocol.writeSetWatches(w, request), replied)
    })
  }

  private get hasPersistent(): boolean {
    return this.persistent.size > 0 || this.recursive.size > 0
  }

  /**
   * The subscribers a reconnect re-registers, told once the server has the watches back that
   * events may have been missed meanwhile. Whoever unsubscribed in between is skipped.
   */
  private resyncWhenArmed(): () => void {
    const targets: Array<readonly [Set<PersistentListener>, PersistentListener]> = []
    for (const map of [this.persistent, this.recursive]) {
      for (const set of map.values()) for (const listener of set) targets.push([set, listener])
    }
    return () => {
      for (const [set, listener] of targets) {
        if (set.has(listener)) this.offer(listener, { type: "Resync", path: listener.clientPath })
      }
    }
  }

  /** Ends every listener with `error` (session expired or closed). */
  failAll(error: ZkError): void {
    const failed: Outcome = { _tag: "Failed", error }
    for (const table of ["data", "exist", "child"] as const) {
      const map = this[table]
      for (const set of map.values()) for (const listener of set) listener.settle(failed)
      map.clear()
    }
    this.count = 0
    const cause = Cause.fail(error)
    for (const map of [this.persistent, this.recursive]) {
      for (const set of map.values()) for (const listener of set) Queue.failCauseUnsafe(listener.queue, cause)
      map.clear()
    }
  }
}

/**
 * Client-side bookkeeping of one-shot watches, following the Java client's ZKWatchManager
 * (docs/protocol.md#watch-events): three tables keyed by *server* path (so SetWatches can replay them as is
 * and a notification is looked up without rewriting its path), each entry a set of local
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
import * as Deferred from "effect/Deferred"
import * as Exit from "effect/Exit"
import * as Queue from "effect/Queue"
import { type PersistentWatchEvent, type WatchEvent, WatchOverflow } from "../WatchEvent.ts"
import type { ZkError } from "../ZkError.ts"
import * as ZNodePath from "../ZNodePath.ts"

/** @internal */
export type WatchTable = "data" | "exist" | "child"

/**
 * A registered one-shot listener: completed once with the event (or `undefined` when the watch
 * was removed on purpose), or failed when the session ends.
 */
export type WatchListener = Deferred.Deferred<WatchEvent | undefined, ZkError>

/** @internal */
export type PersistentMode = "persistent" | "recursive"

/** A persistent watch's subscriber: the queue behind its stream. */
export interface PersistentListener {
  readonly clientPath: string
  readonly queue: Queue.Queue<PersistentWatchEvent, ZkError | WatchOverflow | Cause.Done>
  readonly capacity: number
}

/** @internal */
export class WatchRegistry {
  readonly data = new Map<string, Set<WatchListener>>()
  readonly exist = new Map<string, Set<WatchListener>>()
  readonly child = new Map<string, Set<WatchListener>>()
  private count = 0

  /** One-shot listeners registered and not yet fired (gozk's CountPendingWatches). */
  get size(): number {
    return this.count
  }

  add(table: WatchTable, serverPath: string): WatchListener {
    const listener = Deferred.makeUnsafe<WatchEvent | undefined, ZkError>()
    const map = this[table]
    const set = map.get(serverPath)
    if (set === undefined) map.set(serverPath, new Set([listener]))
    else set.add(listener)
    this.count++
    return listener
  }

  /** Forgets a listener whose stream was interrupted before it fired. */
  remove(table: WatchTable, serverPath: string, listener: WatchListener): void {
    const map = this[table]
    const set = map.get(serverPath)
    if (set === undefined || !set.delete(listener)) return
    this.count--
    if (set.size === 0) map.delete(serverPath)
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
    switch (event.type) {
      case "NodeCreated":
      case "NodeDataChanged":
        this.fire("data", serverPath, event)
        this.fire("exist", serverPath, event)
        break
      case "NodeChildrenChanged":
        this.fire("child", serverPath, event)
        break
      case "NodeDeleted":
        this.fire("data", serverPath, event)
        this.fire("exist", serverPath, event)
        this.fire("child", serverPath, event)
        break
    }
  }

  private fire(table: WatchTable, serverPath: string, event: WatchEvent): void {
    this.settle(table, serverPath, Exit.succeed(event))
  }

  /** Ends the one-shot listeners of `tables` at a path without an event (removeWatches). */
  clear(tables: ReadonlyArray<WatchTable>, serverPath: string): void {
    const exit = Exit.succeed(undefined)
    for (const table of tables) this.settle(table, serverPath, exit)
  }

  /** Unregisters the one-shot listeners of a table at a path and completes them with `exit`. */
  private settle(table: WatchTable, serverPath: string, exit: Exit.Exit<WatchEvent | undefined, ZkError>): void {
    const map = this[table]
    const set = map.get(serverPath)
    if (set === undefined) return
    map.delete(serverPath)
    this.count -= set.size
    for (const listener of set) Deferred.doneUnsafe(listener, exit)
  }

  /** Paths per table, for SetWatches after a reconnect. */
  paths(table: WatchTable | PersistentMode): Array<string> {
    return Array.from(this[table].keys())
  }

  // -- Persistent watches ---------------------------------------------------------------------

  readonly persistent = new Map<string, Set<PersistentListener>>()
  readonly recursive = new Map<string, Set<PersistentListener>>()

  /** Registers a subscriber; true when it is the first for (mode, path), i.e. addWatch must be sent. */
  addPersistent(mode: PersistentMode, serverPath: string, listener: PersistentListener): boolean {
    const map = this[mode]
    const set = map.get(serverPath)
    if (set === undefined) {
      map.set(serverPath, new Set([listener]))
      return true
    }
    set.add(listener)
    return false
  }

  /** Unregisters a subscriber; true when it was the last for (mode, path). */
  removePersistent(mode: PersistentMode, serverPath: string, listener: PersistentListener): boolean {
    const map = this[mode]
    const set = map.get(serverPath)
    if (set === undefined || !set.delete(listener)) return false
    if (set.size > 0) return false
    map.delete(serverPath)
    return true
  }

  /** The persistent modes with subscribers at exactly this path. */
  persistentModesAt(serverPath: string): Array<PersistentMode> {
    const modes: Array<PersistentMode> = []
    if (this.persistent.has(serverPath)) modes.push("persistent")
    if (this.recursive.has(serverPath)) modes.push("recursive")
    return modes
  }

  /** Ends the streams of every persistent subscriber at a path (their watch was removed). */
  endPersistentAt(serverPath: string): void {
    for (const map of [this.persistent, this.recursive]) {
      const set = map.get(serverPath)
      if (set === undefined) continue
      map.delete(serverPath)
      for (const listener of set) Queue.endUnsafe(listener.queue)
    }
  }

  get hasPersistent(): boolean {
    return this.persistent.size > 0 || this.recursive.size > 0
  }

  /**
   * For a reconnect: the subscribers whose watches it re-registers, and a function to tell them,
   * once the server has the watches back, that events may have been missed meanwhile (the
   * server re-arms persistent watches without replaying anything, docs/protocol.md#set-watches). Whoever
   * unsubscribed in between is skipped.
   */
  resyncWhenArmed(): () => void {
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

  /** Ends every listener with `error` (session expired or closed). */
  failAll(error: ZkError): void {
    const exit = Exit.fail(error)
    for (const table of ["data", "exist", "child"] as const) {
      for (const set of this[table].values()) for (const listener of set) Deferred.doneUnsafe(listener, exit)
      this[table].clear()
    }
    this.count = 0
    const cause = Cause.fail(error)
    for (const map of [this.persistent, this.recursive]) {
      for (const set of map.values()) for (const listener of set) Queue.failCauseUnsafe(listener.queue, cause)
      map.clear()
    }
  }
}

/**
 * Client-side bookkeeping of one-shot watches, following the Java client's ZKWatchManager
 * (protocol.md §6): three tables keyed by *server* path (so SetWatches can replay them as is
 * and a notification is looked up without rewriting its path), each entry a set of local
 * listeners that all fire on the one server event.
 *
 * - `exists` registers in `data` when the node exists and in `exist` when it does not;
 *   `get` registers in `data`, `children` in `child`, and only when the read succeeded.
 * - NodeCreated and NodeDataChanged fire `data` and `exist`; NodeChildrenChanged fires
 *   `child`; NodeDeleted fires all three.
 *
 * @internal
 */
import { Deferred, Exit } from "effect"
import type { WatchEvent } from "../WatchEvent.ts"
import type { ZkError } from "../ZkError.ts"

/** @internal */
export type WatchTable = "data" | "exist" | "child"

/** A registered one-shot listener: completed once with the event, or failed when the session ends. */
export type WatchListener = Deferred.Deferred<WatchEvent, ZkError>

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
    const listener = Deferred.makeUnsafe<WatchEvent, ZkError>()
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
    const map = this[table]
    const set = map.get(serverPath)
    if (set === undefined) return
    map.delete(serverPath)
    this.count -= set.size
    const exit = Exit.succeed(event)
    for (const listener of set) Deferred.doneUnsafe(listener, exit)
  }

  /** Paths per table, for SetWatches after a reconnect. */
  paths(table: WatchTable): Array<string> {
    return Array.from(this[table].keys())
  }

  /** Ends every listener with `error` (session expired or closed). */
  failAll(error: ZkError): void {
    const exit = Exit.fail(error)
    for (const table of ["data", "exist", "child"] as const) {
      for (const set of this[table].values()) for (const listener of set) Deferred.doneUnsafe(listener, exit)
      this[table].clear()
    }
    this.count = 0
  }
}

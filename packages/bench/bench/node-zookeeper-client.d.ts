/**
 * The part of node-zookeeper-client 1.1.3 the benchmark uses. The package ships no types, and
 * @types/node-zookeeper-client would pull in another @types/node; this is the API as its
 * index.js implements it.
 */
declare module "node-zookeeper-client" {
  import type { EventEmitter } from "node:events"

  export interface Stat {
    readonly version: number
    readonly cversion: number
    readonly aversion: number
    readonly dataLength: number
    readonly numChildren: number
  }

  /** A server error; `getCode()` is ZooKeeper's error code. */
  export class Exception extends Error {
    getCode(): number
    getName(): string
    getPath(): string | undefined
  }

  export class Event {
    static readonly NODE_CREATED: number
    static readonly NODE_DELETED: number
    static readonly NODE_DATA_CHANGED: number
    static readonly NODE_CHILDREN_CHANGED: number
    readonly type: number
    readonly name: string
    readonly path: string
    getType(): number
    getName(): string
    getPath(): string
  }

  export interface ClientOptions {
    readonly sessionTimeout?: number
    readonly spinDelay?: number
    readonly retries?: number
  }

  export type Watcher = (event: Event) => void

  export interface Client extends EventEmitter {
    connect(): void
    close(): void
    getSessionTimeout(): number
    getData(path: string, callback: (error: Exception | null, data: Buffer | undefined, stat: Stat) => void): void
    getData(
      path: string,
      watcher: Watcher,
      callback: (error: Exception | null, data: Buffer | undefined, stat: Stat) => void
    ): void
    create(path: string, data: Buffer, callback: (error: Exception | null, path: string) => void): void
    setData(path: string, data: Buffer, callback: (error: Exception | null, stat: Stat) => void): void
    remove(path: string, callback: (error: Exception | null) => void): void
    getChildren(path: string, callback: (error: Exception | null, children: Array<string>, stat: Stat) => void): void
  }

  export function createClient(connectionString: string, options?: ClientOptions): Client
}

/**
 * The floor client (floor.ts) on the bench's callback interface: the adapter only passes
 * callbacks through, so what is measured is the floor itself.
 */
import type { CallbackClient, Connect } from "./callback.ts"
import { type DataWatcher, FloorConnection } from "./floor.ts"

/** A data watch's event types: 3 is NodeDataChanged. */
const NODE_DATA_CHANGED = 3

const firstServer = (servers: string): { host: string; port: number } => {
  const first = servers.split(",")[0] ?? ""
  const colon = first.lastIndexOf(":")
  const port = Number(first.slice(colon + 1))
  if (colon < 0 || !Number.isInteger(port)) throw new Error(`floor: cannot parse server "${first}"`)
  return { host: first.slice(0, colon).replace(/^\[|\]$/g, ""), port }
}

export const connect: Connect = (servers) =>
  new Promise((resolve, reject) => {
    const { host, port } = firstServer(servers)
    FloorConnection.connect(host, port, 10_000, (error, conn) => {
      if (error !== null || conn === undefined) return reject(error ?? new Error("floor: no connection"))
      const adapted: CallbackClient = {
        get: (path, cb) => conn.getData(path, undefined, cb),
        getWatch: (path, onEvent, cb) => {
          const watcher: DataWatcher = (type, eventPath) => onEvent(eventPath, type === NODE_DATA_CHANGED)
          conn.getData(path, watcher, cb)
        },
        create: (path, data, cb) => conn.create(path, data, cb),
        set: (path, data, cb) => conn.setData(path, data, -1, cb),
        delete: (path, cb) => conn.delete(path, -1, cb),
        children: (path, cb) => conn.getChildren(path, cb),
        close: () => new Promise((done) => conn.close(done))
      }
      resolve(adapted)
    })
  })

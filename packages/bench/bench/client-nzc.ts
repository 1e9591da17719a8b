/**
 * node-zookeeper-client, the most used Node client: pure JavaScript, callbacks.
 */
import { createClient, Event } from "node-zookeeper-client"
import type { CallbackClient, Connect } from "./callback.ts"

const asBuffer = (data: Uint8Array): Buffer =>
  Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)

export const connect: Connect = (servers) =>
  new Promise((resolve, reject) => {
    const client = createClient(servers, { sessionTimeout: 10_000, retries: 0 })
    const timer = setTimeout(() => reject(new Error(`node-zookeeper-client: no session with ${servers} in 15 s`)), 15_000)
    client.once("connected", () => {
      clearTimeout(timer)
      const adapted: CallbackClient = {
        // The library's callbacks already have the interface's shape: passed straight through.
        get: (path, cb) => client.getData(path, cb),
        getWatch: (path, onEvent, cb) =>
          client.getData(path, (event) => onEvent(event.getPath(), event.getType() === Event.NODE_DATA_CHANGED), cb),
        create: (path, data, cb) => client.create(path, asBuffer(data), cb),
        set: (path, data, cb) => client.setData(path, asBuffer(data), cb),
        delete: (path, cb) => client.remove(path, cb),
        children: (path, cb) => client.getChildren(path, cb),
        close: () =>
          new Promise((done) => {
            const fallback = setTimeout(done, 2_000)
            client.once("disconnected", () => {
              clearTimeout(fallback)
              done()
            })
            client.close()
          })
      }
      resolve(adapted)
    })
    client.connect()
  })

/**
 * `zookeeper`, the native binding over ZooKeeper's C client (single-threaded library driven by
 * libuv), through its public callback API (`a_get`, `a_create`, ...). Its JavaScript wrapper
 * formats every call's arguments with `util.inspect` for its logger even when logging is off; that
 * is part of what its users pay, so it counts.
 *
 * Importing it loads the compiled addon: native-build.ts makes sure it exists first.
 */
import ZooKeeper from "zookeeper"
import type { CallbackClient, Connect } from "./callback.ts"

const { ZOK, ZOO_CHANGED_EVENT, ZOO_LOG_LEVEL_WARN, ZOO_PERSISTENT } = ZooKeeper.constants

const failure = (rc: number, message: unknown): Error | null =>
  rc === ZOK ? null : new Error(`zookeeper: rc ${rc} ${String(message)}`)

const asBuffer = (data: Uint8Array): Buffer =>
  Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)

const bytes = (data: string | Buffer | undefined): Uint8Array | undefined =>
  typeof data === "string" ? Buffer.from(data) : data

export const connect: Connect = (servers) =>
  new Promise((resolve, reject) => {
    const config = { connect: servers, timeout: 10_000, debug_level: ZOO_LOG_LEVEL_WARN, host_order_deterministic: false }
    const zk = new ZooKeeper(config)
    const timer = setTimeout(() => reject(new Error(`zookeeper: no session with ${servers} in 15 s`)), 15_000)
    zk.once("connect", () => {
      clearTimeout(timer)
      const adapted: CallbackClient = {
        get: (path, cb) => zk.a_get(path, false, (rc, error, _stat, data) => cb(failure(rc, error), bytes(data))),
        getWatch: (path, onEvent, cb) =>
          zk.aw_get(
            path,
            (type, _state, eventPath) => onEvent(eventPath, type === ZOO_CHANGED_EVENT),
            (rc, error, _stat, data) => cb(failure(rc, error), bytes(data))
          ),
        create: (path, data, cb) =>
          zk.a_create(path, asBuffer(data), ZOO_PERSISTENT, (rc, error, created) => cb(failure(rc, error), created)),
        set: (path, data, cb) => zk.a_set(path, asBuffer(data), -1, (rc, error, stat) => cb(failure(rc, error), stat)),
        delete: (path, cb) => zk.a_delete_(path, -1, (rc, error) => cb(failure(rc, error))),
        children: (path, cb) => zk.a_get_children2(path, false, (rc, error, children) => cb(failure(rc, error), children)),
        close: () =>
          new Promise((done) => {
            const fallback = setTimeout(done, 2_000)
            zk.once("close", () => {
              clearTimeout(fallback)
              done()
            })
            zk.close()
          })
      }
      resolve(adapted)
    })
    zk.init(config)
  })

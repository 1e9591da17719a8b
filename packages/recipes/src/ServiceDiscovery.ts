/**
 * Service discovery that shares a registry with Curator's x-discovery: the same layout
 * (`<basePath>/<name>/<id>`, one ephemeral node per instance) and the same JSON per instance,
 * so JVM services registered with Curator and Effect services registered here find each other.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { ServiceDiscovery } from "@effect-zk/recipes"
 *
 * const sd = ServiceDiscovery.make({ basePath: "/services", payload: Schema.Struct({ zone: Schema.String }) })
 * const program = Effect.gen(function*() {
 *   yield* sd.register({ name: "api", address: "10.0.0.1", port: 8080, payload: { zone: "eu" } })   // until the scope closes
 *   const api = yield* sd.provider("api", { strategy: "roundRobin" })
 *   const target = yield* api.instance                                   // Option<ServiceInstance<{ zone: string }>>
 * })
 * ```
 *
 * @since 0.1.0
 */
import { CreateMode, type WatchOverflow, type ZkError, ZNodePath, ZooKeeper, type ZooKeeperService } from "@effect-zk/core"
import { BadArguments } from "@effect-zk/core/ZkError"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import { ifExists, uuid, whileConnecting, withParents } from "./internal/protected.ts"
import * as Text from "./internal/text.ts"
import * as TreeCache from "./TreeCache.ts"

/**
 * Curator's ServiceType. Instances registered here are `DYNAMIC` (ephemeral) unless told
 * otherwise; the type is stored for the other side's benefit.
 *
 * @since 0.1.0
 * @category models
 */
export type ServiceType = "DYNAMIC" | "STATIC" | "PERMANENT" | "DYNAMIC_SEQUENTIAL"

/**
 * Curator's UriSpec: a template such as `{scheme}://{address}:{port}/api` as parts, each a
 * literal or a variable.
 *
 * @since 0.1.0
 * @category models
 */
export interface UriSpec {
  readonly parts: ReadonlyArray<{ readonly value: string; readonly variable: boolean }>
}

/**
 * One registered instance, with every field of Curator's ServiceInstance. `port`, `sslPort`,
 * `payload` and `uriSpec` are `null` when absent, as in Curator's JSON.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServiceInstance<P> {
  readonly name: string
  readonly id: string
  readonly address: string
  readonly port: number | null
  readonly sslPort: number | null
  readonly payload: P | null
  /** Epoch milliseconds of the registration. */
  readonly registrationTimeUTC: number
  readonly serviceType: ServiceType
  readonly uriSpec: UriSpec | null
  /** Curator's `enabled` flag (absent in its JSON means true); providers skip disabled instances. */
  readonly enabled: boolean
}

/**
 * What `register` needs; everything but name and address has Curator's default.
 *
 * @since 0.1.0
 * @category models
 */
export interface Registration<P> {
  readonly name: string
  readonly address: string
  readonly port?: number | undefined
  readonly sslPort?: number | undefined
  readonly payload?: P | undefined
  /** Default: a random UUID, as Curator. */
  readonly id?: string | undefined
  /** A template such as `{scheme}://{address}:{port}` (see {@link uri}). */
  readonly uriSpec?: string | undefined
  readonly enabled?: boolean | undefined
}

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface DiscoveryOptions<P> {
  /** Root of the registry, e.g. `/services`: instances live at `<basePath>/<name>/<id>`. */
  readonly basePath: string
  /** The payload's schema; its encoded form is the JSON `payload` field. Default: whatever JSON the node holds. */
  readonly payload?: Schema.Codec<P, unknown> | undefined
  /**
   * A Java class name written as the payload's `@class` property, for Curator peers that
   * deserialize payloads into a class of their own (Curator writes `@class` itself). Read
   * payloads have `@class` removed before decoding either way.
   */
  readonly payloadClass?: string | undefined
}

/**
 * How a provider picks among the live instances: `random`, `roundRobin`, or `sticky` (keeps
 * the instance it picked while it stays registered, then moves on round-robin).
 *
 * @since 0.1.0
 * @category models
 */
export type Strategy = "random" | "roundRobin" | "sticky"

/**
 * A load balancer over the live instances of one service (Curator's ServiceProvider).
 *
 * @since 0.1.0
 * @category models
 */
export interface Provider<P> {
  /** The next instance per the strategy; `None` while no enabled instance is registered. */
  readonly instance: Effect.Effect<Option.Option<ServiceInstance<P>>, ZkError | WatchOverflow>
  /** Every enabled instance now. */
  readonly all: Effect.Effect<ReadonlyArray<ServiceInstance<P>>, ZkError | WatchOverflow>
}

/**
 * The registry operations, bound to a base path and a payload schema.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServiceDiscovery<P> {
  readonly basePath: string
  /**
   * Registers an instance until the Scope closes (its node is then deleted). The node is
   * ephemeral: it lives as long as the session. If someone deletes it, it is registered again.
   * After the session expired, registering again on a new session (for example by re-running
   * the component that registers) publishes it anew.
   */
  readonly register: (registration: Registration<P>) => Effect.Effect<ServiceInstance<P>, ZkError, ZooKeeper | Scope.Scope>
  /** The registered instances of a service, by id; instances that cannot be decoded are skipped. */
  readonly instances: (name: string) => Effect.Effect<ReadonlyArray<ServiceInstance<P>>, ZkError, ZooKeeper>
  /**
   * One instance by service name and id (Curator's `queryForInstance`): `None` when no such
   * instance is registered, or when its node does not decode.
   */
  readonly instance: (name: string, id: string) => Effect.Effect<Option.Option<ServiceInstance<P>>, ZkError, ZooKeeper>
  /**
   * Rewrites the node of an instance this client registered (its scope still open) with the
   * instance's new fields, on the session that registered it (Curator's `updateService`); a
   * later re-registration after someone deleted the node publishes the new fields too. Name
   * and id pick the node; an instance not registered through this client fails with
   * `BadArguments`, as Curator refuses it.
   *
   * @example
   * ```ts
   * const me = yield* sd.register({ name: "api", address: "10.0.0.1", port: 8080 })
   * yield* sd.update({ ...me, enabled: false })   // drained: providers stop picking it
   * ```
   */
  readonly update: (instance: ServiceInstance<P>) => Effect.Effect<void, ZkError>
  /** The instance list now, then after every change (one recursive watch per stream). */
  readonly watch: (name: string) => Stream.Stream<ReadonlyArray<ServiceInstance<P>>, ZkError | WatchOverflow, ZooKeeper>
  /** The names of the registered services. */
  readonly names: Effect.Effect<ReadonlyArray<string>, ZkError, ZooKeeper>
  /** A live load balancer over a service's instances, for the current Scope. */
  readonly provider: (
    name: string,
    options?: { readonly strategy?: Strategy | undefined }
  ) => Effect.Effect<Provider<P>, ZkError | WatchOverflow, ZooKeeper | Scope.Scope>
}

const UriSpecJson = Schema.Struct({
  parts: Schema.Array(Schema.Struct({ value: Schema.String, variable: Schema.Boolean }))
})

const instanceJson = <P>(payload: Schema.Codec<P, unknown>) =>
  Schema.Struct({
    name: Schema.String,
    id: Schema.String,
    address: Schema.String,
    port: Schema.NullOr(Schema.Number),
    sslPort: Schema.NullOr(Schema.Number),
    payload: Schema.NullOr(payload),
    registrationTimeUTC: Schema.Number,
    serviceType: Schema.Literals(["DYNAMIC", "STATIC", "PERMANENT", "DYNAMIC_SEQUENTIAL"]),
    uriSpec: Schema.NullOr(UriSpecJson),
    enabled: Schema.optional(Schema.Boolean)
  })

/**
 * Parses a Curator UriSpec template: `{name}` is a variable, anything else literal.
 *
 * @since 0.1.0
 * @category constructors
 */
export const uriSpec = (template: string): UriSpec => {
  const parts: Array<{ value: string; variable: boolean }> = []
  const re = /\{([^}]*)\}|[^{]+/g
  for (const m of template.matchAll(re)) {
    parts.push(m[1] !== undefined ? { value: m[1], variable: true } : { value: m[0], variable: false })
  }
  return { parts }
}

/**
 * The instance's URI from its UriSpec, as Curator's `buildUriSpec` does: `scheme` is https
 * when the instance has an SSL port, `port`, `ssl-port`, `address`, `name`, `id`,
 * `registration-time-utc`, `service-type`, `[` and `]` are the known variables; `None` without
 * a UriSpec.
 *
 * @since 0.1.0
 * @category getters
 */
export const uri = (instance: ServiceInstance<unknown>): Option.Option<string> => {
  if (instance.uriSpec === null) return Option.none()
  const vars: Record<string, string> = {
    scheme: instance.sslPort !== null ? "https" : "http",
    name: instance.name,
    id: instance.id,
    address: instance.address,
    port: instance.port === null ? "" : String(instance.port),
    "ssl-port": instance.sslPort === null ? "" : String(instance.sslPort),
    "registration-time-utc": String(instance.registrationTimeUTC),
    "service-type": instance.serviceType.toLowerCase(),
    "[": "{",
    "]": "}"
  }
  return Option.some(instance.uriSpec.parts.map((p) => (p.variable ? vars[p.value] ?? "" : p.value)).join(""))
}

const badName = (op: string, what: string, value: string): BadArguments | undefined =>
  value.length === 0 || value.includes("/") || value === "." || value === ".."
    ? new BadArguments({ op, detail: `${what} must be a non-empty znode name without "/", got ${JSON.stringify(value)}` })
    : undefined

const byId = <P>(a: ServiceInstance<P>, b: ServiceInstance<P>) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** Compares lists by what identifies each entry's version: id and the JSON it came from. */
const sameList = (a: ReadonlyArray<{ readonly id: string; readonly raw: string }>, b: ReadonlyArray<{ readonly id: string; readonly raw: string }>) =>
  a.length === b.length && a.every((x, i) => x.id === b[i]!.id && x.raw === b[i]!.raw)

/**
 * A registry client for `basePath`. Nothing is sent until one of its effects runs.
 *
 * @since 0.1.0
 * @category constructors
 */
export function make(options: { readonly basePath: string; readonly payloadClass?: string | undefined }): ServiceDiscovery<unknown>
export function make<P>(options: DiscoveryOptions<P> & { readonly payload: Schema.Codec<P, unknown> }): ServiceDiscovery<P>
export function make<P>(options: DiscoveryOptions<P>): ServiceDiscovery<P> | ServiceDiscovery<unknown> {
  return options.payload === undefined
    ? makeWith(options.basePath, Schema.Unknown, options.payloadClass)
    : makeWith(options.basePath, options.payload, options.payloadClass)
}

const makeWith = <P>(basePath: string, payloadSchema: Schema.Codec<P, unknown>, payloadClass: string | undefined): ServiceDiscovery<P> => {
  const json = instanceJson(payloadSchema)
  const decodeJson = Schema.decodeUnknownEffect(json)
  const encodeJson = Schema.encodeUnknownEffect(json)
  const badBase = ZNodePath.validationError(basePath)
  const checkBase = (op: string) =>
    badBase === undefined ? Effect.void : Effect.fail(new BadArguments({ op, path: basePath, detail: badBase }))
  const dirOf = (name: string) => ZNodePath.join(basePath, name)

  /** Curator's JSON for an instance, fields in Curator's order. */
  const encode = (op: string, instance: ServiceInstance<P>): Effect.Effect<string, BadArguments> =>
    encodeJson(instance).pipe(
      Effect.map((e) => {
        const payload = payloadClass !== undefined && isRecord(e.payload)
          ? { "@class": payloadClass, ...e.payload }
          : e.payload
        const out: Record<string, unknown> = {
          name: e.name,
          id: e.id,
          address: e.address,
          port: e.port,
          sslPort: e.sslPort,
          payload,
          registrationTimeUTC: e.registrationTimeUTC,
          serviceType: e.serviceType,
          uriSpec: e.uriSpec
        }
        if (e.enabled === false) out["enabled"] = false
        return JSON.stringify(out)
      }),
      Effect.mapError((e) => new BadArguments({ op, detail: `the instance does not encode: ${e.message}` }))
    )

  /** An instance from a node's JSON, or None (logged) when it is not one. */
  const decode = (raw: string): Effect.Effect<Option.Option<ServiceInstance<P>>> =>
    Effect.try({ try: (): unknown => JSON.parse(raw), catch: (e) => e }).pipe(
      Effect.map((u) => (isRecord(u) && isRecord(u["payload"]) ? { ...u, payload: withoutClass(u["payload"]) } : u)),
      Effect.flatMap((u) => decodeJson(u)),
      Effect.map((d): ServiceInstance<P> => ({ ...d, enabled: d.enabled ?? true })),
      Effect.map(Option.some),
      Effect.catch((e) => Effect.as(Effect.logWarning(`service discovery: skipping an instance that does not decode: ${String(e)}`), Option.none()))
    )

  const decodeAll = (entries: ReadonlyArray<{ readonly id: string; readonly raw: string }>) =>
    Effect.map(Effect.forEach(entries, (e) => decode(e.raw)), (list) => list.flatMap(Option.toArray).sort(byId))

  const instances: ServiceDiscovery<P>["instances"] = (name) =>
    Effect.gen(function*() {
      yield* checkBase("instances")
      const bad = badName("instances", "name", name)
      if (bad !== undefined) return yield* bad
      const zk = yield* ZooKeeper
      const dir = dirOf(name)
      const ids = yield* zk.children(dir).pipe(
        Effect.map((r) => r.children),
        Effect.catchTag("NoNode", () => Effect.succeed<ReadonlyArray<string>>([]))
      )
      if (ids.length === 0) return []
      const results = yield* zk.multiRead(ids.map((id) => ({ _tag: "Get" as const, path: ZNodePath.join(dir, id) })))
      const entries = results.flatMap((r, i) => (r._tag === "Get" ? [{ id: ids[i]!, raw: Text.decode(r.data) }] : []))
      return yield* decodeAll(entries)
    })

  const instanceById: ServiceDiscovery<P>["instance"] = (name, id) =>
    Effect.gen(function*() {
      yield* checkBase("instance")
      const bad = badName("instance", "name", name) ?? badName("instance", "id", id)
      if (bad !== undefined) return yield* bad
      const zk = yield* ZooKeeper
      const node = yield* ifExists(zk.get(ZNodePath.join(dirOf(name), id)))
      return Option.isNone(node) ? Option.none() : yield* decode(Text.decode(node.value.data))
    })

  /** The registrations of this client whose scope is open, by node path: what `update` may rewrite. */
  const registered = new Map<string, Published>()

  /** The raw entries (id and JSON) under a service's node, from a cache's snapshot. */
  const entriesOf = (dir: string, snapshot: ReadonlyMap<string, { readonly data: Uint8Array }>) => {
    const out: Array<{ id: string; raw: string }> = []
    for (const [path, node] of snapshot) if (path !== dir) out.push({ id: ZNodePath.basename(path), raw: Text.decode(node.data) })
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  const watch: ServiceDiscovery<P>["watch"] = (name) =>
    Stream.unwrap(Effect.gen(function*() {
      yield* checkBase("watch")
      const bad = badName("watch", "name", name)
      if (bad !== undefined) return yield* bad
      const dir = dirOf(name)
      const tree = yield* TreeCache.make(dir, { maxDepth: 1 })
      // A dirty flag: however many events come before the next read, they cost one read.
      const dirty = yield* Queue.dropping<void, ZkError | WatchOverflow>(1)
      yield* Stream.runForEach(tree.events, () => Queue.offer(dirty, undefined)).pipe(
        Effect.catch((e) => Queue.fail(dirty, e)),
        Effect.forkScoped({ startImmediately: true })
      )
      yield* tree.initialized
      const read = Effect.map(tree.snapshot, (s) => entriesOf(dir, s))
      return Stream.concat(Stream.fromEffect(read), Stream.mapEffect(Stream.fromQueue(dirty), () => read)).pipe(
        Stream.changesWith(sameList),
        Stream.mapEffect(decodeAll)
      )
    }))

  const names: ServiceDiscovery<P>["names"] = Effect.gen(function*() {
    yield* checkBase("names")
    const zk = yield* ZooKeeper
    const r = yield* zk.children(basePath).pipe(
      Effect.map((r) => r.children),
      Effect.catchTag("NoNode", () => Effect.succeed<ReadonlyArray<string>>([]))
    )
    return [...r].sort()
  })

  const register: ServiceDiscovery<P>["register"] = (registration) =>
    Effect.gen(function*() {
      yield* checkBase("register")
      const id = registration.id ?? uuid()
      const bad = badName("register", "name", registration.name) ?? badName("register", "id", id)
      if (bad !== undefined) return yield* bad
      const instance: ServiceInstance<P> = {
        name: registration.name,
        id,
        address: registration.address,
        port: registration.port ?? null,
        sslPort: registration.sslPort ?? null,
        payload: registration.payload ?? null,
        registrationTimeUTC: yield* Clock.currentTimeMillis,
        serviceType: "DYNAMIC",
        uriSpec: registration.uriSpec === undefined ? null : uriSpec(registration.uriSpec),
        enabled: registration.enabled ?? true
      }
      const zk = yield* ZooKeeper
      const entry: Published = {
        zk,
        path: ZNodePath.join(dirOf(registration.name), id),
        data: Text.encode(yield* encode("register", instance)),
        lock: yield* Semaphore.make(1)
      }
      yield* publish(entry)
      registered.set(entry.path, entry)
      yield* Effect.addFinalizer(() =>
        Effect.suspend(() => {
          if (registered.get(entry.path) === entry) registered.delete(entry.path)
          return Effect.ignore(whileConnecting(zk.delete(entry.path)))
        })
      )
      yield* Effect.forkScoped(keepPublished(entry))
      return instance
    })

  const update: ServiceDiscovery<P>["update"] = (instance) =>
    Effect.gen(function*() {
      yield* checkBase("update")
      const bad = badName("update", "name", instance.name) ?? badName("update", "id", instance.id)
      if (bad !== undefined) return yield* bad
      const path = ZNodePath.join(dirOf(instance.name), instance.id)
      const entry = registered.get(path)
      if (entry === undefined) {
        return yield* new BadArguments({ op: "update", path, detail: "the instance is not registered by this ServiceDiscovery, or its scope is closed" })
      }
      const data = Text.encode(yield* encode("update", instance))
      // Under the registration's lock, so a re-creation running now cannot publish the old JSON
      // after this write. A node someone deleted is left to keepPublished, which re-creates it
      // from the new data.
      yield* entry.lock.withPermit(Effect.suspend(() => {
        entry.data = data
        return Effect.catchTag(whileConnecting(entry.zk.set(path, data)), "NoNode", () => Effect.void)
      }))
    })

  const provider: ServiceDiscovery<P>["provider"] = (name, providerOptions) =>
    Effect.gen(function*() {
      const strategy = providerOptions?.strategy ?? "roundRobin"
      const current = yield* Ref.make<ReadonlyArray<ServiceInstance<P>>>([])
      const failure = yield* Ref.make<Option.Option<ZkError | WatchOverflow>>(Option.none())
      const ready = yield* Deferred.make<void, ZkError | WatchOverflow>()
      yield* Stream.runForEach(watch(name), (list) => Effect.andThen(Ref.set(current, list), Deferred.succeed(ready, undefined))).pipe(
        Effect.catch((e) => Effect.andThen(Ref.set(failure, Option.some(e)), Deferred.fail(ready, e))),
        Effect.forkScoped
      )
      yield* Deferred.await(ready)
      const all = Effect.gen(function*() {
        const f = yield* Ref.get(failure)
        if (Option.isSome(f)) return yield* Effect.fail(f.value)
        return (yield* Ref.get(current)).filter((i) => i.enabled)
      })
      const counter = yield* Ref.make(0)
      const sticky = yield* Ref.make<string | undefined>(undefined)
      const roundRobin = (list: ReadonlyArray<ServiceInstance<P>>) =>
        Effect.map(Ref.getAndUpdate(counter, (n) => n + 1), (n) => list[n % list.length]!)
      const pick = (list: ReadonlyArray<ServiceInstance<P>>): Effect.Effect<ServiceInstance<P>> => {
        switch (strategy) {
          case "random":
            return Effect.map(Random.nextIntBetween(0, list.length, { halfOpen: true }), (i) => list[i]!)
          case "roundRobin":
            return roundRobin(list)
          case "sticky":
            return Effect.gen(function*() {
              const kept = yield* Ref.get(sticky)
              const same = list.find((i) => i.id === kept)
              if (same !== undefined) return same
              const next = yield* roundRobin(list)
              yield* Ref.set(sticky, next.id)
              return next
            })
        }
      }
      const instance = Effect.flatMap(all, (list) => (list.length === 0 ? Effect.succeedNone : Effect.map(pick(list), Option.some)))
      return { instance, all } satisfies Provider<P>
    })

  return { basePath, register, instances, instance: instanceById, update, watch, names, provider }
}

/**
 * A registration kept published: its node, the JSON it holds now (`update` replaces it), and
 * a lock that keeps a re-creation and an update from interleaving.
 */
interface Published {
  readonly zk: ZooKeeperService
  readonly path: string
  data: Uint8Array
  readonly lock: Semaphore.Semaphore
}

/** Creates the instance's ephemeral node (and the parents as containers, as Curator does). */
const publish = (entry: Published): Effect.Effect<void, ZkError> => entry.lock.withPermit(createNode(entry))

const createNode = (entry: Published): Effect.Effect<void, ZkError> => {
  const { path, zk } = entry
  // The data is read when the create is sent, so it is the latest `update`'s.
  const create = Effect.suspend(() => whileConnecting(zk.create(path, entry.data, { mode: CreateMode.Ephemeral })))
  return withParents(zk, ZNodePath.parent(path), create).pipe(
    Effect.asVoid,
    // A node left by an earlier registration of the same id (Curator deletes and re-creates too).
    Effect.catchTag("NodeExists", () =>
      Effect.andThen(
        Effect.catchTag(whileConnecting(zk.delete(path)), "NoNode", () => Effect.void),
        Effect.suspend(() => createNode(entry))
      ))
  )
}

/** Re-creates the node whenever it disappears while the session lives (deleted by someone else). */
const keepPublished = (entry: Published): Effect.Effect<void, ZkError> =>
  entry.zk.watchData(entry.path).pipe(
    Stream.filter(Option.isNone),
    Stream.runForEach(() => publish(entry).pipe(Effect.catchTag("NodeExists", () => Effect.void)))
  )

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const withoutClass = (payload: Record<string, unknown>): Record<string, unknown> => {
  const { ["@class"]: _ignored, ...rest } = payload
  return rest
}

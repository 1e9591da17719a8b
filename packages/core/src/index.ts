/**
 * effect-zk core: the ZooKeeper wire protocol, sessions and operations for Effect, in pure
 * TypeScript (no platform imports). Pair it with a transport, e.g. `@effect-zk/node`.
 *
 * @since 0.1.0
 */
import type * as Acls from "./Acl.ts"
import type * as Stats from "./Stat.ts"
import type * as ZkErrors from "./ZkError.ts"

/** @since 0.1.0 */
export { ZooKeeper } from "./ZooKeeper.ts"
/** @since 0.1.0 */
export type {
  ChildData,
  CreateOptions,
  Credential,
  Data,
  DeleteOptions,
  EnsurePathOptions,
  NodeData,
  RetryChangeOptions,
  VersionOptions,
  ZooKeeperConfig,
  ZooKeeperService
} from "./ZooKeeper.ts"

/**
 * ACL constructors (`Acl.world`, `Acl.digest`, ...) and presets; also the type `Acl`.
 *
 * @since 0.1.0
 */
export * as Acl from "./Acl.ts"
/** One access control entry. @since 0.1.0 */
export type Acl = Acls.Acl
/** @since 0.1.0 */
export { Perms } from "./Acl.ts"

/** @since 0.1.0 */
export { CreateMode } from "./CreateMode.ts"

/** Transaction ops (`Op.create`, `Op.delete`, `Op.set`, `Op.check`, `Op.get`, `Op.children`). @since 0.1.0 */
export * as Op from "./Op.ts"

/**
 * The error classes, `fromCode`, `ErrorCode` and guards; also the union type `ZkError`.
 *
 * @since 0.1.0
 */
export * as ZkError from "./ZkError.ts"
/** The union of every ZooKeeper error. @since 0.1.0 */
export type ZkError = ZkErrors.ZkError
/** @since 0.1.0 */
export { ErrorCode } from "./ZkError.ts"

/** @since 0.1.0 */
export { ClientId } from "./Session.ts"
/** @since 0.1.0 */
export type { SessionEvent, SessionState } from "./Session.ts"
/** A znode's metadata. @since 0.1.0 */
export type Stat = Stats.Stat
/** @since 0.1.0 */
export type { WatchEvent, WatchEventType } from "./WatchEvent.ts"

/** @since 0.1.0 */
export * as ConnectString from "./ConnectString.ts"
/** @since 0.1.0 */
export * as ZNodePath from "./ZNodePath.ts"
/** Node data as typed values (JSON text, a Schema) and its error, `JsonDataError`. @since 0.1.0 */
export * as JsonData from "./JsonData.ts"
/** `Stat.toJson` and `Stat.make`; also the type `Stat`. @since 0.1.0 */
export * as Stat from "./Stat.ts"
/** @since 0.1.0 */
export * as Protocol from "./Protocol.ts"
/** @since 0.1.0 */
export * as Transport from "./Transport.ts"
/** SASL DIGEST-MD5, as pure functions (the session runs it with the `sasl` option). @since 0.1.0 */
export * as Sasl from "./Sasl.ts"
/** @since 0.1.0 */
export type { PersistentWatchEvent, WatchResync } from "./WatchEvent.ts"
/** @since 0.1.0 */
export { WatchOverflow } from "./WatchEvent.ts"

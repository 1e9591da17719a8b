/**
 * effect-zk recipes: what people build on ZooKeeper (caches, service discovery, live
 * configuration, ...), as scoped Effect resources that need only the `ZooKeeper` service.
 *
 * @since 0.1.0
 */

/** A live mirror of a znode subtree on one recursive watch. @since 0.1.0 */
export * as TreeCache from "./TreeCache.ts"

/**
 * Real Apache ZooKeeper servers and ensembles as Effect resources, for tests, demos and benchmarks.
 *
 * @example
 * import { ZooKeeperServer, ZooKeeperEnsemble } from "@effect-zk/server"
 *
 * @since 0.1.0
 */

/** A single server in a run directory: create, attach, start, stop, scoped, layer. @since 0.1.0 */
export * as ZooKeeperServer from "./ZooKeeperServer.ts"

/** An N-member ensemble for failover tests. @since 0.1.0 */
export * as ZooKeeperEnsemble from "./ZooKeeperEnsemble.ts"

/** The zoo.cfg model and its rendering. @since 0.1.0 */
export * as ServerConfig from "./ServerConfig.ts"

/** Four-letter words (ruok, srvr, mntr, stat, cons, wchs, isro) with parsed answers. @since 0.1.0 */
export * as FourLetterWord from "./FourLetterWord.ts"

/** Locating ZooKeeper and Java. @since 0.1.0 */
export * as Installation from "./Installation.ts"

/** The tagged errors of this package. @since 0.1.0 */
export * as ServerError from "./ServerError.ts"

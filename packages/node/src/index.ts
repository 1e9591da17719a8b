/**
 * Node.js support for effect-zk: the TCP/TLS transport and the ready-made `ZooKeeper` layer.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as NodeTransport from "./NodeTransport.ts"

/** @since 0.1.0 */
export * as NodeZooKeeper from "./NodeZooKeeper.ts"

/** @since 0.1.0 */
export * as FaultProxy from "./FaultProxy.ts"

/** @since 0.1.0 */
export * as Testing from "./Testing.ts"

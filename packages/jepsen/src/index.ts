/**
 * Checked histories under faults for effect-zk: workloads record every operation, a nemesis
 * injects faults into a real ensemble, and checkers decide whether the history is one that
 * ZooKeeper's guarantees allow.
 *
 * @since 0.1.0
 */

/** Operations with invocation and completion, and the recorder. @since 0.1.0 */
export * as History from "./History.ts"
/** The Wing-Gong/Lowe linearizability search. @since 0.1.0 */
export * as Linearizability from "./Linearizability.ts"
/** The znode register model and its per-key check. @since 0.1.0 */
export * as Register from "./Register.ts"
/** Per-session monotonic reads, read-your-writes and session order. @since 0.1.0 */
export * as SessionOrder from "./SessionOrder.ts"
/** Watch events ordered with replies. @since 0.1.0 */
export * as WatchOrder from "./WatchOrder.ts"
/** Fencing tokens and exclusive holds. @since 0.1.0 */
export * as LockSafety from "./LockSafety.ts"
/** The total-queue check. @since 0.1.0 */
export * as QueueCheck from "./QueueCheck.ts"
/** Minimal failing sub-histories. @since 0.1.0 */
export * as Shrink from "./Shrink.ts"
/** The HTML timeline. @since 0.1.0 */
export * as Timeline from "./Timeline.ts"
/** Every checker of a workload, combined. @since 0.1.0 */
export * as Checker from "./Checker.ts"

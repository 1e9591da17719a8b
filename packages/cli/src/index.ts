/**
 * `zk`, the everyday ZooKeeper command line, as a library: run it with arguments, or reuse its
 * command tree.
 *
 * @since 0.1.0
 */

/** The command tree and `run(args)`. @since 0.1.0 */
export * as Main from "./Main.ts"

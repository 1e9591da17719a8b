#!/usr/bin/env node
/**
 * The `zk` executable. Node's compile cache keeps the parsed modules on disk, which takes
 * a good part of the start-up off every run after the first.
 *
 * @since 0.1.0
 */
import * as Module from "node:module"

Module.enableCompileCache?.()
const { run } = await import("./Main.ts")
process.exitCode = await run(process.argv.slice(2))

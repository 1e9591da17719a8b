/**
 * The tests run the `zk` a user gets: the bundled dist/zk.js, made here from the compiled
 * sources when it is older than them.
 */
import { bundle } from "../scripts/bundle.ts"

export default async function setup(): Promise<void> {
  await bundle()
}

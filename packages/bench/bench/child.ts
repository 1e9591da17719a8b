/**
 * One run: one client, one workload, one round, in a process of its own so that the CPU and the
 * peak RSS measured are the client's. The parent (main.ts) passes a `RunSpec` as JSON in argv and
 * reads one `BENCH-RESULT {...}` line from stdout; anything else goes to stderr, and a failed
 * check or error exits non-zero.
 *
 * Only the chosen client's modules are imported (dynamically): a peer's process never loads
 * `effect`.
 */
import { isClientName, isKnownClient, isWorkloadName, resultPrefix, type RunResult, type RunSpec, type Sizes } from "./spec.ts"

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

const parseSpec = (json: string | undefined): RunSpec => {
  const u: unknown = JSON.parse(json ?? "null")
  if (!isRecord(u) || !isRecord(u["sizes"])) throw new Error(`child: bad spec ${json}`)
  const { client, workload, round, servers } = u
  const s = u["sizes"]
  const num = (key: keyof Sizes): number => {
    const v = s[key]
    if (typeof v !== "number") throw new Error(`child: sizes.${key} is not a number`)
    return v
  }
  if (typeof client !== "string" || !isClientName(client)) throw new Error(`child: unknown client ${String(client)}`)
  if (typeof workload !== "string" || !isWorkloadName(workload)) throw new Error(`child: unknown workload ${String(workload)}`)
  if (typeof round !== "number" || typeof servers !== "string") throw new Error("child: bad round or servers")
  const sizes: Sizes = {
    count: num("count"),
    warmup: num("warmup"),
    warmupWindow: num("warmupWindow"),
    window: num("window"),
    sessions: num("sessions"),
    requestsPerCount: num("requestsPerCount"),
    children: num("children")
  }
  return { client, workload, round, servers, sizes }
}

const run = async (spec: RunSpec): Promise<RunResult> => {
  const client = spec.client
  // An older build (--baseline): the same effect-zk client code, resolved against that tree.
  if (!isKnownClient(client)) return (await import("./client-effect-zk.ts")).runEffectZk(spec, "forEach")
  switch (client) {
    case "effect-zk":
      return (await import("./client-effect-zk.ts")).runEffectZk(spec, "forEach")
    case "effect-zk-workers":
      return (await import("./client-effect-zk.ts")).runEffectZk(spec, "workers")
    case "node-zookeeper-client": {
      const [{ runCallbackWorkload }, { connect }] = await Promise.all([import("./callback.ts"), import("./client-nzc.ts")])
      return runCallbackWorkload(spec, connect)
    }
    case "floor": {
      const [{ runCallbackWorkload }, { connect }] = await Promise.all([import("./callback.ts"), import("./client-floor.ts")])
      return runCallbackWorkload(spec, connect)
    }
    case "zookeeper": {
      const [{ runCallbackWorkload }, { connect }] = await Promise.all([import("./callback.ts"), import("./client-native.ts")])
      return runCallbackWorkload(spec, connect)
    }
  }
}

try {
  const result = await run(parseSpec(process.argv[2]))
  process.stdout.write(`${resultPrefix}${JSON.stringify(result)}\n`)
  // Exit now: a client's leftover timers or handles must not keep the process (and the round) alive.
  process.exit(0)
} catch (error) {
  process.stderr.write(`bench child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
}

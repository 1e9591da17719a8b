/**
 * The write commands: `set`, `create`, `delete`, and `acl get` / `acl set`.
 *
 * @since 0.1.0
 */
import type { Acl } from "@effect-zk/core/Acl"
import { CreateMode } from "@effect-zk/core/CreateMode"
import type { CreateOptions } from "@effect-zk/core/ZooKeeper"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { Argument, Command, Flag } from "effect/cli"
import * as AclText from "../AclText.ts"
import * as Bytes from "../Bytes.ts"
import * as Connection from "../Connection.ts"
import { BadInput } from "../Failure.ts"
import { path as checkPath, toggle, withSession } from "../Handler.ts"
import * as Output from "../Output.ts"
import * as StatText from "../StatText.ts"

const pathArgument = Argument.String("path").pipe(Argument.withDescription("a znode path, absolute or relative to the shell's node"))
const valueDescription = "the data; - reads it from stdin, byte for byte"
const versionFlag = Flag.Int("version").pipe(Flag.withDescription("only if the node is at this version"), Flag.optional)
const aclFlag = Flag.String("acl").pipe(
  Flag.withMetavar("SCHEME:ID:PERMS"),
  Flag.withDescription("ACL entries such as world:anyone:r or digest:alice:HASH:cdrwa (repeatable, or comma-separated)"),
  Flag.atLeast(0)
)

/**
 * Parses ACL arguments before connecting; `BadInput` names the first bad entry.
 *
 * @since 0.1.0
 * @category decoding
 */
export const parseAcl = (command: string, texts: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<Acl>, BadInput> => {
  const parsed = AclText.parseList(texts)
  return typeof parsed === "string" ? Effect.fail(new BadInput({ command, detail: `bad ACL ${parsed}` })) : Effect.succeed(parsed)
}

/**
 * `zk set PATH VALUE|- [--version N]`.
 *
 * @since 0.1.0
 * @category commands
 */
export const set = Command.make("set", {
  path: pathArgument,
  value: Argument.String("value").pipe(Argument.withDescription(valueDescription)),
  version: versionFlag
}, ({ path: input, value, version }) =>
  Effect.gen(function*() {
    const path = yield* checkPath("set", input)
    const json = yield* Connection.Json
    const data = yield* Bytes.valueArgument(value)
    const stat = yield* withSession((zk) => zk.set(path, data, { version: Option.getOrUndefined(version) }))
    if (json) yield* Output.json({ path, ...StatText.view(stat) })
  })).pipe(Command.withDescription("Replace a node's data"))

/** The create mode the flags ask for, or why they contradict each other. */
const createMode = (
  flags: { readonly ephemeral: boolean; readonly sequential: boolean; readonly container: boolean; readonly ttl: boolean }
): CreateMode | { readonly problem: string } => {
  const { container, ephemeral, sequential, ttl } = flags
  if (container && (ephemeral || sequential || ttl)) return { problem: "--container cannot be combined with -e, -s or --ttl" }
  if (ttl && ephemeral) return { problem: "--ttl is for persistent nodes, not with -e" }
  if (container) return CreateMode.Container
  if (ttl) return sequential ? CreateMode.PersistentSequentialWithTtl : CreateMode.PersistentWithTtl
  if (ephemeral) return sequential ? CreateMode.EphemeralSequential : CreateMode.Ephemeral
  return sequential ? CreateMode.PersistentSequential : CreateMode.Persistent
}

/**
 * `zk create PATH [VALUE|-] [-e] [-s] [-p] [--container] [--ttl DURATION] [--acl ...]`; prints
 * the created path (with the sequence suffix for `-s`).
 *
 * @since 0.1.0
 * @category commands
 */
export const create = Command.make("create", {
  path: pathArgument,
  value: Argument.String("value").pipe(Argument.withDescription(valueDescription), Argument.optional),
  ephemeral: toggle("ephemeral", "an ephemeral node: gone when this session ends (useful in zk shell)", "e"),
  sequential: toggle("sequential", "append a 10-digit sequence number to the name", "s"),
  parents: toggle("parents", "create missing parents first", "p"),
  container: toggle("container", "a container: the server deletes it once its last child is gone"),
  ttl: Flag.String("ttl").pipe(Flag.withMetavar("DURATION"), Flag.withDescription("a TTL node, deleted when unchanged and childless this long (e.g. 10m)"), Flag.optional),
  acl: aclFlag
}, (input) =>
  Effect.gen(function*() {
    const path = yield* checkPath("create", input.path, { sequential: input.sequential })
    const mode = createMode({ ...input, ttl: Option.isSome(input.ttl) })
    if (typeof mode === "object") return yield* new BadInput({ command: "create", detail: mode.problem })
    let ttl: Duration.Duration | undefined
    if (Option.isSome(input.ttl)) {
      const d = Connection.parseDuration(input.ttl.value)
      if (Option.isNone(d)) return yield* new BadInput({ command: "create", subject: input.ttl.value, detail: "--ttl expects a duration such as 10m or 30s" })
      ttl = d.value
    }
    const acl = input.acl.length === 0 ? undefined : yield* parseAcl("create", input.acl)
    const json = yield* Connection.Json
    const data = yield* Bytes.valueArgument(Option.getOrUndefined(input.value))
    const options: CreateOptions = { mode, parents: input.parents, ...(acl === undefined ? {} : { acl }), ...(ttl === undefined ? {} : { ttl }) }
    const created = yield* withSession((zk) => zk.create(path, data, options))
    yield* json ? Output.json({ path: created }) : Output.line(created)
    if (input.ephemeral && (yield* Connection.ShellSession) === undefined) {
      yield* Output.warn("zk: note: the ephemeral node was deleted with this session as zk exited; create it in zk shell to keep it")
    }
  })).pipe(Command.withDescription("Create a node and print its path"))

/**
 * `zk delete PATH [-r] [--version N]`; `-r` deletes the subtree, children first, in batches.
 *
 * @since 0.1.0
 * @category commands
 */
export const del = Command.make("delete", {
  path: pathArgument,
  recursive: toggle("recursive", "delete the whole subtree", "r"),
  version: versionFlag
}, ({ path: input, recursive, version }) =>
  Effect.gen(function*() {
    const path = yield* checkPath("delete", input)
    if (recursive && Option.isSome(version)) return yield* new BadInput({ command: "delete", detail: "--version applies to one node, not with -r" })
    const json = yield* Connection.Json
    yield* withSession((zk) => zk.delete(path, { recursive, version: Option.getOrUndefined(version) }))
    if (json) yield* Output.json({ path, deleted: true })
  })).pipe(Command.withDescription("Delete a node (with -r, its subtree)"))

const aclGet = Command.make("get", { path: pathArgument }, ({ path: input }) =>
  Effect.gen(function*() {
    const path = yield* checkPath("acl get", input)
    const json = yield* Connection.Json
    const { acl, stat } = yield* withSession((zk) => zk.getAcl(path))
    if (json) {
      return yield* Output.json({
        path,
        aversion: stat.aversion,
        acl: acl.map((a) => ({ scheme: a.id.scheme, id: a.id.id, perms: AclText.formatPerms(a.perms) }))
      })
    }
    yield* Output.lines(acl.map(AclText.format))
  })).pipe(Command.withDescription("Print a node's ACL as scheme:id:perms lines"))

const aclSet = Command.make("set", {
  path: pathArgument,
  acl: Argument.String("acl").pipe(Argument.withDescription("entries scheme:id:perms, e.g. world:anyone:r digest:alice:HASH:cdrwa"), Argument.variadic({ min: 1 })),
  version: Flag.Int("version").pipe(Flag.withDescription("only if the ACL is at this version (aversion)"), Flag.optional)
}, ({ path: input, acl: texts, version }) =>
  Effect.gen(function*() {
    const path = yield* checkPath("acl set", input)
    const acl = yield* parseAcl("acl set", texts)
    const json = yield* Connection.Json
    const stat = yield* withSession((zk) => zk.setAcl(path, acl, { version: Option.getOrUndefined(version) }))
    if (json) yield* Output.json({ path, ...StatText.view(stat) })
  })).pipe(Command.withDescription("Replace a node's ACL"))

/**
 * `zk acl get PATH` and `zk acl set PATH ACL...`, in zkCli's `scheme:id:perms` notation.
 *
 * @since 0.1.0
 * @category commands
 */
export const acl = Command.make("acl").pipe(
  Command.withDescription("Read or replace a node's ACL"),
  Command.withSubcommands([aclGet, aclSet])
)

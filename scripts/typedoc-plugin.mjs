// @ts-check
/**
 * The typedoc plugin of `pnpm docs`. It does three things:
 *
 * 1. It keeps a class's page to the class's own API. Members inherited from dependencies are
 *    dropped: every `Schema.TaggedError` class would otherwise repeat about thirty members of
 *    effect's Schema API (`pipe`, `annotate`, `makeEffect`, ...), and the ZkError page alone was
 *    3.7 MB. So are members that a documented base class in this repository already shows (the
 *    fields of `ZkErrorBase` on each of its 34 subclasses).
 * 2. It lists exports without a doc comment. typedoc's own `notDocumented` check also flags every
 *    property of every anonymous object type (about 2,900 warnings here, mostly stat fields
 *    repeated in nested return types), so this check looks only at what a reader looks up:
 *    top-level exports, and the members of exported classes and interfaces. It skips `_tag`
 *    discriminants and overrides, which the base already explains.
 * 3. It shows each module's own doc comment on its namespace page. The entry points re-export
 *    modules as namespaces (`export * as NodeTransport from "./NodeTransport.ts"`), and typedoc
 *    documents such a namespace with the one-line comment on the export statement only. The
 *    comment at the top of the module file, with the design notes and examples, would be lost.
 */
import { Comment, CommentTag, Converter, DeclarationReflection, ReferenceType, ReflectionKind } from "typedoc"
import ts from "typescript"

const MEMBER = ReflectionKind.Property | ReflectionKind.Method | ReflectionKind.Accessor
const OWNER = ReflectionKind.Class | ReflectionKind.Interface
const CONTAINER = ReflectionKind.Project | ReflectionKind.Module | ReflectionKind.Namespace
const EXPORT =
  ReflectionKind.Class | ReflectionKind.Interface | ReflectionKind.TypeAlias | ReflectionKind.Function |
  ReflectionKind.Variable | ReflectionKind.Enum | ReflectionKind.Namespace

/** @param {import("typedoc").ProjectReflection} project @param {import("typedoc").Reflection} reflection */
const isOurs = (project, reflection) => {
  const packageName = project.getSymbolIdFromReflection(reflection)?.packageName
  return packageName === undefined || packageName.startsWith("@effect-zk/")
}

/** Classes of this project that `owner` extends, directly or through an intersection. */
/** @param {DeclarationReflection} owner */
const projectBases = (owner) => {
  /** @type {Array<DeclarationReflection>} */
  const out = []
  /** @param {import("typedoc").SomeType} type */
  const visit = (type) => {
    if (type instanceof ReferenceType && type.reflection instanceof DeclarationReflection) out.push(type.reflection)
    if (type.type === "intersection") type.types.forEach(visit)
  }
  ;(owner.extendedTypes ?? []).forEach(visit)
  return out
}

/** @param {DeclarationReflection} reflection */
const hasDoc = (reflection) =>
  reflection.hasComment() ||
  reflection.getAllSignatures().some((s) => s.hasComment()) ||
  (reflection.type?.type === "reflection" && reflection.type.declaration.getAllSignatures().some((s) => s.hasComment()))

/**
 * The leading `/** ... *\/` comment of a source file, split into its description and its
 * `@example` blocks. `{@link X}` becomes `X` in code font.
 * @param {ts.SourceFile} sourceFile
 */
const moduleComment = (sourceFile) => {
  const match = /^\s*\/\*\*([\s\S]*?)\*\//.exec(sourceFile.getFullText())
  if (match === null) return undefined
  const lines = (match[1] ?? "").split("\n").map((line) => line.replace(/^\s*\* ?/, "").replace(/\s+$/, ""))
  /** @type {Array<{ tag: string, lines: Array<string> }>} */
  const sections = [{ tag: "", lines: [] }]
  for (const line of lines) {
    const tag = /^@(\w+)\s*(.*)$/.exec(line)
    if (tag !== null) sections.push({ tag: tag[1] ?? "", lines: tag[2] ? [tag[2]] : [] })
    else sections[sections.length - 1]?.lines.push(line)
  }
  const text = (/** @type {Array<string>} */ ls) => ls.join("\n").trim().replace(/\{@link\s+([^}\s|]+)[^}]*\}/g, "`$1`")
  return {
    description: text(sections[0]?.lines ?? []),
    examples: sections.filter((s) => s.tag === "example").map((s) => text(s.lines))
  }
}

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Namespace)) return
    const symbol = context.getSymbolFromReflection(reflection)
    if (symbol === undefined) return
    const module = (symbol.flags & ts.SymbolFlags.Alias) === 0 ? symbol : context.checker.getAliasedSymbol(symbol)
    const target = module.declarations?.[0]
    if (target === undefined || !ts.isSourceFile(target)) return
    const found = moduleComment(target)
    if (found === undefined || found.description.length === 0) return
    const comment = reflection.comment ?? new Comment()
    const own = Comment.combineDisplayParts(comment.summary).trim()
    comment.summary = [{ kind: "text", text: own.length > 0 ? `${own}\n\n${found.description}` : found.description }]
    if (!comment.blockTags.some((t) => t.tag === "@example")) {
      for (const example of found.examples) {
        const code = example.startsWith("```") ? example : "```ts\n" + example + "\n```"
        comment.blockTags.push(new CommentTag("@example", [{ kind: "code", text: code }]))
      }
    }
    reflection.comment = comment
  })

  // After typedoc's own resolvers (priority 0), which fill in `inheritedFrom`.
  app.converter.on(
    Converter.EVENT_RESOLVE_END,
    (context) => {
      const project = context.project
      // The package page: the entry point's leading comment (it has no @packageDocumentation).
      const entry = app.options.getValue("entryPoints")[0]
      const entryFile = entry === undefined ? undefined : context.programs.map((p) => p.getSourceFile(entry)).find((f) => f !== undefined)
      const packageComment = entryFile === undefined ? undefined : moduleComment(entryFile)
      if (project.comment === undefined && packageComment !== undefined && packageComment.description.length > 0) {
        project.comment = new Comment([{ kind: "text", text: packageComment.description }])
      }
      const members = Object.values(project.reflections).filter(
        (r) => r instanceof DeclarationReflection && r.kindOf(MEMBER) && r.parent?.kindOf(OWNER) === true
      )
      const drop = members.filter((member) => {
        if (!isOurs(project, member)) return true
        if (member.inheritedFrom === undefined || !(member.parent instanceof DeclarationReflection)) return false
        return projectBases(member.parent).some((base) => base.getChildByName(member.name) !== undefined)
      })
      for (const reflection of drop) project.removeReflection(reflection)
      // What is left and "inherited" from an anonymous base (`Schema.TaggedError<X>()("X", {...})`)
      // is really this class's own API: drop the "Inherited from <that whole expression>" lines,
      // and the bogus default values (`= Schema.String`) read from the field definitions.
      for (const reflection of Object.values(project.reflections)) {
        if (!(reflection instanceof DeclarationReflection) || reflection.inheritedFrom === undefined) continue
        if (reflection.inheritedFrom.reflection !== undefined) continue
        reflection.inheritedFrom = undefined
        reflection.defaultValue = undefined
        for (const signature of reflection.getAllSignatures()) signature.inheritedFrom = undefined
      }

      const undocumented = Object.values(project.reflections).filter(
        (r) =>
          r instanceof DeclarationReflection &&
          isOurs(project, r) &&
          ((r.kindOf(EXPORT) && r.parent?.kindOf(CONTAINER) === true) ||
            (r.kindOf(MEMBER) && r.parent?.kindOf(OWNER) === true && r.name !== "_tag" && r.overwrites === undefined)) &&
          !hasDoc(r)
      )
      for (const r of undocumented) {
        app.logger.warn(`${r.getFriendlyFullName()} (${ReflectionKind.singularString(r.kind)}) has no doc comment`)
      }
    },
    -100
  )
}

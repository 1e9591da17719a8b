export const core = (): string => "core"

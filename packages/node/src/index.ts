import { core } from "@effect-zk/core"
export const n = (): string => core()

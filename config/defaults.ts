// Defaults are declared beside the field they default (sections/*.ts, `defaulted`). What differs between
// environments does so on purpose: dev is cheap, prod is highly available and gated.
import type { Environment } from "../core/project";
import type { Ctx } from "./context";

/** The environment's value; an unknown environment gets prod's, the strictest, so every other rule still runs. */
export function perEnvironment<T>(c: Ctx, values: Readonly<Record<Environment, T>>): T {
  return values[c.env ?? "prod"];
}

// Defaults are declared beside the field they default (sections/*.ts, `defaulted`). What differs between
// environments does so on purpose: dev is cheap, prod is highly available and gated.
import type { Environment } from "../core/project";
import type { Ctx } from "./context";
import { DEFAULTS_RELEASES, type DefaultsRelease } from "./releases";

/** The environment's value; an unknown environment gets prod's, the strictest, so every other rule still runs. */
export function perEnvironment<T>(c: Ctx, values: Readonly<Record<Environment, T>>): T {
  return values[c.env ?? "prod"];
}

/** The value of the stack's defaults release, or of the newest release before it that states one. */
export function byDefaults<T>(c: Ctx, values: Readonly<Partial<Record<DefaultsRelease, T>>>): T {
  for (let n = DEFAULTS_RELEASES.indexOf(c.defaults); n >= 0; n--) {
    const value = values[DEFAULTS_RELEASES[n]];
    if (value !== undefined) return value;
  }
  throw new Error(`byDefaults: no value for ${c.defaults} or an earlier release`);
}

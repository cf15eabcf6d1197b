// The one line a plan and `pulumi up` print for a stack file written against older defaults: what the newest
// defaults would change, and how to opt in. Computed, not listed, so a future defaults release reports itself.
import { PROJECT } from "../core/project";
import { ConfigError, isObject } from "./problems";
import { LATEST_DEFAULTS } from "./releases";
import { resolveStackConfig } from "./resolve";
import type { PlatformConfig } from "./schema";

const SHOWN = 6;
const PLAIN = /^[A-Za-z0-9.-]{1,24}$/;

/** Keys (two levels deep at most) whose resolved values differ, with `from → to` where both are short words. */
function changes(a: unknown, b: unknown, at: string, depth: number, out: string[]): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  if (depth < 2 && isObject(a) && isObject(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
      changes(a[k], b[k], at ? `${at}.${k}` : k, depth + 1, out);
    return;
  }
  const words = [a, b].every((v) => typeof v === "string" && PLAIN.test(v));
  out.push(words ? `${at} (${String(a)} → ${String(b)})` : at);
}

/** Undefined when the file states the newest defaults; otherwise what stating them would change. */
export function newerDefaultsNotice(all: Record<string, string>, cfg: PlatformConfig): string | undefined {
  if (cfg.defaults === LATEST_DEFAULTS) return undefined;
  const key = `${PROJECT}:defaults`;
  const head = `${key} is ${all[key] === undefined ? "unset" : `"${cfg.defaults}"`}: planned with the ${cfg.defaults} defaults.`;
  const optIn = `opt in with ${key}: "${LATEST_DEFAULTS}" (README, "Upgrading")`;
  let latest: PlatformConfig;
  try {
    latest = resolveStackConfig({ ...all, [key]: LATEST_DEFAULTS });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const more = err.problems.length > 1 ? ` (and ${err.problems.length - 1} more)` : "";
    return `${head} The ${LATEST_DEFAULTS} defaults would refuse this file as it stands: ${err.problems[0]}${more}. State the values it relies on, then ${optIn}.`;
  }
  const changed: string[] = [];
  changes({ ...cfg, defaults: undefined }, { ...latest, defaults: undefined }, "", 0, changed);
  if (changed.length === 0) return `${head} The ${LATEST_DEFAULTS} defaults change nothing here: ${optIn}.`;
  const more = changed.length > SHOWN ? ` and ${changed.length - SHOWN} more` : "";
  return `${head} The ${LATEST_DEFAULTS} defaults would change ${changed.slice(0, SHOWN).join(", ")}${more}: state the values to keep, or ${optIn}.`;
}

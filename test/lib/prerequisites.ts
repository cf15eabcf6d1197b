// What some tests need beyond the repository: the pinned upstream data (`npm run test-data`) and helm/kubectl.
// Without them those tests are pending, with the reason and the command to run, except under CI, where a test
// that cannot run is a failure rather than a silent pass.
import * as path from "node:path";
import type { Context } from "mocha";
import { CACHE_DIR, COMMAND, fillOffline, STAMP, type CacheState } from "../../scripts/test-data";
import { ensureTools, ToolsUnavailable } from "./kustomize";

/** The cache `npm run test-data` fills, with the layout of ../shared. */
export const UPSTREAM_DIR = CACHE_DIR;
/** Written last by a fill: its content identifies what the cache holds. */
export const STAMP_FILE = STAMP;

/** A pinned chart's data files: Chart.yaml, values.yaml, values.schema.json where it has one. */
export function chartDataDir(c: { chart: string; version: string }): string {
  return path.join(UPSTREAM_DIR, "charts", `${c.chart}-${c.version}`);
}

/** The directory, for one mocha run, in which test processes share the stack graphs and renders they compute. */
export { GRAPHS_ENV } from "./run-cache";

export function inCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && !["", "0", "false"].includes(ci.toLowerCase());
}

let upstream: { state?: CacheState; error?: unknown } | undefined;

/** The cache, filled from ../shared on first use when it is there (offline, fast once filled). */
export function upstreamData(): { state?: CacheState; error?: unknown } {
  if (!upstream) {
    try {
      upstream = { state: fillOffline() };
    } catch (error) {
      upstream = { error };
    }
  }
  return upstream;
}

export const UPSTREAM_MISSING = `the pinned upstream test data is not in ${path.relative(process.cwd(), UPSTREAM_DIR) || UPSTREAM_DIR} and there is no ../shared beside the repository to copy it from: run \`${COMMAND}\` (downloads it from GitHub at the pinned commits)`;

/** Why the tests that need upstream data or tools cannot run here, if they cannot. */
export function missingPrerequisites(): string[] {
  const out: string[] = [];
  const u = upstreamData();
  if (!u.error && !u.state?.ready) out.push(UPSTREAM_MISSING);
  try {
    ensureTools();
  } catch (err) {
    if (!(err instanceof ToolsUnavailable)) throw err;
    out.push(err.message);
  }
  return out;
}

function unavailable(ctx: Context, reason: string): never {
  if (inCI()) throw new Error(`${reason} (CI is set, so this is a failure, not a pending test)`);
  ctx.skip();
}

/** For a `before` hook (or a test): the pinned upstream data, else pending (failing under CI). */
export function needsUpstream(ctx: Context): void {
  const u = upstreamData();
  // A cache that does not match the lock, or ../shared with other bytes, is a failure everywhere.
  if (u.error) throw u.error;
  if (!u.state?.ready) unavailable(ctx, UPSTREAM_MISSING);
}

/** For a `before` hook (or a test): helm and kubectl, else pending with the reason (failing under CI). */
export function needsTools(ctx: Context): void {
  try {
    ensureTools();
  } catch (err) {
    if (err instanceof ToolsUnavailable) unavailable(ctx, err.message);
    throw err;
  }
}

// What some tests need beyond the repository: the pinned upstream data (`npm run test-data`) and helm/kubectl.
// Without them those tests are declared pending as they are registered, with the reason and the command to run,
// except under CI, where a test that cannot run is a failure rather than a silent pass.
import * as path from "node:path";
import type { AsyncFunc, Func, Suite, Test } from "mocha";
import { CACHE_DIR, COMMAND, fillOffline, STAMP, type CacheState } from "../../scripts/test-data";
import { ensureTools, ToolsUnavailable } from "../../scripts/lib/kustomize";

/** The cache `npm run test-data` fills, with the layout of ../shared. */
export const UPSTREAM_DIR = CACHE_DIR;
/** Written last by a fill: its content identifies what the cache holds. */
export const STAMP_FILE = STAMP;

/** A pinned chart's data files: Chart.yaml, values.yaml, values.schema.json where it has one. */
export function chartDataDir(c: { chart: string; version: string }): string {
  return path.join(UPSTREAM_DIR, "charts", `${c.chart}-${c.version}`);
}

/** The directory, for one mocha run, in which test processes share the stack graphs and renders they compute. */
export { GRAPHS_ENV } from "../../scripts/lib/run-cache";

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

export type Need = "upstream" | "tools";

/**
 * Why `needs` cannot be met in this process, if they cannot. A cache that does not match the lock, or ../shared
 * with other bytes, is not a missing prerequisite: it throws, everywhere.
 */
export function missingFor(needs: readonly Need[]): Array<{ need: Need; reason: string }> {
  const out: Array<{ need: Need; reason: string }> = [];
  if (needs.includes("upstream")) {
    const u = upstreamData();
    if (u.error) throw u.error;
    if (!u.state?.ready) out.push({ need: "upstream", reason: UPSTREAM_MISSING });
  }
  if (needs.includes("tools")) {
    try {
      ensureTools();
    } catch (err) {
      if (!(err instanceof ToolsUnavailable)) throw err;
      out.push({ need: "tools", reason: err.message });
    }
  }
  return out;
}

/** What a pending test's title says it needs; the whole reason is printed once per run (test/lib/setup.ts). */
const SHORT: Record<Need, string> = {
  upstream: `the pinned upstream data (${COMMAND})`,
  tools: "helm and kubectl on PATH",
};
const reasons = (missing: ReturnType<typeof missingFor>) => missing.map((m) => m.reason).join("; ");
const wants = (missing: ReturnType<typeof missingFor>) => missing.map((m) => SHORT[m.need]).join(" and ");

/** Why the tests that need upstream data or tools cannot run here, if they cannot. */
export function missingPrerequisites(): string[] {
  return missingFor(["upstream", "tools"]).map((m) => m.reason);
}

const CI_FAILURE = "(CI is set, so this is a failure, not a pending test)";

/**
 * A test that needs `needs`. Where they are missing it is declared pending when it is registered (mocha's test
 * without a body), its title naming what to run; under CI it is a test that fails with that reason instead.
 */
export function itNeeds(needs: readonly Need[], title: string, fn: Func | AsyncFunc): Test {
  const missing = missingFor(needs);
  if (missing.length === 0) return it(title, fn);
  if (inCI())
    return it(title, () => {
      throw new Error(`${reasons(missing)} ${CI_FAILURE}`);
    });
  return it(`${title} (needs ${wants(missing)})`);
}

/**
 * A suite whose tests all need `needs`. Where they are missing its body is not run: it holds one pending test
 * naming what to run, or under CI one failing test.
 */
export function describeNeeds(needs: readonly Need[], title: string, fn: (this: Suite) => void): Suite {
  const missing = missingFor(needs);
  if (missing.length === 0) return describe(title, fn);
  return describe(title, () => {
    if (inCI())
      it("has what its tests need", () => {
        throw new Error(`${reasons(missing)} ${CI_FAILURE}`);
      });
    else it(`its tests need ${wants(missing)}`);
  });
}

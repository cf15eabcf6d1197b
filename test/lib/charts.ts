// The pinned charts' data files (`../shared/charts/<chart>-<version>/values.yaml`): what a values key the program
// sets must exist in, since a misspelt key is silently ignored by Helm.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export const CHART_DIR = path.resolve(__dirname, "../../../shared/charts");

/** The pinned chart's default values. */
export function chartValues(chart: string, version: string): Record<string, unknown> {
  return parse(fs.readFileSync(path.join(CHART_DIR, `${chart}-${version}`, "values.yaml"), "utf8"));
}

/**
 * Keys of `ours` that the chart's values do not have, as dotted paths. Free-form maps (empty in the chart's
 * values, e.g. `notifiers: {}`) accept any key; below them nothing is checked.
 */
export function unknownValueKeys(ours: object, theirs: unknown, at = ""): string[] {
  const missing: string[] = [];
  const t = (theirs ?? {}) as Record<string, unknown>;
  for (const [k, value] of Object.entries(ours)) {
    if (!(k in t)) missing.push(`${at}${k}`);
    else if (
      value &&
      typeof value === "object" &&
      !Array.isArray(value) &&
      t[k] &&
      typeof t[k] === "object" &&
      Object.keys(t[k] as object).length > 0
    )
      missing.push(...unknownValueKeys(value, t[k], `${at}${k}.`));
  }
  return missing;
}

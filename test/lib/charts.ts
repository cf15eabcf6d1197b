// The pinned upstream charts' own data (`values.yaml`, `Chart.yaml`), read so that tests check the values the
// program passes against what the chart really declares and defaults to, never against our own model of it.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { CHARTS, type ChartName } from "../../core/pins";
import { acceptedValues, mergeValues } from "./chart-values";
import { chartDataDir } from "./prerequisites";

export { mergeValues };

type Values = Record<string, unknown>;
const isMap = (v: unknown): v is Values => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * A pinned chart's default values; for argo-cd with its redis-ha dependency's defaults under `redis-ha`, overlaid
 * by what argo-cd's own values.yaml sets there, as Helm computes them.
 */
export function chartDefaults(name: ChartName): Values {
  return acceptedValues(CHARTS[name]);
}

/** The application version a pin ships, from the chart's own Chart.yaml. */
export function chartAppVersion(name: ChartName): string {
  const pin = CHARTS[name];
  return String(
    (parse(fs.readFileSync(path.join(chartDataDir(pin), "Chart.yaml"), "utf8")) ?? {}).appVersion,
  );
}

/** The value at a dotted path (`redis-ha.haproxy.resources`); undefined when any step is missing. */
export function valueAt(values: unknown, dotted: string): unknown {
  return dotted.split(".").reduce<unknown>((v, k) => (isMap(v) ? v[k] : undefined), values);
}

/** Whether a dotted path is declared (present, even if empty) in a values tree. */
export function declares(values: unknown, dotted: string): boolean {
  const keys = dotted.split(".");
  const parent = valueAt(values, keys.slice(0, -1).join("."));
  return keys.length === 1 ? isMap(values) && keys[0] in values : isMap(parent) && keys.at(-1)! in parent;
}

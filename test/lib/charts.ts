// The pinned upstream charts' own data (`values.yaml`, `Chart.yaml`), read so that tests check the values the
// program passes against what the chart really declares and defaults to, never against our own model of it.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { CHARTS, type ChartName } from "../../pins";

/** `<repo>/../shared/charts/<chart>-<version>/`: each pinned chart's Chart.yaml and values.yaml. */
export const CHARTS_DIR = path.resolve(__dirname, "../../../shared/charts");
/** argo-cd's redis-ha dependency, whose values live under `redis-ha.` in argo-cd's values. */
export const REDIS_HA = { chart: "redis-ha", version: "4.38.0" } as const;

type Values = Record<string, unknown>;

function readYaml(dir: string, file: string): Values {
  return parse(fs.readFileSync(path.join(CHARTS_DIR, dir, file), "utf8")) ?? {};
}

const isMap = (v: unknown): v is Values => typeof v === "object" && v !== null && !Array.isArray(v);

/** Helm's merge of user values over chart defaults: maps merge key by key, anything else replaces. */
export function mergeValues(defaults: Values, ours: Values): Values {
  const out: Values = { ...defaults };
  for (const [k, v] of Object.entries(ours)) {
    out[k] = isMap(v) && isMap(defaults[k]) ? mergeValues(defaults[k] as Values, v) : v;
  }
  return out;
}

/**
 * A pinned chart's default values; for argo-cd with its redis-ha dependency's defaults under `redis-ha`, overlaid
 * by what argo-cd's own values.yaml sets there, as Helm computes them.
 */
export function chartDefaults(name: ChartName): Values {
  const pin = CHARTS[name];
  const values = readYaml(`${pin.chart}-${pin.version}`, "values.yaml");
  if (name !== "argoCd") return values;
  const redisHa = readYaml(`${REDIS_HA.chart}-${REDIS_HA.version}`, "values.yaml");
  return { ...values, "redis-ha": mergeValues(redisHa, (values["redis-ha"] as Values) ?? {}) };
}

/** The application version a pin ships, from the chart's own Chart.yaml. */
export function chartAppVersion(name: ChartName): string {
  const pin = CHARTS[name];
  return String(readYaml(`${pin.chart}-${pin.version}`, "Chart.yaml").appVersion);
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

// Checks Helm values against a pinned chart's own values.yaml: a chart's templates read only keys its values.yaml
// declares (the schemas, where charts have one, are open and let a misspelt key through).
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { ChartPin } from "../../core/pins";
import { chartDataDir } from "./prerequisites";

type Values = Record<string, unknown>;
const isMap = (v: unknown): v is Values => typeof v === "object" && v !== null && !Array.isArray(v);

/** Where a chart's values.yaml is not the whole truth, each with the evidence. */
export interface Allowances {
  /**
   * Maps whose defaults list examples or common entries, but whose templates pass every key through (ConfigMap
   * data, flags); an empty (`{}`) or null default is free-form already.
   */
  freeForm?: readonly string[];
  /** Keys the templates read although values.yaml does not declare them: key -> the template that reads it. */
  templateOnly?: Readonly<Record<string, string>>;
}

export const ALLOWANCES: Record<string, Allowances> = {
  // argocd-cm and argocd-rbac-cm data: the templates render every key but `create` and `annotations`.
  "argo-cd": { freeForm: ["configs.cm", "configs.rbac"] },
  // The pre-install `flux check --pre` Job: `{{- with .Values.cli.resources }}` (flux2 2.18.3).
  flux2: { templateOnly: { "cli.resources": "templates/pre-install-job.yaml" } },
};

// A chart's values.yaml (argo-cd's is 4,000 lines) is parsed once per text and process; each caller gets its own copy.
const parsed = new Map<string, { text: string; values: Values }>();

export function chartValues(c: { chart: string; version: string }): Values {
  const file = path.join(chartDataDir(c), "values.yaml");
  const text = fs.readFileSync(file, "utf8");
  let hit = parsed.get(file);
  if (hit?.text !== text) {
    hit = { text, values: (parse(text) ?? {}) as Values };
    parsed.set(file, hit);
  }
  return structuredClone(hit.values);
}

/** Helm's merge of values over defaults: maps merge key by key, anything else replaces. */
export function mergeValues(defaults: Values, over: Values): Values {
  const out: Values = { ...defaults };
  for (const [k, v] of Object.entries(over))
    out[k] = isMap(v) && isMap(out[k]) ? mergeValues(out[k] as Values, v) : v;
  return out;
}

/** The keys a chart accepts: its values.yaml, and each subchart's under the subchart's name. */
export function acceptedValues(pin: ChartPin): Values {
  const own = chartValues(pin);
  for (const dep of pin.dependencies ?? [])
    own[dep.chart] = mergeValues(chartValues(dep), isMap(own[dep.chart]) ? (own[dep.chart] as Values) : {});
  return own;
}

/**
 * Every key path in `ours` that the chart does not have. A key is a leaf (not descended into) where the chart's
 * default is not a non-empty map, or where the allowances say the map is free-form. A map set where the chart has
 * a scalar is reported too: the template would not read it as a map.
 */
export function unknownValueKeys(ours: Values, theirs: Values, allow: Allowances = {}): string[] {
  const out: string[] = [];
  const freeForm = allow.freeForm ?? [];
  const walk = (o: Values, t: Values, at: string) => {
    for (const [k, value] of Object.entries(o)) {
      const where = `${at}${k}`;
      if (allow.templateOnly?.[where]) continue;
      if (!(k in t)) {
        out.push(where);
        continue;
      }
      const chart = t[k];
      if (isMap(value) && chart !== null && chart !== undefined && !isMap(chart))
        out.push(`${where} (a map where the chart has ${JSON.stringify(chart)})`);
      else if (isMap(value) && isMap(chart) && Object.keys(chart).length > 0 && !freeForm.includes(where))
        walk(value, chart, `${where}.`);
    }
  };
  walk(ours, theirs, "");
  return out;
}

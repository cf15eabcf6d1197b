// Secret material never reaches a plan's files: what the plan replaces, by resource type.
import { isObject } from "./canonical";
import { K8S_SECRET, PROVIDER_PREFIX, REDACTED } from "./types";

/**
 * Secret material never leaves the plan: Kubernetes Secret data and the provider's kubeconfig are replaced.
 * (scripts/engine.ts unwraps Pulumi's secret envelopes, so inputs marked secret elsewhere cannot be told apart.)
 */
export function redactInputs(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const out = { ...inputs };
  if (type === K8S_SECRET) {
    for (const field of ["data", "stringData"]) {
      if (isObject(out[field])) out[field] = redactValues(out[field] as Record<string, unknown>);
    }
  }
  if (type.startsWith(PROVIDER_PREFIX) && out.kubeconfig !== undefined) out.kubeconfig = REDACTED;
  return out;
}

export function redactValues(map: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.keys(map).map((k) => [k, REDACTED]));
}

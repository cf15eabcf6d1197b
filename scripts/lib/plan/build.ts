// Turns one run of the program into a plan: sanitized, redacted resources and the Kubernetes objects.
import {
  AUTO_MODE_FIRST_NODE,
  CREATION_TIMES,
  type CreationTimeTable,
  LOCAL_CHART_RELEASE,
} from "../../creation-times";
import { type CapturedResource, type StackRun } from "../../engine";
import { PROJECT } from "../../../core/project";
import {
  type GraphResource,
  HELM_RELEASE,
  PROVIDER_PREFIX,
  type Plan,
  type PlanOptions,
  type PlanResource,
  REDACTED,
} from "./types";
import { creationSeconds, criticalPath, isLocalChart, physicalChain, withModelledSteps } from "./graph";
import { kubernetesManifests } from "./manifests";
import { cmp, sanitize, sortKeys } from "./canonical";
import { redactInputs } from "./redact";

/** Turns one run of the program into a plan: sanitized resources, Kubernetes objects, depth and estimate. */
export function buildPlan(run: StackRun, options: PlanOptions = {}): Plan {
  const table = options.table ?? CREATION_TIMES;
  const resources = [...run.resources].sort((a, b) => cmp(a.urn, b.urn)).map(sanitizeResource);
  const secretOutputs = [...run.secretOutputs].sort(cmp);
  const outputs: Record<string, unknown> = {};
  for (const key of Object.keys(run.outputs).sort(cmp)) {
    if (run.outputs[key] === undefined) continue;
    outputs[key] = secretOutputs.includes(key) ? REDACTED : sanitize(run.outputs[key]);
  }
  const { manifests, rendering } = kubernetesManifests(run.resources, options.render ?? "auto");
  const cp = criticalPath(run.resources, table);
  const physical = physicalChain(run.resources, table, cp.finish);
  const byType: Record<string, number> = {};
  for (const r of resources) byType[r.type] = (byType[r.type] ?? 0) + 1;
  const secondsPerType: Record<string, number> = {};
  for (const r of resources) if (r.custom) secondsPerType[timeKey(r, table)] = creationSeconds(r, table);
  for (const r of withModelledSteps(run.resources))
    if (r.type === AUTO_MODE_FIRST_NODE) secondsPerType[r.type] = creationSeconds(r, table);
  const engine = typeof run.outputs.gitopsEngine === "string" ? run.outputs.gitopsEngine : undefined;
  return {
    project: PROJECT,
    stack: run.stack,
    engine,
    resources,
    outputs,
    secretOutputs,
    manifests,
    summary: {
      resources: resources.length,
      customResources: resources.filter((r) => r.custom).length,
      components: resources.filter((r) => !r.custom).length,
      byType: sortKeys(byType),
      natGateways: byType["aws:ec2/natGateway:NatGateway"] ?? 0,
      depth: cp.depth,
      bootstrapRendering: rendering,
      estimate: {
        seconds: cp.seconds,
        minutes: Math.round(cp.seconds / 6) / 10,
        criticalPath: cp.path,
        physicalChain: physical,
        ratio: physical.seconds > 0 ? Math.round((cp.seconds / physical.seconds) * 1000) / 1000 : 0,
        secondsPerType: sortKeys(secondsPerType),
      },
    },
  };
}

function timeKey(r: GraphResource, table: CreationTimeTable): string {
  if (r.type === HELM_RELEASE && isLocalChart(r.inputs?.chart) && table[LOCAL_CHART_RELEASE] !== undefined) {
    return LOCAL_CHART_RELEASE;
  }
  return r.type in table || r.type.startsWith(PROVIDER_PREFIX) ? r.type : `${r.type} (default *)`;
}

function sanitizeResource(r: CapturedResource): PlanResource {
  let inputs = sanitize(r.inputs) as Record<string, unknown>;
  inputs = redactInputs(r.type, inputs);
  const out: PlanResource = {
    urn: r.urn,
    type: r.type,
    name: r.name,
    custom: r.custom,
    parent: r.parent,
    dependencies: [...r.dependencies].sort(cmp),
    protect: r.protect,
    retainOnDelete: r.retainOnDelete,
    deletedWith: r.deletedWith,
    inputs,
  };
  if (out.parent === undefined) delete out.parent;
  if (out.deletedWith === undefined) delete out.deletedWith;
  return out;
}

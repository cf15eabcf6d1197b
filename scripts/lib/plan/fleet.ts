// Offline plan of a fleet (`npm run plan -- --fleet`): every hub stack of this repository with the spoke stacks
// that name it, run as they deploy (the hub first, each spoke reading the hub's outputs through its
// StackReference), each planned as `--stack` would, plus what crosses stacks. See docs/offline-plan.md.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { APPLICATION_CLUSTER_LABEL, type FleetHubOutputs } from "../../../topology/fleet-hub";
import { generateApplications, type ClusterSecret } from "../appset";
import { kubectlKustomize } from "../kustomize";
import {
  buildFleet,
  hubStackOf,
  loadStackConfig,
  ROOT,
  type CapturedResource,
  type StackRun,
} from "../../engine";
import { PROJECT } from "../../../core/project";
import { buildPlan } from "./build";
import { cmp } from "./canonical";
import { planFiles } from "./files";
import { UsageError, type Plan } from "./types";

const SECRET = "kubernetes:core/v1:Secret";
const SECRET_PATCH = "kubernetes:core/v1:SecretPatch";

export interface FleetStacks {
  hub: string;
  spokes: string[];
}

export interface FleetPlan {
  hub: Plan;
  spokes: Plan[];
  /** The cross-stack edges and the hub's generated Applications, as printed. */
  text: string;
}

const stackName = (file: string) =>
  path
    .basename(file)
    .replace(/^Pulumi\./, "")
    .replace(/\.yaml$/, "");

/** The repository's hub stacks, each with the spoke stacks whose fleet.hubStack names it (by its last segment). */
export function discoverFleets(root = ROOT): FleetStacks[] {
  const files = fs
    .readdirSync(root)
    .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
    .sort(cmp)
    .map((f) => path.join(root, f));
  const role = (file: string) => {
    const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    return (doc.config?.[`${PROJECT}:fleet`] as { role?: string } | undefined)?.role;
  };
  const hubs = files.filter((f) => role(f) === "hub");
  const spokes = files.filter((f) => role(f) === "spoke");
  const orphans = spokes.filter(
    (f) => !hubs.some((h) => stackName(h) === hubStackOf(loadStackConfig(f).config)?.split("/").pop()),
  );
  if (orphans.length > 0) {
    throw new UsageError(
      `spoke stacks whose hub is not a stack of this repository: ${orphans.map(stackName).join(", ")}`,
    );
  }
  return hubs.map((hub) => ({
    hub,
    spokes: spokes.filter((f) => hubStackOf(loadStackConfig(f).config)?.split("/").pop() === stackName(hub)),
  }));
}

export async function planFleet(stacks: FleetStacks): Promise<FleetPlan> {
  const run = await buildFleet(stacks.hub, stacks.spokes);
  return {
    hub: buildPlan(run.hub),
    spokes: run.spokes.map((s) => buildPlan(s)),
    text: renderFleet(run.hub, run.spokes),
  };
}

interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const meta = (r: CapturedResource) => (r.inputs.metadata ?? {}) as Meta;

function renderFleet(hub: StackRun, spokes: StackRun[]): string {
  const h = hub.outputs.fleetHub as FleetHubOutputs;
  const lines = [`${PROJECT} fleet: hub ${hub.stack} and ${spokes.length} spoke(s)`, "", "Stacks"];
  for (const [role, s] of [["hub", hub] as const, ...spokes.map((s) => ["spoke", s] as const)]) {
    const account = String(s.outputs.kmsKeyArn).split(":")[4];
    lines.push(
      `  ${role.padEnd(6)}${s.stack.padEnd(14)}${String(s.outputs.environment).padEnd(9)}account ${account}  cluster ${String(s.outputs.clusterName)}  ${s.resources.length} resources`,
    );
  }
  lines.push("", "Cross-stack edges (spoke -> hub: the spoke's `pulumi up` reads or writes the hub)");
  for (const s of spokes) {
    const hubProvider = s.resources.find(
      (r) => r.type === "pulumi:providers:kubernetes" && String(r.inputs.kubeconfig).includes(h.endpoint),
    );
    const onHub = s.resources
      .filter((r) => hubProvider && r.provider?.startsWith(`${hubProvider.urn}::`))
      .sort((a, b) => cmp(a.urn, b.urn));
    for (const ref of s.references)
      lines.push(`  ${s.stack} -> ${hub.stack}: reads output fleetHub of ${ref}`);
    for (const r of onHub) {
      const m = meta(r);
      const labels = r.type === SECRET_PATCH ? ` labels ${JSON.stringify(m.labels)}` : "";
      lines.push(
        `  ${s.stack} -> ${hub.stack}: ${r.type.split(":").pop()} ${m.namespace}/${m.name}${labels}`,
      );
    }
    const drain = s.resources.find((r) => r.type === "command:local:Command");
    if (drain) {
      lines.push(
        `  ${s.stack} -> ${hub.stack}: on destroy, waits until no Application ${APPLICATION_CLUSTER_LABEL}=${String(s.outputs.clusterName)} is left`,
      );
    }
    const entry = s.resources.find(
      (r) =>
        r.type === "aws:eks/accessPolicyAssociation:AccessPolicyAssociation" &&
        r.inputs.principalArn === h.argocdRoleArn,
    );
    if (entry) {
      lines.push(
        `  ${hub.stack} -> ${s.stack}: Argo CD role ${h.argocdRoleArn} admitted by access entry (${String(entry.inputs.policyArn).split("/").pop()}, ${String((entry.inputs.accessScope as { type?: string }).type)} scope)`,
      );
    }
  }
  lines.push("", "Admission on the hub");
  for (const [name, spoke] of Object.entries(h.spokes).sort(([a], [b]) => cmp(a, b))) {
    lines.push(
      `  ${name} (${spoke.environment}): deployer ${spoke.deployerRoleArn} in group ${spoke.group}, may write Secret ${h.argocdNamespace}/${spoke.secretName}`,
    );
  }
  lines.push("", ...applicationLines(hub, spokes));
  return `${lines.join("\n")}\n`;
}

/** The hub's ApplicationSets rendered against the cluster Secrets the fleet registers, as Argo CD would. */
/** A registered cluster Secret as Argo CD reads it: the spoke's SecretPatch adds its selection labels. */
export const asServer = (secret: CapturedResource, patch?: CapturedResource): ClusterSecret => ({
  metadata: {
    name: meta(secret).name,
    labels: { ...meta(secret).labels, ...(patch ? meta(patch).labels : {}) },
    annotations: meta(secret).annotations,
  },
  stringData: secret.inputs.stringData as Record<string, string>,
});

function applicationLines(hub: StackRun, spokes: StackRun[]): string[] {
  const secrets = [
    ...hub.resources
      .filter((r) => r.type === SECRET && meta(r).name === "in-cluster")
      .map((r) => asServer(r)),
    ...spokes.map((s) =>
      asServer(
        s.resources.find((r) => r.type === SECRET && r.name.endsWith("-cluster")) as CapturedResource,
        s.resources.find((r) => r.type === SECRET_PATCH),
      ),
    ),
  ];
  const lines = [
    "Applications the hub generates (gitops/clusters/hub/argocd against the registered cluster Secrets)",
  ];
  let appsets: Parameters<typeof generateApplications>[0][];
  try {
    appsets = kubectlKustomize("gitops/clusters/hub/argocd") as unknown as typeof appsets;
  } catch (err) {
    return [...lines, `  not rendered: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`];
  }
  const apps = appsets
    .flatMap((a) => generateApplications(a, secrets))
    .map((a) => a as { metadata: { name: string }; spec: Record<string, never> })
    .sort((a, b) => cmp(a.metadata.name, b.metadata.name));
  for (const a of apps) {
    const dest = a.spec.destination as { name: string; namespace: string };
    const auto = (a.spec.syncPolicy as { automated?: unknown } | undefined)?.automated
      ? "automated"
      : "manual";
    lines.push(
      `  ${a.metadata.name}: project ${String(a.spec.project)} -> ${dest.name}/${dest.namespace}, ${auto}`,
    );
  }
  if (!apps.some((a) => JSON.stringify(a).includes(String(hub.outputs.clusterName)))) {
    lines.push(`  (none for the hub ${String(hub.outputs.clusterName)})`);
  }
  return lines;
}

/** Every file of a fleet plan: fleet.txt, and each stack's plan under <stack>/. */
export function fleetPlanFiles(plans: FleetPlan[]): Record<string, string> {
  const files: Record<string, string> = { "fleet.txt": plans.map((p) => p.text).join("\n") };
  for (const plan of plans.flatMap((p) => [p.hub, ...p.spokes])) {
    for (const [rel, content] of Object.entries(planFiles(plan))) files[`${plan.stack}/${rel}`] = content;
  }
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => cmp(a, b)));
}

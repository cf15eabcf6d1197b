// What an upgrade test needs to remember of a released program's graph, per resource: its URN (the identity
// Pulumi keeps state under), the physical name it holds in the cloud or the cluster, and a digest of each
// top-level input (to tell an update from a replace without storing values). Recorded by
// scripts/release-fixture.ts from the release's own code; compared by diff.ts with today's program.
import { createHash } from "node:crypto";
import type { AliasSpec, StackRun } from "../../engine";
import { canonical } from "../plan/canonical";

export interface ReleaseResource {
  urn: string;
  type: string;
  custom: boolean;
  parent?: string;
  /** What the cloud or the cluster knows it by; absent where the provider generates the name. */
  physicalName?: string;
  /** sha256 (16 hex) of each top-level input, canonical JSON. */
  inputs: Record<string, string>;
  deleteBeforeReplace?: boolean;
  aliases?: AliasSpec[];
}

export interface ReleaseStack {
  /** The stack file, relative to the release's fixture folder. */
  file: string;
  resources: ReleaseResource[];
}

const digest = (value: unknown) =>
  createHash("sha256")
    .update(JSON.stringify(canonical(value)))
    .digest("hex")
    .slice(0, 16);

/**
 * The inputs that name the physical thing, per type: two resources holding the same one cannot both exist
 * (IAM refuses a second role of a name, EKS a second association for a service account, Kubernetes a second
 * object of a kind, namespace and name). Types not listed are named by `name` when they set it.
 */
const NAMED_BY: Readonly<Record<string, readonly string[]>> = {
  "aws:eks/nodeGroup:NodeGroup": ["clusterName", "nodeGroupName"],
  "aws:eks/addon:Addon": ["clusterName", "addonName"],
  "aws:eks/capability:Capability": ["clusterName", "capabilityName"],
  "aws:eks/podIdentityAssociation:PodIdentityAssociation": ["clusterName", "namespace", "serviceAccount"],
  "aws:eks/accessEntry:AccessEntry": ["clusterName", "principalArn"],
  "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": ["clusterName", "principalArn", "policyArn"],
  "aws:iam/rolePolicy:RolePolicy": ["role", "name"],
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ["role", "policyArn"],
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": ["url"],
  "kubernetes:helm.sh/v3:Release": ["namespace", "name"],
};

export function physicalName(type: string, inputs: Record<string, unknown>): string | undefined {
  const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  if (type.startsWith("kubernetes:") && !(type in NAMED_BY)) {
    const meta = inputs.metadata as Record<string, unknown> | undefined;
    const name = text(meta?.name);
    const kind = type.split(":")[2];
    return name && `${kind}/${text(meta?.namespace) ?? ""}/${name}`;
  }
  const fields = NAMED_BY[type] ?? ["name"];
  const parts = fields.map((f) => text(inputs[f]));
  return parts.every((p) => p !== undefined) ? `${type.split(":")[1]}:${parts.join("/")}` : undefined;
}

export function recordGraph(run: Pick<StackRun, "resources">): ReleaseResource[] {
  return run.resources.map((r) => ({
    urn: r.urn,
    type: r.type,
    custom: r.custom,
    ...(r.parent && { parent: r.parent }),
    ...(r.custom && { physicalName: physicalName(r.type, r.inputs) }),
    inputs: Object.fromEntries(
      Object.entries(r.inputs)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, digest(v)]),
    ),
    ...(r.deleteBeforeReplace && { deleteBeforeReplace: true }),
    ...(r.aliases && { aliases: r.aliases }),
  }));
}

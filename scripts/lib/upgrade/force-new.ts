// Which changed inputs make Pulumi replace a resource instead of updating it, from the providers' own knowledge:
// - AWS: @pulumi/aws bridges the Terraform AWS provider, whose resource schemas mark these arguments ForceNew
//   (SDKv2) or RequiresReplace (plugin framework). force-new.aws.json records them per type, with the file and
//   commit of hashicorp/terraform-provider-aws they were read from, and names the types not read yet (`unread`).
//   test/upgrade.test.ts holds it to @pulumi/aws's own docs (every argument they say "forces a new resource"
//   must be listed) and to the graph (every AWS type the program builds is recorded or named unread).
// - Kubernetes: a changed name or namespace is a new object (the physical name, compared in diff.ts); the
//   fields the API server refuses to change are listed below (Kubernetes API reference: "immutable").
// - command:local:Command: any change of input runs `create` again when the resource has no `update`.
import data from "./force-new.aws.json";

interface ForceNewData {
  source: string;
  types: Record<string, { file: string; commit: string; forceNew: string[]; nested: string[] }>;
  unread: string[];
}
export const AWS_FORCE_NEW: ForceNewData = data;

export const FORCE_NEW: Readonly<Record<string, readonly string[]>> = {
  ...Object.fromEntries(Object.entries(AWS_FORCE_NEW.types).map(([type, t]) => [type, t.forceNew])),
  "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": ["roleRef"],
  "kubernetes:core/v1:Secret": ["type"],
};

/** The changed inputs that force a replacement of a resource of `type` with these inputs. */
export function forcingInputs(type: string, inputs: Record<string, unknown>, changed: string[]): string[] {
  if (type === "command:local:Command" && !("update" in inputs)) return changed;
  const forcing = FORCE_NEW[type] ?? [];
  return changed.filter((k) => forcing.includes(k));
}

/**
 * What an upgrade must never delete or replace: it holds data, state or other resources' identity (a node group
 * holds the pods; a namespace everything in it; a Helm release of a chart that owns CRDs, the custom resources).
 */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set([
  "aws:eks/cluster:Cluster",
  "aws:eks/nodeGroup:NodeGroup",
  "aws:kms/key:Key",
  "aws:kms/replicaKey:ReplicaKey",
  "aws:ec2/vpc:Vpc",
  "aws:ec2/subnet:Subnet",
  "aws:ec2/natGateway:NatGateway",
  "aws:ec2/eip:Eip",
  "aws:secretsmanager/secret:Secret",
  "aws:cloudwatch/logGroup:LogGroup",
  "kubernetes:core/v1:Namespace",
  "kubernetes:helm.sh/v3:Release",
]);

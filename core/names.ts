// Physical names and tags: deterministic, so that the KMS key policy can name a role or a log group before it
// exists (KMS rejects principals that do not exist yet, and the workload roles can only exist after the cluster
// that needs the key).
import { PROJECT, type Environment } from "./project";

/** Tags every AWS resource carries. `Environment` is what the policy pack reads to tell prod from non-prod. */
export function baseTags(environment: Environment, extra: Record<string, string>): Record<string, string> {
  return { ...extra, Environment: environment, ManagedBy: "pulumi", Project: PROJECT };
}

export function roleName(platform: string, purpose: string): string {
  const name = `${platform}-${purpose}`;
  if (name.length > 64)
    throw new Error(`IAM role name ${name} exceeds 64 characters; shorten gitops-platform:name`);
  return name;
}

/** The purpose part of every role an environment creates: `<name>-<purpose>`. */
export const ROLES = {
  cluster: "cluster",
  node: "node",
  vpcCni: "vpc-cni",
  externalSecrets: "external-secrets",
  fluxSops: "flux-sops",
  argocdCapability: "argocd-capability",
  loadBalancerController: "aws-lb-controller",
} as const;

/** The log groups an environment encrypts with the key; named here so the key policy can name them first. */
export function platformLogGroups(name: string) {
  return { controlPlane: `/aws/eks/${name}/cluster`, flowLogs: `/aws/vpc/${name}/flow-logs` };
}

/** Labels on every Kubernetes object the program creates; the policy pack reads the environment from them. */
export function k8sLabels(
  environment: Environment,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/part-of": PROJECT,
    "gitops-platform/environment": environment,
    ...extra,
  };
}

// The identity axis: how a workload's pods get an AWS role. One contract, one file per choice (irsa.ts,
// podIdentity.ts), chosen once from `identity` (identity/index.ts) for the cluster; components ask for a role and
// never see the mode.
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { IdentityMode } from "../config";
import type { PolicyDocument } from "../core/iam";

/** A role for exactly one service account of one namespace of this cluster. */
export interface WorkloadRoleRequest {
  /** Physical role name (deterministic: the KMS key policy names it before it exists). */
  roleName: string;
  namespace: string;
  /** Several when one identity spans pods that act together (Argo CD's application controller and server). */
  serviceAccount: string | string[];
  /**
   * The pods reach AWS by exchanging a service account token (web identity), whatever the stack's mode: the VPC
   * CNI (aws-node starts before the Pod Identity agent can answer) and Flux's SOPS decryption (kustomize-controller
   * exchanges another service account's token).
   */
  webIdentity?: boolean;
  /** Inline permissions; omit for a role that only carries managed policies. */
  policy?: pulumi.Input<PolicyDocument>;
  managedPolicyArns?: pulumi.Input<string>[];
  tags: Record<string, string>;
}

/** The role, and how the pod comes by it. */
export interface WorkloadRole {
  readonly role: aws.iam.Role;
  readonly arn: pulumi.Output<string>;
  /** What the service account must carry (IRSA's role annotation; nothing with Pod Identity). */
  readonly serviceAccountAnnotations: pulumi.Output<Record<string, string>>;
  /**
   * The annotation key a service account made elsewhere (by the GitOps repository) carries the role under:
   * the one IRSA reads, or an informational one with Pod Identity, which IRSA's webhook ignores.
   */
  readonly roleAnnotation: string;
  /**
   * True when AWS is reached by exchanging the service account's own token (web identity): a controller that
   * mints that token itself (External Secrets' JWT auth) then needs the right to create it.
   */
  readonly webIdentity: boolean;
  /** What pods must wait for so their first AWS call succeeds: role, policies and any association. */
  readonly ready: pulumi.Resource[];
}

export interface WorkloadIdentity {
  role(name: string, request: WorkloadRoleRequest, opts: { parent: pulumi.Resource }): WorkloadRole;
}

const K8S_NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Trust is for one exact service account: a wildcard would hand the role to every pod that matches. */
export function assertWorkloadNames(name: string, request: WorkloadRoleRequest): void {
  for (const [what, value] of [
    ["namespace", request.namespace],
    ...[request.serviceAccount].flat().map((sa) => ["serviceAccount", sa]),
  ]) {
    if (!K8S_NAME_RE.test(value)) {
      throw new Error(`${name}: ${what} ${JSON.stringify(value)} must be a Kubernetes name, no wildcard`);
    }
  }
}

/**
 * The component type of each identity's role. A stack that switches identity keeps its roles: each type aliases
 * the others, so the role (same physical name, new trust) and its policies are updated in place rather than
 * created beside the old ones, which IAM refuses (EntityAlreadyExists) before Pulumi deletes anything.
 */
export const WORKLOAD_ROLE_TYPES: Readonly<Record<IdentityMode, string>> = {
  irsa: "gitops-platform:index:IrsaRole",
  podIdentity: "gitops-platform:index:PodIdentityRole",
};

/** `opts` with the aliases that let a role of type `type` take over the same role of any other identity. */
export function asWorkloadRole(
  type: string,
  opts: pulumi.ComponentResourceOptions = {},
): pulumi.ComponentResourceOptions {
  const others = Object.values(WORKLOAD_ROLE_TYPES)
    .filter((t) => t !== type)
    .map((t) => ({ type: t }));
  return { ...opts, aliases: [...(opts.aliases ?? []), ...others] };
}

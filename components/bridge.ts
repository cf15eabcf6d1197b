import * as pulumi from "@pulumi/pulumi";
import type { Environment } from "../config";

/**
 * The metadata contract between this program and the GitOps repository (gitops-bridge's convention):
 * snake_case keys, `<addon>_iam_role_arn`, `<addon>_namespace`, `<addon>_service_account` per add-on whose AWS
 * identity Pulumi creates, and `gitops_repo_*` for where the repository is. ArgoCD reads them as annotations
 * (and a few as labels) of the in-cluster cluster Secret; Flux as the data of the platform-bridge ConfigMap.
 */
export const BRIDGE_CONFIG_MAP = "platform-bridge";
/** Keys that also become labels of the ArgoCD cluster Secret, so ApplicationSet selectors can match on them. */
export const BRIDGE_LABEL_KEYS = ["environment", "cluster_name"] as const;

export interface AddonIdentity {
  roleArn: pulumi.Input<string>;
  namespace: string;
  serviceAccount: string;
}

export interface BridgeFacts {
  clusterName: string;
  environment: Environment;
  region: string;
  accountId: pulumi.Input<string>;
  vpcId: pulumi.Input<string>;
  repoUrl: string;
  revision: string;
  path: string;
  secretsPrefix: string;
  /** Keyed by add-on name in snake_case, e.g. aws_load_balancer_controller. */
  addons: Record<string, AddonIdentity>;
}

export function bridgeMetadata(f: BridgeFacts): pulumi.Output<Record<string, string>> {
  const addonKeys = Object.entries(f.addons).map(([addon, id]) =>
    pulumi.output(id.roleArn).apply((arn) => ({
      [`${addon}_iam_role_arn`]: arn,
      [`${addon}_namespace`]: id.namespace,
      [`${addon}_service_account`]: id.serviceAccount,
    })),
  );
  return pulumi
    .all([f.accountId, f.vpcId, pulumi.all(addonKeys)])
    .apply(([accountId, vpcId, addons]): Record<string, string> =>
      Object.assign(
        {
          cluster_name: f.clusterName,
          environment: f.environment,
          aws_region: f.region,
          aws_account_id: accountId,
          aws_vpc_id: vpcId,
          gitops_repo_url: f.repoUrl,
          gitops_repo_revision: f.revision,
          gitops_repo_path: f.path,
          secrets_prefix: f.secretsPrefix,
        },
        ...addons,
      ),
    );
}

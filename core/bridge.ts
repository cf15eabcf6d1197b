import * as pulumi from "@pulumi/pulumi";
import type { Environment } from "./project";

/**
 * The metadata contract between this program and the GitOps repository (gitops-bridge's convention):
 * snake_case keys, `<addon>_iam_role_arn`, `<addon>_namespace`, `<addon>_service_account` per add-on whose AWS
 * identity Pulumi creates, and `gitops_repo_*` for where the repository is. ArgoCD reads them as annotations
 * (and a few as labels) of the in-cluster cluster Secret; Flux as the data of the platform-bridge ConfigMap.
 */
export const BRIDGE_CONFIG_MAP = "platform-bridge";
/** Keys that also become labels of the ArgoCD cluster Secret, so ApplicationSet selectors can match on them. */
export const BRIDGE_LABEL_KEYS = [
  "environment",
  "cluster_name",
  "enable_aws_load_balancer_controller",
] as const;

export interface AddonIdentity {
  roleArn: pulumi.Input<string>;
  /** The service-account annotation key the role goes under (identity/contract.ts roleAnnotation). */
  roleAnnotation: string;
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
  /**
   * Add-ons the GitOps repository installs only where the cluster needs them, as `enable_<addon>`: "true" or
   * "false" (Auto Mode balances load itself, so the self-managed controller is off there).
   */
  enable: Record<string, boolean>;
}

export function bridgeMetadata(f: BridgeFacts): pulumi.Output<Record<string, string>> {
  const addonKeys = Object.entries(f.addons).map(([addon, id]) =>
    pulumi.output(id.roleArn).apply((arn) => ({
      [`${addon}_iam_role_arn`]: arn,
      [`${addon}_role_annotation`]: id.roleAnnotation,
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
        ...Object.entries(f.enable).map(([addon, on]) => ({ [`enable_${addon}`]: String(on) })),
        ...addons,
      ),
    );
}

/** What the root objects of a GitOps engine may wait for from External Secrets. */
export interface EngineSecrets {
  /** The operator: it must outlive every ExternalSecret the repository creates (it removes their finalizer). */
  controller: pulumi.Resource;
  /** The ClusterSecretStores the root's own ExternalSecrets (repository credentials, SSO) read through. */
  stores: pulumi.Resource;
}

/**
 * The root waits for the operator always (on destroy the root goes first, while the operator can still clear the
 * finalizers of the repository's ExternalSecrets) but for the stores only when its own objects read from them:
 * the operator and the engine install side by side, and the stores add to the first `pulumi up` only where the
 * root cannot sync without them.
 */
export function rootSecretDependencies(
  secrets: EngineSecrets | undefined,
  rootReads: unknown[],
): pulumi.Resource[] {
  if (!secrets) return [];
  return rootReads.length > 0 ? [secrets.controller, secrets.stores] : [secrets.controller];
}

// The EKS Argo CD capability itself: its role (trust and permissions) and its configuration.
import type { EksArgoCdConfig } from "../../config";
import { ENGINE_FACTS } from "../../core/engines";
import { policyDocument, type PolicyDocument } from "../../core/iam";
import { GITOPS_SECRETS } from "../../core/secrets";

export const EKS_ARGOCD_NAMESPACE = ENGINE_FACTS["eks-argocd"].namespace;
export const CAPABILITY_SERVICE = "capabilities.eks.amazonaws.com";
export const CAPABILITY_NAME = "argocd";
/** The one value the API accepts: deleting the capability leaves what it deployed in place. */
export const DELETE_PROPAGATION_POLICY = "RETAIN";
/**
 * EKS creates the capability role's access entry with AmazonEKSArgoCDClusterPolicy and AmazonEKSArgoCDPolicy,
 * which cover Argo CD's own objects only. The platform's add-ons bring CRDs and cluster-scoped objects (the
 * AppProject admits every kind), so the root app needs what the self-managed Argo CD's ClusterRole gives it.
 */
export const LOCAL_CLUSTER_ACCESS_POLICY = "AmazonEKSClusterAdminPolicy";
export const REPOSITORY_SECRET = "gitops-repository";

export interface CapabilityRoleFacts {
  partition: string;
  region: string;
  accountId: string;
  clusterName: string;
}

/**
 * Only the EKS capabilities service may assume the role, with session tags (EKS tags its sessions), and, where
 * the service names the resource it acts for, only for this account and this cluster's Argo CD capability. The keys
 * are IfExists because AWS does not document whether the service sets them; a service call that carries them
 * for another account or cluster is refused either way.
 */
export function capabilityTrustPolicy(f: CapabilityRoleFacts): PolicyDocument {
  return policyDocument([
    {
      Sid: "EksCapabilitiesForThisCluster",
      Effect: "Allow",
      Principal: { Service: CAPABILITY_SERVICE },
      Action: ["sts:AssumeRole", "sts:TagSession"],
      Condition: {
        StringEqualsIfExists: { "aws:SourceAccount": f.accountId },
        ArnLikeIfExists: {
          "aws:SourceArn": `arn:${f.partition}:eks:${f.region}:${f.accountId}:capability/${f.clusterName}/ARGOCD/${CAPABILITY_NAME}/*`,
        },
      },
    },
  ]);
}

/**
 * What the capability reads in AWS: the GitOps repository's credentials and nothing else under the prefix, and
 * the platform key only to decrypt them through Secrets Manager.
 */
export function capabilityPolicy(
  p: CapabilityRoleFacts & { prefix: string; kmsKeyArn: string },
): PolicyDocument {
  return policyDocument([
    {
      Sid: "ReadTheGitOpsRepositoryCredentials",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
      // Secrets Manager appends six random characters to every secret's ARN.
      Resource: `arn:${p.partition}:secretsmanager:${p.region}:${p.accountId}:secret:${p.prefix}/${GITOPS_SECRETS.repository}-??????`,
    },
    {
      Sid: "DecryptOnlyThroughSecretsManager",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: p.kmsKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${p.region}.amazonaws.com` } },
    },
  ]);
}

/** The capability's `configuration.argoCd`: Identity Center sign-in and the role mappings from config. */
export function capabilityConfiguration(c: EksArgoCdConfig) {
  return {
    argoCd: {
      awsIdc: { idcInstanceArn: c.identityCenter.instanceArn, idcRegion: c.identityCenter.region },
      namespace: EKS_ARGOCD_NAMESPACE,
      rbacRoleMappings: c.rbac.map((m) => ({
        role: m.role,
        identities: [
          ...m.groups.map((id) => ({ id, type: "SSO_GROUP" })),
          ...m.users.map((id) => ({ id, type: "SSO_USER" })),
        ],
      })),
    },
  };
}

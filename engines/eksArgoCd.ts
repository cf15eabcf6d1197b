// The EKS Argo CD capability: AWS runs Argo CD outside the cluster; this program gives it a role, the access it
// needs to the local cluster, and the same root objects as the self-managed engine (AppProject, root
// Application, cluster Secret with the bridge metadata, repository credentials by Secrets Manager ARN).
import * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  ENGINE_NAMESPACE,
  GITOPS_SECRETS,
  type EksArgoCdConfig,
  type Environment,
  type GitOpsConfig,
} from "../config";
import {
  APP_PROJECT,
  appProject,
  clusterSecretLabels,
  IN_CLUSTER_NAME,
  rootApplication,
  ROOT_APP,
  type ArgoCdCluster,
} from "../components/argocd";
import {
  k8sLabels,
  policyDocument,
  policyJson,
  roleArn,
  roleName,
  ROLES,
  type PolicyDocument,
} from "../components/common";
import {
  notificationsConfigMap,
  notificationsSecret,
  projectSubscriptions,
  type NotificationsInput,
} from "../components/alerts/argocd";
import { gated } from "../components/argocd";
import { BRIDGE_LABEL_KEYS, rootSecretDependencies } from "../components/bridge";
import { bootstrapRelease, type K8sObject } from "../components/helm";
import type { EngineArgs, EngineDefinition, GitOpsEngine, HubArgs } from "./types";

export const EKS_ARGOCD_NAMESPACE = ENGINE_NAMESPACE["eks-argocd"];
export const CAPABILITY_SERVICE = "capabilities.eks.amazonaws.com";
const CAPABILITY_NAME = "argocd";
/** The one value the API accepts: deleting the capability leaves what it deployed in place. */
export const DELETE_PROPAGATION_POLICY = "RETAIN";
/**
 * EKS creates the capability role's access entry with AmazonEKSArgoCDClusterPolicy and AmazonEKSArgoCDPolicy,
 * which cover Argo CD's own objects only. The platform's add-ons bring CRDs and cluster-scoped objects (the
 * AppProject admits every kind), so the root app needs what the self-managed Argo CD's ClusterRole gives it.
 */
export const LOCAL_CLUSTER_ACCESS_POLICY = "AmazonEKSClusterAdminPolicy";
const REPOSITORY_SECRET = "gitops-repository";

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

/** The local cluster for the managed Argo CD: known by ARN, Applications read from its one namespace. */
export function managedCluster(clusterArn: string): ArgoCdCluster {
  return { server: clusterArn, sourceNamespaces: [EKS_ARGOCD_NAMESPACE] };
}

/**
 * The local cluster's Secret for the managed Argo CD, `in-cluster` in `platform`, with the bridge metadata as
 * labels (on a hub only those no workload ApplicationSet selects) and annotations.
 */
export function managedClusterSecret(
  clusterArn: string,
  bridge: Record<string, string>,
  labels: Record<string, string>,
  labelKeys: readonly string[] = BRIDGE_LABEL_KEYS,
): K8sObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: IN_CLUSTER_NAME,
      namespace: EKS_ARGOCD_NAMESPACE,
      labels: clusterSecretLabels(bridge, labels, labelKeys),
      annotations: bridge,
    },
    type: "Opaque",
    stringData: managedClusterData({ name: IN_CLUSTER_NAME, arn: clusterArn, project: APP_PROJECT }),
  };
}

/**
 * How the managed Argo CD knows a cluster, local or a fleet's spoke: by its ARN, with no credential (it reaches
 * a cluster through the access entry its role has there), in the one project it lets a cluster belong to.
 */
export function managedClusterData(c: {
  name: string;
  arn: string;
  project: string;
}): Record<string, string> {
  return { name: c.name, server: c.arn, project: c.project };
}

/** The repository's credentials by reference: the capability reads the Secrets Manager entry with its role. */
export function repositorySecret(
  c: GitOpsConfig,
  secretArn: string,
  labels: Record<string, string>,
): K8sObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: REPOSITORY_SECRET,
      namespace: EKS_ARGOCD_NAMESPACE,
      labels: { ...labels, "argocd.argoproj.io/secret-type": "repository" },
    },
    type: "Opaque",
    stringData: { type: "git", url: c.repoUrl, secretArn, project: APP_PROJECT },
  };
}

/** The root objects the managed engine applies once the capability is ACTIVE. */
export function managedRootObjects(p: {
  config: GitOpsConfig;
  environment: Environment;
  clusterArn: string;
  bridge: Record<string, string>;
  repositorySecretArn?: string;
  /** The platform project's alert subscriptions (components/alerts/argocd.ts). */
  subscriptions?: Record<string, string>;
  /** Notifications' ConfigMap and credentials, with a destination. */
  notifications?: K8sObject[];
  hub?: Omit<HubArgs, "identity" | "roleName">;
}): K8sObject[] {
  const labels = k8sLabels(p.environment);
  const cluster = managedCluster(p.clusterArn);
  return [
    managedClusterSecret(p.clusterArn, p.bridge, labels, p.hub?.inClusterLabelKeys),
    ...(p.repositorySecretArn ? [repositorySecret(p.config, p.repositorySecretArn, labels)] : []),
    ...(p.notifications ?? []),
    appProject(p.config, labels, p.hub?.localScope, p.subscriptions, cluster),
    ...(p.hub?.objects ?? []),
    rootApplication(p.config, labels, cluster),
  ];
}

/**
 * The alerts for the managed notifications controller, which reads argocd-notifications-cm only with the opt-in
 * label the stack gives (gitops.eksArgocd.notificationsLabel): the same services, triggers and templates as the
 * self-managed engine's, linking to the capability's URL, credentials from Secrets Manager.
 */
export function managedNotifications(
  n: NotificationsInput,
  optInLabel: string,
  secretsPrefix: string,
  labels: Record<string, string>,
): K8sObject[] {
  if (n.destinations.length === 0) return [];
  const [key, value] = optInLabel.split(/=(.*)/s);
  return [
    notificationsSecret(n.destinations, EKS_ARGOCD_NAMESPACE, secretsPrefix, labels),
    notificationsConfigMap(n, EKS_ARGOCD_NAMESPACE, { ...labels, [key]: value }),
  ];
}

/** The EKS Argo CD capability on this cluster, its role and access, and the platform's root objects. */
export class EksArgoCd extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly capability: aws.eks.Capability;
  readonly localAccess: aws.eks.AccessPolicyAssociation;
  readonly root: k8s.helm.v3.Release;
  readonly serverUrl: pulumi.Output<string | undefined>;

  constructor(name: string, args: EngineArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gitops-platform:index:EksArgoCd", name, {}, opts);
    const { config: c, ctx } = args;
    const eks = c.eksArgocd;
    if (!eks) throw new Error("gitops.eksArgocd is required with gitops.engine eks-argocd (config.ts)");
    const facts = pulumi.all([ctx.partition, ctx.accountId]).apply(([partition, accountId]) => ({
      partition,
      accountId,
      region: ctx.region,
      clusterName: args.clusterName,
    }));

    this.role = new aws.iam.Role(
      `${name}-capability`,
      {
        name: roleName(args.clusterName, ROLES.argocdCapability),
        description: `EKS Argo CD capability of ${args.clusterName}`,
        assumeRolePolicy: policyJson(facts.apply(capabilityTrustPolicy)),
        maxSessionDuration: 3600,
        tags: args.tags,
      },
      { parent: this },
    );
    // A public repository needs no AWS permission at all: the role then only carries its trust.
    const permissions = c.private
      ? [
          new aws.iam.RolePolicy(
            `${name}-capability`,
            {
              role: this.role.id,
              policy: policyJson(
                pulumi
                  .all([facts, args.kmsKeyArn])
                  .apply(([f, kmsKeyArn]) =>
                    capabilityPolicy({ ...f, prefix: args.secretsPrefix, kmsKeyArn }),
                  ),
              ),
            },
            { parent: this },
          ),
        ]
      : [];

    this.capability = new aws.eks.Capability(
      name,
      {
        clusterName: args.cluster.name,
        capabilityName: CAPABILITY_NAME,
        type: "ARGOCD",
        roleArn: this.role.arn,
        deletePropagationPolicy: DELETE_PROPAGATION_POLICY,
        configuration: capabilityConfiguration(eks),
        tags: args.tags,
      },
      // With its permissions, so the first sync of a private repository finds its credentials readable.
      { parent: this, dependsOn: permissions },
    );

    // EKS creates the role's access entry with the capability; a second AccessEntry for it would be refused.
    this.localAccess = new aws.eks.AccessPolicyAssociation(
      `${name}-local-cluster`,
      {
        clusterName: args.cluster.name,
        principalArn: this.role.arn,
        policyArn: pulumi.interpolate`arn:${ctx.partition}:eks::aws:cluster-access-policy/${LOCAL_CLUSTER_ACCESS_POLICY}`,
        accessScope: { type: "cluster" },
      },
      { parent: this, dependsOn: [this.capability] },
    );

    const repositorySecretArn = c.private
      ? (args.seedSecretArns[GITOPS_SECRETS.repository] ??
        aws.secretsmanager.getSecretOutput(
          { name: `${args.secretsPrefix}/${GITOPS_SECRETS.repository}` },
          { parent: this },
        ).arn)
      : undefined;

    this.serverUrl = this.capability.configuration.apply((conf) => conf?.argoCd?.serverUrl);
    const destinations = args.alerts.destinations;
    const labels = k8sLabels(args.environment);
    const notifications = this.serverUrl.apply((argocdUrl) =>
      managedNotifications(
        {
          environment: args.environment,
          clusterName: args.clusterName,
          destinations,
          argocdUrl,
        },
        // Required with a destination (config/resolve.ts); unread without one.
        eks.notificationsLabel ?? "",
        args.secretsPrefix,
        labels,
      ),
    );
    const { hub } = args;

    this.root = bootstrapRelease(`${name}-root`, {
      namespace: EKS_ARGOCD_NAMESPACE,
      // The capability may have created its namespace already; Helm then leaves it alone.
      createNamespace: true,
      objects: pulumi
        .all([args.cluster.arn, args.bridge, repositorySecretArn, notifications])
        .apply(([clusterArn, bridge, secretArn, alerting]) =>
          managedRootObjects({
            config: c,
            environment: args.environment,
            clusterArn,
            bridge,
            repositorySecretArn: secretArn,
            subscriptions: projectSubscriptions(destinations, gated(c, args.environment)),
            notifications: alerting,
            hub: hub && {
              inClusterLabelKeys: hub.inClusterLabelKeys,
              localScope: hub.localScope,
              objects: hub.objects,
            },
          }),
        ),
      provider: args.provider,
      // The capability's CRDs and its access, the nodes the apps run on, the operator that clears the finalizers
      // of the repository's ExternalSecrets: on destroy the root goes first, while all of them still work.
      dependsOn: [
        this.capability,
        this.localAccess,
        ...args.clusterReady,
        // The repository Secret is read by the capability itself, not through the stores; the notifications'
        // credentials come through them.
        ...rootSecretDependencies(args.externalSecrets, destinations),
      ],
      parent: this,
    });
    this.registerOutputs({
      namespace: EKS_ARGOCD_NAMESPACE,
      rootApp: ROOT_APP,
      capabilityRoleArn: this.role.arn,
      serverUrl: this.serverUrl,
    });
  }
}

export const eksArgoCd: EngineDefinition = {
  keyUses: (ctx, platformName, config) =>
    config.private
      ? [
          {
            sid: "EksArgoCdCapabilityDecryptViaSecretsManager",
            roleArns: [roleArn(ctx, roleName(platformName, ROLES.argocdCapability))],
            actions: ["kms:Decrypt"],
            viaServices: ["secretsmanager"],
          },
        ]
      : [],
  create(name, args): GitOpsEngine {
    const engine = new EksArgoCd(name, args);
    return {
      namespace: EKS_ARGOCD_NAMESPACE,
      root: engine.root,
      bridge: engine.root,
      outputs: { argocdCapabilityRoleArn: engine.role.arn, argocdServerUrl: engine.serverUrl },
      fleetRoleArn: engine.role.arn,
    };
  },
  hub: {
    clusterSecretData: (s) => managedClusterData(s),
    // AWS's network reaches a spoke's API, private endpoints included: the hub's VPC is not in the path.
    connectsFromHubVpc: false,
  },
};

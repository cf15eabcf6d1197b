// The EKS Argo CD capability on this cluster: AWS runs Argo CD outside the cluster; this component gives it a role,
// the access it needs to the local cluster, and the same root objects as the self-managed engine (AppProject,
// root Application, cluster Secret with the bridge metadata, repository credentials by Secrets Manager ARN).
import * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { rootSecretDependencies } from "../../core/bridge";
import { bootstrapRelease } from "../../core/helm";
import { policyJson } from "../../core/iam";
import { k8sLabels, roleName, ROLES } from "../../core/names";
import { GITOPS_SECRETS } from "../../core/secrets";
import { projectSubscriptions } from "../argo/notifications";
import { gated, ROOT_APP } from "../argo/projects";
import type { EngineArgs } from "../contract";
import {
  CAPABILITY_NAME,
  capabilityConfiguration,
  capabilityPolicy,
  capabilityTrustPolicy,
  DELETE_PROPAGATION_POLICY,
  EKS_ARGOCD_NAMESPACE,
  LOCAL_CLUSTER_ACCESS_POLICY,
} from "./capability";
import { managedNotifications, managedRootObjects } from "./objects";

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

// What a fleet's hub grants and tells its spokes: the registrars' access and Roles, and the `fleetHub` output a
// spoke reads through its StackReference.
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { FleetProject, FleetSpoke } from "../config";
import type { HubEngine } from "../core/engines";
import type { Environment } from "../core/project";

/** The label that makes a registered cluster a deploy target of the hub's ApplicationSets. */
export const FLEET_ROLE_LABEL = "fleet_role";
/** Every Application the hub generates for a cluster carries its Argo CD cluster name here (gitops/). */
export const APPLICATION_CLUSTER_LABEL = "gitops-platform/cluster";
/** EKS access policy the hub's Argo CD gets on a spoke (see README, "What the hub may do on a spoke"). */
export const SPOKE_ACCESS_POLICY = "AmazonEKSClusterAdminPolicy";

export const clusterSecretName = (spoke: string) => `cluster-${spoke}`;
/** The Kubernetes group a spoke's deployer gets on the hub: it may touch that spoke's cluster Secret only. */
export const registrarGroup = (spoke: string) => `gitops-platform:fleet-spoke:${spoke}`;

/** What a hub exports (stack output `fleetHub`) and a spoke reads through its StackReference. */
export interface FleetHubOutputs {
  clusterName: string;
  endpoint: string;
  certificateAuthority: string;
  accountId: string;
  partition: string;
  region: string;
  /** Where the hub's Argo CD connects from, over peering or a transit gateway, to a spoke's private API. */
  vpcCidr: string;
  /** Which Argo CD the hub runs: how a spoke registers (engines/, `hub`). Absent from hubs built before it. */
  engine?: HubEngine;
  argocdNamespace: string;
  /** The role the hub's Argo CD acts as (its controller's, or the capability's); every spoke's access entry names it. */
  argocdRoleArn: string;
  spokes: Record<string, FleetSpoke & { secretName: string; group: string }>;
  projects: Record<Environment, FleetProject>;
}

export interface FleetHubArgs {
  clusterName: pulumi.Input<string>;
  spokes: Record<string, FleetSpoke>;
  provider: k8s.Provider;
  /** The hub's Argo CD namespace, where the spokes' cluster Secrets live. */
  namespace: string;
  /** That namespace exists (the Roles live in it). */
  namespaceReady: pulumi.Input<pulumi.Resource>[];
  labels: Record<string, string>;
}

/**
 * What the hub grants the spokes' deployers: an access entry per deployer role with no EKS access policy, only
 * Kubernetes groups, and per spoke a Role in the Argo CD namespace on exactly that spoke's cluster Secret.
 */
export class FleetHub extends pulumi.ComponentResource {
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: FleetHubArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gitops-platform:index:FleetHub", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.provider, dependsOn: args.namespaceReady };
    const bindings = Object.keys(args.spokes)
      .sort()
      .flatMap((spoke) => {
        const role = new k8s.rbac.v1.Role(
          `${name}-${spoke}`,
          {
            metadata: { name: `fleet-spoke-${spoke}`, namespace: args.namespace, labels: args.labels },
            rules: [
              // RBAC cannot narrow `create` by name; server-side apply creates through `patch`, which it can.
              {
                apiGroups: [""],
                resources: ["secrets"],
                resourceNames: [clusterSecretName(spoke)],
                verbs: ["get", "watch", "patch", "delete"],
              },
              // To wait, on the spoke's destroy, for the Applications generated for it to be gone.
              { apiGroups: ["argoproj.io"], resources: ["applications"], verbs: ["get", "list", "watch"] },
            ],
          },
          k8sOpts,
        );
        return new k8s.rbac.v1.RoleBinding(
          `${name}-${spoke}`,
          {
            metadata: { name: `fleet-spoke-${spoke}`, namespace: args.namespace, labels: args.labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
            subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: registrarGroup(spoke) }],
          },
          k8sOpts,
        );
      });
    const byDeployer = new Map<string, string[]>();
    for (const [spoke, s] of Object.entries(args.spokes)) {
      byDeployer.set(s.deployerRoleArn, [...(byDeployer.get(s.deployerRoleArn) ?? []), spoke]);
    }
    const entries = [...byDeployer.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(
        ([principalArn, spokes]) =>
          new aws.eks.AccessEntry(
            `${name}-${principalArn.split(":")[4]}-${principalArn.split(":role/")[1].replace(/\//g, "-")}`,
            {
              clusterName: args.clusterName,
              principalArn,
              type: "STANDARD",
              kubernetesGroups: spokes.sort().map(registrarGroup),
            },
            { parent: this },
          ),
      );
    this.ready = [...bindings, ...entries];
    this.registerOutputs({ spokes: Object.keys(args.spokes) });
  }
}

import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Environment, FleetProject, FleetSpoke, HubEngine } from "../config";
import { ARGOCD_NAMESPACE } from "./argocd";
import { BRIDGE_LABEL_KEYS } from "./bridge";
import { kubeconfig } from "./cluster";
import { k8sLabels, type AwsContext } from "./common";

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
  /** The Argo CD namespace exists (the Roles live in it). */
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
            metadata: { name: `fleet-spoke-${spoke}`, namespace: ARGOCD_NAMESPACE, labels: args.labels },
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
            metadata: { name: `fleet-spoke-${spoke}`, namespace: ARGOCD_NAMESPACE, labels: args.labels },
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

/** A spoke as the hub's Argo CD must know it. */
export interface SpokeCluster {
  name: string;
  /** The hub's AppProject the spoke's Applications belong to: its environment's. */
  project: string;
  arn: string;
  endpoint: string;
  caData: string;
}

/** What an engine that can be a fleet's hub tells a spoke registering with it (topology/spoke.ts). */
export interface HubEngineDefinition {
  /** `stringData` of the spoke's cluster Secret on the hub: how this Argo CD reaches the spoke. */
  clusterSecretData(spoke: SpokeCluster): Record<string, string>;
  /** Whether it calls a spoke's API from the hub's VPC, which the spoke's cluster security group must admit. */
  connectsFromHubVpc: boolean;
}

export interface SpokeRegistrationArgs {
  ctx: AwsContext;
  environment: Environment;
  /** The spoke's name: its EKS cluster name and its Argo CD cluster name. */
  clusterName: string;
  cluster: aws.eks.Cluster;
  /** The hub's outputs, validated (topology/spoke.ts). */
  hub: pulumi.Output<FleetHubOutputs>;
  bridge: pulumi.Output<Record<string, string>>;
  tags: Record<string, string>;
  /** How the hub's Argo CD reaches a spoke (engines/: the `hub` of the hub's engine). */
  hubEngine: HubEngineDefinition;
  /**
   * What the hub's Applications need on the spoke while they are deleted: nodes, add-ons, NAT routes, the
   * add-on roles and the secret stores. The registration is created after them, so it is removed before them.
   */
  spokeReady: pulumi.Input<pulumi.Resource>[];
}

/**
 * A spoke's membership in the fleet: the hub's Argo CD role admitted on the spoke, and on the hub the spoke's
 * cluster Secret. Removal runs in this order (the reverse of creation): the selection labels go, so the hub's
 * ApplicationSets delete the spoke's Applications, whose finalizers delete what they deployed; the drain waits
 * for them to be gone; then the cluster Secret, then the access entry, then (in the spoke's stack) the cluster.
 */
export class SpokeRegistration extends pulumi.ComponentResource {
  readonly accessEntry: aws.eks.AccessPolicyAssociation;
  readonly clusterSecret: k8s.core.v1.Secret;
  readonly selection: k8s.core.v1.SecretPatch;
  readonly hubProvider: k8s.Provider;

  constructor(name: string, args: SpokeRegistrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gitops-platform:index:SpokeRegistration", name, {}, opts);
    const { hub } = args;
    const principalArn = hub.argocdRoleArn;
    // EKS allows one entry per principal and binds it to the role's unique ID: after the hub's role is recreated,
    // both are replaced (docs/disaster-recovery.md), the old ones deleted first.
    const replace = { parent: this, deleteBeforeReplace: true };
    const entry = new aws.eks.AccessEntry(
      `${name}-hub-argocd`,
      { clusterName: args.cluster.name, principalArn, type: "STANDARD" },
      { ...replace, dependsOn: args.spokeReady },
    );
    this.accessEntry = new aws.eks.AccessPolicyAssociation(
      `${name}-hub-argocd`,
      {
        clusterName: args.cluster.name,
        principalArn,
        policyArn: pulumi.interpolate`arn:${args.ctx.partition}:eks::aws:cluster-access-policy/${SPOKE_ACCESS_POLICY}`,
        accessScope: { type: "cluster" },
      },
      { ...replace, dependsOn: [entry] },
    );

    // A private spoke API is reached from the hub's VPC, by a self-managed hub; the route between the two
    // (peering, transit gateway) and the DNS of the private endpoint are the network's, outside this program.
    if (args.hubEngine.connectsFromHubVpc)
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-hub-api`,
        {
          securityGroupId: args.cluster.vpcConfig.clusterSecurityGroupId,
          cidrIpv4: hub.vpcCidr,
          ipProtocol: "tcp",
          fromPort: 443,
          toPort: 443,
          description: pulumi.interpolate`Argo CD of fleet hub ${hub.clusterName}`,
          tags: args.tags,
        },
        { parent: this },
      );

    // The deployer's own credentials (exec `aws eks get-token`): nothing long-lived reaches the state.
    const hubKubeconfig = hub.apply((h) =>
      kubeconfig(h.clusterName, h.endpoint, h.certificateAuthority, h.region),
    );
    this.hubProvider = new k8s.Provider(
      `${name}-hub`,
      { kubeconfig: hubKubeconfig, enableServerSideApply: true, deleteUnreachable: false },
      { parent: this },
    );
    const hubOpts = { parent: this, provider: this.hubProvider };
    const secretName = clusterSecretName(args.clusterName);
    const namespace = hub.argocdNamespace;
    const labels = k8sLabels(args.environment);

    this.clusterSecret = new k8s.core.v1.Secret(
      `${name}-cluster`,
      {
        metadata: {
          name: secretName,
          namespace,
          // Without the selection labels (below): a cluster Argo CD knows, but no ApplicationSet targets yet.
          labels: args.bridge.apply((b) => ({
            ...labels,
            "argocd.argoproj.io/secret-type": "cluster",
            cluster_name: b.cluster_name,
          })),
          annotations: args.bridge,
        },
        stringData: pulumi
          .all([args.cluster.arn, args.cluster.endpoint, args.cluster.certificateAuthority])
          .apply(([arn, endpoint, ca]) =>
            args.hubEngine.clusterSecretData({
              name: args.clusterName,
              project: args.environment,
              arn,
              endpoint,
              caData: ca.data ?? "",
            }),
          ),
      },
      { ...hubOpts, dependsOn: [this.accessEntry, ...args.spokeReady] },
    );

    const drain = new command.local.Command(
      `${name}-drain`,
      {
        // Nothing to do on create; the command exists for its delete.
        create: "true",
        delete: DRAIN_SCRIPT,
        environment: {
          HUB_KUBECONFIG: hubKubeconfig,
          NAMESPACE: namespace,
          CLUSTER: args.clusterName,
          LABEL: APPLICATION_CLUSTER_LABEL,
        },
      },
      { parent: this, dependsOn: [this.clusterSecret] },
    );

    this.selection = new k8s.core.v1.SecretPatch(
      `${name}-selection`,
      {
        metadata: {
          name: secretName,
          namespace,
          labels: args.bridge.apply((b) => ({
            ...Object.fromEntries(BRIDGE_LABEL_KEYS.map((k) => [k, b[k]])),
            [FLEET_ROLE_LABEL]: "spoke",
          })),
        },
      },
      { ...hubOpts, dependsOn: [drain] },
    );
    this.registerOutputs({ secretName, hubArgoCdRoleArn: principalArn });
  }
}

/**
 * The `config` of an Argo CD cluster Secret for an EKS cluster: Argo CD gets a token for the cluster with its
 * own AWS identity (argocd-k8s-auth), so the Secret holds the CA and the cluster's name, and no credential.
 */
export function clusterConfig(clusterName: string, caData: string): string {
  return JSON.stringify({ awsAuthConfig: { clusterName }, tlsClientConfig: { insecure: false, caData } });
}

// Waits until no Application generated for this cluster is left: each one's resources finalizer deletes what it
// deployed on the spoke (load balancers, volumes) while the spoke and the cluster Secret are still there.
const DRAIN_SCRIPT = `set -eu
config="$(mktemp)"; trap 'rm -f "$config"' EXIT
printf '%s' "$HUB_KUBECONFIG" > "$config"
deadline=$(( $(date +%s) + 1800 ))
while kubectl --kubeconfig "$config" -n "$NAMESPACE" get applications.argoproj.io -l "$LABEL=$CLUSTER" -o name | grep -q .; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "Applications of $CLUSTER still present after 30 min; the cluster Secret is kept so Argo CD can finish" >&2
    exit 1
  fi
  sleep 10
done`;

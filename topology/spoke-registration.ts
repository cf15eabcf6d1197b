// A spoke's membership in a fleet: the hub's Argo CD admitted on the spoke, and the spoke's cluster Secret on the
// hub, written through a provider built from the hub's outputs with the deployer's own credentials.
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BRIDGE_LABEL_KEYS } from "../core/bridge";
import type { AwsContext } from "../core/iam";
import { kubeconfig } from "../core/kubeconfig";
import { k8sLabels } from "../core/names";
import type { Environment } from "../core/project";
import type { HubEngineDefinition } from "../engines";
import {
  APPLICATION_CLUSTER_LABEL,
  clusterSecretName,
  FLEET_ROLE_LABEL,
  SPOKE_ACCESS_POLICY,
  type FleetHubOutputs,
} from "./fleet-hub";

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

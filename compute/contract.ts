// The compute axis: who runs the nodes. One contract, one file per choice (nodeGroups.ts, autoMode.ts), chosen
// once in index.ts from `cluster.compute`; the Cluster component asks for what it needs and never sees the mode.
import type * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { ClusterConfig, NodeGroupConfig } from "../config";
import type { AwsContext, Statement } from "../core/iam";
import type { KeyUse } from "../core/key-uses";
import type { Environment } from "../core/project";
import type { WorkloadIdentity } from "../identity";

/** What a cluster is, as its compute needs to know it (components/cluster.ts ClusterArgs extends it). */
export interface ComputeFacts {
  clusterName: string;
  environment: Environment;
  ctx: AwsContext;
  config: ClusterConfig;
  privateSubnetIds: pulumi.Input<string>[];
  /** Routes and NAT gateways: nodes need egress to join, and on destroy the controllers need it to clean up. */
  networkReady: pulumi.Resource[];
  kmsKeyArn: pulumi.Input<string>;
  tags: Record<string, string>;
}

export interface ComputeContext extends ComputeFacts {
  /** Logical name prefix of the resources (the Cluster component's name). */
  name: string;
  parent: pulumi.Resource;
  managedPolicy(name: string): pulumi.Output<string>;
}

/** What the control plane needs from compute before it is created. */
export interface ControlPlaneCompute {
  /** AWS managed policies of the cluster role besides AmazonEKSClusterPolicy. */
  clusterRolePolicies: string[];
  /** Further statements of the cluster role's own policy on the platform key. */
  clusterKeyStatements(keyArn: string, region: string): Statement[];
  /** The compute, storage and load-balancing settings of aws.eks.Cluster. */
  clusterSettings: Pick<
    aws.eks.ClusterArgs,
    "computeConfig" | "kubernetesNetworkConfig" | "storageConfig" | "bootstrapSelfManagedAddons"
  >;
  /** Resources the control plane waits for (e.g. the node role's policies). */
  dependsOn: pulumi.Resource[];
}

export interface AttachContext extends ComputeContext {
  cluster: aws.eks.Cluster;
  provider: k8s.Provider;
  /** How the cluster's own add-ons get their roles (identity/). */
  identity: WorkloadIdentity;
  /** Access entries: the provider's credentials work only once they exist. */
  accessEntries: pulumi.Resource[];
}

/** What the cluster has once compute is attached. */
export interface AttachedCompute {
  nodeGroups: aws.eks.NodeGroup[];
  addons: aws.eks.Addon[];
  /**
   * Ready for workloads: what every Helm release waits for, so its pods can schedule and reach the network.
   * On destroy the releases go first, while this still exists.
   */
  ready: pulumi.Resource[];
}

export interface Compute {
  /** Whether load balancers need the self-managed AWS Load Balancer Controller (and its role). */
  readonly selfManagedLoadBalancing: boolean;
  /** Who else uses the platform key for node or volume encryption, for the key policy. */
  keyUses(ctx: AwsContext, clusterName: string): KeyUse[];
  controlPlane(c: ComputeContext): ControlPlaneCompute;
  attach(c: AttachContext): AttachedCompute;
}

export type NodeGroups = Record<string, NodeGroupConfig>;

// EKS Auto Mode: AWS runs the nodes (built-in pools system and general-purpose), the CNI, CoreDNS, kube-proxy,
// the Pod Identity agent, EBS CSI and load balancing. The program adds what Auto Mode does not create: a default
// StorageClass encrypted by the platform key, an ALB IngressClass, the platform's own NodePool where spot
// capacity is admitted (dev), and the switch that makes it enforce network policies.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AutoModeConfig } from "../config";
import { bootstrapRelease, type K8sObject } from "../core/helm";
import { policyDocument, roleArn, type AwsContext } from "../core/iam";
import type { KeyUse } from "../core/key-uses";
import { k8sLabels, roleName, ROLES } from "../core/names";
import type { Environment } from "../core/project";
import type {
  AttachContext,
  AttachedCompute,
  Compute,
  ComputeContext,
  ControlPlaneCompute,
} from "./contract";

export const BUILT_IN_NODE_POOLS = ["system", "general-purpose"];
export const AUTO_MODE_CLUSTER_POLICIES = [
  "AmazonEKSComputePolicy",
  "AmazonEKSBlockStoragePolicy",
  "AmazonEKSLoadBalancingPolicy",
  "AmazonEKSNetworkingPolicy",
];
export const AUTO_MODE_NODE_POLICIES = [
  "AmazonEKSWorkerNodeMinimalPolicy",
  "AmazonEC2ContainerRegistryPullOnly",
];
export const EBS_PROVISIONER = "ebs.csi.eks.amazonaws.com";
export const ALB_CONTROLLER = "eks.amazonaws.com/alb";
export const STORAGE_CLASS = "gp3-encrypted";
export const INGRESS_CLASS = "alb";
export const SPOT_NODE_POOL = "platform-spot";
// Auto Mode creates and attaches EBS volumes as the cluster role, through EC2: the key is used for that only.
const EBS_KEY_ACTIONS = [
  "kms:Encrypt",
  "kms:Decrypt",
  "kms:ReEncrypt*",
  "kms:GenerateDataKey*",
  "kms:DescribeKey",
];

/** The default StorageClass: gp3, encrypted by the platform key, bound where the pod lands. */
export function storageClass(kmsKeyArn: string, labels: Record<string, string>): K8sObject {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: {
      name: STORAGE_CLASS,
      labels,
      annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
    },
    provisioner: EBS_PROVISIONER,
    parameters: { type: "gp3", encrypted: "true", kmsKeyId: kmsKeyArn },
    volumeBindingMode: "WaitForFirstConsumer",
    allowVolumeExpansion: true,
    reclaimPolicy: "Delete",
  };
}

/**
 * The ALB IngressClass and its parameters. Internal by default: an internet-facing load balancer is a decision
 * an app makes with its own IngressClassParams, not a platform default.
 */
export function albIngressClass(labels: Record<string, string>): K8sObject[] {
  return [
    {
      apiVersion: "eks.amazonaws.com/v1",
      kind: "IngressClassParams",
      metadata: { name: INGRESS_CLASS, labels },
      spec: { scheme: "internal" },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "IngressClass",
      metadata: {
        name: INGRESS_CLASS,
        labels,
        annotations: { "ingressclass.kubernetes.io/is-default-class": "true" },
      },
      spec: {
        controller: ALB_CONTROLLER,
        parameters: { apiGroup: "eks.amazonaws.com", kind: "IngressClassParams", name: INGRESS_CLASS },
      },
    },
  ];
}

/**
 * The platform's NodePool on Auto Mode's default NodeClass, admitting the configured capacity types; weighted
 * above general-purpose so that workloads prefer it (spot first, where admitted).
 */
export function platformNodePool(c: AutoModeConfig, labels: Record<string, string>): K8sObject {
  return {
    apiVersion: "karpenter.sh/v1",
    kind: "NodePool",
    metadata: { name: SPOT_NODE_POOL, labels },
    spec: {
      weight: 50,
      template: {
        metadata: { labels: { "gitops-platform/node-pool": SPOT_NODE_POOL } },
        spec: {
          nodeClassRef: { group: "eks.amazonaws.com", kind: "NodeClass", name: "default" },
          requirements: [
            { key: "karpenter.sh/capacity-type", operator: "In", values: c.capacityTypes },
            { key: "eks.amazonaws.com/instance-category", operator: "In", values: ["c", "m", "r", "t"] },
            { key: "kubernetes.io/arch", operator: "In", values: ["amd64"] },
          ],
          expireAfter: "336h",
        },
      },
      disruption: { consolidationPolicy: "WhenEmptyOrUnderutilized", consolidateAfter: "1m" },
      limits: { cpu: "64" },
    },
  };
}

/** The Kubernetes objects Auto Mode does not create for us. */
/**
 * Turns on Auto Mode's network policy controller: until this ConfigMap exists, the NetworkPolicies the charts
 * render are accepted and enforced by nothing. The default NodeClass (every pool here uses it) enforces them
 * with `networkPolicy: DefaultAllow`: pods that no policy selects keep all their traffic.
 */
export function networkPolicyController(labels: Record<string, string>): K8sObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "amazon-vpc-cni", namespace: "kube-system", labels },
    data: { "enable-network-policy-controller": "true" },
  };
}

export function autoModeObjects(c: AutoModeConfig, environment: Environment, kmsKeyArn: string): K8sObject[] {
  const labels = k8sLabels(environment);
  return [
    networkPolicyController(labels),
    storageClass(kmsKeyArn, labels),
    ...albIngressClass(labels),
    ...(c.capacityTypes.includes("spot") ? [platformNodePool(c, labels)] : []),
  ];
}

export class AutoModeCompute implements Compute {
  readonly selfManagedLoadBalancing = false;
  private nodeRole?: aws.iam.Role;

  constructor(private readonly config: AutoModeConfig) {}

  keyUses(ctx: AwsContext, clusterName: string): KeyUse[] {
    const cluster = [roleArn(ctx, roleName(clusterName, ROLES.cluster))];
    return [
      { sid: "AutoModeEbsVolumes", roleArns: cluster, actions: EBS_KEY_ACTIONS, viaServices: ["ec2"] },
      {
        sid: "AutoModeEbsVolumeGrants",
        roleArns: cluster,
        actions: ["kms:CreateGrant"],
        viaServices: ["ec2"],
        grantsForAwsResourcesOnly: true,
      },
    ];
  }

  controlPlane(c: ComputeContext): ControlPlaneCompute {
    const parent = { parent: c.parent };
    this.nodeRole = new aws.iam.Role(
      `${c.name}-node`,
      {
        name: roleName(c.clusterName, ROLES.node),
        assumeRolePolicy: JSON.stringify(
          policyDocument([
            { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
          ]),
        ),
        tags: c.tags,
      },
      parent,
    );
    const role = this.nodeRole;
    const nodePolicies = AUTO_MODE_NODE_POLICIES.map(
      (p) =>
        new aws.iam.RolePolicyAttachment(
          `${c.name}-node-${p}`,
          { role: role.name, policyArn: c.managedPolicy(p) },
          parent,
        ),
    );
    const via = { StringEquals: { "kms:ViaService": `ec2.${c.ctx.region}.amazonaws.com` } };
    return {
      clusterRolePolicies: AUTO_MODE_CLUSTER_POLICIES,
      clusterKeyStatements: (keyArn) => [
        {
          Sid: "AutoModeEbsVolumes",
          Effect: "Allow",
          Action: EBS_KEY_ACTIONS,
          Resource: keyArn,
          Condition: via,
        },
        {
          Sid: "AutoModeEbsVolumeGrants",
          Effect: "Allow",
          Action: "kms:CreateGrant",
          Resource: keyArn,
          Condition: { ...via, Bool: { "kms:GrantIsForAWSResource": "true" } },
        },
      ],
      // All three together: EKS refuses Auto Mode with only some of them, and self-managed add-ons with any.
      clusterSettings: {
        computeConfig: { enabled: true, nodePools: BUILT_IN_NODE_POOLS, nodeRoleArn: role.arn },
        kubernetesNetworkConfig: { elasticLoadBalancing: { enabled: true } },
        storageConfig: { blockStorage: { enabled: true } },
        bootstrapSelfManagedAddons: false,
      },
      dependsOn: nodePolicies,
    };
  }

  attach(c: AttachContext): AttachedCompute {
    bootstrapRelease(`${c.name}-auto-mode`, {
      namespace: "kube-system",
      objects: pulumi.output(c.kmsKeyArn).apply((key) => autoModeObjects(this.config, c.environment, key)),
      provider: c.provider,
      dependsOn: [c.cluster, ...c.accessEntries],
      parent: c.parent,
    });
    // Ready for workloads as soon as the control plane answers: the first pending pod brings up a node. The
    // objects above are not waited for: nothing the platform installs needs a volume or a load balancer.
    return { nodeGroups: [], addons: [], ready: [c.cluster] };
  }
}

// Typical time, in seconds, for the cloud to create one resource of a type during a first `pulumi up`: the time
// between Pulumi starting the create and the provider reporting it done (including the provider's own waiting,
// e.g. for an EKS cluster to become ACTIVE or a Helm release's pods to become Ready with `atomic: true`).
//
// Where the numbers come from: typical durations observed for these AWS APIs and for Helm installs (AWS
// documentation and re-invent talks quote "10 to 15 minutes" for an EKS control plane, managed node groups and
// NAT gateways are commonly 3-5 and 1-2 minutes in provider logs, IAM and VPC objects are seconds). They are
// approximations for planning, not measurements of this program: real times vary by region, instance type
// availability (SPOT), image pulls, chart size and API throttling. Adjust them here; docs/offline-plan.md
// explains how they feed the estimate.

/** Seconds per Pulumi type token. `*` is the fallback for types not listed. */
export type CreationTimeTable = Record<string, number>;

/** Key for Helm releases of a chart that lives in this repository (a handful of custom resources, no pods). */
export const LOCAL_CHART_RELEASE = "kubernetes:helm.sh/v3:Release (local chart)";

/**
 * Key for the step Auto Mode takes without a resource of its own: the first pod left pending makes it launch a
 * node (EC2 launch, Bottlerocket boot, join; ~1 min). the plan (scripts/lib/plan/graph.ts) puts it between the cluster and every
 * release whose pods need it.
 */
export const AUTO_MODE_FIRST_NODE = "aws:eks:AutoModeNode (first node, modelled)";

export const CREATION_TIMES: CreationTimeTable = {
  // EKS
  "aws:eks/cluster:Cluster": 600, // ~8-12 min until ACTIVE
  "aws:eks/nodeGroup:NodeGroup": 240, // ~3-5 min: instances boot and join
  "aws:eks/addon:Addon": 90, // ~1-2 min until ACTIVE (coredns waits for nodes)
  "aws:eks/accessEntry:AccessEntry": 5,
  "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": 5,
  "aws:eks/podIdentityAssociation:PodIdentityAssociation": 5,
  [AUTO_MODE_FIRST_NODE]: 60,
  // Not documented beyond "takes some time to become ACTIVE": an assumption, like a managed add-on's few minutes.
  "aws:eks/capability:Capability": 300,
  // Network
  "aws:ec2/vpc:Vpc": 10,
  "aws:ec2/subnet:Subnet": 5,
  "aws:ec2/routeTable:RouteTable": 5,
  "aws:ec2/routeTableAssociation:RouteTableAssociation": 2,
  "aws:ec2/internetGateway:InternetGateway": 5,
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": 3,
  "aws:ec2/eip:Eip": 5,
  "aws:ec2/natGateway:NatGateway": 120, // ~1-2 min until available
  "aws:ec2/flowLog:FlowLog": 5,
  "aws:ec2/launchTemplate:LaunchTemplate": 5,
  // Keys, identity, logs, secrets
  "aws:kms/key:Key": 10,
  "aws:kms/replicaKey:ReplicaKey": 30, // replication to the other region, until Enabled
  "aws:kms/alias:Alias": 2,
  "aws:iam/role:Role": 5,
  "aws:iam/rolePolicy:RolePolicy": 3,
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 3,
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": 5,
  "aws:cloudwatch/logGroup:LogGroup": 2,
  "aws:secretsmanager/secret:Secret": 3,
  // Kubernetes
  "kubernetes:helm.sh/v3:Release": 120, // ~1-3 min: remote chart pull, CRDs, pods Ready (atomic)
  [LOCAL_CHART_RELEASE]: 15, // a few custom resources, nothing to wait for
  "kubernetes:core/v1:Namespace": 2,
  "kubernetes:core/v1:Secret": 1,
  "kubernetes:core/v1:ConfigMap": 1,
  "kubernetes:rbac.authorization.k8s.io/v1:Role": 1,
  "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": 1,
  // Providers are configured, not created: zero time, and they do not count towards the dependency depth.
  "pulumi:providers:kubernetes": 0,
  "pulumi:providers:aws": 0,
  "*": 5,
};

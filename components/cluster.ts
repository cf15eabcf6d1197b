import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AccessConfig, ClusterConfig, NodeGroupConfig } from "../config";
import { policyDocument, policyJson, roleName, ROLES, type AwsContext } from "./common";
import { IrsaRole, type OidcIdentity } from "./irsa";

export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"];
const ACCESS_POLICY = {
  admin: "AmazonEKSClusterAdminPolicy",
  deployer: "AmazonEKSClusterAdminPolicy",
  viewer: "AmazonEKSViewPolicy",
} as const;
// Add-ons the nodes need before they can become Ready; the rest wait for the nodes.
const BEFORE_NODES = ["vpc-cni", "kube-proxy", "eks-pod-identity-agent"];

export interface ClusterArgs {
  ctx: AwsContext;
  clusterName: string;
  config: ClusterConfig;
  nodeGroups: Record<string, NodeGroupConfig>;
  access: AccessConfig;
  privateSubnetIds: pulumi.Input<string>[];
  /**
   * Routes, NAT gateways and associations: nodes need egress to join, and on destroy the controllers still
   * running on them need it to delete what they created in AWS (load balancers) before the network goes.
   */
  networkReady: pulumi.Resource[];
  /** Created before the control plane so that EKS never creates its own unencrypted log group. */
  logGroupName: string;
  kmsKeyArn: pulumi.Input<string>;
  tags: Record<string, string>;
}

/** The EKS control plane, its access entries, the IRSA OIDC provider, managed node groups and core add-ons. */
export class Cluster extends pulumi.ComponentResource {
  readonly cluster: aws.eks.Cluster;
  readonly oidc: OidcIdentity;
  readonly nodeGroups: aws.eks.NodeGroup[];
  /**
   * Everything Helm releases wait for: nodes to schedule on and every add-on. DNS included, though an install
   * would not need it: on destroy the controllers must still resolve AWS endpoints while they clean up.
   */
  readonly ready: pulumi.Resource[];
  readonly kubeconfig: pulumi.Output<string>;
  readonly provider: k8s.Provider;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gitops-platform:index:Cluster", name, {}, opts);
    const parent = { parent: this };
    const { ctx, clusterName, config: c, tags } = args;
    const managed = (policy: string) => pulumi.interpolate`arn:${ctx.partition}:iam::aws:policy/${policy}`;

    const clusterRole = new aws.iam.Role(
      `${name}-cluster`,
      {
        name: roleName(clusterName, ROLES.cluster),
        assumeRolePolicy: JSON.stringify(
          policyDocument([
            {
              Effect: "Allow",
              Principal: { Service: "eks.amazonaws.com" },
              Action: ["sts:AssumeRole", "sts:TagSession"],
            },
          ]),
        ),
        tags,
      },
      parent,
    );
    const clusterPolicy = new aws.iam.RolePolicyAttachment(
      `${name}-cluster`,
      { role: clusterRole.name, policyArn: managed("AmazonEKSClusterPolicy") },
      parent,
    );
    const clusterKmsPolicy = new aws.iam.RolePolicy(
      `${name}-cluster-kms`,
      {
        role: clusterRole.id,
        policy: policyJson(
          pulumi.output(args.kmsKeyArn).apply((key) =>
            policyDocument([
              {
                Effect: "Allow",
                Action: ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                Resource: key,
              },
            ]),
          ),
        ),
      },
      parent,
    );

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-control-plane`,
      { name: args.logGroupName, retentionInDays: c.logRetentionDays, kmsKeyId: args.kmsKeyArn, tags },
      parent,
    );

    this.cluster = new aws.eks.Cluster(
      name,
      {
        name: clusterName,
        version: c.version,
        roleArn: clusterRole.arn,
        vpcConfig: {
          subnetIds: args.privateSubnetIds,
          endpointPrivateAccess: true,
          endpointPublicAccess: c.endpointPublicAccess,
          publicAccessCidrs: c.endpointPublicAccess ? c.publicAccessCidrs : undefined,
        },
        encryptionConfig: { resources: ["secrets"], provider: { keyArn: args.kmsKeyArn } },
        enabledClusterLogTypes: CONTROL_PLANE_LOG_TYPES,
        accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false },
        tags,
      },
      { parent: this, dependsOn: [logGroup, clusterPolicy, clusterKmsPolicy] },
    );

    const entries = this.createAccessEntries(name, args.access, ctx.partition);

    const issuer = this.cluster.identities.apply((ids) => {
      const url = ids[0]?.oidcs?.[0]?.issuer;
      if (!url) throw new Error(`EKS cluster ${clusterName} reported no OIDC issuer; IRSA needs one`);
      return url;
    });
    const provider = new aws.iam.OpenIdConnectProvider(
      name,
      { url: issuer, clientIdLists: ["sts.amazonaws.com"], tags },
      parent,
    );
    this.oidc = { providerArn: provider.arn, issuerHost: issuer.apply((u) => u.replace(/^https:\/\//, "")) };

    // The VPC CNI gets its permissions through IRSA so that the node role holds only the worker and ECR policies.
    const cniRole = new IrsaRole(
      `${name}-vpc-cni`,
      {
        oidc: this.oidc,
        roleName: roleName(clusterName, ROLES.vpcCni),
        namespace: "kube-system",
        serviceAccount: "aws-node",
        managedPolicyArns: [managed("AmazonEKS_CNI_Policy")],
        tags,
      },
      parent,
    );

    const addon = (addonName: string, version: string, dependsOn: pulumi.Resource[] = []) =>
      new aws.eks.Addon(
        `${name}-${addonName}`,
        {
          clusterName: this.cluster.name,
          addonName,
          addonVersion: version,
          resolveConflictsOnCreate: "OVERWRITE",
          resolveConflictsOnUpdate: "OVERWRITE",
          serviceAccountRoleArn: addonName === "vpc-cni" ? cniRole.arn : undefined,
          tags,
        },
        { parent: this, dependsOn },
      );
    const early = Object.entries(c.addons)
      .filter(([n]) => BEFORE_NODES.includes(n))
      .map(([n, v]) => addon(n, v));

    const nodeRole = new aws.iam.Role(
      `${name}-node`,
      {
        name: roleName(clusterName, ROLES.node),
        assumeRolePolicy: JSON.stringify(
          policyDocument([
            { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
          ]),
        ),
        tags,
      },
      parent,
    );
    const nodePolicies = ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly"].map(
      (p) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-node-${p}`,
          { role: nodeRole.name, policyArn: managed(p) },
          parent,
        ),
    );

    this.nodeGroups = Object.entries(args.nodeGroups).map(([groupName, g]) => {
      const launchTemplate = new aws.ec2.LaunchTemplate(
        `${name}-${groupName}`,
        {
          description: `${clusterName} ${groupName} nodes: IMDSv2 only, encrypted root volume, no SSH key`,
          metadataOptions: {
            httpEndpoint: "enabled",
            httpTokens: "required",
            // 1 keeps pods from reaching the node's credentials through IMDS; pods use IRSA instead.
            httpPutResponseHopLimit: 1,
            instanceMetadataTags: "disabled",
          },
          blockDeviceMappings: [
            {
              deviceName: "/dev/xvda",
              ebs: {
                volumeSize: g.diskSizeGiB,
                volumeType: "gp3",
                encrypted: "true",
                kmsKeyId: args.kmsKeyArn,
                deleteOnTermination: "true",
              },
            },
          ],
          tagSpecifications: ["instance", "volume"].map((resourceType) => ({
            resourceType,
            tags: { ...tags, Name: `${clusterName}-${groupName}` },
          })),
          updateDefaultVersion: true,
          tags,
        },
        parent,
      );
      return new aws.eks.NodeGroup(
        `${name}-${groupName}`,
        {
          clusterName: this.cluster.name,
          nodeGroupNamePrefix: `${groupName}-`,
          nodeRoleArn: nodeRole.arn,
          subnetIds: args.privateSubnetIds,
          amiType: g.architecture === "arm64" ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD",
          instanceTypes: g.instanceTypes,
          capacityType: g.capacityType,
          scalingConfig: { minSize: g.minSize, desiredSize: g.desiredSize, maxSize: g.maxSize },
          updateConfig: { maxUnavailable: 1 },
          launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
          labels: { "gitops-platform/node-group": groupName },
          tags,
        },
        {
          parent: this,
          dependsOn: [...nodePolicies, ...early, ...args.networkReady],
          ignoreChanges: ["scalingConfig.desiredSize"],
        },
      );
    });

    const late = Object.entries(c.addons)
      .filter(([n]) => !BEFORE_NODES.includes(n))
      .map(([n, v]) => addon(n, v, this.nodeGroups));
    this.ready = [...this.nodeGroups, ...early, ...late, ...entries];

    this.kubeconfig = pulumi.secret(
      pulumi
        .all([this.cluster.name, this.cluster.endpoint, this.cluster.certificateAuthority])
        .apply(([n, endpoint, ca]) => kubeconfig(n, endpoint, ca.data ?? "", ctx.region)),
    );
    this.provider = new k8s.Provider(
      name,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true, deleteUnreachable: false },
      { parent: this, dependsOn: entries },
    );
    this.registerOutputs({
      clusterName: this.cluster.name,
      endpoint: this.cluster.endpoint,
      oidcProviderArn: provider.arn,
      kubeconfig: this.kubeconfig,
    });
  }

  private createAccessEntries(
    name: string,
    access: AccessConfig,
    partition: pulumi.Input<string>,
  ): pulumi.Resource[] {
    const kinds: Array<[keyof typeof ACCESS_POLICY, string[]]> = [
      ["admin", access.adminRoleArns],
      ["deployer", access.deployerRoleArns],
      ["viewer", access.viewerRoleArns],
    ];
    return kinds.flatMap(([kind, arns]) =>
      arns.map((principalArn) => {
        // The role's path and name, so that roles of the same name on different paths do not collide.
        const id = `${name}-${kind}-${principalArn.split(":role/")[1].replace(/\//g, "-")}`;
        const entry = new aws.eks.AccessEntry(
          id,
          { clusterName: this.cluster.name, principalArn, type: "STANDARD" },
          { parent: this },
        );
        return new aws.eks.AccessPolicyAssociation(
          id,
          {
            clusterName: this.cluster.name,
            principalArn,
            policyArn: pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/${ACCESS_POLICY[kind]}`,
            accessScope: { type: "cluster" },
          },
          { parent: this, dependsOn: [entry] },
        );
      }),
    );
  }
}

/** Exec-based kubeconfig: no token is ever written to state; `aws eks get-token` runs with the caller's identity. */
export function kubeconfig(clusterName: string, endpoint: string, caData: string, region: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: clusterName, cluster: { server: endpoint, "certificate-authority-data": caData } }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
    "current-context": clusterName,
    users: [
      {
        name: clusterName,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: ["eks", "get-token", "--cluster-name", clusterName, "--region", region, "--output", "json"],
            interactiveMode: "Never",
          },
        },
      },
    ],
  });
}

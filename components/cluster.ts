import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AccessConfig, IdentityMode } from "../config";
import type { Compute } from "../compute";
import type { ComputeContext, ComputeFacts } from "../compute/contract";
import { policyDocument, policyJson } from "../core/iam";
import { kubeconfig } from "../core/kubeconfig";
import { roleName, ROLES } from "../core/names";
import { chooseIdentity, type WorkloadIdentity } from "../identity";
import { ClusterOidc } from "../identity/irsa";

export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"];
const ACCESS_POLICY = {
  admin: "AmazonEKSClusterAdminPolicy",
  deployer: "AmazonEKSClusterAdminPolicy",
  viewer: "AmazonEKSViewPolicy",
} as const;

export interface ClusterArgs extends ComputeFacts {
  compute: Compute;
  /** How the cluster's workloads, its own add-ons included, get their AWS roles. */
  identity: IdentityMode;
  access: AccessConfig;
  /** Created before the control plane so that EKS never creates its own unencrypted log group. */
  logGroupName: string;
}

/** The EKS control plane, its access entries, its OIDC issuer for IRSA, and the compute chosen for it. */
export class Cluster extends pulumi.ComponentResource {
  readonly cluster: aws.eks.Cluster;
  /** The OIDC provider, created only if some role uses IRSA. */
  readonly oidc: ClusterOidc;
  /** How pods of this cluster get AWS roles (identity/). */
  readonly identity: WorkloadIdentity;
  readonly nodeGroups: aws.eks.NodeGroup[];
  /** Everything Helm releases wait for: somewhere to schedule and the node add-ons (compute/contract.ts). */
  readonly ready: pulumi.Resource[];
  readonly kubeconfig: pulumi.Output<string>;
  readonly provider: k8s.Provider;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gitops-platform:index:Cluster", name, {}, opts);
    const parent = { parent: this };
    const { ctx, clusterName, config: c, tags } = args;
    const managedPolicy = (policy: string) =>
      pulumi.interpolate`arn:${ctx.partition}:iam::aws:policy/${policy}`;
    const computeContext: ComputeContext = {
      name,
      clusterName,
      environment: args.environment,
      ctx,
      config: c,
      privateSubnetIds: args.privateSubnetIds,
      networkReady: args.networkReady,
      kmsKeyArn: args.kmsKeyArn,
      tags,
      parent: this,
      managedPolicy,
    };
    const compute = args.compute.controlPlane(computeContext);

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
    const clusterPolicies = ["AmazonEKSClusterPolicy", ...compute.clusterRolePolicies].map(
      (policy, i) =>
        new aws.iam.RolePolicyAttachment(
          i === 0 ? `${name}-cluster` : `${name}-cluster-${policy}`,
          { role: clusterRole.name, policyArn: managedPolicy(policy) },
          parent,
        ),
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
              ...compute.clusterKeyStatements(key, ctx.region),
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
        ...compute.clusterSettings,
        tags,
      },
      {
        parent: this,
        dependsOn: [logGroup, ...clusterPolicies, clusterKmsPolicy, ...compute.dependsOn],
      },
    );

    const entries = this.createAccessEntries(name, args.access, ctx.partition);

    const issuer = this.cluster.identities.apply((ids) => {
      const url = ids[0]?.oidcs?.[0]?.issuer;
      if (!url) throw new Error(`EKS cluster ${clusterName} reported no OIDC issuer; IRSA needs one`);
      return url;
    });
    this.oidc = new ClusterOidc(name, { issuerUrl: issuer, tags, parent: this });
    this.identity = chooseIdentity(args.identity, {
      ctx,
      clusterName: this.cluster.name,
      clusterArn: this.cluster.arn,
      oidc: this.oidc,
    });

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

    const attached = args.compute.attach({
      ...computeContext,
      cluster: this.cluster,
      provider: this.provider,
      identity: this.identity,
      accessEntries: entries,
    });
    this.nodeGroups = attached.nodeGroups;
    this.ready = [...attached.ready, ...entries];

    this.registerOutputs({
      clusterName: this.cluster.name,
      endpoint: this.cluster.endpoint,
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

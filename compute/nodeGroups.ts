// Managed node groups: the program defines the nodes (launch template, AMI family, capacity) and installs the
// core add-ons (vpc-cni, kube-proxy, CoreDNS, and the Pod Identity agent when it is used) as EKS add-ons.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AUTOSCALING_SERVICE_ROLE, policyDocument, roleArn, type AwsContext } from "../core/iam";
import { DATA_ACTIONS, type KeyUse } from "../core/key-uses";
import { roleName, ROLES } from "../core/names";
import type { AttachContext, AttachedCompute, Compute, NodeGroups } from "./contract";

// The charts render NetworkPolicies; without this the CNI's network policy agent (a container of aws-node,
// present but idle) enforces none of them. EKS runs the policy controller on the control plane.
const ADDON_CONFIGURATION: Record<string, object> = { "vpc-cni": { enableNetworkPolicy: "true" } };

// Add-ons that run on every node (DaemonSets): created with the node groups, so they are in place when the
// first instances join (~2 min after the group is created, against ~1 min for the add-on). The rest (CoreDNS)
// waits for nodes to schedule on.
const NODE_DAEMONS = ["vpc-cni", "kube-proxy", "eks-pod-identity-agent"];

export class NodeGroupsCompute implements Compute {
  readonly selfManagedLoadBalancing = true;

  constructor(private readonly groups: NodeGroups) {}

  keyUses(ctx: AwsContext): KeyUse[] {
    // Managed node groups launch through the Auto Scaling service-linked role, which encrypts root volumes; it
    // can only be named directly (no IAM policy of ours can give it the key).
    const autoscaling = [roleArn(ctx, AUTOSCALING_SERVICE_ROLE)];
    return [
      { sid: "NodeVolumesByAutoScaling", roleArns: autoscaling, actions: DATA_ACTIONS, direct: true },
      {
        sid: "NodeVolumeGrantsByAutoScaling",
        roleArns: autoscaling,
        actions: ["kms:CreateGrant"],
        direct: true,
        grantsForAwsResourcesOnly: true,
      },
    ];
  }

  controlPlane() {
    return {
      clusterRolePolicies: [],
      clusterKeyStatements: () => [],
      clusterSettings: {},
      dependsOn: [],
    };
  }

  attach(c: AttachContext): AttachedCompute {
    const { name, clusterName, tags, cluster } = c;
    const parent = { parent: c.parent };

    // The VPC CNI gets its permissions from its own role so that the node role holds only the worker and ECR
    // policies.
    const cniRole = c.identity.role(
      `${name}-vpc-cni`,
      {
        roleName: roleName(clusterName, ROLES.vpcCni),
        namespace: "kube-system",
        serviceAccount: "aws-node",
        webIdentity: true,
        managedPolicyArns: [c.managedPolicy("AmazonEKS_CNI_Policy")],
        tags,
      },
      parent,
    );
    const addon = (addonName: string, version: string, dependsOn: pulumi.Resource[]) =>
      new aws.eks.Addon(
        `${name}-${addonName}`,
        {
          clusterName: cluster.name,
          addonName,
          addonVersion: version,
          resolveConflictsOnCreate: "OVERWRITE",
          resolveConflictsOnUpdate: "OVERWRITE",
          serviceAccountRoleArn: addonName === "vpc-cni" ? cniRole.arn : undefined,
          configurationValues: ADDON_CONFIGURATION[addonName]
            ? JSON.stringify(ADDON_CONFIGURATION[addonName])
            : undefined,
          // Deleting the add-on leaves its workload running until the nodes go: on destroy the controllers still
          // resolve AWS endpoints (CoreDNS) while they delete what they created.
          preserve: NODE_DAEMONS.includes(addonName) ? undefined : true,
          tags,
        },
        { parent: c.parent, dependsOn },
      );
    const daemons = Object.entries(c.config.addons)
      .filter(([n]) => NODE_DAEMONS.includes(n))
      .map(([n, v]) => addon(n, v, n === "vpc-cni" ? cniRole.ready : []));

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
          { role: nodeRole.name, policyArn: c.managedPolicy(p) },
          parent,
        ),
    );

    const nodeGroups = Object.entries(this.groups).map(([groupName, g]) => {
      const launchTemplate = new aws.ec2.LaunchTemplate(
        `${name}-${groupName}`,
        {
          description: `${clusterName} ${groupName} nodes: IMDSv2 only, encrypted root volume, no SSH key`,
          metadataOptions: {
            httpEndpoint: "enabled",
            httpTokens: "required",
            // 1 keeps pods from reaching the node's credentials through IMDS; pods get their own roles.
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
                kmsKeyId: c.kmsKeyArn,
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
          clusterName: cluster.name,
          nodeGroupNamePrefix: `${groupName}-`,
          nodeRoleArn: nodeRole.arn,
          subnetIds: c.privateSubnetIds,
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
          parent: c.parent,
          dependsOn: [...nodePolicies, ...c.networkReady],
          ignoreChanges: ["scalingConfig.desiredSize"],
        },
      );
    });

    const late = Object.entries(c.config.addons)
      .filter(([n]) => !NODE_DAEMONS.includes(n))
      .map(([n, v]) => addon(n, v, nodeGroups));
    // CoreDNS is not in `ready`: no install needs it, and `preserve` keeps it running through a destroy.
    return { nodeGroups, addons: [...daemons, ...late], ready: [...nodeGroups, ...daemons] };
  }
}

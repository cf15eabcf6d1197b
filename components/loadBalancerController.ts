import * as pulumi from "@pulumi/pulumi";
import { policyDocument, type AwsContext, type PolicyDocument } from "../core/iam";
import { roleName, ROLES } from "../core/names";
import type { WorkloadIdentity, WorkloadRole } from "../identity";

export const LBC_NAMESPACE = "kube-system";
export const LBC_SERVICE_ACCOUNT = "aws-load-balancer-controller";
const CLUSTER_TAG = "elbv2.k8s.aws/cluster";

export interface LoadBalancerControllerArgs {
  ctx: AwsContext;
  clusterName: string;
  identity: WorkloadIdentity;
  vpcId: pulumi.Input<string>;
  tags: Record<string, string>;
}

/**
 * What the AWS Load Balancer Controller needs, narrowed to this cluster: it may only change load balancers,
 * target groups and security groups that carry this cluster's tag, set that tag only while creating them (so
 * it cannot claim anything else, nor hand its own to another cluster), and open node security groups only in
 * this VPC. Describe calls stay on "*": AWS has no resource-level form for them. WAF and Shield integration
 * is off in the gitops/ template's values, so their permissions are not granted.
 */
export function loadBalancerControllerPolicy(p: {
  partition: string;
  region: string;
  accountId: string;
  clusterName: string;
  vpcId: string;
}): PolicyDocument {
  const elb = (r: string) => `arn:${p.partition}:elasticloadbalancing:${p.region}:${p.accountId}:${r}`;
  const ec2 = (r: string) => `arn:${p.partition}:ec2:${p.region}:${p.accountId}:${r}`;
  const balancers = [elb("loadbalancer/*"), elb("targetgroup/*/*")];
  const listeners = ["app", "net"].flatMap((kind) => [
    elb(`listener/${kind}/k8s-*/*/*`),
    elb(`listener-rule/${kind}/k8s-*/*/*/*`),
  ]);
  const securityGroups = ec2("security-group/*");
  const own = { StringEquals: { [`aws:ResourceTag/${CLUSTER_TAG}`]: p.clusterName } };
  const ownRequest = { StringEquals: { [`aws:RequestTag/${CLUSTER_TAG}`]: p.clusterName } };
  return policyDocument([
    {
      Sid: "Discovery",
      Effect: "Allow",
      Action: [
        "ec2:DescribeAccountAttributes",
        "ec2:DescribeAddresses",
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeInternetGateways",
        "ec2:DescribeVpcs",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeInstances",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeTags",
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeListenerAttributes",
        "elasticloadbalancing:DescribeListenerCertificates",
        "elasticloadbalancing:DescribeSSLPolicies",
        "elasticloadbalancing:DescribeRules",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
        "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:DescribeTags",
        "elasticloadbalancing:DescribeTrustStores",
        "elasticloadbalancing:DescribeCapacityReservation",
        "acm:ListCertificates",
        "iam:ListServerCertificates",
      ],
      Resource: "*",
    },
    {
      Sid: "Certificates",
      Effect: "Allow",
      Action: "acm:DescribeCertificate",
      Resource: `arn:${p.partition}:acm:${p.region}:${p.accountId}:certificate/*`,
    },
    {
      Sid: "ElbServiceLinkedRole",
      Effect: "Allow",
      Action: "iam:CreateServiceLinkedRole",
      Resource: `arn:${p.partition}:iam::${p.accountId}:role/aws-service-role/elasticloadbalancing.amazonaws.com/*`,
      Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } },
    },
    {
      Sid: "CreateSecurityGroupsInThisVpc",
      Effect: "Allow",
      Action: ["ec2:CreateSecurityGroup", "ec2:GetSecurityGroupsForVpc"],
      Resource: ec2(`vpc/${p.vpcId}`),
    },
    {
      Sid: "CreateOwnSecurityGroups",
      Effect: "Allow",
      Action: "ec2:CreateSecurityGroup",
      Resource: securityGroups,
      Condition: ownRequest,
    },
    {
      // Tags only as part of creating the group: otherwise tagging any group would make it "own".
      Sid: "TagSecurityGroupsAtCreation",
      Effect: "Allow",
      Action: "ec2:CreateTags",
      Resource: securityGroups,
      Condition: { StringEquals: { ...ownRequest.StringEquals, "ec2:CreateAction": "CreateSecurityGroup" } },
    },
    {
      Sid: "ManageOwnSecurityGroups",
      Effect: "Allow",
      Action: [
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:DeleteSecurityGroup",
      ],
      Resource: securityGroups,
      Condition: own,
    },
    {
      Sid: "RetagOwnSecurityGroupsButNotTheClusterTag",
      Effect: "Allow",
      Action: ["ec2:CreateTags", "ec2:DeleteTags"],
      Resource: securityGroups,
      Condition: { ...own, Null: { [`aws:RequestTag/${CLUSTER_TAG}`]: "true" } },
    },
    {
      // Node security groups are not the controller's, but it must let load balancer traffic reach the nodes.
      Sid: "OpenNodeSecurityGroupsInThisVpc",
      Effect: "Allow",
      Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
      Resource: securityGroups,
      Condition: { ArnEquals: { "ec2:Vpc": ec2(`vpc/${p.vpcId}`) } },
    },
    {
      Sid: "CreateOwnLoadBalancers",
      Effect: "Allow",
      Action: ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
      Resource: balancers,
      Condition: ownRequest,
    },
    {
      Sid: "TagLoadBalancersAtCreation",
      Effect: "Allow",
      Action: "elasticloadbalancing:AddTags",
      Resource: balancers,
      Condition: {
        StringEquals: {
          ...ownRequest.StringEquals,
          "elasticloadbalancing:CreateAction": ["CreateLoadBalancer", "CreateTargetGroup"],
        },
      },
    },
    {
      Sid: "ManageOwnLoadBalancers",
      Effect: "Allow",
      Action: [
        "elasticloadbalancing:ModifyLoadBalancerAttributes",
        "elasticloadbalancing:SetIpAddressType",
        "elasticloadbalancing:SetSecurityGroups",
        "elasticloadbalancing:SetSubnets",
        "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:ModifyTargetGroup",
        "elasticloadbalancing:ModifyTargetGroupAttributes",
        "elasticloadbalancing:RegisterTargets",
        "elasticloadbalancing:DeregisterTargets",
        "elasticloadbalancing:DeleteTargetGroup",
        "elasticloadbalancing:CreateListener",
      ],
      Resource: balancers,
      Condition: own,
    },
    {
      Sid: "RetagOwnLoadBalancersButNotTheClusterTag",
      Effect: "Allow",
      Action: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
      Resource: balancers,
      Condition: { ...own, Null: { [`aws:RequestTag/${CLUSTER_TAG}`]: "true" } },
    },
    {
      // Listeners and rules do not reliably carry the cluster tag, so they are scoped by the name prefix the
      // controller gives its load balancers (k8s-). Another cluster's controller in this account shares the
      // prefix: run one environment per account where that matters.
      Sid: "ManageListenersAndRulesOfControllerLoadBalancers",
      Effect: "Allow",
      Action: [
        "elasticloadbalancing:CreateRule",
        "elasticloadbalancing:DeleteRule",
        "elasticloadbalancing:ModifyRule",
        "elasticloadbalancing:SetRulePriorities",
        "elasticloadbalancing:ModifyListener",
        "elasticloadbalancing:ModifyListenerAttributes",
        "elasticloadbalancing:DeleteListener",
        "elasticloadbalancing:AddListenerCertificates",
        "elasticloadbalancing:RemoveListenerCertificates",
      ],
      Resource: listeners,
    },
  ]);
}

/**
 * The AWS side of the AWS Load Balancer Controller, which the GitOps repository installs where the cluster does
 * not balance load itself (node groups; Auto Mode runs its own).
 */
export class LoadBalancerController extends pulumi.ComponentResource {
  readonly role: WorkloadRole;

  constructor(name: string, args: LoadBalancerControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gitops-platform:index:LoadBalancerController", name, {}, opts);
    const { ctx } = args;
    this.role = args.identity.role(
      name,
      {
        roleName: roleName(args.clusterName, ROLES.loadBalancerController),
        namespace: LBC_NAMESPACE,
        serviceAccount: LBC_SERVICE_ACCOUNT,
        policy: pulumi
          .all([ctx.partition, ctx.accountId, args.vpcId])
          .apply(([partition, accountId, vpcId]) =>
            loadBalancerControllerPolicy({
              partition,
              accountId,
              vpcId,
              region: ctx.region,
              clusterName: args.clusterName,
            }),
          ),
        tags: args.tags,
      },
      { parent: this },
    );
    this.registerOutputs({ roleArn: this.role.arn });
  }
}

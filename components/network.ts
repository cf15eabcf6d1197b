import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { NetworkConfig } from "../config";
import { policyDocument, policyJson, type AwsContext } from "../core/iam";

export interface NetworkArgs {
  ctx: AwsContext;
  config: NetworkConfig;
  /** The EKS cluster name, for the subnet tags load balancer discovery reads. */
  clusterName: string;
  flowLogGroupName: string;
  kmsKeyArn: pulumi.Input<string>;
  tags: Record<string, string>;
}

/** VPC with public and private subnets per zone, NAT, flow logs, and a default security group that allows nothing. */
export class Network extends pulumi.ComponentResource {
  readonly vpc: aws.ec2.Vpc;
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly publicSubnetIds: pulumi.Output<string>[];
  /** Everything a load balancer needs to exist and be deleted cleanly: subnets, routes, NAT, gateways. */
  readonly dependencies: pulumi.Resource[] = [];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gitops-platform:index:Network", name, {}, opts);
    const { config: c, tags } = args;
    const parent = { parent: this };
    const named = (n: string) => ({ ...tags, Name: n });

    this.vpc = new aws.ec2.Vpc(
      name,
      { cidrBlock: c.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: named(name) },
      parent,
    );
    // Adopting the default security group with no rules removes the allow-all-within-group default.
    new aws.ec2.DefaultSecurityGroup(
      name,
      { vpcId: this.vpc.id, tags: named(`${name}-default-deny`) },
      parent,
    );

    const igw = new aws.ec2.InternetGateway(name, { vpcId: this.vpc.id, tags: named(name) }, parent);
    const publicRoutes = new aws.ec2.RouteTable(
      `${name}-public`,
      {
        vpcId: this.vpc.id,
        routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
        tags: named(`${name}-public`),
      },
      parent,
    );
    this.dependencies.push(igw, publicRoutes);

    const clusterTag = { [`kubernetes.io/cluster/${args.clusterName}`]: "shared" };
    const publicSubnets = c.availabilityZones.map((az, i) => {
      const subnet = new aws.ec2.Subnet(
        `${name}-public-${az}`,
        {
          vpcId: this.vpc.id,
          availabilityZone: az,
          cidrBlock: c.publicSubnetCidrs[i],
          mapPublicIpOnLaunch: false,
          tags: { ...named(`${name}-public-${az}`), ...clusterTag, "kubernetes.io/role/elb": "1" },
        },
        parent,
      );
      const assoc = new aws.ec2.RouteTableAssociation(
        `${name}-public-${az}`,
        { subnetId: subnet.id, routeTableId: publicRoutes.id },
        parent,
      );
      this.dependencies.push(subnet, assoc);
      return subnet;
    });

    const natZones = c.natGateways === "perAz" ? c.availabilityZones : c.availabilityZones.slice(0, 1);
    const nats = natZones.map((az, i) => {
      const eip = new aws.ec2.Eip(
        `${name}-nat-${az}`,
        { domain: "vpc", tags: named(`${name}-nat-${az}`) },
        parent,
      );
      const nat = new aws.ec2.NatGateway(
        `${name}-${az}`,
        { allocationId: eip.id, subnetId: publicSubnets[i].id, tags: named(`${name}-${az}`) },
        { parent: this, dependsOn: [igw] },
      );
      this.dependencies.push(eip, nat);
      return nat;
    });

    const privateSubnets = c.availabilityZones.map((az, i) => {
      const subnet = new aws.ec2.Subnet(
        `${name}-private-${az}`,
        {
          vpcId: this.vpc.id,
          availabilityZone: az,
          cidrBlock: c.privateSubnetCidrs[i],
          mapPublicIpOnLaunch: false,
          tags: { ...named(`${name}-private-${az}`), ...clusterTag, "kubernetes.io/role/internal-elb": "1" },
        },
        parent,
      );
      const routes = new aws.ec2.RouteTable(
        `${name}-private-${az}`,
        {
          vpcId: this.vpc.id,
          routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nats[Math.min(i, nats.length - 1)].id }],
          tags: named(`${name}-private-${az}`),
        },
        parent,
      );
      const assoc = new aws.ec2.RouteTableAssociation(
        `${name}-private-${az}`,
        { subnetId: subnet.id, routeTableId: routes.id },
        parent,
      );
      this.dependencies.push(subnet, routes, assoc);
      return subnet;
    });

    this.createFlowLogs(name, args);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.registerOutputs({
      vpcId: this.vpc.id,
      privateSubnetIds: this.privateSubnetIds,
      publicSubnetIds: this.publicSubnetIds,
    });
  }

  private createFlowLogs(name: string, args: NetworkArgs): void {
    const parent = { parent: this };
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      {
        name: args.flowLogGroupName,
        retentionInDays: args.config.flowLogRetentionDays,
        kmsKeyId: args.kmsKeyArn,
        tags: args.tags,
      },
      parent,
    );
    const role = new aws.iam.Role(
      `${name}-flow-logs`,
      {
        assumeRolePolicy: policyJson(
          pulumi.output(args.ctx.accountId).apply((account) =>
            policyDocument([
              {
                Effect: "Allow",
                Principal: { Service: "vpc-flow-logs.amazonaws.com" },
                Action: "sts:AssumeRole",
                Condition: { StringEquals: { "aws:SourceAccount": account } },
              },
            ]),
          ),
        ),
        tags: args.tags,
      },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-flow-logs`,
      {
        role: role.id,
        policy: policyJson(
          logGroup.arn.apply((arn) =>
            policyDocument([
              {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                Resource: [arn, `${arn}:*`],
              },
            ]),
          ),
        ),
      },
      parent,
    );
    new aws.ec2.FlowLog(
      name,
      {
        vpcId: this.vpc.id,
        trafficType: "ALL",
        logDestinationType: "cloud-watch-logs",
        logDestination: logGroup.arn,
        iamRoleArn: role.arn,
        maxAggregationInterval: 60,
        tags: args.tags,
      },
      parent,
    );
  }
}

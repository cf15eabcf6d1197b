// Entry point: read and validate the stack's config, compose the platform's components, export outputs.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { rawNamespace, resolveConfig } from "./config";
import { Cluster } from "./components/cluster";
import { baseTags, roleArn, roleName, type AwsContext } from "./components/common";
import { ExternalSecrets, externalSecretsRoleName } from "./components/externalSecrets";
import { PlatformKey, type KeyUse } from "./components/kms";
import { Network } from "./components/network";

const all = pulumi.runtime.allConfig();
const cfg = resolveConfig(rawNamespace(all), all["aws:region"]);

const ctx: AwsContext = {
  accountId: aws.getCallerIdentityOutput().accountId,
  partition: aws.getPartitionOutput().partition,
  region: cfg.region,
};
const tags = baseTags(cfg.environment, cfg.tags);
const logGroups = {
  controlPlane: `/aws/eks/${cfg.name}/cluster`,
  flowLogs: `/aws/vpc/${cfg.name}/flow-logs`,
};
const prod = cfg.environment === "prod";

// Every workload role that may use the key, named before it exists; see components/kms.ts.
const workloadKeyUses: KeyUse[] = [];
if (cfg.externalSecrets.enabled) {
  workloadKeyUses.push({
    sid: "ExternalSecretsDecryptViaSecretsManagerAndSsm",
    roleArns: [roleArn(ctx, externalSecretsRoleName(cfg.name))],
    actions: ["kms:Decrypt"],
    viaServices: ["secretsmanager", "ssm"],
  });
}

const key = new PlatformKey(cfg.name, {
  ctx,
  alias: cfg.name,
  deletionWindowDays: cfg.kms.deletionWindowDays,
  multiRegion: cfg.kms.multiRegion,
  existingKeyArn: cfg.kms.existingKeyArn,
  adminRoleArns: cfg.access.adminRoleArns,
  secretWriterRoleArns: cfg.access.deployerRoleArns,
  logGroupNames: Object.values(logGroups),
  uses: [
    {
      sid: "EksClusterSecretsEncryption",
      roleArns: [roleArn(ctx, roleName(cfg.name, "cluster"))],
      actions: ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey", "kms:CreateGrant"],
    },
    {
      // Managed node groups launch through the Auto Scaling service-linked role, which encrypts root volumes.
      sid: "NodeVolumesViaEc2",
      roleArns: [
        pulumi.interpolate`arn:${ctx.partition}:iam::${ctx.accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
      ],
      actions: [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:DescribeKey",
        "kms:CreateGrant",
      ],
      viaServices: ["ec2"],
    },
    ...workloadKeyUses,
  ],
  retain: prod,
  tags,
});

const network = new Network(cfg.name, {
  ctx,
  config: cfg.network,
  clusterName: cfg.name,
  flowLogGroupName: logGroups.flowLogs,
  kmsKeyArn: key.keyArn,
  tags,
});

const cluster = new Cluster(cfg.name, {
  ctx,
  clusterName: cfg.name,
  config: cfg.cluster,
  nodeGroups: cfg.nodeGroups,
  access: cfg.access,
  privateSubnetIds: network.privateSubnetIds,
  logGroupName: logGroups.controlPlane,
  kmsKeyArn: key.keyArn,
  tags,
});

const externalSecrets = cfg.externalSecrets.enabled
  ? new ExternalSecrets("external-secrets", {
      ctx,
      environment: cfg.environment,
      clusterName: cfg.name,
      config: cfg.externalSecrets,
      oidc: cluster.oidc,
      kmsKeyArn: key.keyArn,
      provider: cluster.provider,
      clusterReady: cluster.ready,
      extraSeedSecrets: [],
      tags,
    })
  : undefined;

export const environment = cfg.environment;
export const clusterName = cluster.cluster.name;
export const clusterEndpoint = cluster.cluster.endpoint;
export const oidcIssuer = cluster.oidc.issuerHost;
export const oidcProviderArn = cluster.oidc.providerArn;
export const kmsKeyArn = key.keyArn;
export const vpcId = network.vpc.id;
export const privateSubnetIds = network.privateSubnetIds;
export const publicSubnetIds = network.publicSubnetIds;
export const kubeconfig = cluster.kubeconfig;
export const externalSecretsRoleArn = externalSecrets?.role.arn;
export const secretsPrefix = cfg.externalSecrets.prefix;

// Entry point: read and validate the stack's config, compose the platform's components, export outputs.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { newerDefaultsNotice, resolveStackConfig } from "./config";
import { Cluster } from "./components/cluster";
import { ExternalSecrets } from "./components/externalSecrets";
import { PlatformKey, platformKeyUses } from "./components/kms";
import {
  LBC_NAMESPACE,
  LBC_SERVICE_ACCOUNT,
  LoadBalancerController,
} from "./components/loadBalancerController";
import { Network } from "./components/network";
import { chooseCompute } from "./compute";
import { bridgeMetadata, type AddonIdentity } from "./core/bridge";
import type { AwsContext } from "./core/iam";
import { baseTags, platformLogGroups } from "./core/names";
import { programSeedSecrets } from "./core/secrets";
import { ENGINE_DEFINITIONS } from "./engines";
import { topologyOf } from "./topology";

const all = pulumi.runtime.allConfig();
const cfg = resolveStackConfig(all);
const notice = newerDefaultsNotice(all, cfg);
if (notice) void pulumi.log.info(notice);

const ctx: AwsContext = {
  accountId: aws.getCallerIdentityOutput().accountId,
  partition: aws.getPartitionOutput().partition,
  region: cfg.region,
};
const tags = baseTags(cfg.environment, cfg.tags);
const logGroups = platformLogGroups(cfg.name);
const prod = cfg.environment === "prod";
const gitopsEngineDefinition = ENGINE_DEFINITIONS[cfg.gitops.engine];
const workloads = {
  externalSecrets: cfg.externalSecrets.enabled,
  engine: (c: AwsContext, name: string) => gitopsEngineDefinition.keyUses(c, name, cfg.gitops),
};
const compute = chooseCompute(cfg);

const key = new PlatformKey(cfg.name, {
  ctx,
  alias: cfg.name,
  deletionWindowDays: cfg.kms.deletionWindowDays,
  multiRegion: cfg.kms.multiRegion,
  existingKeyArn: cfg.kms.existingKeyArn,
  adminRoleArns: cfg.access.adminRoleArns,
  secretWriterRoleArns: cfg.access.secretWriterRoleArns,
  deployerRoleArns: cfg.access.deployerRoleArns,
  logGroupNames: Object.values(logGroups),
  uses: platformKeyUses(ctx, cfg.name, workloads, compute.keyUses(ctx, cfg.name)),
  // The standby environment has its own name, so its own roles and log groups: see docs/disaster-recovery.md.
  replica: cfg.dr && {
    region: cfg.dr.standbyRegion,
    logGroupNames: Object.values(platformLogGroups(cfg.dr.standbyName)),
    uses: platformKeyUses(ctx, cfg.dr.standbyName, workloads, compute.keyUses(ctx, cfg.dr.standbyName)),
  },
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
  environment: cfg.environment,
  config: cfg.cluster,
  compute,
  identity: cfg.identity,
  access: cfg.access,
  privateSubnetIds: network.privateSubnetIds,
  networkReady: network.dependencies,
  logGroupName: logGroups.controlPlane,
  kmsKeyArn: key.keyArn,
  tags,
});
const identity = cluster.identity;

const externalSecrets = cfg.externalSecrets.enabled
  ? new ExternalSecrets("external-secrets", {
      ctx,
      environment: cfg.environment,
      clusterName: cfg.name,
      config: cfg.externalSecrets,
      identity,
      kmsKeyArn: key.keyArn,
      provider: cluster.provider,
      clusterReady: cluster.ready,
      extraSeedSecrets: programSeedSecrets({
        privateRepository: cfg.gitops.private,
        sso: cfg.gitops.argocd.sso !== undefined,
        alertDestinations: cfg.alerts.destinations.map((d) => d.name),
      }).filter((name) => !cfg.externalSecrets.seedSecrets.includes(name)),
      replicaRegion: cfg.dr &&
        key.replicaKeyArn && { region: cfg.dr.standbyRegion, kmsKeyArn: key.replicaKeyArn },
      tags,
    })
  : undefined;

const loadBalancerController = compute.selfManagedLoadBalancing
  ? new LoadBalancerController("aws-load-balancer-controller", {
      ctx,
      clusterName: cfg.name,
      identity,
      vpcId: network.vpc.id,
      tags,
    })
  : undefined;

const addons: Record<string, AddonIdentity> = {};
if (loadBalancerController) {
  addons.aws_load_balancer_controller = {
    roleArn: loadBalancerController.role.arn,
    roleAnnotation: loadBalancerController.role.roleAnnotation,
    namespace: LBC_NAMESPACE,
    serviceAccount: LBC_SERVICE_ACCOUNT,
  };
}
if (externalSecrets) {
  addons.external_secrets = {
    roleArn: externalSecrets.role.arn,
    roleAnnotation: externalSecrets.role.roleAnnotation,
    namespace: externalSecrets.namespace,
    serviceAccount: externalSecrets.serviceAccount,
  };
}
const bridge = bridgeMetadata({
  clusterName: cfg.name,
  environment: cfg.environment,
  region: cfg.region,
  accountId: ctx.accountId,
  vpcId: network.vpc.id,
  repoUrl: cfg.gitops.repoUrl,
  revision: cfg.gitops.targetRevision,
  path: cfg.gitops.path,
  secretsPrefix: cfg.externalSecrets.prefix,
  addons,
  enable: { aws_load_balancer_controller: loadBalancerController !== undefined },
});

// Single cluster, fleet hub or fleet spoke: the one place the topology is chosen.
const topology = topologyOf(cfg)({
  cfg,
  ctx,
  tags,
  cluster,
  network,
  identity,
  kmsKeyArn: key.keyArn,
  externalSecrets,
  addonRoles: [
    ...(loadBalancerController ? [loadBalancerController] : []),
    ...(externalSecrets ? externalSecrets.role.ready : []),
  ],
  bridge,
});

export const environment = cfg.environment;
export const clusterName = cluster.cluster.name;
export const clusterEndpoint = cluster.cluster.endpoint;
export const computeMode = cfg.cluster.compute;
export const identityMode = cfg.identity;
export const kmsKeyArn = key.keyArn;
export const vpcId = network.vpc.id;
export const privateSubnetIds = network.privateSubnetIds;
export const publicSubnetIds = network.publicSubnetIds;
export const kubeconfig = cluster.kubeconfig;
export const externalSecretsRoleArn = externalSecrets?.role.arn;
export const secretsPrefix = cfg.externalSecrets.prefix;
export const gitopsEngine = cfg.gitops.engine;
export const gitopsRoot = {
  repoUrl: cfg.gitops.repoUrl,
  targetRevision: cfg.gitops.targetRevision,
  path: cfg.gitops.path,
};
export const loadBalancerControllerRoleArn = loadBalancerController?.role.arn;
export const gitopsNamespace = topology.gitopsNamespace;
export const fluxDecryptRoleArn = topology.fluxDecryptRoleArn;
export const argocdCapabilityRoleArn = topology.argocdCapabilityRoleArn;
export const argocdServerUrl = topology.argocdServerUrl;
/** A hub: what its spokes read (`fleetHub`). A spoke: where it is registered (`fleetSpoke`). */
export const fleetHub = cfg.fleet?.role === "hub" ? topology.fleet : undefined;
export const fleetSpoke = cfg.fleet?.role === "spoke" ? topology.fleet : undefined;
export const bridgeMetadataKeys = bridge.apply((b) => Object.keys(b).sort());
export const kmsReplicaKeyArn = key.replicaKeyArn;
// Last: the OIDC provider exists only if some role above asked for IRSA.
export const oidcIssuer = cluster.oidc.created?.issuerHost;
export const oidcProviderArn = cluster.oidc.created?.providerArn;

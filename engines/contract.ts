// The contract between the program and a GitOps engine: what every engine is given, what it gives back, and, for
// an engine that can run a fleet's hub, how a spoke registers with it. One folder per engine implements it
// (engines/<name>/); engines/index.ts chooses one from config.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { AlertsConfig, GitOpsConfig } from "../config";
import type { EngineSecrets } from "../core/bridge";
import type { K8sObject } from "../core/helm";
import type { AwsContext } from "../core/iam";
import type { KeyUse } from "../core/key-uses";
import type { Environment } from "../core/project";
import type { WorkloadIdentity } from "../identity";

/** What a fleet's hub asks of its engine beyond a single cluster's (topology/hub.ts). */
export interface HubArgs {
  /** The role spokes admit, for an engine that runs on the hub's nodes (the managed one has its own). */
  roleName: string;
  /** Bridge keys the hub's own cluster Secret carries as labels: none an ApplicationSet selects workloads by. */
  inClusterLabelKeys: readonly string[];
  /** Where the hub's own project may deploy on the hub. */
  localScope: { namespaces: string[]; clusterResources: boolean };
  /** The per-environment projects the spokes' Applications belong to. */
  objects: K8sObject[];
}

export interface EngineArgs {
  ctx: AwsContext;
  environment: Environment;
  /** Physical names (roles) derive from it, so the key policy can name them before they exist. */
  clusterName: string;
  cluster: { name: pulumi.Output<string>; arn: pulumi.Output<string> };
  config: GitOpsConfig;
  /** Where failed syncs, degraded apps and drift are sent (engines/alerts.ts). */
  alerts: AlertsConfig;
  secretsPrefix: string;
  /** The metadata the GitOps repository reads (core/bridge.ts). */
  bridge: pulumi.Output<Record<string, string>>;
  /** How the engine's pods get AWS roles (identity/). */
  identity: WorkloadIdentity;
  kmsKeyArn: pulumi.Input<string>;
  provider: k8s.Provider;
  /** Nodes, add-ons and access entries: what the engine's own objects and the apps it syncs need. */
  clusterReady: pulumi.Input<pulumi.Resource>[];
  /** External Secrets' operator and stores, when installed: the repository's apps read their secrets through them. */
  externalSecrets?: EngineSecrets;
  /** Secrets Manager entries this stack created, by name under the prefix; none when it adopts existing ones. */
  seedSecretArns: Record<string, pulumi.Output<string>>;
  tags: Record<string, string>;
  /** Set on a fleet's hub only. */
  hub?: HubArgs;
}

/** Stack outputs an engine may add; index.ts exports each under this name. */
export interface EngineOutputs {
  fluxDecryptRoleArn?: pulumi.Output<string>;
  argocdCapabilityRoleArn?: pulumi.Output<string>;
  argocdServerUrl?: pulumi.Output<string | undefined>;
}

export interface GitOpsEngine {
  /** Where the engine's own objects (root app, cluster Secret or bridge ConfigMap) live. */
  namespace: string;
  /** The root objects (bootstrap release): on destroy they go first, while the engine still runs. */
  root: k8s.helm.v3.Release;
  /** What carries the bridge metadata: Argo CD's cluster Secret or Flux's ConfigMap. */
  bridge: pulumi.Resource;
  outputs: EngineOutputs;
  /** On a hub: the role every spoke's access entry names. */
  fleetRoleArn?: pulumi.Output<string>;
}

/** A spoke as the hub's Argo CD must know it. */
export interface SpokeCluster {
  name: string;
  /** The hub's AppProject the spoke's Applications belong to: its environment's. */
  project: string;
  arn: string;
  endpoint: string;
  caData: string;
}

/** What an engine that can be a fleet's hub tells a spoke registering with it (topology/spoke.ts). */
export interface HubEngineDefinition {
  /** `stringData` of the spoke's cluster Secret on the hub: how this Argo CD reaches the spoke. */
  clusterSecretData(spoke: SpokeCluster): Record<string, string>;
  /** Whether it calls a spoke's API from the hub's VPC, which the spoke's cluster security group must admit. */
  connectsFromHubVpc: boolean;
}

export interface EngineDefinition {
  /** The engine's uses of the platform key, by the role names it will create (the key exists first). */
  keyUses(ctx: AwsContext, platformName: string, config: GitOpsConfig): KeyUse[];
  create(name: string, args: EngineArgs): GitOpsEngine;
  /** Defined exactly by the engines core/engines.ts says can run a fleet's hub. */
  hub?: HubEngineDefinition;
}

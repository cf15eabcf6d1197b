// The contract between index.ts and a GitOps engine: what every engine is given, and what index.ts reads back.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { AlertsConfig, Environment, GitOpsConfig } from "../config";
import type { EngineSecrets } from "../components/bridge";
import type { AwsContext } from "../components/common";
import type { HubEngineDefinition } from "../components/fleet";
import type { K8sObject } from "../components/helm";
import type { KeyUse } from "../components/kms";
import type { WorkloadIdentity } from "../identity";

/** What a fleet's hub asks of its engine beyond a single cluster's (topology/hub.ts). */
export interface HubArgs {
  /** How an engine running on the hub's nodes gets the AWS role spokes admit (the managed one has its own). */
  identity: WorkloadIdentity;
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
  /** Where failed syncs, degraded apps and drift are sent (components/alerts/). */
  alerts: AlertsConfig;
  secretsPrefix: string;
  /** The metadata the GitOps repository reads (components/bridge.ts). */
  bridge: pulumi.Output<Record<string, string>>;
  /** IRSA in every identity mode (Flux's SOPS decryption exchanges service account tokens: components/flux.ts). */
  irsa: WorkloadIdentity;
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

export interface EngineDefinition {
  /** The engine's uses of the platform key, by the role names it will create (the key exists first). */
  keyUses(ctx: AwsContext, platformName: string, config: GitOpsConfig): KeyUse[];
  create(name: string, args: EngineArgs): GitOpsEngine;
  /** Engines that can run a fleet's hub (config HUB_ENGINES). */
  hub?: HubEngineDefinition;
}

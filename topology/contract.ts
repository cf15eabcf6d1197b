// The topology axis: how a stack's cluster relates to a GitOps engine. One file per choice, chosen once from
// config (`fleet.role`, absent for a single cluster) by topology/index.ts.
import type * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../config";
import type { Cluster } from "../components/cluster";
import type { ExternalSecrets } from "../components/externalSecrets";
import type { Network } from "../components/network";
import type { AwsContext } from "../core/iam";
import type { EngineOutputs } from "../engines";
import type { WorkloadIdentity } from "../identity";

/** What every topology is given: the foundation the stack has built, and its bridge metadata. */
export interface TopologyInputs {
  cfg: PlatformConfig;
  ctx: AwsContext;
  tags: Record<string, string>;
  cluster: Cluster;
  network: Network;
  /** How pods get AWS roles (identity/): the hub's Argo CD gets its role through it. */
  identity: WorkloadIdentity;
  kmsKeyArn: pulumi.Output<string>;
  externalSecrets?: ExternalSecrets;
  /** Add-on roles and the like the bridge names: on destroy they must outlive the apps that use them. */
  addonRoles: pulumi.Resource[];
  bridge: pulumi.Output<Record<string, string>>;
}

/** The stack outputs a topology adds: its engine's (engines/), if it runs one. */
export interface TopologyOutputs extends EngineOutputs {
  gitopsNamespace?: string;
  /** A hub: what its spokes read (topology/fleet-hub.ts FleetHubOutputs). A spoke: its registration. */
  fleet?: pulumi.Output<unknown>;
}

export type Topology = (inputs: TopologyInputs) => TopologyOutputs;

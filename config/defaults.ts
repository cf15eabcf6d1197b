// Everything that differs between environments, on purpose, and the one place defaults are merged under a stack's
// values. The rest of the defaults is the same everywhere.
import { ENGINE_FACTS } from "../core/engines";
import { ARGOCD_TEMPLATE_CHART_REPOS, CHARTS } from "../core/pins";
import type { Environment } from "../core/project";
import { K8S_VERSION, type AutoModeCapacityType, type ComputeMode } from "./sections/cluster";
import type { PlatformConfig } from "./schema";

type NodeGroupDefaults = Omit<PlatformConfig["nodeGroups"][string], "architecture">;
type SyncDefaults = Omit<PlatformConfig["gitops"]["sync"], "windows"> & { windows: [] };
export type Defaults = {
  network: Omit<PlatformConfig["network"], "availabilityZones"> & { availabilityZones: string[] };
  kms: Omit<PlatformConfig["kms"], "existingKeyArn">;
  /** Add-ons come from defaultAddons (sections/cluster.ts): they depend on compute and identity. */
  cluster: Omit<PlatformConfig["cluster"], "addons">;
  identity: PlatformConfig["identity"];
  nodeGroups: Record<string, NodeGroupDefaults>;
  gitops: {
    engine: PlatformConfig["gitops"]["engine"];
    private: boolean;
    sync: SyncDefaults;
    argocd: Omit<PlatformConfig["gitops"]["argocd"], "sso">;
    flux: PlatformConfig["gitops"]["flux"];
  };
  externalSecrets: Omit<PlatformConfig["externalSecrets"], "prefix">;
  alerts: PlatformConfig["alerts"];
};

const PLATFORM_NAMESPACES = [
  ...new Set<string>(Object.values(ENGINE_FACTS).map((e) => e.namespace)),
  "external-secrets",
];
const NON_PROD_SYNC: SyncDefaults = {
  automated: true,
  prune: true,
  selfHeal: true,
  windows: [],
  retryLimit: 5,
  interval: "1m",
};
/** Prod is gated: no automated sync unless windows are configured; a pinned revision; slower reconciliation. */
const PROD_SYNC: SyncDefaults = {
  automated: false,
  prune: true,
  selfHeal: true,
  windows: [],
  retryLimit: 3,
  interval: "10m",
};

interface EnvironmentKnobs {
  vpcCidr: string;
  natGateways: "single" | "perAz";
  flowLogRetentionDays: number;
  deletionWindowDays: number;
  publicEndpoint: boolean;
  controlPlaneLogRetentionDays: number;
  compute: ComputeMode;
  autoModeCapacityTypes: AutoModeCapacityType[];
  nodes: NodeGroupDefaults;
  sync: SyncDefaults;
  argocdHa: boolean;
  externalSecretsReplicas: number;
}

function environmentDefaults(k: EnvironmentKnobs): Defaults {
  return {
    network: {
      vpcCidr: k.vpcCidr,
      availabilityZones: [],
      privateSubnetCidrs: [],
      publicSubnetCidrs: [],
      natGateways: k.natGateways,
      flowLogRetentionDays: k.flowLogRetentionDays,
    },
    kms: { deletionWindowDays: k.deletionWindowDays, multiRegion: false },
    cluster: {
      version: K8S_VERSION,
      endpointPublicAccess: k.publicEndpoint,
      publicAccessCidrs: [],
      logRetentionDays: k.controlPlaneLogRetentionDays,
      compute: k.compute,
      autoMode: { capacityTypes: k.autoModeCapacityTypes },
    },
    nodeGroups: { system: k.nodes },
    identity: "podIdentity",
    gitops: {
      engine: "argocd",
      private: false,
      sync: k.sync,
      argocd: {
        chartVersion: CHARTS.argoCd.version,
        ha: k.argocdHa,
        adminGroups: [],
        extraSourceRepos: ARGOCD_TEMPLATE_CHART_REPOS,
      },
      flux: { chartVersion: CHARTS.flux.version },
    },
    externalSecrets: {
      enabled: true,
      chartVersion: CHARTS.externalSecrets.version,
      namespace: "external-secrets",
      allowedNamespaces: PLATFORM_NAMESPACES,
      replicas: k.externalSecretsReplicas,
      seedSecrets: [],
      adoptSeedSecrets: false,
    },
    alerts: { destinations: [] },
  };
}

/** Per-environment defaults: dev is cheap, prod is highly available and gated. */
export const DEFAULTS: Record<Environment, Defaults> = {
  dev: environmentDefaults({
    vpcCidr: "10.10.0.0/16",
    natGateways: "single",
    flowLogRetentionDays: 14,
    deletionWindowDays: 7,
    publicEndpoint: true,
    controlPlaneLogRetentionDays: 30,
    compute: "autoMode",
    autoModeCapacityTypes: ["spot", "on-demand"],
    nodes: {
      instanceTypes: ["t3.large"],
      capacityType: "SPOT",
      minSize: 2,
      desiredSize: 2,
      maxSize: 4,
      diskSizeGiB: 40,
    },
    sync: NON_PROD_SYNC,
    argocdHa: false,
    externalSecretsReplicas: 1,
  }),
  staging: environmentDefaults({
    vpcCidr: "10.20.0.0/16",
    natGateways: "single",
    flowLogRetentionDays: 30,
    deletionWindowDays: 14,
    publicEndpoint: true,
    controlPlaneLogRetentionDays: 90,
    compute: "autoMode",
    autoModeCapacityTypes: ["on-demand"],
    nodes: {
      instanceTypes: ["m6i.large"],
      capacityType: "ON_DEMAND",
      minSize: 2,
      desiredSize: 3,
      maxSize: 6,
      diskSizeGiB: 50,
    },
    sync: NON_PROD_SYNC,
    argocdHa: false,
    externalSecretsReplicas: 2,
  }),
  prod: environmentDefaults({
    vpcCidr: "10.30.0.0/16",
    natGateways: "perAz",
    flowLogRetentionDays: 365,
    deletionWindowDays: 30,
    publicEndpoint: false,
    controlPlaneLogRetentionDays: 365,
    compute: "nodeGroups",
    autoModeCapacityTypes: ["on-demand"],
    nodes: {
      instanceTypes: ["m6i.xlarge"],
      capacityType: "ON_DEMAND",
      minSize: 3,
      desiredSize: 3,
      maxSize: 9,
      diskSizeGiB: 80,
    },
    sync: PROD_SYNC,
    argocdHa: true,
    externalSecretsReplicas: 2,
  }),
};

// Maps a stack's value replaces whole rather than merges into: a default node group or add-on can only be left out so.
const REPLACED = new Set(["nodeGroups", "cluster.addons"]);

function isPlain(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The stack's values over the defaults: objects merged key by key, lists, scalars and REPLACED maps replaced. */
export function withDefaults(defaults: unknown, raw: unknown, at = ""): unknown {
  if (raw === undefined) return defaults;
  if (!isPlain(defaults) || !isPlain(raw) || REPLACED.has(at)) return raw;
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(raw)) out[k] = withDefaults(defaults[k], v, at ? `${at}.${k}` : k);
  return out;
}

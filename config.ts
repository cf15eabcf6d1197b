// The one typed, validated configuration schema of the program. Every key of the `gitops-platform`
// namespace is declared here, merged over the per-environment defaults in one place (`resolveConfig`), and
// validated before any resource is created. Errors name the key path, the value and what is allowed.
import {
  contains,
  formatCidr,
  isAligned,
  isPrivate,
  overlaps,
  parseCidr,
  subnet,
  type Cidr,
} from "./components/cidr";
import { ARGOCD_TEMPLATE_CHART_REPOS, CHARTS } from "./pins";

export const PROJECT = "gitops-platform";
// The managed Argo CD watches one namespace for its Applications, chosen at creation; `argocd` keeps the
// gitops/ template's ApplicationSets (metadata.namespace: argocd) working unchanged.
export const ENGINE_NAMESPACE = { argocd: "argocd", flux: "flux-system", "eks-argocd": "argocd" } as const;
/** Secrets Manager entries (under the environment's prefix) the GitOps engine reads, when configured. */
export const GITOPS_SECRETS = { repository: "gitops/repository", argocdOidc: "argocd/oidc" } as const;
export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export const ENGINES = ["argocd", "flux", "eks-argocd"] as const;
/** The gitops/clusters/<env>/<dir> entry point each engine reads: both Argo CDs read the same template. */
export const ENGINE_TEMPLATE_DIR = { argocd: "argocd", flux: "flux", "eks-argocd": "argocd" } as const;
/** The managed Argo CD's built-in roles (EKS CreateCapability rbacRoleMappings[].role). */
export const EKS_ARGOCD_ROLES = ["ADMIN", "EDITOR", "VIEWER"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
export type Engine = (typeof ENGINES)[number];
/** Who runs the nodes: managed node groups the program defines, or EKS Auto Mode (compute/). */
export const COMPUTE_MODES = ["nodeGroups", "autoMode"] as const;
export type ComputeMode = (typeof COMPUTE_MODES)[number];
/** How a workload's pods get their AWS role (identity/). */
export const IDENTITY_MODES = ["podIdentity", "irsa"] as const;
export type IdentityMode = (typeof IDENTITY_MODES)[number];
/** Capacity types an Auto Mode node pool may launch (karpenter.sh/capacity-type values). */
export const AUTO_MODE_CAPACITY_TYPES = ["on-demand", "spot"] as const;
export type AutoModeCapacityType = (typeof AUTO_MODE_CAPACITY_TYPES)[number];

export interface NetworkConfig {
  vpcCidr: string;
  availabilityZones: string[];
  /** One per AZ, same order; derived from vpcCidr when omitted. */
  privateSubnetCidrs: string[];
  publicSubnetCidrs: string[];
  natGateways: "single" | "perAz";
  flowLogRetentionDays: number;
}

export interface KmsConfig {
  deletionWindowDays: number;
  /** Adopt this key instead of creating one (a DR rebuild reuses the key that encrypts the secrets). */
  existingKeyArn?: string;
  multiRegion: boolean;
}

export interface ClusterConfig {
  version: string;
  endpointPublicAccess: boolean;
  publicAccessCidrs: string[];
  logRetentionDays: number;
  addons: Record<string, string>;
  compute: ComputeMode;
  autoMode: AutoModeConfig;
}

/** EKS Auto Mode: the built-in pools (system, general-purpose) always; a platform pool when spot is admitted. */
export interface AutoModeConfig {
  /** Capacity the platform's own NodePool admits; ["on-demand"] needs no pool beyond the built-in ones. */
  capacityTypes: AutoModeCapacityType[];
}

export interface NodeGroupConfig {
  instanceTypes: string[];
  /** Derived from the instance types: Graviton families (m7g, c7gn, t4g, ...) run the arm64 AMI. */
  architecture: "x86_64" | "arm64";
  capacityType: "ON_DEMAND" | "SPOT";
  minSize: number;
  desiredSize: number;
  maxSize: number;
  diskSizeGiB: number;
}

export interface AccessConfig {
  /** Administer the cluster (EKS cluster admin) and the KMS key. */
  adminRoleArns: string[];
  /** Identities that run `pulumi up` (CI's deploy role): cluster admin, no KMS administration. */
  deployerRoleArns: string[];
  /** Read-only cluster access. */
  viewerRoleArns: string[];
  /** May write secret values (with the admins) through Secrets Manager / Parameter Store; no cluster access. */
  secretWriterRoleArns: string[];
}

/** An ArgoCD sync window on the platform AppProject (cron schedule, in the window's time zone). */
export interface SyncWindow {
  kind: "allow" | "deny";
  schedule: string;
  duration: string;
  timeZone: string;
  /** Let a person sync by hand while the window denies automated syncs. */
  manualSync: boolean;
}

export interface SyncConfig {
  /** ArgoCD: automated sync of the root app. Flux always reconciles; prod is gated by a pinned revision instead. */
  automated: boolean;
  prune: boolean;
  selfHeal: boolean;
  /** Required for automated sync in prod: the only times ArgoCD may sync on its own. */
  windows: SyncWindow[];
  /** Finite retries with exponential backoff. */
  retryLimit: number;
  /** How often Flux fetches the repository and reconciles the root Kustomization. */
  interval: string;
}

export interface ArgoCdConfig {
  chartVersion: string;
  /** redis-ha, two or more replicas of the stateless parts, PodDisruptionBudgets. */
  ha: boolean;
  /** OIDC single sign-on; the client secret comes from Secrets Manager `<prefix>/argocd/oidc`. */
  sso?: { issuer: string; clientId: string };
  /** SSO groups that get role:admin; everyone else is read-only. */
  adminGroups: string[];
  /** Helm repositories the platform project may deploy charts from, besides the GitOps repository itself. */
  extraSourceRepos: string[];
}

export interface FluxConfig {
  chartVersion: string;
}

/** IAM Identity Center users and groups (Identity Store ids) given one of the managed Argo CD's roles. */
export interface EksArgoCdRoleMapping {
  role: (typeof EKS_ARGOCD_ROLES)[number];
  groups: string[];
  users: string[];
}

/** The EKS Argo CD capability: sign-in through IAM Identity Center only, RBAC by role mapping. */
export interface EksArgoCdConfig {
  identityCenter: { instanceArn: string; region: string };
  rbac: EksArgoCdRoleMapping[];
}

export interface GitOpsConfig {
  engine: Engine;
  repoUrl: string;
  targetRevision: string;
  path: string;
  /** A private repository: credentials come from Secrets Manager `<prefix>/gitops/repository` via External Secrets. */
  private: boolean;
  sync: SyncConfig;
  argocd: ArgoCdConfig;
  flux: FluxConfig;
  /** Set exactly when engine is eks-argocd. */
  eksArgocd?: EksArgoCdConfig;
}

export interface ExternalSecretsConfig {
  enabled: boolean;
  chartVersion: string;
  namespace: string;
  /** Secrets Manager names and Parameter Store paths this environment may read: `<prefix>/...`. */
  prefix: string;
  /** Namespaces whose ExternalSecrets may use the cluster-wide stores. */
  allowedNamespaces: string[];
  replicas: number;
  /** Secrets Manager entries (names under the prefix) the stack creates empty, for a person to fill. */
  seedSecrets: string[];
  /** The seed secrets already exist (a rebuild): read them, create and manage nothing. */
  adoptSeedSecrets: boolean;
}

/** A standby region a prod environment can be rebuilt in (see docs/disaster-recovery.md). */
export interface DrConfig {
  standbyRegion: string;
  /** The name the rebuilt environment takes there; IAM is global, so it cannot reuse this one's role names. */
  standbyName: string;
}

export const FLEET_ROLES = ["hub", "spoke"] as const;
/** The Argo CD project a hub gives one environment's spokes (see topology/hub.ts). */
export interface FleetProject {
  /** Whether Applications of this environment may sync on their own; prod needs an allow window for that. */
  automated: boolean;
  windows: SyncWindow[];
}

/** A spoke the hub admits: the only identity that may register it, and the environment it may claim. */
export interface FleetSpoke {
  environment: Environment;
  deployerRoleArn: string;
}

/** A fleet of clusters: one hub Argo CD deploys to spokes that register themselves (README, "Fleet"). */
export type FleetConfig =
  | { role: "hub"; spokes: Record<string, FleetSpoke>; projects: Record<Environment, FleetProject> }
  | { role: "spoke"; hubStack: string };

export interface PlatformConfig {
  environment: Environment;
  /** Prefix of every physical name; also the EKS cluster name. */
  name: string;
  region: string;
  tags: Record<string, string>;
  network: NetworkConfig;
  kms: KmsConfig;
  cluster: ClusterConfig;
  /** Empty with cluster.compute autoMode. */
  nodeGroups: Record<string, NodeGroupConfig>;
  identity: IdentityMode;
  access: AccessConfig;
  gitops: GitOpsConfig;
  externalSecrets: ExternalSecretsConfig;
  dr?: DrConfig;
  /** Absent: a single cluster running its own engine. */
  fleet?: FleetConfig;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid ${PROJECT} stack configuration (${problems.length} problem${problems.length > 1 ? "s" : ""}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

type Json = unknown;
type Defaults = Omit<
  PlatformConfig,
  | "environment"
  | "name"
  | "region"
  | "tags"
  | "access"
  | "gitops"
  | "externalSecrets"
  | "nodeGroups"
  | "cluster"
> & {
  cluster: Omit<ClusterConfig, "addons">;
  nodeGroups: Record<string, Omit<NodeGroupConfig, "architecture">>;
  gitops: Omit<GitOpsConfig, "repoUrl" | "targetRevision" | "path" | "private" | "eksArgocd">;
  externalSecrets: Omit<ExternalSecretsConfig, "prefix">;
};

const PLATFORM_NAMESPACES = [...new Set<string>(Object.values(ENGINE_NAMESPACE)), "external-secrets"];
const NON_PROD_SYNC: SyncConfig = {
  automated: true,
  prune: true,
  selfHeal: true,
  windows: [],
  retryLimit: 5,
  interval: "1m",
};
/** Prod is gated: no automated sync unless windows are configured; a pinned revision; slower reconciliation. */
const PROD_SYNC: SyncConfig = {
  automated: false,
  prune: true,
  selfHeal: true,
  windows: [],
  retryLimit: 3,
  interval: "10m",
};

const K8S_VERSION = "1.34";
// EKS add-on builds for Kubernetes 1.34, pinned so a rebuild gets what was tested; bump with
// `aws eks describe-addon-versions --kubernetes-version 1.34`.
const ADDONS: Record<string, string> = {
  "vpc-cni": "v1.20.4-eksbuild.1",
  coredns: "v1.12.3-eksbuild.1",
  "kube-proxy": "v1.34.0-eksbuild.2",
};
/** Node groups with Pod Identity need the agent on every node; Auto Mode runs its own. */
const POD_IDENTITY_AGENT = { "eks-pod-identity-agent": "v1.3.9-eksbuild.3" };
// What Auto Mode runs itself: installing these as add-ons would fight it for the same objects.
const AUTO_MODE_BUILT_IN = [
  "vpc-cni",
  "coredns",
  "kube-proxy",
  "eks-pod-identity-agent",
  "aws-ebs-csi-driver",
];

/** Everything that differs between environments, on purpose; the rest of the defaults is the same everywhere. */
interface EnvironmentKnobs {
  vpcCidr: string;
  natGateways: NetworkConfig["natGateways"];
  flowLogRetentionDays: number;
  deletionWindowDays: number;
  publicEndpoint: boolean;
  controlPlaneLogRetentionDays: number;
  compute: ComputeMode;
  autoModeCapacityTypes: AutoModeCapacityType[];
  nodes: Omit<NodeGroupConfig, "architecture">;
  sync: SyncConfig;
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

// CloudWatch Logs accepts only these retention periods.
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
// The tags every resource carries (components/common.ts baseTags); the policy pack reads Environment.
const RESERVED_TAGS = ["Environment", "ManagedBy", "Project"];
const REGION_RE = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const ROLE_ARN_RE = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const KMS_ARN_RE = /^arn:aws(-[a-z]+)*:kms:([a-z0-9-]+):(\d{12}):key\/(mrk-[0-9a-f]{32}|[0-9a-f-]{36})$/;
const NAME_RE = /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/;
const INSTANCE_TYPE_RE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
// A Graviton family has a "g" after its generation digit: m7g, c7gn, t4g, im4gn, g5g (not g5, an x86 GPU).
const GRAVITON_RE = /^[a-z]+\d+[a-z]*g[a-z]*\./;
const CORE_ADDONS = ["vpc-cni", "coredns", "kube-proxy"];
// EKS add-ons this program knows how to order around the nodes; others are installed after them.
const EKS_ADDON_RE =
  /^(vpc-cni|coredns|kube-proxy|eks-pod-identity-agent|aws-ebs-csi-driver|aws-efs-csi-driver|snapshot-controller|aws-mountpoint-s3-csi-driver|amazon-cloudwatch-observability|eks-node-monitoring-agent|adot|aws-guardduty-agent|metrics-server)$/;
const ADDON_VERSION_RE = /^v\d+\.\d+\.\d+-eksbuild\.\d+$/;
/** A tag (v1.2.3, 1.2.3, v1.2.3-rc.1) or a full commit SHA: the only revisions prod accepts. */
export const PINNED_REVISION_RE = /^(v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?|[0-9a-f]{40})$/;

/** Validates one stack's raw `gitops-platform:*` config and merges it over the environment's defaults. */
export function resolveConfig(raw: Record<string, Json>, region: string | undefined): PlatformConfig {
  const v = new Validator();
  const allowedTop = [
    "environment",
    "name",
    "tags",
    "network",
    "kms",
    "cluster",
    "nodeGroups",
    "identity",
    "access",
    "gitops",
    "externalSecrets",
    "dr",
    "fleet",
  ];
  for (const key of Object.keys(raw)) {
    if (!allowedTop.includes(key))
      v.fail(key, raw[key], `is not a known key; allowed: ${allowedTop.join(", ")}`);
  }
  const environment = v.oneOf("environment", raw.environment, ENVIRONMENTS);
  if (!environment) throw new ConfigError(v.problems);
  const d = DEFAULTS[environment];
  const prod = environment === "prod";

  if (region === undefined || !REGION_RE.test(region)) {
    v.fail("aws:region", region, "must be set to an AWS region such as eu-west-1");
  }
  const name = v.string(
    "name",
    raw.name ?? `platform-${environment}`,
    NAME_RE,
    "3-32 lowercase letters, digits, '-'",
  );
  const tags = v.stringMap("tags", raw.tags ?? {});
  for (const [k, value] of Object.entries(tags)) {
    if (RESERVED_TAGS.includes(k))
      v.fail(`tags.${k}`, value, `is set by the program (${RESERVED_TAGS.join(", ")})`);
    if (k.toLowerCase().startsWith("aws:"))
      v.fail(`tags.${k}`, value, "must not start with aws: (reserved by AWS)");
  }

  const network = resolveNetwork(
    v,
    v.object("network", raw.network, d.network),
    d.network,
    region ?? "",
    prod,
  );

  const kmsRaw = v.object("kms", raw.kms, d.kms);
  const kms: KmsConfig = {
    deletionWindowDays: v.int("kms.deletionWindowDays", kmsRaw.deletionWindowDays, 7, 30),
    multiRegion: v.bool("kms.multiRegion", kmsRaw.multiRegion),
  };
  if (prod && kms.deletionWindowDays !== 30) {
    v.fail(
      "kms.deletionWindowDays",
      kms.deletionWindowDays,
      "must be 30 in prod: the longest window to undo a scheduled deletion",
    );
  }
  v.known("kms", kmsRaw, ["deletionWindowDays", "multiRegion", "existingKeyArn"]);
  if (kmsRaw.existingKeyArn !== undefined) {
    kms.existingKeyArn = v.string("kms.existingKeyArn", kmsRaw.existingKeyArn, KMS_ARN_RE, "a KMS key ARN");
    const keyRegion = KMS_ARN_RE.exec(kms.existingKeyArn)?.[2];
    if (keyRegion && keyRegion !== region) {
      v.fail(
        "kms.existingKeyArn",
        kms.existingKeyArn,
        `must be a key in ${region}: EKS and Secrets Manager use keys of their own region (for a standby region, the multi-Region replica there)`,
      );
    }
  }

  const clusterRaw = v.object("cluster", raw.cluster, d.cluster);
  const cluster: ClusterConfig = {
    version: v.string(
      "cluster.version",
      clusterRaw.version,
      /^1\.(3[0-9])$/,
      "a Kubernetes minor version 1.30-1.39",
    ),
    endpointPublicAccess: v.bool("cluster.endpointPublicAccess", clusterRaw.endpointPublicAccess),
    publicAccessCidrs: v.stringList("cluster.publicAccessCidrs", clusterRaw.publicAccessCidrs),
    logRetentionDays:
      v.oneOf("cluster.logRetentionDays", clusterRaw.logRetentionDays, LOG_RETENTION_DAYS) ?? 0,
    addons: {},
    compute: d.cluster.compute,
    autoMode: d.cluster.autoMode,
  };
  v.known("cluster", clusterRaw, [...Object.keys(d.cluster), "addons"]);
  const identity = v.oneOf("identity", raw.identity ?? d.identity, IDENTITY_MODES) ?? d.identity;
  Object.assign(cluster, resolveCompute(v, clusterRaw, d.cluster, prod, raw.nodeGroups));
  const autoMode = cluster.compute === "autoMode";
  // The stack's list replaces the defaults: an add-on can only be left out that way.
  const addonDefaults = autoMode
    ? {}
    : { ...ADDONS, ...(identity === "podIdentity" ? POD_IDENTITY_AGENT : {}) };
  const addons = v.object("cluster.addons", clusterRaw.addons ?? addonDefaults, {});
  const required = autoMode
    ? []
    : [...CORE_ADDONS, ...(identity === "podIdentity" ? Object.keys(POD_IDENTITY_AGENT) : [])];
  if (!required.every((a) => a in addons)) {
    v.fail(
      "cluster.addons",
      addons,
      `must include ${required.join(", ").replace(/, ([^,]*)$/, " and $1")}${identity === "podIdentity" ? " (identity podIdentity needs the agent on the nodes)" : ""}`,
    );
  }
  const builtIn = autoMode ? AUTO_MODE_BUILT_IN.filter((a) => a in addons) : [];
  if (builtIn.length > 0) {
    v.fail(
      "cluster.addons",
      addons,
      `must not include ${builtIn.join(", ")} with cluster.compute autoMode: Auto Mode runs them itself`,
    );
  }
  if (cluster.version !== K8S_VERSION && clusterRaw.addons === undefined && required.length > 0) {
    v.fail(
      "cluster.addons",
      addons,
      `must be set explicitly for cluster.version ${cluster.version}: the default pins are built for ${K8S_VERSION}`,
    );
  }
  for (const [addon, version] of Object.entries(addons)) {
    if (!EKS_ADDON_RE.test(addon)) {
      v.fail(
        `cluster.addons.${addon}`,
        version,
        "is not an EKS add-on name this program supports (see README)",
      );
    }
    cluster.addons[addon] = v.string(
      `cluster.addons.${addon}`,
      version,
      ADDON_VERSION_RE,
      "a pinned vX.Y.Z-eksbuild.N",
    );
  }
  if (cluster.endpointPublicAccess) {
    if (prod)
      v.fail("cluster.endpointPublicAccess", true, "must be false in prod: the API is reached privately");
    if (cluster.publicAccessCidrs.length === 0) {
      v.fail("cluster.publicAccessCidrs", [], "must list the CIDRs allowed to reach the public endpoint");
    }
    cluster.publicAccessCidrs.forEach((c, i) => {
      const parsed = parseCidr(c);
      const key = `cluster.publicAccessCidrs[${i}]`;
      if (!parsed || !isAligned(parsed)) v.fail(key, c, "must be an IPv4 CIDR such as 203.0.113.0/24");
      else if (parsed.prefix < 8)
        v.fail(key, c, "must not open the API endpoint to the world (prefix /8 or longer)");
    });
  }

  const nodeGroups = autoMode ? {} : resolveNodeGroups(v, raw.nodeGroups ?? d.nodeGroups, prod);

  const accessKeys: Array<keyof AccessConfig> = [
    "adminRoleArns",
    "deployerRoleArns",
    "viewerRoleArns",
    "secretWriterRoleArns",
  ];
  const accessRaw = v.object("access", raw.access, {});
  v.known("access", accessRaw, accessKeys);
  const roleList = (key: keyof AccessConfig) => {
    const list = v.stringList(`access.${key}`, accessRaw[key] ?? []);
    list.forEach((arn, i) => v.string(`access.${key}[${i}]`, arn, ROLE_ARN_RE, "an IAM role ARN"));
    return list;
  };
  const access = Object.fromEntries(accessKeys.map((k) => [k, roleList(k)])) as unknown as AccessConfig;
  // Each role gets one EKS access entry; EKS refuses a second one for the same principal.
  const entries = [...access.adminRoleArns, ...access.deployerRoleArns, ...access.viewerRoleArns];
  for (const arn of new Set(entries.filter((a, i) => entries.indexOf(a) !== i))) {
    v.fail("access", arn, "must list a role in only one of adminRoleArns, deployerRoleArns, viewerRoleArns");
  }
  if (access.adminRoleArns.length === 0) {
    v.fail(
      "access.adminRoleArns",
      [],
      "must name at least one role: the KMS key and cluster need an administrator",
    );
  }
  if (access.deployerRoleArns.length === 0) {
    v.fail(
      "access.deployerRoleArns",
      [],
      "must name the role(s) that run `pulumi up`: no one else gets implicit access",
    );
  }

  const fleetRole = isObject(raw.fleet) ? raw.fleet.role : undefined;
  const gitops = resolveGitOps(
    v,
    v.object("gitops", raw.gitops, {}),
    d.gitops,
    environment,
    region,
    fleetRole === "hub" ? "gitops/clusters/hub/argocd" : undefined,
  );
  const externalSecrets = resolveExternalSecrets(
    v,
    v.object("externalSecrets", raw.externalSecrets, d.externalSecrets),
    environment,
  );

  if (raw.dr !== undefined && !prod)
    v.fail("dr", raw.dr, "is for prod only: other environments are rebuilt from scratch");
  const dr =
    raw.dr === undefined || !prod
      ? undefined
      : resolveDr(v, v.object("dr", raw.dr, {}), { region, name, kms });
  // The managed Argo CD reads the repository's Secrets Manager entry itself: External Secrets only creates it.
  // (resolveGitOps refuses its gitops.argocd.sso.)
  const managed = gitops.engine === "eks-argocd";
  const needsSecrets = [
    gitops.private && "gitops.private",
    !managed && gitops.argocd.sso && "gitops.argocd.sso",
  ].filter(Boolean);
  if (needsSecrets.length > 0) {
    if (!externalSecrets.enabled) {
      v.fail(
        "externalSecrets.enabled",
        false,
        managed
          ? "must be true with gitops.private: the External Secrets component creates (and replicates) the Secrets Manager entry the capability reads"
          : `must be true with ${needsSecrets.join(" and ")}: those credentials come from Secrets Manager through External Secrets`,
      );
    }
    const ns = ENGINE_NAMESPACE[gitops.engine];
    if (!managed && !externalSecrets.allowedNamespaces.includes(ns)) {
      v.fail(
        "externalSecrets.allowedNamespaces",
        externalSecrets.allowedNamespaces,
        `must include ${ns}: the ${gitops.engine} credentials are read there`,
      );
    }
  }

  const fleet =
    raw.fleet === undefined
      ? undefined
      : resolveFleet(v, v.object("fleet", raw.fleet, {}), { name, region, access, gitops });

  if (v.problems.length > 0) throw new ConfigError(v.problems);
  return {
    environment,
    name,
    region: region as string,
    tags,
    network,
    kms,
    cluster,
    nodeGroups,
    identity,
    access,
    gitops,
    externalSecrets,
    ...(dr ? { dr } : {}),
    ...(fleet ? { fleet } : {}),
  };
}

function resolveNetwork(
  v: Validator,
  raw: Record<string, Json>,
  d: NetworkConfig,
  region: string,
  prod: boolean,
): NetworkConfig {
  const vpcCidr = v.string("network.vpcCidr", raw.vpcCidr, /./, "an IPv4 CIDR");
  const vpc = parseCidr(vpcCidr);
  if (!vpc || !isAligned(vpc)) {
    v.fail("network.vpcCidr", vpcCidr, "must be an IPv4 network CIDR such as 10.10.0.0/16");
  } else if (!isPrivate(vpc)) {
    v.fail(
      "network.vpcCidr",
      vpcCidr,
      "must be a private (RFC 1918) range: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
    );
  } else if (vpc.prefix < 16 || vpc.prefix > 24) {
    v.fail("network.vpcCidr", vpcCidr, "must have a prefix between /16 and /24 (AWS VPC limits)");
  }

  const azs = v.stringList("network.availabilityZones", raw.availabilityZones);
  const minAzs = prod ? 3 : 2;
  if (azs.length < minAzs) {
    v.fail(
      "network.availabilityZones",
      azs,
      `must list at least ${minAzs} availability zones${prod ? " in prod" : ""}`,
    );
  }
  if (new Set(azs).size !== azs.length) v.fail("network.availabilityZones", azs, "must not repeat a zone");
  azs.forEach((az, i) => {
    if (region && !new RegExp(`^${region}[a-z]$`).test(az)) {
      v.fail(`network.availabilityZones[${i}]`, az, `must be a zone of region ${region}, e.g. ${region}a`);
    }
  });

  const natGateways =
    v.oneOf("network.natGateways", raw.natGateways, ["single", "perAz"] as const) ?? d.natGateways;
  if (prod && natGateways !== "perAz") {
    v.fail(
      "network.natGateways",
      natGateways,
      "must be perAz in prod: one NAT gateway per zone survives a zone outage",
    );
  }

  const subnets = (
    key: "privateSubnetCidrs" | "publicSubnetCidrs",
    derive: (i: number) => Cidr,
  ): string[] => {
    const given = v.stringList(`network.${key}`, raw[key]);
    if (given.length === 0 && vpc) {
      if (azs.length > 3) v.fail(`network.${key}`, [], "must be given explicitly for more than 3 zones");
      return azs.map((_, i) => formatCidr(derive(i)));
    }
    if (given.length !== azs.length) {
      v.fail(`network.${key}`, given, `must list one CIDR per availability zone (${azs.length})`);
    }
    return given;
  };
  const privateSubnetCidrs = subnets("privateSubnetCidrs", (i) =>
    subnet(vpc as Cidr, (vpc as Cidr).prefix + 2, i),
  );
  // Public subnets only hold NAT gateways and load balancers: the last quarter of the VPC, split four ways.
  const publicSubnetCidrs = subnets("publicSubnetCidrs", (i) =>
    subnet(subnet(vpc as Cidr, (vpc as Cidr).prefix + 2, 3), (vpc as Cidr).prefix + 4, i),
  );

  if (vpc) {
    const seen: Array<{ key: string; cidr: Cidr; text: string }> = [];
    const check = (key: string, list: string[]) =>
      list.forEach((text, i) => {
        const k = `network.${key}[${i}]`;
        const c = parseCidr(text);
        if (!c || !isAligned(c)) return v.fail(k, text, "must be an IPv4 network CIDR");
        if (c.prefix > 28) return v.fail(k, text, "must be /28 or larger (AWS minimum subnet size)");
        if (!contains(vpc, c)) return v.fail(k, text, `must lie inside network.vpcCidr ${vpcCidr}`);
        const clash = seen.find((s) => overlaps(s.cidr, c));
        if (clash) v.fail(k, text, `must not overlap ${clash.key} (${clash.text})`);
        seen.push({ key: k, cidr: c, text });
      });
    check("privateSubnetCidrs", privateSubnetCidrs);
    check("publicSubnetCidrs", publicSubnetCidrs);
  }

  const flowLogRetentionDays =
    v.oneOf("network.flowLogRetentionDays", raw.flowLogRetentionDays, LOG_RETENTION_DAYS) ??
    d.flowLogRetentionDays;
  v.known("network", raw, Object.keys(d));
  return {
    vpcCidr,
    availabilityZones: azs,
    privateSubnetCidrs,
    publicSubnetCidrs,
    natGateways,
    flowLogRetentionDays,
  };
}

/** `cluster.compute` and `cluster.autoMode`: who runs the nodes, and the capacity Auto Mode may launch. */
function resolveCompute(
  v: Validator,
  clusterRaw: Record<string, Json>,
  d: Defaults["cluster"],
  prod: boolean,
  nodeGroupsRaw: Json,
): Pick<ClusterConfig, "compute" | "autoMode"> {
  const compute = v.oneOf("cluster.compute", clusterRaw.compute, COMPUTE_MODES) ?? d.compute;
  const given = clusterRaw.autoMode !== d.autoMode;
  const autoModeRaw = v.object("cluster.autoMode", clusterRaw.autoMode, d.autoMode);
  v.known("cluster.autoMode", autoModeRaw, Object.keys(d.autoMode));
  const capacityTypes = v.stringList("cluster.autoMode.capacityTypes", autoModeRaw.capacityTypes);
  capacityTypes.forEach((c, i) =>
    v.oneOf(`cluster.autoMode.capacityTypes[${i}]`, c, AUTO_MODE_CAPACITY_TYPES),
  );
  if (!capacityTypes.includes("on-demand")) {
    v.fail(
      "cluster.autoMode.capacityTypes",
      capacityTypes,
      "must include on-demand: the built-in general-purpose pool is on-demand, and spot alone can run dry",
    );
  }
  if (prod && capacityTypes.includes("spot")) {
    v.fail(
      "cluster.autoMode.capacityTypes",
      capacityTypes,
      'must be ["on-demand"] in prod: no spot capacity',
    );
  }
  if (compute === "autoMode" && nodeGroupsRaw !== undefined) {
    v.fail(
      "nodeGroups",
      nodeGroupsRaw,
      "must not be set with cluster.compute autoMode: Auto Mode runs the nodes (pools system and general-purpose)",
    );
  }
  if (compute === "nodeGroups" && given) {
    v.fail("cluster.autoMode", clusterRaw.autoMode, "applies only with cluster.compute autoMode");
  }
  return { compute, autoMode: { capacityTypes: capacityTypes as AutoModeCapacityType[] } };
}

function resolveNodeGroups(v: Validator, raw: Json, prod: boolean): Record<string, NodeGroupConfig> {
  const groups: Record<string, NodeGroupConfig> = {};
  const rawGroups = v.object("nodeGroups", raw, {});
  if (Object.keys(rawGroups).length === 0) v.fail("nodeGroups", raw, "must define at least one node group");
  const fields: Array<keyof NodeGroupConfig> = [
    "instanceTypes",
    "capacityType",
    "minSize",
    "desiredSize",
    "maxSize",
    "diskSizeGiB",
  ];
  for (const [groupName, groupRaw] of Object.entries(rawGroups)) {
    const p = `nodeGroups.${groupName}`;
    if (!/^[a-z][a-z0-9-]{0,20}$/.test(groupName))
      v.fail(p, groupName, "group names are 1-21 lowercase letters, digits, '-'");
    const g = v.object(p, groupRaw, {});
    for (const f of fields) if (g[f] === undefined) v.fail(`${p}.${f}`, undefined, "is required");
    v.known(p, g, fields);
    const instanceTypes = v.stringList(`${p}.instanceTypes`, g.instanceTypes);
    instanceTypes.forEach((t, i) =>
      v.string(`${p}.instanceTypes[${i}]`, t, INSTANCE_TYPE_RE, "an EC2 instance type"),
    );
    const capacityType =
      v.oneOf(`${p}.capacityType`, g.capacityType, ["ON_DEMAND", "SPOT"] as const) ?? "ON_DEMAND";
    if (prod && capacityType === "SPOT")
      v.fail(`${p}.capacityType`, capacityType, "must be ON_DEMAND in prod");
    const minSize = v.int(`${p}.minSize`, g.minSize, 1, 100);
    const maxSize = v.int(`${p}.maxSize`, g.maxSize, 1, 100);
    const desiredSize = v.int(`${p}.desiredSize`, g.desiredSize, 1, 100);
    if (!(minSize <= desiredSize && desiredSize <= maxSize)) {
      v.fail(p, { minSize, desiredSize, maxSize }, "needs minSize <= desiredSize <= maxSize");
    }
    const diskSizeGiB = v.int(`${p}.diskSizeGiB`, g.diskSizeGiB, 20, 1000);
    const arm = instanceTypes.map((t) => GRAVITON_RE.test(t));
    if (arm.some(Boolean) && !arm.every(Boolean)) {
      v.fail(
        `${p}.instanceTypes`,
        instanceTypes,
        "must all be Graviton (arm64) or all x86_64: one AMI per group",
      );
    }
    const architecture = arm[0] ? "arm64" : "x86_64";
    groups[groupName] = {
      instanceTypes,
      architecture,
      capacityType,
      minSize,
      desiredSize,
      maxSize,
      diskSizeGiB,
    };
  }
  const totalMin = Object.values(groups).reduce((n, g) => n + g.minSize, 0);
  if (prod && totalMin < 3) {
    v.fail("nodeGroups.*.minSize", totalMin, "must add up to at least 3 nodes in prod (one per zone)");
  }
  return groups;
}

function resolveGitOps(
  v: Validator,
  raw: Record<string, Json>,
  d: Defaults["gitops"],
  env: Environment,
  region: string | undefined,
  defaultPath?: string,
): GitOpsConfig {
  v.known("gitops", raw, [
    "engine",
    "repoUrl",
    "targetRevision",
    "path",
    "private",
    "sync",
    "argocd",
    "flux",
    "eksArgocd",
  ]);
  const engine = v.oneOf("gitops.engine", raw.engine ?? d.engine, ENGINES) ?? d.engine;
  const repoUrl = v.string("gitops.repoUrl", raw.repoUrl, /./, "a Git repository URL");
  const https = /^https:\/\/([^/@:]+)(:\d+)?\/[^\s?#]+$/;
  const ssh = /^(ssh:\/\/git@[^/:@\s]+(:\d+)?\/[^\s?#]+|git@[^/:@\s]+:[^\s?#]+)$/;
  if (/^[a-z+]+:\/\/[^/]*@/.test(repoUrl) && !repoUrl.startsWith("ssh://git@")) {
    v.fail("gitops.repoUrl", redactUrl(repoUrl), "must not carry credentials: put them in Secrets Manager");
  } else if (repoUrl && !https.test(repoUrl) && !ssh.test(repoUrl)) {
    v.fail(
      "gitops.repoUrl",
      repoUrl,
      "must be an https:// or ssh (ssh://git@host/... or git@host:org/repo) URL",
    );
  }
  const targetRevision = v.string(
    "gitops.targetRevision",
    raw.targetRevision,
    /^[^\s~^:?*[\\]+$/,
    "a Git ref",
  );
  if (env === "prod" && targetRevision && !PINNED_REVISION_RE.test(targetRevision)) {
    v.fail(
      "gitops.targetRevision",
      targetRevision,
      "must be pinned in prod: a release tag (v1.4.2) or a full commit SHA, not a moving branch or HEAD",
    );
  }
  const path = v.string(
    "gitops.path",
    raw.path ?? defaultPath ?? `gitops/clusters/${env}/${ENGINE_TEMPLATE_DIR[engine]}`,
    /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[\w./-]+$/,
    "a relative path inside the repository, without '..'",
  );
  const isPrivate = raw.private === undefined ? false : v.bool("gitops.private", raw.private);
  if (isPrivate && ssh.test(repoUrl)) {
    v.fail("gitops.repoUrl", repoUrl, "must be https:// for a private repository (credentials are a token)");
  }

  const syncRaw = v.object("gitops.sync", raw.sync, d.sync);
  v.known("gitops.sync", syncRaw, Object.keys(d.sync));
  const windows = resolveWindows(v, "gitops.sync.windows", syncRaw.windows);
  const sync: SyncConfig = {
    automated: v.bool("gitops.sync.automated", syncRaw.automated),
    prune: v.bool("gitops.sync.prune", syncRaw.prune),
    selfHeal: v.bool("gitops.sync.selfHeal", syncRaw.selfHeal),
    windows,
    retryLimit: v.int("gitops.sync.retryLimit", syncRaw.retryLimit, 1, 10),
    interval: v.string("gitops.sync.interval", syncRaw.interval, DURATION_RE, "a duration such as 1m or 10m"),
  };
  // Flux always reconciles: for it, prod's gate is the pinned revision, and `automated` does not apply.
  if (engine !== "flux" && env === "prod" && sync.automated && !windows.some((w) => w.kind === "allow")) {
    v.fail(
      "gitops.sync.automated",
      true,
      "needs gitops.sync.windows with an allow window in prod: automated sync in prod must be gated",
    );
  }
  if (engine === "flux" && windows.length > 0) {
    v.fail(
      "gitops.sync.windows",
      windows,
      "are an ArgoCD feature; with Flux, prod is gated by a pinned targetRevision",
    );
  }

  const argoRaw = v.object("gitops.argocd", raw.argocd, d.argocd);
  v.known("gitops.argocd", argoRaw, ["chartVersion", "ha", "sso", "adminGroups", "extraSourceRepos"]);
  const argocd: ArgoCdConfig = {
    chartVersion: v.string(
      "gitops.argocd.chartVersion",
      argoRaw.chartVersion,
      EXACT_VERSION_RE,
      "an exact chart version (X.Y.Z)",
    ),
    ha: v.bool("gitops.argocd.ha", argoRaw.ha),
    adminGroups: v.stringList("gitops.argocd.adminGroups", argoRaw.adminGroups),
    extraSourceRepos: v.stringList("gitops.argocd.extraSourceRepos", argoRaw.extraSourceRepos),
  };
  argocd.extraSourceRepos.forEach((repo, i) =>
    v.string(
      `gitops.argocd.extraSourceRepos[${i}]`,
      repo,
      /^(https:\/\/|oci:\/\/)[^\s@*?]+$/,
      "an exact https:// or oci:// repository URL, without wildcards or credentials",
    ),
  );
  if (env === "prod" && engine === "argocd" && !argocd.ha) {
    v.fail(
      "gitops.argocd.ha",
      false,
      "must be true in prod: the GitOps controller is what keeps prod converged",
    );
  }
  if (argoRaw.sso !== undefined) {
    const sso = v.object("gitops.argocd.sso", argoRaw.sso, {});
    v.known("gitops.argocd.sso", sso, ["issuer", "clientId"]);
    argocd.sso = {
      issuer: v.string(
        "gitops.argocd.sso.issuer",
        sso.issuer,
        /^https:\/\/[^\s@]+$/,
        "an https:// OIDC issuer URL",
      ),
      clientId: v.string("gitops.argocd.sso.clientId", sso.clientId, /^\S+$/, "the OIDC client id"),
    };
  }
  if (argocd.adminGroups.length > 0 && !argocd.sso && engine !== "eks-argocd") {
    v.fail(
      "gitops.argocd.adminGroups",
      argocd.adminGroups,
      "need gitops.argocd.sso: groups come from the SSO token",
    );
  }

  if (engine === "eks-argocd") refuseSelfManagedArgoCd(v, v.object("gitops.argocd", raw.argocd, {}));

  const fluxRaw = v.object("gitops.flux", raw.flux, d.flux);
  v.known("gitops.flux", fluxRaw, ["chartVersion"]);
  const flux: FluxConfig = {
    chartVersion: v.string(
      "gitops.flux.chartVersion",
      fluxRaw.chartVersion,
      EXACT_VERSION_RE,
      "an exact chart version (X.Y.Z)",
    ),
  };
  if (engine !== "eks-argocd" && raw.eksArgocd !== undefined) {
    v.fail("gitops.eksArgocd", raw.eksArgocd, `is only read with gitops.engine eks-argocd, not ${engine}`);
  }
  const eksArgocd =
    engine === "eks-argocd"
      ? resolveEksArgoCd(v, v.object("gitops.eksArgocd", raw.eksArgocd, {}), region)
      : undefined;
  return {
    engine,
    repoUrl,
    targetRevision,
    path,
    private: isPrivate,
    sync,
    argocd,
    flux,
    ...(eksArgocd ? { eksArgocd } : {}),
  };
}

/**
 * What the self-managed Argo CD lets a stack tune and the managed one does not, refused by the key the stack set
 * rather than ignored: AWS runs, sizes and upgrades the capability, and it signs people in only through IAM
 * Identity Center (README, "Self-managed or managed Argo CD").
 */
const EKS_ARGOCD_REFUSED: Record<string, string> = {
  sso: "cannot be used with gitops.engine eks-argocd: the managed Argo CD signs in only through IAM Identity Center; set gitops.eksArgocd.identityCenter and gitops.eksArgocd.rbac instead",
  adminGroups:
    "cannot be used with gitops.engine eks-argocd: map IAM Identity Center groups to ADMIN in gitops.eksArgocd.rbac instead",
  ha: "cannot be used with gitops.engine eks-argocd: AWS runs and scales the managed Argo CD, there are no replicas to set",
  chartVersion:
    "cannot be used with gitops.engine eks-argocd: AWS chooses and upgrades the managed Argo CD's version",
};

function refuseSelfManagedArgoCd(v: Validator, raw: Record<string, Json>): void {
  for (const [key, why] of Object.entries(EKS_ARGOCD_REFUSED)) {
    if (raw[key] !== undefined) v.fail(`gitops.argocd.${key}`, raw[key], why);
  }
}

// sso-admin's InstanceArn pattern, and identitystore's UserId/GroupId.
const IDC_INSTANCE_ARN_RE = /^arn:(aws[a-z-]*):sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/;
const IDENTITY_STORE_ID_RE =
  /^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/;
/** EKS: at most 1,000 Identity Center users and groups per Argo CD capability. */
const EKS_ARGOCD_MAX_IDENTITIES = 1000;

/** The partition a region's resources live in: an ARN of another partition cannot be used there. */
function regionPartition(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("us-isob-")) return "aws-iso-b";
  if (region.startsWith("us-iso-")) return "aws-iso";
  return "aws";
}

function resolveEksArgoCd(
  v: Validator,
  raw: Record<string, Json>,
  region: string | undefined,
): EksArgoCdConfig {
  v.known("gitops.eksArgocd", raw, ["identityCenter", "rbac"]);
  const idc = v.object("gitops.eksArgocd.identityCenter", raw.identityCenter, {});
  v.known("gitops.eksArgocd.identityCenter", idc, ["instanceArn", "region"]);
  const partition = regionPartition(region ?? "");
  const instanceArn = v.string(
    "gitops.eksArgocd.identityCenter.instanceArn",
    idc.instanceArn,
    IDC_INSTANCE_ARN_RE,
    "an IAM Identity Center instance ARN (arn:aws:sso:::instance/ssoins-...; aws sso-admin list-instances)",
  );
  const arnPartition = IDC_INSTANCE_ARN_RE.exec(instanceArn)?.[1];
  if (arnPartition && arnPartition !== partition) {
    v.fail(
      "gitops.eksArgocd.identityCenter.instanceArn",
      instanceArn,
      `must be in partition ${partition}, the partition of aws:region ${region}`,
    );
  }
  const idcRegion = v.string(
    "gitops.eksArgocd.identityCenter.region",
    idc.region,
    REGION_RE,
    "the AWS region the Identity Center instance lives in, such as eu-west-1",
  );
  if (REGION_RE.test(idcRegion) && regionPartition(idcRegion) !== partition) {
    v.fail(
      "gitops.eksArgocd.identityCenter.region",
      idcRegion,
      `must be a region of partition ${partition}, the partition of aws:region ${region}`,
    );
  }

  if (!Array.isArray(raw.rbac)) {
    v.fail(
      "gitops.eksArgocd.rbac",
      raw.rbac,
      `must be a list of {role, groups, users} with role one of ${EKS_ARGOCD_ROLES.join(", ")}`,
    );
  }
  const rbac = (Array.isArray(raw.rbac) ? raw.rbac : []).map((m, i): EksArgoCdRoleMapping => {
    const key = `gitops.eksArgocd.rbac[${i}]`;
    const o = v.object(key, m, {});
    v.known(key, o, ["role", "groups", "users"]);
    const ids = (field: "groups" | "users") => {
      const list = v.stringList(`${key}.${field}`, o[field]);
      list.forEach((id, j) =>
        v.string(
          `${key}.${field}[${j}]`,
          id,
          IDENTITY_STORE_ID_RE,
          "an Identity Store id (aws identitystore list-groups / list-users), not a display name",
        ),
      );
      return list;
    };
    const mapping = {
      role: v.oneOf(`${key}.role`, o.role, EKS_ARGOCD_ROLES) ?? "VIEWER",
      groups: ids("groups"),
      users: ids("users"),
    };
    if (mapping.groups.length + mapping.users.length === 0) {
      v.fail(key, m, "must name at least one group or user");
    }
    return mapping;
  });
  rbac.forEach((m, i) => {
    if (rbac.findIndex((x) => x.role === m.role) !== i) {
      v.fail(`gitops.eksArgocd.rbac[${i}].role`, m.role, "is mapped twice: list each role once");
    }
  });
  if (
    Array.isArray(raw.rbac) &&
    !rbac.some((m) => m.role === "ADMIN" && m.groups.length + m.users.length > 0)
  ) {
    v.fail(
      "gitops.eksArgocd.rbac",
      raw.rbac,
      "must map at least one Identity Center group or user to ADMIN: the managed Argo CD has no local admin",
    );
  }
  const identities = rbac.reduce((n, m) => n + m.groups.length + m.users.length, 0);
  if (identities > EKS_ARGOCD_MAX_IDENTITIES) {
    v.fail(
      "gitops.eksArgocd.rbac",
      identities,
      `must name at most ${EKS_ARGOCD_MAX_IDENTITIES} identities: the capability's Identity Center limit`,
    );
  }
  return { identityCenter: { instanceArn, region: idcRegion }, rbac };
}

const DURATION_RE = /^([1-9]\d*(s|m|h))+$/;
const EXACT_VERSION_RE = /^\d+\.\d+\.\d+$/;
const CRON_RE = /^(\S+\s+){4}\S+$/;

function resolveWindows(v: Validator, listKey: string, raw: Json): SyncWindow[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    v.fail(listKey, raw, "must be a list of {kind, schedule, duration, timeZone, manualSync}");
    return [];
  }
  return raw.map((w, i) => {
    const key = `${listKey}[${i}]`;
    const o = v.object(key, w, { timeZone: "UTC", manualSync: true });
    v.known(key, o, ["kind", "schedule", "duration", "timeZone", "manualSync"]);
    return {
      kind: v.oneOf(`${key}.kind`, o.kind, ["allow", "deny"] as const) ?? "deny",
      schedule: v.string(
        `${key}.schedule`,
        o.schedule,
        CRON_RE,
        "a five-field cron schedule such as '0 9 * * 1-4'",
      ),
      duration: v.string(`${key}.duration`, o.duration, DURATION_RE, "a duration such as 2h"),
      timeZone: v.string(`${key}.timeZone`, o.timeZone, /^[A-Za-z_]+(\/[A-Za-z_+-]+)*$/, "an IANA time zone"),
      manualSync: v.bool(`${key}.manualSync`, o.manualSync),
    };
  });
}

const K8S_NAME_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SECRET_PATH_RE = /^[A-Za-z0-9_+=.@-]+(\/[A-Za-z0-9_+=.@-]+)*$/;

function resolveDr(
  v: Validator,
  raw: Record<string, Json>,
  here: { region: string | undefined; name: string; kms: KmsConfig },
): DrConfig {
  v.known("dr", raw, ["standbyRegion", "standbyName"]);
  const standbyRegion = v.string(
    "dr.standbyRegion",
    raw.standbyRegion,
    REGION_RE,
    "an AWS region such as eu-central-1",
  );
  if (standbyRegion === here.region) v.fail("dr.standbyRegion", standbyRegion, "must differ from aws:region");
  const standbyName = v.string(
    "dr.standbyName",
    raw.standbyName,
    NAME_RE,
    "3-32 lowercase letters, digits, '-'",
  );
  if (standbyName === here.name) {
    v.fail("dr.standbyName", standbyName, "must differ from gitops-platform:name: IAM role names are global");
  }
  if (!here.kms.multiRegion) {
    v.fail(
      "kms.multiRegion",
      false,
      "must be true with dr: the standby region decrypts with a replica of this key",
    );
  }
  if (here.kms.existingKeyArn) {
    v.fail(
      "dr",
      raw,
      "cannot be combined with kms.existingKeyArn: the stack that creates the key replicates it",
    );
  }
  return { standbyRegion, standbyName };
}

function resolveExternalSecrets(
  v: Validator,
  raw: Record<string, Json>,
  env: Environment,
): ExternalSecretsConfig {
  v.known("externalSecrets", raw, Object.keys(DEFAULTS[env].externalSecrets).concat("prefix"));
  const prefix = raw.prefix ?? `platform/${env}`;
  if (typeof prefix !== "string" || prefix === "") {
    v.fail(
      "externalSecrets.prefix",
      prefix,
      "must not be empty: an empty prefix would let the cluster read every secret",
    );
  } else if (prefix.includes("*")) {
    v.fail(
      "externalSecrets.prefix",
      prefix,
      "must not contain '*': the prefix is matched as a path, wildcards widen it",
    );
  } else if (!SECRET_PATH_RE.test(prefix)) {
    v.fail("externalSecrets.prefix", prefix, "must be a path like platform/dev (no leading or trailing '/')");
  } else if (!prefix.endsWith(`/${env}`)) {
    v.fail(
      "externalSecrets.prefix",
      prefix,
      `must end with /${env}, so that no environment's prefix contains another's (the grant is <prefix>/*)`,
    );
  }
  const allowedNamespaces = v.stringList("externalSecrets.allowedNamespaces", raw.allowedNamespaces);
  if (allowedNamespaces.length === 0) {
    v.fail("externalSecrets.allowedNamespaces", allowedNamespaces, "must list at least one namespace");
  }
  allowedNamespaces.forEach((n, i) =>
    v.string(`externalSecrets.allowedNamespaces[${i}]`, n, K8S_NAME_RE, "a namespace name"),
  );
  const seedSecrets = v.stringList("externalSecrets.seedSecrets", raw.seedSecrets);
  seedSecrets.forEach((n, i) =>
    v.string(`externalSecrets.seedSecrets[${i}]`, n, SECRET_PATH_RE, "a name relative to the prefix"),
  );
  const replicas = v.int("externalSecrets.replicas", raw.replicas, 1, 5);
  if (env === "prod" && replicas < 2) {
    v.fail(
      "externalSecrets.replicas",
      replicas,
      "must be at least 2 in prod, so a node drain never stops secret sync",
    );
  }
  return {
    enabled: v.bool("externalSecrets.enabled", raw.enabled),
    chartVersion: v.string(
      "externalSecrets.chartVersion",
      raw.chartVersion,
      /^\d+\.\d+\.\d+$/,
      "an exact chart version (X.Y.Z)",
    ),
    namespace: Object.values(ENGINE_NAMESPACE).includes(raw.namespace as "argocd")
      ? (v.fail(
          "externalSecrets.namespace",
          raw.namespace,
          "must not be argocd or flux-system: the engines own those",
        ),
        String(raw.namespace))
      : v.string("externalSecrets.namespace", raw.namespace, K8S_NAME_RE, "a namespace name"),
    prefix: typeof prefix === "string" ? prefix : "",
    allowedNamespaces,
    replicas,
    seedSecrets,
    adoptSeedSecrets: v.bool("externalSecrets.adoptSeedSecrets", raw.adoptSeedSecrets),
  };
}

/** The AWS partition a region belongs to: IAM ARNs and EKS access never cross partitions. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (/^us-iso[a-z]?-/.test(region)) return region.startsWith("us-isob-") ? "aws-iso-b" : "aws-iso";
  return "aws";
}

/** `org/project/stack`, `project/stack` or `stack`: what `pulumi.StackReference` accepts. */
const STACK_REF_RE = /^([A-Za-z0-9][\w.-]*\/){0,2}[A-Za-z0-9][\w.-]*$/;

function resolveFleet(
  v: Validator,
  raw: Record<string, Json>,
  here: { name: string; region: string | undefined; access: AccessConfig; gitops: GitOpsConfig },
): FleetConfig | undefined {
  const role = v.oneOf("fleet.role", raw.role, FLEET_ROLES);
  // A fleet is Argo CD's: Flux has no hub, each Flux cluster reconciles itself (README, "Flux in a fleet").
  if (role && here.gitops.engine !== "argocd") {
    v.fail(
      "gitops.engine",
      here.gitops.engine,
      here.gitops.engine === "eks-argocd"
        ? `must be argocd with fleet.role ${role}: the managed Argo CD is not wired as a fleet hub yet (README, "Self-managed or managed Argo CD")`
        : `must be argocd with fleet.role ${role}: a Flux cluster runs its own Flux and needs no fleet key`,
    );
  }
  if (role === "spoke") {
    v.known("fleet", raw, ["role", "hubStack"]);
    const hubStack = v.string(
      "fleet.hubStack",
      raw.hubStack,
      STACK_REF_RE,
      "the hub's stack name, e.g. org/gitops-platform/hub",
    );
    // What a spoke's own Argo CD would need is the hub's: its repository credentials and its SSO.
    if (here.gitops.private) {
      v.fail(
        "gitops.private",
        true,
        "must be false on a spoke: the hub's Argo CD holds the repository credentials",
      );
    }
    if (here.gitops.argocd.sso) {
      v.fail("gitops.argocd.sso", here.gitops.argocd.sso, "is set on the hub: a spoke runs no Argo CD");
    }
    return { role, hubStack };
  }
  if (role !== "hub") return undefined;
  v.known("fleet", raw, ["role", "spokes", "projects"]);
  const partition = partitionOf(here.region ?? "");
  const spokes: Record<string, FleetSpoke> = {};
  const entries = new Set([
    ...here.access.adminRoleArns,
    ...here.access.deployerRoleArns,
    ...here.access.viewerRoleArns,
  ]);
  for (const [spokeName, spokeRaw] of Object.entries(v.object("fleet.spokes", raw.spokes, {}))) {
    const key = `fleet.spokes.${spokeName}`;
    if (!NAME_RE.test(spokeName))
      v.fail(
        key,
        spokeName,
        "spoke names are their gitops-platform:name: 3-32 lowercase letters, digits, '-'",
      );
    if (spokeName === here.name) v.fail(key, spokeName, "is the hub itself: the hub is not a deploy target");
    const s = v.object(key, spokeRaw, {});
    v.known(key, s, ["environment", "deployerRoleArn"]);
    const environment = v.oneOf(`${key}.environment`, s.environment, ENVIRONMENTS) ?? "dev";
    const deployerRoleArn = v.string(
      `${key}.deployerRoleArn`,
      s.deployerRoleArn,
      ROLE_ARN_RE,
      "an IAM role ARN",
    );
    const arnPartition = /^arn:([\w-]+):/.exec(deployerRoleArn)?.[1];
    if (arnPartition && arnPartition !== partition) {
      v.fail(
        `${key}.deployerRoleArn`,
        deployerRoleArn,
        `must be in the hub's partition ${partition}: EKS access entries do not cross partitions`,
      );
    }
    if (entries.has(deployerRoleArn)) {
      v.fail(
        `${key}.deployerRoleArn`,
        deployerRoleArn,
        "must not also be in access.*: EKS allows one access entry per role",
      );
    }
    spokes[spokeName] = { environment, deployerRoleArn };
  }
  const projectsRaw = v.object("fleet.projects", raw.projects, {});
  v.known("fleet.projects", projectsRaw, [...ENVIRONMENTS]);
  const projects = Object.fromEntries(
    ENVIRONMENTS.map((env) => {
      const key = `fleet.projects.${env}`;
      const p = v.object(key, projectsRaw[env], { automated: DEFAULTS[env].gitops.sync.automated });
      v.known(key, p, ["automated", "windows"]);
      const project: FleetProject = {
        automated: v.bool(`${key}.automated`, p.automated),
        windows: resolveWindows(v, `${key}.windows`, p.windows),
      };
      if (env === "prod" && project.automated && !project.windows.some((w) => w.kind === "allow")) {
        v.fail(
          `${key}.automated`,
          true,
          `needs ${key}.windows with an allow window: automated sync in prod must be gated`,
        );
      }
      return [env, project];
    }),
  ) as Record<Environment, FleetProject>;
  return { role, spokes, projects };
}

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^/]*@/, "//***@");
}

/** Collects every problem instead of stopping at the first, so one run shows a person all there is to fix. */
class Validator {
  readonly problems: string[] = [];

  fail(key: string, value: Json, allowed: string): void {
    const qualified = key.startsWith("aws:") ? key : `${PROJECT}:${key}`;
    this.problems.push(`${qualified} = ${JSON.stringify(value) ?? "(unset)"}: ${allowed}`);
  }

  known(key: string, obj: Record<string, Json>, allowed: string[]): void {
    for (const k of Object.keys(obj)) {
      // A misplaced credential must not end up in a CI log.
      const shown = /secret|password|token|credential|private.?key/i.test(k) ? "(redacted)" : obj[k];
      if (!allowed.includes(k))
        this.fail(`${key}.${k}`, shown, `is not a known key; allowed: ${allowed.join(", ")}`);
    }
  }

  object(key: string, value: Json, defaults: object): Record<string, Json> {
    if (value === undefined) return { ...defaults };
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.fail(key, value, "must be an object");
      return { ...defaults };
    }
    return { ...defaults, ...(value as Record<string, Json>) };
  }

  oneOf<T extends string | number>(key: string, value: Json, allowed: readonly T[]): T | undefined {
    if (allowed.includes(value as T)) return value as T;
    this.fail(key, value, `must be one of ${allowed.join(", ")}`);
    return undefined;
  }

  string(key: string, value: Json, re: RegExp, what: string): string {
    if (typeof value !== "string" || !re.test(value)) {
      this.fail(key, value, `must be ${what}`);
      return typeof value === "string" ? value : "";
    }
    return value;
  }

  bool(key: string, value: Json): boolean {
    if (typeof value !== "boolean") this.fail(key, value, "must be true or false");
    return value === true;
  }

  int(key: string, value: Json, min: number, max: number): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      this.fail(key, value, `must be a whole number from ${min} to ${max}`);
      return typeof value === "number" ? value : min;
    }
    return value;
  }

  stringList(key: string, value: Json): string[] {
    if (value === undefined) return [];
    if (!Array.isArray(value) || value.some((x) => typeof x !== "string")) {
      this.fail(key, value, "must be a list of strings");
      return [];
    }
    return value as string[];
  }

  stringMap(key: string, value: Json): Record<string, string> {
    const obj = this.object(key, value, {});
    for (const [k, x] of Object.entries(obj))
      if (typeof x !== "string") this.fail(`${key}.${k}`, x, "must be a string");
    return obj as Record<string, string>;
  }
}

/**
 * Reads the raw namespace from Pulumi's config map (`{"gitops-platform:network": "{...}"}`), parsing the JSON
 * that structured values arrive as.
 */
export function rawNamespace(all: Record<string, string>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, text] of Object.entries(all)) {
    if (!k.startsWith(`${PROJECT}:`)) continue;
    let value: Json = text;
    if (/^\s*[[{]/.test(text)) {
      try {
        value = JSON.parse(text);
      } catch {
        value = text;
      }
    }
    out[k.slice(PROJECT.length + 1)] = value;
  }
  return out;
}

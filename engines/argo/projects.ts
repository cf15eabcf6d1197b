// What both Argo CDs (self-managed and the EKS capability) and a fleet's hub share: the AppProjects that gate
// what may be deployed where, the root (app-of-apps) Application, and the labels of a cluster Secret. The prod
// sync policy is decided here, from config.
import type { FleetConfig, FleetProject, GitOpsConfig, SyncWindow } from "../../config";
import { ENGINE_FACTS } from "../../core/engines";
import type { K8sObject } from "../../core/helm";
import type { Environment } from "../../core/project";
import { BRIDGE_LABEL_KEYS } from "../../core/bridge";

/** Both Argo CDs read their Applications from this namespace (the managed one from no other). */
export const ARGOCD_NAMESPACE = ENGINE_FACTS.argocd.namespace;
export const APP_PROJECT = "platform";
export const ROOT_APP = "root";
export const IN_CLUSTER = "https://kubernetes.default.svc";
/** The local cluster's name in Argo CD: what the project's destination and most examples call it. */
export const IN_CLUSTER_NAME = "in-cluster";

/**
 * The local cluster as an Argo CD sees it. Self-managed: the API server's in-cluster address. The managed
 * capability only knows clusters by EKS ARN and only reads Applications from the namespaces a project lists.
 */
export interface ArgoCdCluster {
  server: string;
  sourceNamespaces?: string[];
}
const SELF_MANAGED: ArgoCdCluster = { server: IN_CLUSTER };

/** Blocks every automated sync and lets a person sync by hand: a project whose Applications must not auto-sync. */
export const MANUAL_ONLY_WINDOW = {
  kind: "deny",
  schedule: "* * * * *",
  duration: "24h",
  timeZone: "UTC",
  manualSync: true,
} as const;

/** Prod, or sync that leaves drift in place: an OutOfSync app waits for a person, who must hear of it. */
export function gated(c: GitOpsConfig, environment: Environment): boolean {
  return environment === "prod" || !(c.sync.automated && c.sync.selfHeal);
}

interface ProjectSpec {
  name: string;
  description: string;
  /** The GitOps repository and the chart repositories its add-ons come from: nothing else. */
  config: GitOpsConfig;
  destinations: Array<Record<string, string>>;
  sourceNamespaces?: string[];
  clusterResources: boolean;
  windows: ReadonlyArray<SyncWindow | typeof MANUAL_ONLY_WINDOW>;
  labels: Record<string, string>;
  /** The alerts' subscriptions (engines/argo/notifications.ts): every Application of the project is covered. */
  subscriptions: Record<string, string>;
}

/**
 * An AppProject: exactly the listed repositories and destinations, the sync windows that gate it, and orphaned
 * resources reported, so drift is seen rather than ignored.
 */
function project(p: ProjectSpec): K8sObject {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "AppProject",
    metadata: { name: p.name, namespace: ARGOCD_NAMESPACE, labels: p.labels, annotations: p.subscriptions },
    spec: {
      description: p.description,
      sourceRepos: [p.config.repoUrl, ...p.config.argocd.extraSourceRepos],
      destinations: p.destinations,
      ...(p.sourceNamespaces ? { sourceNamespaces: p.sourceNamespaces } : {}),
      clusterResourceWhitelist: p.clusterResources ? [{ group: "*", kind: "*" }] : [],
      orphanedResources: { warn: true },
      syncWindows: p.windows.map((w) => ({
        kind: w.kind,
        schedule: w.schedule,
        duration: w.duration,
        timeZone: w.timeZone,
        manualSync: w.manualSync,
        applications: ["*"],
      })),
    },
  };
}

/** The platform project: exactly the GitOps repository, the local cluster, and the sync windows that gate prod. */
export function appProject(
  c: GitOpsConfig,
  labels: Record<string, string>,
  scope: { namespaces: string[]; clusterResources: boolean } = { namespaces: ["*"], clusterResources: true },
  subscriptions: Record<string, string> = {},
  cluster: ArgoCdCluster = SELF_MANAGED,
): K8sObject {
  return project({
    name: APP_PROJECT,
    description: "Platform add-ons and workloads reconciled from the GitOps repository",
    config: c,
    destinations: scope.namespaces.map((namespace) => ({
      name: IN_CLUSTER_NAME,
      server: cluster.server,
      namespace,
    })),
    sourceNamespaces: cluster.sourceNamespaces,
    clusterResources: scope.clusterResources,
    windows: c.sync.windows,
    labels,
    subscriptions,
  });
}

type HubConfig = Extract<FleetConfig, { role: "hub" }>;

/**
 * One environment's project on a fleet's hub: its destinations are exactly the spokes the hub admits for that
 * environment (by their Argo CD cluster name), so an Application of this project cannot reach another
 * environment's cluster, nor the hub. Without automated sync the project itself refuses automated syncs.
 */
export function environmentProject(
  environment: Environment,
  hub: HubConfig,
  c: GitOpsConfig,
  labels: Record<string, string>,
  subscriptions: Record<string, string> = {},
): K8sObject {
  const settings: FleetProject = hub.projects[environment];
  const spokes = Object.keys(hub.spokes)
    .filter((name) => hub.spokes[name].environment === environment)
    .sort();
  return project({
    name: environment,
    description: `Platform add-ons and workloads of the ${environment} spokes`,
    config: c,
    destinations: spokes.map((name) => ({ name, namespace: "*" })),
    // The managed Argo CD reads Applications only from namespaces a project lists; the self-managed one always
    // reads its own, so the list costs it nothing.
    sourceNamespaces: [ARGOCD_NAMESPACE],
    clusterResources: true,
    windows: [...(settings.automated ? [] : [MANUAL_ONLY_WINDOW]), ...settings.windows],
    labels,
    subscriptions,
  });
}

/** The root (app-of-apps) Application; the prod sync policy is decided here from config. */
export function rootApplication(
  c: GitOpsConfig,
  labels: Record<string, string>,
  cluster: ArgoCdCluster = SELF_MANAGED,
): K8sObject {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: {
      name: ROOT_APP,
      namespace: ARGOCD_NAMESPACE,
      labels,
      // Deleting the root app deletes what it created, while the controller is still there to do it.
      finalizers: ["resources-finalizer.argocd.argoproj.io"],
    },
    spec: {
      project: APP_PROJECT,
      source: { repoURL: c.repoUrl, targetRevision: c.targetRevision, path: c.path },
      destination: { server: cluster.server, namespace: ARGOCD_NAMESPACE },
      syncPolicy: {
        ...(c.sync.automated ? { automated: { prune: c.sync.prune, selfHeal: c.sync.selfHeal } } : {}),
        retry: { limit: c.sync.retryLimit, backoff: { duration: "10s", factor: 2, maxDuration: "3m" } },
        syncOptions: ["PruneLast=true"],
      },
      revisionHistoryLimit: 10,
    },
  };
}

/** The labels of a cluster Secret: its type for Argo CD, and what ApplicationSet generators select on. */
export function clusterSecretLabels(
  bridge: Record<string, string>,
  labels: Record<string, string>,
  keys: readonly string[] = BRIDGE_LABEL_KEYS,
): Record<string, string> {
  return {
    ...labels,
    "argocd.argoproj.io/secret-type": "cluster",
    ...Object.fromEntries(keys.map((k) => [k, bridge[k]])),
  };
}

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  ENGINE_NAMESPACE,
  GITOPS_SECRETS,
  type AlertsConfig,
  type Environment,
  type GitOpsConfig,
} from "../config";
import { notificationsSecret, notificationsValues, projectSubscriptions } from "./alerts/argocd";
import { bootstrapRelease, controllerRelease, podResources, type K8sObject } from "./helm";
import { BRIDGE_LABEL_KEYS, rootSecretDependencies, type EngineSecrets } from "./bridge";
import { k8sLabels } from "./common";
import { externalSecret, gitCredentials, properties } from "./externalSecrets";
import { CHARTS } from "../pins";
import type { WorkloadIdentity, WorkloadRole } from "../identity";

export const ARGOCD_NAMESPACE = ENGINE_NAMESPACE.argocd;
export const APP_PROJECT = "platform";
export const ROOT_APP = "root";
/** The chart's service accounts that talk to clusters: the controller syncs, the server shows live state. */
export const ARGOCD_CLUSTER_CLIENTS = ["argocd-application-controller", "argocd-server"];
const IN_CLUSTER = "https://kubernetes.default.svc";
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

// Application health is not computed by default since Argo CD 1.8; the root app's sync waves only wait for
// child apps to become Healthy if this customization restores it.
const APPLICATION_HEALTH_LUA = `hs = { status = "Progressing", message = "" }
if obj.status ~= nil and obj.status.health ~= nil then
  hs.status = obj.status.health.status
  if obj.status.health.message ~= nil then hs.message = obj.status.health.message end
end
return hs
`;

export interface ArgoCdArgs {
  environment: Environment;
  clusterName: string;
  alerts: AlertsConfig;
  config: GitOpsConfig;
  secretsPrefix: string;
  bridge: pulumi.Output<Record<string, string>>;
  provider: k8s.Provider;
  clusterReady: pulumi.Input<pulumi.Resource>[];
  externalSecrets?: EngineSecrets;
  /** An AWS role for the application controller and server: a hub reaches its spokes as it. */
  clusterIdentity?: { identity: WorkloadIdentity; roleName: string; tags: Record<string, string> };
  /** Bridge keys the in-cluster Secret carries as labels; without the workload ones no ApplicationSet selects it. */
  inClusterLabelKeys?: readonly string[];
  /** Where the platform project may deploy on this cluster: namespaces, and whether cluster-scoped kinds too. */
  localScope?: { namespaces: string[]; clusterResources: boolean };
  /** More bootstrap objects (a hub's per-environment projects). */
  objects?: K8sObject[];
}

// redis-ha's sentinels need a majority of three: one replica down at a time keeps quorum.
const REDIS_HA_REPLICAS = 3;

/** Helm values for argo-cd: read-only by default, no local admin with SSO, HA in prod, ClusterIP only. */
export function argoCdValues(
  c: GitOpsConfig,
  environment: Environment,
  notifications: ReturnType<typeof notificationsValues>,
) {
  const ha = c.argocd.ha;
  const replicas = ha ? 2 : 1;
  // A budget on a single replica would forbid every eviction, and so every node drain.
  const pdb = (n: number) => ({ enabled: n > 1, minAvailable: 1 });
  const sso = c.argocd.sso;
  return {
    global: {
      // The chart renders argocd-cm `url` (and the notifications' links) as https://<global.domain>; SSO
      // redirects every login there, so a wrong domain locks everyone out once the local admin is off.
      ...(c.argocd.url ? { domain: new URL(c.argocd.url).host } : {}),
      // Per-component ingress policies (README, "Network policies"); no default deny, which would also cut
      // redis-ha, whose own policies stay off.
      networkPolicy: { create: true, defaultDenyIngress: false },
    },
    // helm.sh/resource-policy: keep on the CRDs: uninstalling Argo CD never deletes every Application.
    crds: { install: true, keep: true },
    dex: { enabled: false },
    configs: {
      cm: {
        "admin.enabled": !sso,
        "exec.enabled": false,
        "timeout.reconciliation": environment === "prod" ? "180s" : "60s",
        "resource.customizations.health.argoproj.io_Application": APPLICATION_HEALTH_LUA,
        ...(sso
          ? {
              "oidc.config": [
                "name: SSO",
                `issuer: ${sso.issuer}`,
                `clientID: ${sso.clientId}`,
                // `$<secret>:<key>` makes Argo CD read the value from that Secret; ESO writes it there.
                "clientSecret: $argocd-oidc:clientSecret",
                "requestedScopes: [openid, profile, email, groups]",
              ].join("\n"),
            }
          : {}),
      },
      rbac: {
        "policy.default": "role:readonly",
        "policy.csv": c.argocd.adminGroups.map((g) => `g, ${g}, role:admin`).join("\n"),
        scopes: "[groups]",
      },
    },
    controller: { replicas: 1, pdb: pdb(1), resources: podResources("250m", "1Gi") },
    server: {
      replicas,
      pdb: pdb(replicas),
      service: { type: "ClusterIP" },
      resources: podResources("50m", "256Mi"),
    },
    repoServer: {
      replicas,
      pdb: pdb(replicas),
      resources: podResources("100m", "512Mi"),
      // Without its own, the init container that copies one binary would reserve the repo server's memory.
      copyutil: { resources: podResources("10m", "64Mi") },
    },
    applicationSet: { replicas, pdb: pdb(replicas), resources: podResources("50m", "256Mi") },
    // Requests only where the controller runs: without a destination it is off.
    notifications: notifications.enabled
      ? { ...notifications, resources: podResources("20m", "128Mi") }
      : notifications,
    redisSecretInit: { resources: podResources("10m", "64Mi") },
    redis: ha ? { enabled: false } : { enabled: true, resources: podResources("50m", "256Mi") },
    "redis-ha": ha ? redisHaValues() : { enabled: false },
  };
}

/** The redis-ha dependency: every container with requests, budgets on the three-replica server and haproxy. */
function redisHaValues() {
  const small = podResources("10m", "64Mi");
  const budget = { maxUnavailable: 1 };
  return {
    enabled: true,
    replicas: REDIS_HA_REPLICAS,
    podDisruptionBudget: budget,
    init: { resources: small },
    redis: { resources: podResources("100m", "256Mi") },
    sentinel: { resources: podResources("20m", "64Mi") },
    splitBrainDetection: { resources: small },
    // Only `helm test` runs it; requests anyway, so that nothing the chart can start lacks them.
    configmapTest: { resources: small },
    // AUTH (the argocd-redis secret) guards redis; its chart's policies would need every client listed.
    networkPolicy: { enabled: false },
    haproxy: {
      replicas: REDIS_HA_REPLICAS,
      podDisruptionBudget: budget,
      resources: podResources("50m", "128Mi"),
      init: { resources: small },
      tests: { resources: small },
      networkPolicy: { enabled: false },
    },
  };
}

/** The chart's controller and server service accounts, annotated (chart keys `<part>.serviceAccount.annotations`). */
function withServiceAccountAnnotations(
  values: ReturnType<typeof argoCdValues>,
  annotations: Record<string, string>,
) {
  return {
    ...values,
    controller: { ...values.controller, serviceAccount: { annotations } },
    server: { ...values.server, serviceAccount: { annotations } },
  };
}

/** Prod, or sync that leaves drift in place: an OutOfSync app waits for a person, who must hear of it. */
export function gated(c: GitOpsConfig, environment: Environment): boolean {
  return environment === "prod" || !(c.sync.automated && c.sync.selfHeal);
}

/**
 * The platform project: exactly the GitOps repository, the local cluster, and the sync windows that gate prod;
 * its annotations subscribe every Application of the project to the alerts.
 */
export function appProject(
  c: GitOpsConfig,
  labels: Record<string, string>,
  scope: { namespaces: string[]; clusterResources: boolean } = { namespaces: ["*"], clusterResources: true },
  subscriptions: Record<string, string> = {},
  cluster: ArgoCdCluster = SELF_MANAGED,
): K8sObject {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "AppProject",
    metadata: { name: APP_PROJECT, namespace: ARGOCD_NAMESPACE, labels, annotations: subscriptions },
    spec: {
      description: "Platform add-ons and workloads reconciled from the GitOps repository",
      sourceRepos: [c.repoUrl, ...c.argocd.extraSourceRepos],
      destinations: scope.namespaces.map((namespace) => ({
        name: IN_CLUSTER_NAME,
        server: cluster.server,
        namespace,
      })),
      ...(cluster.sourceNamespaces ? { sourceNamespaces: cluster.sourceNamespaces } : {}),
      clusterResourceWhitelist: scope.clusterResources ? [{ group: "*", kind: "*" }] : [],
      // Resources in the cluster that Git does not describe are reported, so drift is seen rather than ignored.
      orphanedResources: { warn: true },
      syncWindows: c.sync.windows.map((w) => ({
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

/** The labels of the local cluster's Secret: its type for Argo CD, and what ApplicationSet generators select on. */
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

/** Argo CD, the bridge metadata on its in-cluster cluster Secret, and the root app pointing at the GitOps repository. */
export class ArgoCd extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  readonly root: k8s.helm.v3.Release;
  readonly namespace: k8s.core.v1.Namespace;
  readonly clusterRole?: WorkloadRole;
  /** The in-cluster cluster Secret, which carries the bridge metadata. */
  readonly clusterSecret: k8s.core.v1.Secret;

  constructor(name: string, args: ArgoCdArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gitops-platform:index:ArgoCd", name, {}, opts);
    const { config: c } = args;
    const labels = k8sLabels(args.environment);
    const k8sOpts = { parent: this, provider: args.provider };

    const ns = (this.namespace = new k8s.core.v1.Namespace(
      name,
      { metadata: { name: ARGOCD_NAMESPACE, labels } },
      { ...k8sOpts, dependsOn: args.clusterReady },
    ));
    // No permissions: a token for a cluster is a presigned sts:GetCallerIdentity; what the role may do there is
    // that cluster's access entry.
    const clusterRole = (this.clusterRole = args.clusterIdentity?.identity.role(
      `${name}-clusters`,
      {
        roleName: args.clusterIdentity.roleName,
        namespace: ARGOCD_NAMESPACE,
        serviceAccount: ARGOCD_CLUSTER_CLIENTS,
        tags: args.clusterIdentity.tags,
      },
      { parent: this },
    ));
    const notifications = notificationsValues({
      environment: args.environment,
      clusterName: args.clusterName,
      destinations: args.alerts.destinations,
      argocdUrl: c.argocd.url,
    });
    this.release = controllerRelease(
      name,
      {
        releaseName: "argocd",
        chart: CHARTS.argoCd.chart,
        version: c.argocd.chartVersion,
        repo: CHARTS.argoCd.repo,
        namespace: ARGOCD_NAMESPACE,
        values: clusterRole
          ? clusterRole.serviceAccountAnnotations.apply((annotations) =>
              withServiceAccountAnnotations(argoCdValues(c, args.environment, notifications), annotations),
            )
          : argoCdValues(c, args.environment, notifications),
        timeout: 900,
      },
      { ...k8sOpts, dependsOn: [ns, ...args.clusterReady, ...(clusterRole?.ready ?? [])] },
    );

    // The in-cluster cluster Secret carries no credential (Argo CD uses its own service account); its labels and
    // annotations are the bridge metadata ApplicationSets template add-on values from.
    const clusterSecret = (this.clusterSecret = new k8s.core.v1.Secret(
      `${name}-in-cluster`,
      {
        metadata: {
          name: IN_CLUSTER_NAME,
          namespace: ARGOCD_NAMESPACE,
          labels: args.bridge.apply((b) => clusterSecretLabels(b, labels, args.inClusterLabelKeys)),
          annotations: args.bridge,
        },
        stringData: { name: IN_CLUSTER_NAME, server: IN_CLUSTER },
      },
      { ...k8sOpts, dependsOn: [ns] },
    ));

    const credentials: K8sObject[] = [];
    if (c.private) {
      credentials.push(
        gitCredentials(ARGOCD_NAMESPACE, args.secretsPrefix, labels, {
          labels: { "argocd.argoproj.io/secret-type": "repository" },
          data: { type: "git", url: c.repoUrl, username: "{{ .username }}", password: "{{ .password }}" },
        }),
      );
    }
    if (c.argocd.sso) {
      credentials.push(
        externalSecret({
          name: "argocd-oidc",
          namespace: ARGOCD_NAMESPACE,
          labels,
          data: properties(`${args.secretsPrefix}/${GITOPS_SECRETS.argocdOidc}`, ["clientSecret"]),
          target: { labels: { "app.kubernetes.io/part-of": "argocd" } },
        }),
      );
    }

    const destinations = args.alerts.destinations;
    if (destinations.length > 0)
      credentials.push(notificationsSecret(destinations, ARGOCD_NAMESPACE, args.secretsPrefix, labels));

    this.root = bootstrapRelease(`${name}-root`, {
      namespace: ARGOCD_NAMESPACE,
      objects: [
        ...credentials,
        appProject(
          c,
          labels,
          args.localScope,
          projectSubscriptions(destinations, gated(c, args.environment)),
        ),
        ...(args.objects ?? []),
        rootApplication(c, labels),
      ],
      provider: args.provider,
      dependsOn: [this.release, clusterSecret, ...rootSecretDependencies(args.externalSecrets, credentials)],
      parent: this,
    });
    this.registerOutputs({ namespace: ARGOCD_NAMESPACE, rootApp: ROOT_APP });
  }
}

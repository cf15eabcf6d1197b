// What the pinned charts the program installs run, read from their templates upstream (argo-helm argo-cd-10.1.1,
// DandyDeveloper/charts redis-ha-4.38.0, fluxcd-community/helm-charts flux2-2.18.3, external-secrets
// helm-chart-2.9.0): every container with the value its `resources` come from, and every workload with the values
// that set its replicas and its PodDisruptionBudget. Extend it when a pin moves and the chart gains a container:
// the tests then demand requests (and a budget) for it. Conditions are value paths that must all be truthy in the
// values as Helm merges them (ours over the chart's defaults); `!` negates.
import type { ChartName } from "../../core/pins";
import { valueAt } from "./charts";

export interface ChartContainer {
  /** `<workload>/<container>` as the chart names them (release names argocd, flux, external-secrets). */
  container: string;
  /** The template that renders it. */
  template: string;
  /** The value its `resources:` is rendered from. */
  resources: string;
  when?: string[];
  /**
   * The template reads `resources` but the chart's values.yaml does not declare it: the one place a key the
   * program sets may be missing from values.yaml.
   */
  undeclared?: true;
}

export interface ChartWorkload {
  workload: string;
  /** The value that sets its replicas, or the count the template hard-codes. */
  replicas: string | number;
  /** `enabled`: `<path>.enabled` turns the budget on; `budget`: any non-empty map at `<path>` renders it. */
  pdb?: { path: string; form: "enabled" | "budget" };
  when?: string[];
}

/** Whether merged values render a workload's PodDisruptionBudget; the budget's settings when they do. */
export function budgetOf(merged: unknown, pdb: ChartWorkload["pdb"]): Record<string, unknown> | undefined {
  const p = valueAt(merged, pdb!.path) as Record<string, unknown> | undefined;
  if (pdb!.form === "enabled") return p?.enabled ? p : undefined;
  return p && Object.keys(p).length > 0 ? p : undefined;
}

/** Whether every condition holds in merged values (`!` negates). */
export const active = (merged: unknown, when: string[] = []) =>
  when.every((w) => (w.startsWith("!") ? !valueAt(merged, w.slice(1)) : Boolean(valueAt(merged, w))));

export type InstalledChart = Extract<ChartName, "argoCd" | "flux" | "externalSecrets">;

const REDIS = ["redis.enabled", "!redis-ha.enabled"];
const HA = ["redis-ha.enabled"];
const HAPROXY = ["redis-ha.enabled", "redis-ha.haproxy.enabled"];

export const CONTAINERS: Record<InstalledChart, ChartContainer[]> = {
  argoCd: [
    {
      container: "argocd-application-controller/application-controller",
      template:
        "argocd-application-controller/statefulset.yaml (deployment.yaml when dynamicClusterDistribution)",
      resources: "controller.resources",
    },
    {
      container: "argocd-repo-server/repo-server",
      template: "argocd-repo-server/deployment.yaml",
      resources: "repoServer.resources",
    },
    {
      // Falls back to repoServer.resources when empty: the repo server's memory for a `cp`.
      container: "argocd-repo-server/copyutil (init)",
      template: "argocd-repo-server/deployment.yaml",
      resources: "repoServer.copyutil.resources",
    },
    {
      container: "argocd-server/server",
      template: "argocd-server/deployment.yaml",
      resources: "server.resources",
    },
    {
      container: "argocd-server/<extension> (init, one per extensionList entry)",
      template: "argocd-server/deployment.yaml",
      resources: "server.extensions.resources",
      when: ["server.extensions.enabled"],
    },
    {
      container: "argocd-applicationset-controller/applicationset-controller",
      template: "argocd-applicationset/deployment.yaml",
      resources: "applicationSet.resources",
    },
    {
      container: "argocd-notifications-controller/notifications-controller",
      template: "argocd-notifications/deployment.yaml",
      resources: "notifications.resources",
      when: ["notifications.enabled"],
    },
    {
      container: "argocd-dex-server/dex-server",
      template: "dex/deployment.yaml",
      resources: "dex.resources",
      when: ["dex.enabled"],
    },
    {
      container: "argocd-dex-server/copyutil (init)",
      template: "dex/deployment.yaml",
      resources: "dex.initImage.resources",
      when: ["dex.enabled"],
    },
    {
      container: "argocd-commit-server/commit-server",
      template: "argocd-commit-server/deployment.yaml",
      resources: "commitServer.resources",
      when: ["commitServer.enabled"],
    },
    {
      container: "argocd-redis/redis",
      template: "redis/deployment.yaml",
      resources: "redis.resources",
      when: REDIS,
    },
    {
      container: "argocd-redis/metrics",
      template: "redis/deployment.yaml",
      resources: "redis.exporter.resources",
      when: [...REDIS, "redis.exporter.enabled"],
    },
    {
      container: "argocd-redis-secret-init/secret-init (Job, pre-install/pre-upgrade hook)",
      template: "redis-secret-init/job.yaml",
      resources: "redisSecretInit.resources",
      when: ["redisSecretInit.enabled"],
    },
    {
      container: "argocd-redis-ha-server/init-sysctl (init)",
      template: "redis-ha: redis-ha-statefulset.yaml",
      resources: "redis-ha.sysctlImage.resources",
      when: [...HA, "redis-ha.sysctlImage.enabled"],
    },
    {
      container: "argocd-redis-ha-server/config-init (init; hostpath-chown, restore-* when configured)",
      template: "redis-ha: redis-ha-statefulset.yaml",
      resources: "redis-ha.init.resources",
      when: HA,
    },
    {
      container: "argocd-redis-ha-server/redis",
      template: "redis-ha: redis-ha-statefulset.yaml",
      resources: "redis-ha.redis.resources",
      when: HA,
    },
    {
      container: "argocd-redis-ha-server/sentinel",
      template: "redis-ha: redis-ha-statefulset.yaml",
      resources: "redis-ha.sentinel.resources",
      when: HA,
    },
    {
      container: "argocd-redis-ha-server/split-brain-fix",
      template: "redis-ha: redis-ha-statefulset.yaml",
      resources: "redis-ha.splitBrainDetection.resources",
      when: HA,
    },
    {
      container: "argocd-redis-ha-server/redis-exporter",
      template: "redis-ha: redis-ha-statefulset.yaml",
      resources: "redis-ha.exporter.resources",
      when: [...HA, "redis-ha.exporter.enabled"],
    },
    {
      container: "argocd-redis-ha-haproxy/config-init (init)",
      template: "redis-ha: redis-haproxy-deployment.yaml",
      resources: "redis-ha.haproxy.init.resources",
      when: HAPROXY,
    },
    {
      container: "argocd-redis-ha-haproxy/haproxy",
      template: "redis-ha: redis-haproxy-deployment.yaml",
      resources: "redis-ha.haproxy.resources",
      when: HAPROXY,
    },
    {
      container: "argocd-redis-ha-configmap-test/check-init (helm test hook)",
      template: "redis-ha: tests/test-redis-ha-configmap.yaml",
      resources: "redis-ha.configmapTest.resources",
      when: HA,
    },
    {
      container: "argocd-redis-ha-service-test/<release>-service-test (helm test hook)",
      template: "redis-ha: tests/test-redis-ha-pod.yaml",
      resources: "redis-ha.haproxy.tests.resources",
      when: HAPROXY,
    },
  ],
  flux: [
    ...(
      [
        ["source-controller", "sourceController"],
        ["kustomize-controller", "kustomizeController"],
        ["helm-controller", "helmController"],
        ["notification-controller", "notificationController"],
        ["image-reflector-controller", "imageReflectionController"],
        ["image-automation-controller", "imageAutomationController"],
        ["source-watcher", "sourceWatcher"],
      ] as const
    ).map(([name, key]) => ({
      container: `${name}/manager`,
      template: `${name}.yaml`,
      resources: `${key}.resources`,
      when: [`${key}.create`],
    })),
    {
      container: "flux-flux-check/flux-cli (Job, pre-install hook)",
      template: "pre-install-job.yaml",
      resources: "cli.resources",
      undeclared: true,
    },
    {
      container: "flux-flux-migrate/migrate (Job, pre-upgrade hook)",
      template: "pre-upgrade-migrate-resources.yaml",
      resources: "crds.migration.resources",
      when: ["crds.migration.enabled"],
    },
  ],
  externalSecrets: [
    {
      container: "external-secrets/external-secrets",
      template: "deployment.yaml",
      resources: "resources",
      when: ["createOperator"],
    },
    {
      container: "external-secrets-webhook/webhook",
      template: "webhook-deployment.yaml",
      resources: "webhook.resources",
      when: ["webhook.create"],
    },
    {
      container: "external-secrets-cert-controller/cert-controller",
      template: "cert-controller-deployment.yaml",
      resources: "certController.resources",
      when: ["certController.create", "!webhook.certManager.enabled"],
    },
  ],
};

/** Dependency charts whose containers are not in the table (no pinned data here): they must stay off. */
export const DISABLED_DEPENDENCIES: Record<InstalledChart, string[]> = {
  argoCd: [],
  flux: [],
  externalSecrets: ["bitwarden-sdk-server.enabled"],
};

export const WORKLOADS: Record<InstalledChart, ChartWorkload[]> = {
  argoCd: [
    ...(
      [
        ["argocd-application-controller", "controller"],
        ["argocd-server", "server"],
        ["argocd-repo-server", "repoServer"],
        ["argocd-applicationset-controller", "applicationSet"],
      ] as const
    ).map(([workload, key]) => ({
      workload,
      replicas: `${key}.replicas`,
      pdb: { path: `${key}.pdb`, form: "enabled" as const },
    })),
    // These three hard-code `replicas: 1` in their templates.
    {
      workload: "argocd-notifications-controller",
      replicas: 1,
      pdb: { path: "notifications.pdb", form: "enabled" },
      when: ["notifications.enabled"],
    },
    {
      workload: "argocd-dex-server",
      replicas: 1,
      pdb: { path: "dex.pdb", form: "enabled" },
      when: ["dex.enabled"],
    },
    { workload: "argocd-redis", replicas: 1, pdb: { path: "redis.pdb", form: "enabled" }, when: REDIS },
    {
      workload: "argocd-redis-ha-server",
      replicas: "redis-ha.replicas",
      pdb: { path: "redis-ha.podDisruptionBudget", form: "budget" },
      when: HA,
    },
    {
      workload: "argocd-redis-ha-haproxy",
      replicas: "redis-ha.haproxy.replicas",
      pdb: { path: "redis-ha.haproxy.podDisruptionBudget", form: "budget" },
      when: HAPROXY,
    },
  ],
  // One replica each (leader election, no replicas value) and no PodDisruptionBudget template in the chart.
  flux: [],
  externalSecrets: [
    {
      workload: "external-secrets",
      replicas: "replicaCount",
      pdb: { path: "podDisruptionBudget", form: "enabled" },
      when: ["createOperator"],
    },
    {
      workload: "external-secrets-webhook",
      replicas: "webhook.replicaCount",
      pdb: { path: "webhook.podDisruptionBudget", form: "enabled" },
      when: ["webhook.create"],
    },
    {
      workload: "external-secrets-cert-controller",
      replicas: "certController.replicaCount",
      pdb: { path: "certController.podDisruptionBudget", form: "enabled" },
      when: ["certController.create", "!webhook.certManager.enabled"],
    },
  ],
};

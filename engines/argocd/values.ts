// The argo-cd chart's values: read-only by default, no local admin with SSO, HA in prod, ClusterIP only, requests
// on every container the chart (and its redis-ha subchart) runs.
import type { GitOpsConfig } from "../../config";
import { podResources } from "../../core/helm";
import type { Environment } from "../../core/project";
import type { notificationsValues } from "../argo/notifications";

// Application health is not computed by default since Argo CD 1.8; the root app's sync waves only wait for
// child apps to become Healthy if this customization restores it.
const APPLICATION_HEALTH_LUA = `hs = { status = "Progressing", message = "" }
if obj.status ~= nil and obj.status.health ~= nil then
  hs.status = obj.status.health.status
  if obj.status.health.message ~= nil then hs.message = obj.status.health.message end
end
return hs
`;

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
export function withServiceAccountAnnotations(
  values: ReturnType<typeof argoCdValues>,
  annotations: Record<string, string>,
) {
  return {
    ...values,
    controller: { ...values.controller, serviceAccount: { annotations } },
    server: { ...values.server, serviceAccount: { annotations } },
  };
}

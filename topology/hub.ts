// A fleet's hub: a management cluster running Argo CD (self-managed with HA and SSO, or the EKS capability) that
// deploys to the spokes it admits, one AppProject per environment, and no application workloads of its own.
import * as pulumi from "@pulumi/pulumi";
import {
  ENVIRONMENTS,
  type Environment,
  type FleetConfig,
  type FleetProject,
  type GitOpsConfig,
  type HubEngine,
} from "../config";
import { projectSubscriptions } from "../components/alerts/argocd";
import { ARGOCD_NAMESPACE } from "../components/argocd";
import { k8sLabels, roleName } from "../components/common";
import { clusterSecretName, FleetHub, registrarGroup, type FleetHubOutputs } from "../components/fleet";
import type { K8sObject } from "../components/helm";
import { ENGINE_DEFINITIONS } from "../engines";
import type { Topology } from "./contract";
import { engineArgs } from "./single";

type HubConfig = Extract<FleetConfig, { role: "hub" }>;

/** Blocks every automated sync and lets a person sync by hand: a project whose Applications must not auto-sync. */
export const MANUAL_ONLY_WINDOW = {
  kind: "deny",
  schedule: "* * * * *",
  duration: "24h",
  timeZone: "UTC",
  manualSync: true,
} as const;

/**
 * One environment's project on the hub: its destinations are exactly the spokes the hub admits for that
 * environment (by their Argo CD cluster name), so an Application of this project cannot reach another
 * environment's cluster, nor the hub. Without automated sync the project itself refuses automated syncs.
 */
export function environmentProject(
  environment: Environment,
  hub: HubConfig,
  c: GitOpsConfig,
  labels: Record<string, string>,
  /** The alerts' subscriptions (components/alerts/argocd.ts), so the spokes' Applications are covered too. */
  subscriptions: Record<string, string> = {},
): K8sObject {
  const project: FleetProject = hub.projects[environment];
  const spokes = Object.keys(hub.spokes)
    .filter((name) => hub.spokes[name].environment === environment)
    .sort();
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "AppProject",
    metadata: { name: environment, namespace: ARGOCD_NAMESPACE, labels, annotations: subscriptions },
    spec: {
      description: `Platform add-ons and workloads of the ${environment} spokes`,
      sourceRepos: [c.repoUrl, ...c.argocd.extraSourceRepos],
      destinations: spokes.map((name) => ({ name, namespace: "*" })),
      // The managed Argo CD reads Applications only from namespaces a project lists; the self-managed one always
      // reads its own, so the list costs it nothing.
      sourceNamespaces: [ARGOCD_NAMESPACE],
      clusterResourceWhitelist: [{ group: "*", kind: "*" }],
      orphanedResources: { warn: true },
      syncWindows: [...(project.automated ? [] : [MANUAL_ONLY_WINDOW]), ...project.windows].map((w) => ({
        ...w,
        applications: ["*"],
      })),
    },
  };
}

export const hub: Topology = (i) => {
  const fleet = i.cfg.fleet as HubConfig;
  const labels = k8sLabels(i.cfg.environment);
  const engineName = i.cfg.gitops.engine;
  const engine = ENGINE_DEFINITIONS[engineName].create(engineName, {
    ...engineArgs(i),
    hub: {
      identity: i.identity,
      roleName: roleName(i.cfg.name, "argocd"),
      // No environment label: no ApplicationSet's selector matches the hub itself.
      inClusterLabelKeys: ["cluster_name"],
      // The hub's own project may only place the ApplicationSets, in Argo CD's namespace.
      localScope: { namespaces: [ARGOCD_NAMESPACE], clusterResources: false },
      objects: ENVIRONMENTS.map((env) =>
        environmentProject(
          env,
          fleet,
          i.cfg.gitops,
          labels,
          // A spoke environment without automated sync keeps its drift until a person syncs: report it.
          projectSubscriptions(i.cfg.alerts.destinations, env === "prod" || !fleet.projects[env].automated),
        ),
      ),
    },
  });
  if (!engine.fleetRoleArn)
    throw new Error(`engine ${engineName} gives a hub no role for its spokes (engines/)`);
  new FleetHub("fleet", {
    clusterName: i.cluster.cluster.name,
    spokes: fleet.spokes,
    provider: i.cluster.provider,
    // The registrars' Roles live in the engine's namespace, which its root objects' release creates or follows.
    namespaceReady: [engine.root],
    labels,
  });
  const c = i.cluster.cluster;
  const outputs: pulumi.Output<FleetHubOutputs> = pulumi
    .all([c.name, c.endpoint, c.certificateAuthority, i.ctx.accountId, i.ctx.partition, engine.fleetRoleArn])
    .apply(([clusterName, endpoint, ca, accountId, partition, argocdRoleArn]) => ({
      clusterName,
      endpoint,
      certificateAuthority: ca.data ?? "",
      accountId,
      partition,
      region: i.cfg.region,
      vpcCidr: i.cfg.network.vpcCidr,
      engine: engineName as HubEngine,
      argocdNamespace: engine.namespace,
      argocdRoleArn,
      spokes: Object.fromEntries(
        Object.entries(fleet.spokes).map(([name, s]) => [
          name,
          { ...s, secretName: clusterSecretName(name), group: registrarGroup(name) },
        ]),
      ),
      projects: fleet.projects,
    }));
  return { ...engine.outputs, gitopsNamespace: engine.namespace, fleet: outputs };
};

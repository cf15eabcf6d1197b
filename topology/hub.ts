// A fleet's hub: a management cluster running Argo CD (self-managed with HA and SSO, or the EKS capability) that
// deploys to the spokes it admits, one AppProject per environment, and no application workloads of its own.
import * as pulumi from "@pulumi/pulumi";
import type { FleetConfig } from "../config";
import type { HubEngine } from "../core/engines";
import { k8sLabels, roleName } from "../core/names";
import { ENVIRONMENTS } from "../core/project";
import { ENGINE_DEFINITIONS } from "../engines";
import { projectSubscriptions } from "../engines/argo/notifications";
import { ARGOCD_NAMESPACE, environmentProject } from "../engines/argo/projects";
import type { Topology } from "./contract";
import { clusterSecretName, FleetHub, registrarGroup, type FleetHubOutputs } from "./fleet-hub";
import { engineArgs } from "./single";

type HubConfig = Extract<FleetConfig, { role: "hub" }>;

export const hub: Topology = (i) => {
  const fleet = i.cfg.fleet as HubConfig;
  const labels = k8sLabels(i.cfg.environment);
  const engineName = i.cfg.gitops.engine;
  const engine = ENGINE_DEFINITIONS[engineName].create(engineName, {
    ...engineArgs(i),
    hub: {
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
    namespace: engine.namespace,
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

// A fleet's spoke: no engine of its own; it admits the hub's Argo CD and registers itself on the hub, whose
// ApplicationSets then deploy its add-ons and apps by its labels.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, type FleetConfig } from "../config";
import type { HubEngine } from "../core/engines";
import { PROJECT, type Environment } from "../core/project";
import { ENGINE_DEFINITIONS, type HubEngineDefinition } from "../engines";
import type { Topology } from "./contract";
import type { FleetHubOutputs } from "./fleet-hub";
import { SpokeRegistration } from "./spoke-registration";

export interface SpokeFacts {
  hubStack: string;
  /** fleet.hubEngine: which Argo CD this spoke registers for. */
  hubEngine: HubEngine;
  name: string;
  environment: Environment;
  partition: string;
  accountId: string;
}

/**
 * What the hub's outputs must say for this spoke to register. Errors name the key a person fixes; a hub stack
 * that does not exist (or is no hub) yields no `fleetHub` output at all.
 */
export function checkHub(hub: FleetHubOutputs | undefined, s: SpokeFacts): FleetHubOutputs {
  const fail = (key: string, value: unknown, allowed: string): never => {
    throw new ConfigError([`${PROJECT}:${key} = ${JSON.stringify(value)}: ${allowed}`]);
  };
  if (hub === undefined || typeof hub !== "object" || !hub.argocdRoleArn) {
    return fail(
      "fleet.hubStack",
      s.hubStack,
      "has no fleetHub output: name a deployed stack with fleet.role hub (pulumi stack ls, org/project/stack)",
    );
  }
  const problems: string[] = [];
  const add = (key: string, value: unknown, allowed: string) =>
    problems.push(`${PROJECT}:${key} = ${JSON.stringify(value)}: ${allowed}`);
  if (hub.partition !== s.partition) {
    add(
      "fleet.hubStack",
      s.hubStack,
      `is a hub in partition ${hub.partition}, this spoke is in ${s.partition}: IAM roles and EKS access entries do not cross partitions`,
    );
  }
  // A hub that predates the `engine` output runs the self-managed Argo CD.
  const hubEngine = hub.engine ?? "argocd";
  if (hubEngine !== s.hubEngine)
    add(
      "fleet.hubEngine",
      s.hubEngine,
      `must be ${hubEngine}: hub ${s.hubStack} runs ${hubEngine}, and its Argo CD reads a spoke's cluster Secret in that form`,
    );
  const admitted = hub.spokes[s.name];
  if (!admitted) {
    add(
      "name",
      s.name,
      `is not admitted by hub ${s.hubStack}: add it to that stack's fleet.spokes (admitted: ${Object.keys(hub.spokes).sort().join(", ") || "none"})`,
    );
  } else {
    if (admitted.environment !== s.environment) {
      add(
        "environment",
        s.environment,
        `must be ${admitted.environment}: hub ${s.hubStack} admits ${s.name} as a ${admitted.environment} spoke`,
      );
    }
    const deployerAccount = admitted.deployerRoleArn.split(":")[4];
    if (deployerAccount !== s.accountId) {
      add(
        "name",
        s.name,
        `is registered on hub ${s.hubStack} for a deployer of account ${deployerAccount}, this stack runs in ${s.accountId}: is another spoke already registered under this name?`,
      );
    }
  }
  const project = hub.projects[s.environment];
  if (s.environment === "prod" && project?.automated && !project.windows.some((w) => w.kind === "allow")) {
    add(
      "fleet.hubStack",
      s.hubStack,
      "is a hub whose prod project would auto-sync this prod spoke without an allow window: fix fleet.projects.prod on the hub",
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return hub;
}

function hubDefinition(engine: HubEngine): HubEngineDefinition {
  const definition = ENGINE_DEFINITIONS[engine].hub;
  if (!definition) throw new Error(`engine ${engine} is in HUB_ENGINES but defines no hub (engines/)`);
  return definition;
}

export const spoke: Topology = (i) => {
  const { hubStack, hubEngine } = i.cfg.fleet as Extract<FleetConfig, { role: "spoke" }>;
  const ref = new pulumi.StackReference("fleet-hub", { name: hubStack });
  const hub = pulumi
    .all([ref.getOutput("fleetHub"), i.ctx.partition, i.ctx.accountId])
    .apply(([h, partition, accountId]) =>
      checkHub(h as FleetHubOutputs | undefined, {
        hubStack,
        hubEngine,
        name: i.cfg.name,
        environment: i.cfg.environment,
        partition,
        accountId,
      }),
    );
  const registration = new SpokeRegistration("fleet", {
    ctx: i.ctx,
    environment: i.cfg.environment,
    clusterName: i.cfg.name,
    cluster: i.cluster.cluster,
    hub,
    bridge: i.bridge,
    tags: i.tags,
    hubEngine: hubDefinition(hubEngine),
    spokeReady: [
      ...i.cluster.ready,
      ...i.network.dependencies,
      ...i.addonRoles,
      ...(i.externalSecrets ? [i.externalSecrets.stores] : []),
    ],
  });
  return {
    fleet: pulumi.output({
      hubStack,
      hubCluster: hub.clusterName,
      hubArgoCdRoleArn: hub.argocdRoleArn,
      clusterSecret: registration.clusterSecret.metadata.name,
    }),
  };
};

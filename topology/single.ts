// A single cluster running its own GitOps engine (engines/: Argo CD, Flux or the EKS Argo CD capability): the
// default, and what every stack without a `fleet` key builds.
import { ENGINE_DEFINITIONS, type EngineArgs } from "../engines";
import type { Topology, TopologyInputs } from "./contract";

/** What every engine is given; a hub adds its fleet parts to them. */
export function engineArgs(i: TopologyInputs): EngineArgs {
  return {
    ctx: i.ctx,
    environment: i.cfg.environment,
    clusterName: i.cfg.name,
    cluster: { name: i.cluster.cluster.name, arn: i.cluster.cluster.arn },
    config: i.cfg.gitops,
    alerts: i.cfg.alerts,
    secretsPrefix: i.cfg.externalSecrets.prefix,
    bridge: i.bridge,
    identity: i.identity,
    kmsKeyArn: i.kmsKeyArn,
    provider: i.cluster.provider,
    clusterReady: i.cluster.ready,
    externalSecrets: i.externalSecrets && {
      controller: i.externalSecrets.controller,
      stores: i.externalSecrets.stores,
    },
    seedSecretArns: i.externalSecrets?.seedSecretArns ?? {},
    tags: i.tags,
  };
}

export const single: Topology = (i) => {
  const engine = ENGINE_DEFINITIONS[i.cfg.gitops.engine].create(i.cfg.gitops.engine, engineArgs(i));
  return { ...engine.outputs, gitopsNamespace: engine.namespace };
};

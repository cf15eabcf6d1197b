// A single cluster running its own GitOps engine, Argo CD or Flux: the default, and what every stack without a
// `fleet` key builds.
import { ArgoCd, type ArgoCdArgs } from "../components/argocd";
import { Flux } from "../components/flux";
import type { Topology, TopologyInputs } from "./contract";

/** The engine arguments both engines share; a hub adds its fleet parts to them. */
export function engineArgs(i: TopologyInputs): ArgoCdArgs {
  return {
    environment: i.cfg.environment,
    clusterName: i.cfg.name,
    config: i.cfg.gitops,
    alerts: i.cfg.alerts,
    secretsPrefix: i.cfg.externalSecrets.prefix,
    bridge: i.bridge,
    provider: i.cluster.provider,
    clusterReady: i.cluster.ready,
    externalSecrets: i.externalSecrets && {
      controller: i.externalSecrets.controller,
      stores: i.externalSecrets.stores,
    },
  };
}

export const single: Topology = (i) => {
  if (i.cfg.gitops.engine === "argocd") {
    new ArgoCd("argocd", engineArgs(i));
    return {};
  }
  const flux = new Flux("flux", {
    ...engineArgs(i),
    ctx: i.ctx,
    irsa: i.cluster.irsa,
    kmsKeyArn: i.kmsKeyArn,
    tags: i.tags,
  });
  return { fluxDecryptRoleArn: flux.decryptRole.arn };
};

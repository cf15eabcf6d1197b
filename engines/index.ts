// The GitOps engine, chosen once from `gitops.engine`: one definition per engine, one file per engine.
import type { Engine } from "../config";
import { ARGOCD_NAMESPACE, ArgoCd } from "../components/argocd";
import { roleArn, roleName, ROLES } from "../components/common";
import { clusterConfig } from "../components/fleet";
import { Flux, FLUX_NAMESPACE } from "../components/flux";
import { eksArgoCd } from "./eksArgoCd";
import type { EngineDefinition } from "./types";

export type { EngineArgs, EngineDefinition, EngineOutputs, GitOpsEngine, HubArgs } from "./types";
export type { HubEngineDefinition, SpokeCluster } from "../components/fleet";

const argocd: EngineDefinition = {
  keyUses: () => [],
  create(name, { hub, ...args }) {
    const engine = new ArgoCd(name, {
      ...args,
      ...(hub && {
        // Spokes only ever see this role's ARN: IRSA or Pod Identity (the stack's `identity`) is the hub's business.
        clusterIdentity: { identity: hub.identity, roleName: hub.roleName, tags: args.tags },
        inClusterLabelKeys: hub.inClusterLabelKeys,
        localScope: hub.localScope,
        objects: hub.objects,
      }),
    });
    return {
      namespace: ARGOCD_NAMESPACE,
      root: engine.root,
      bridge: engine.clusterSecret,
      outputs: {},
      fleetRoleArn: engine.clusterRole?.arn,
    };
  },
  hub: {
    // A token for the spoke comes from the hub's own AWS identity (argocd-k8s-auth): the CA and the name only.
    clusterSecretData: (s) => ({ name: s.name, server: s.endpoint, config: clusterConfig(s.name, s.caData) }),
    connectsFromHubVpc: true,
  },
};

const flux: EngineDefinition = {
  // SOPS calls KMS directly, so there is no service to restrict the use to.
  keyUses: (ctx, platformName) => [
    {
      sid: "FluxSopsDecrypt",
      roleArns: [roleArn(ctx, roleName(platformName, ROLES.fluxSops))],
      actions: ["kms:Decrypt"],
    },
  ],
  create(name, args) {
    const engine = new Flux(name, args);
    return {
      namespace: FLUX_NAMESPACE,
      root: engine.root,
      bridge: engine.bridge,
      outputs: { fluxDecryptRoleArn: engine.decryptRole.arn },
    };
  },
};

export const ENGINE_DEFINITIONS: Record<Engine, EngineDefinition> = {
  argocd,
  flux,
  "eks-argocd": eksArgoCd,
};

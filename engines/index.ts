// The GitOps engine, chosen once from `gitops.engine`: one definition per engine, one file per engine.
import type { Engine } from "../config";
import { ARGOCD_NAMESPACE, ArgoCd } from "../components/argocd";
import { roleArn, roleName, ROLES } from "../components/common";
import { Flux, FLUX_NAMESPACE } from "../components/flux";
import { eksArgoCd } from "./eksArgoCd";
import type { EngineDefinition } from "./types";

export type { EngineArgs, EngineDefinition, EngineOutputs, GitOpsEngine } from "./types";

const argocd: EngineDefinition = {
  keyUses: () => [],
  create(name, args) {
    const engine = new ArgoCd(name, args);
    return { namespace: ARGOCD_NAMESPACE, root: engine.root, bridge: engine.clusterSecret, outputs: {} };
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

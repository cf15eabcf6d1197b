// Flux (the community flux2 chart) as a GitOps engine (engines/contract.ts). Flux has no hub: each Flux cluster
// reconciles itself (README, "Flux in a fleet").
import { roleArn } from "../../core/iam";
import { roleName, ROLES } from "../../core/names";
import type { EngineDefinition } from "../contract";
import { Flux, FLUX_NAMESPACE } from "./flux";

export const flux: EngineDefinition = {
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

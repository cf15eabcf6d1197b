// The EKS Argo CD capability as a GitOps engine (engines/contract.ts); it can run a fleet's hub.
import { roleArn } from "../../core/iam";
import { roleName, ROLES } from "../../core/names";
import type { EngineDefinition, GitOpsEngine } from "../contract";
import { EKS_ARGOCD_NAMESPACE } from "./capability";
import { EksArgoCd } from "./eksArgoCd";
import { managedClusterData } from "./objects";

export const eksArgoCd: EngineDefinition = {
  keyUses: (ctx, platformName, config) =>
    config.private
      ? [
          {
            sid: "EksArgoCdCapabilityDecryptViaSecretsManager",
            roleArns: [roleArn(ctx, roleName(platformName, ROLES.argocdCapability))],
            actions: ["kms:Decrypt"],
            viaServices: ["secretsmanager"],
          },
        ]
      : [],
  create(name, args): GitOpsEngine {
    const engine = new EksArgoCd(name, args);
    return {
      namespace: EKS_ARGOCD_NAMESPACE,
      root: engine.root,
      bridge: engine.root,
      outputs: { argocdCapabilityRoleArn: engine.role.arn, argocdServerUrl: engine.serverUrl },
      fleetRoleArn: engine.role.arn,
    };
  },
  hub: {
    clusterSecretData: (s) => managedClusterData(s),
    // AWS's network reaches a spoke's API, private endpoints included: the hub's VPC is not in the path.
    connectsFromHubVpc: false,
  },
};

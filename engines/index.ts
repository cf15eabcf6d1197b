// The GitOps engine, chosen once from `gitops.engine`: one folder per engine (engines/<name>/), each implementing
// engines/contract.ts; what the rest of the program must know of an engine without building it is core/engines.ts.
import type { Engine } from "../core/engines";
import { argocd } from "./argocd";
import type { EngineDefinition } from "./contract";
import { eksArgoCd } from "./eks-argocd";
import { flux } from "./flux";

export type { EngineArgs, EngineDefinition, EngineOutputs, GitOpsEngine, HubArgs } from "./contract";
export type { HubEngineDefinition, SpokeCluster } from "./contract";

export const ENGINE_DEFINITIONS: Record<Engine, EngineDefinition> = {
  argocd,
  flux,
  "eks-argocd": eksArgoCd,
};

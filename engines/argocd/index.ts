// The self-managed Argo CD as a GitOps engine (engines/contract.ts); it can run a fleet's hub.
import { ENGINE_FACTS } from "../../core/engines";
import type { EngineDefinition } from "../contract";
import { ArgoCd } from "./argocd";

/**
 * The `config` of an Argo CD cluster Secret for an EKS cluster: Argo CD gets a token for the cluster with its
 * own AWS identity (argocd-k8s-auth), so the Secret holds the CA and the cluster's name, and no credential.
 */
export function clusterConfig(clusterName: string, caData: string): string {
  return JSON.stringify({ awsAuthConfig: { clusterName }, tlsClientConfig: { insecure: false, caData } });
}

export const argocd: EngineDefinition = {
  keyUses: () => [],
  create(name, args) {
    const engine = new ArgoCd(name, args);
    return {
      namespace: ENGINE_FACTS.argocd.namespace,
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

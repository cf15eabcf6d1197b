// External Secrets objects as plain data: how any part of the platform brings a Secrets Manager entry into the
// cluster (the GitOps engines' credentials, alert destinations). The operator and its stores are
// components/externalSecrets.ts.
import type { K8sObject } from "./helm";
import { GITOPS_SECRETS } from "./secrets";

export const STORES = {
  secretsManager: "aws-secrets-manager",
  parameterStore: "aws-parameter-store",
} as const;

export const GIT_CREDENTIALS_SECRET = "gitops-repository";

/** The GitOps repository's token (`username`, `password`) from Secrets Manager, as the engine's Secret. */
export function gitCredentials(
  namespace: string,
  secretsPrefix: string,
  labels: Record<string, string>,
  target?: { labels?: Record<string, string>; data?: Record<string, string> },
): K8sObject {
  return externalSecret({
    name: GIT_CREDENTIALS_SECRET,
    namespace,
    labels,
    data: properties(`${secretsPrefix}/${GITOPS_SECRETS.repository}`, ["username", "password"]),
    target,
  });
}

/** One key of the produced Secret, read from a property of a Secrets Manager entry (JSON). */
export interface RemoteValue {
  secretKey: string;
  remoteKey: string;
  property: string;
}

/** Properties of one Secrets Manager entry, each under its own name. */
export function properties(remoteKey: string, names: string[]): RemoteValue[] {
  return names.map((property) => ({ secretKey: property, remoteKey, property }));
}

/** An ExternalSecret reading properties of Secrets Manager entries into a Kubernetes Secret it owns. */
export function externalSecret(p: {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  data: RemoteValue[];
  /** Labels and templated data of the produced Secret (`{{ .property }}` refers to a fetched property). */
  target?: { labels?: Record<string, string>; data?: Record<string, string> };
}): K8sObject {
  const template = p.target
    ? {
        template: {
          engineVersion: "v2",
          metadata: { labels: p.target.labels ?? {} },
          ...(p.target.data ? { data: p.target.data } : {}),
        },
      }
    : {};
  return {
    apiVersion: "external-secrets.io/v1",
    kind: "ExternalSecret",
    metadata: { name: p.name, namespace: p.namespace, labels: p.labels },
    spec: {
      refreshInterval: "1h",
      secretStoreRef: { kind: "ClusterSecretStore", name: STORES.secretsManager },
      target: { name: p.name, creationPolicy: "Owner", deletionPolicy: "Delete", ...template },
      data: p.data.map((d) => ({
        secretKey: d.secretKey,
        remoteRef: { key: d.remoteKey, property: d.property },
      })),
    },
  };
}

// Flux notifications: per destination, a Secret (written by External Secrets), a notification-controller
// Provider that reads its credential from it, and Alerts on the failures of every kind Flux reconciles. In
// prod, HelmRelease drift (detection mode `warn`, gitops/clusters/prod/flux) gets an Alert of its own.
import type { AlertDestination, AlertType } from "../../config";
import { externalSecret } from "../../core/external-secrets";
import type { K8sObject } from "../../core/helm";
import type { Environment } from "../../core/project";
import { CREDENTIAL_PROPERTY, credential } from "../alerts";

const API = "notification.toolkit.fluxcd.io/v1beta3";
/** Every kind whose failed reconciliation a person must hear of: the root and its children, and the sources. */
export const FAILURE_SOURCES = [
  "Kustomization",
  "HelmRelease",
  "GitRepository",
  "HelmRepository",
  "HelmChart",
  "OCIRepository",
] as const;
/** The message helm-controller gives its DriftDetected warning (internal/reconcile/atomic_release.go). */
export const DRIFT_MESSAGE_RE = "has drifted from the desired state";

const PROVIDERS: Record<AlertType, (d: AlertDestination) => Record<string, unknown>> = {
  // The bot token API; the channel is not a secret.
  slack: (d) => ({ type: "slack", channel: d.channel, address: "https://slack.com/api/chat.postMessage" }),
  // The URL is the credential: it comes from the Secret's `address`, which overrides spec.address.
  webhook: () => ({ type: "generic" }),
  msteams: () => ({ type: "msteams" }),
};

export interface FluxAlertsInput {
  environment: Environment;
  clusterName: string;
  destinations: AlertDestination[];
  namespace: string;
  secretsPrefix: string;
  labels: Record<string, string>;
}

export const providerSecret = (d: AlertDestination) => `alert-${d.name}`;

/** ExternalSecrets, Providers and Alerts for every destination (nothing without one). */
export function fluxAlertObjects(n: FluxAlertsInput): K8sObject[] {
  const prod = n.environment === "prod";
  const meta = (name: string) => ({ name, namespace: n.namespace, labels: n.labels });
  const eventMetadata = { environment: n.environment, cluster: n.clusterName };
  return n.destinations.flatMap((d): K8sObject[] => [
    externalSecret({
      ...meta(providerSecret(d)),
      data: [credential(d, n.secretsPrefix, CREDENTIAL_PROPERTY[d.type])],
    }),
    {
      apiVersion: API,
      kind: "Provider",
      metadata: meta(d.name),
      spec: { ...PROVIDERS[d.type](d), secretRef: { name: providerSecret(d) } },
    },
    {
      apiVersion: API,
      kind: "Alert",
      metadata: meta(`${d.name}-failures`),
      spec: {
        providerRef: { name: d.name },
        eventSeverity: "error",
        eventSources: FAILURE_SOURCES.map((kind) => ({ kind, name: "*" })),
        // Drift is reported by the drift Alert in prod and corrected without a page elsewhere.
        exclusionList: [DRIFT_MESSAGE_RE],
        eventMetadata,
      },
    },
    ...(prod
      ? [
          {
            apiVersion: API,
            kind: "Alert",
            metadata: meta(`${d.name}-drift`),
            spec: {
              providerRef: { name: d.name },
              eventSeverity: "error",
              eventSources: [{ kind: "HelmRelease", name: "*" }],
              inclusionList: [DRIFT_MESSAGE_RE],
              eventMetadata: { ...eventMetadata, alert: "drift" },
            },
          },
        ]
      : []),
  ]);
}

// Argo CD notifications, for both Argo CDs: the self-managed one's controller is configured through the argo-cd
// chart's values, the managed one's through the same data written as argocd-notifications-cm. The services read
// their credentials from argocd-notifications-secret, which an ExternalSecret writes; the subscriptions sit on
// the AppProjects, so every Application of a project (ApplicationSet-made ones too) is covered without an
// annotation of its own.
import { stringify } from "yaml";
import type { AlertDestination, AlertType } from "../../config";
import { externalSecret } from "../../core/external-secrets";
import { podResources, type K8sObject } from "../../core/helm";
import type { Environment } from "../../core/project";
import { credential } from "../alerts";

export const NOTIFICATIONS_SECRET = "argocd-notifications-secret";
const ANNOTATION_PREFIX = "notifications.argoproj.io";
/** `"true"` on an Application mutes every platform alert for it. */
export const SILENCE_ANNOTATION = "alerts.gitops-platform.io/silence";

export interface NotificationsInput {
  environment: Environment;
  clusterName: string;
  destinations: AlertDestination[];
  /** gitops.argocd.url when configured; without it alerts name the app but cannot link to it. */
  argocdUrl?: string;
}

interface Trigger {
  name: string;
  template: string;
  /** expr-lang, evaluated by the notifications controller against `app` (the Application object). */
  when: string;
  headline: string;
  /** Go template of an optional detail line (the operation's or health's message). */
  detail: string;
  gatedOnly: boolean;
}

const NOT_SILENCED = `(app.metadata.annotations == nil or app.metadata.annotations['${SILENCE_ANNOTATION}'] != 'true')`;

export const TRIGGERS: Trigger[] = [
  {
    name: "on-sync-failed",
    template: "app-sync-failed",
    when: `app.status.operationState != nil and app.status.operationState.phase in ['Error', 'Failed'] and ${NOT_SILENCED}`,
    headline: "failed to sync",
    detail: "{{with .app.status.operationState}}{{with .message}}{{.}}{{end}}{{end}}",
    gatedOnly: false,
  },
  {
    name: "on-health-degraded",
    template: "app-health-degraded",
    when: `app.status.health.status == 'Degraded' and ${NOT_SILENCED}`,
    headline: "is Degraded",
    detail: "{{with .app.status.health.message}}{{.}}{{end}}",
    gatedOnly: false,
  },
  {
    // No oncePer: the controller never forgets a oncePer key, so a second hand-made change at the same
    // revision would go unreported; without it, every transition into OutOfSync alerts once.
    name: "on-out-of-sync",
    template: "app-out-of-sync",
    when: `app.status.sync.status == 'OutOfSync' and ${NOT_SILENCED}`,
    headline: "is OutOfSync: the cluster differs from Git and nothing syncs it automatically",
    detail: "",
    gatedOnly: true,
  },
];

/** The triggers an environment subscribes to. */
export function activeTriggers(gated: boolean): Trigger[] {
  return TRIGGERS.filter((t) => gated || !t.gatedOnly);
}

const secretKey = (d: AlertDestination) => `alert-${d.name}`;
// Unfolded, so a person reading argocd-notifications-cm sees each expression and message line as written.
const yaml = (value: unknown) => stringify(value, { lineWidth: 0 });

/** `service.<type>.<name>` of the argocd-notifications-cm: the credential is a `$key` of the Secret. */
const SERVICES: Record<
  AlertType,
  (d: AlertDestination) => { type: string; config: object; recipient: string }
> = {
  slack: (d) => ({ type: "slack", config: { token: `$${secretKey(d)}` }, recipient: d.channel ?? "" }),
  // The webhook service ignores the recipient; the annotation still needs one (empty).
  webhook: (d) => ({
    type: "webhook",
    config: { url: `$${secretKey(d)}`, headers: [{ name: "Content-Type", value: "application/json" }] },
    recipient: "",
  }),
  msteams: (d) => ({
    type: "teams-workflows",
    config: { recipientUrls: { [d.name]: `$${secretKey(d)}` } },
    recipient: d.name,
  }),
};

/** Where the app runs: the destination cluster's name in a fleet (hub and spokes), its server otherwise. */
const WHERE_EXPR = ".app.spec.destination.name | default .app.spec.destination.server";
const WHERE = `{{${WHERE_EXPR}}}`;

function message(t: Trigger, argocdUrl: string | undefined): string {
  const link = argocdUrl
    ? "{{.context.argocdUrl}}/applications/{{.app.metadata.namespace}}/{{.app.metadata.name}}"
    : "argocd app get {{.app.metadata.namespace}}/{{.app.metadata.name}} (gitops.argocd.url is not set)";
  return [
    `[{{.context.environment}}/{{.context.cluster}}] {{.app.metadata.name}} ${t.headline}`,
    `Destination: ${WHERE}`,
    "Revision: {{.app.status.sync.revision}}",
    ...(t.detail ? [t.detail] : []),
    link,
  ].join("\n");
}

function template(t: Trigger, destinations: AlertDestination[], argocdUrl: string | undefined) {
  const text = message(t, argocdUrl);
  const webhooks = destinations.filter((d) => d.type === "webhook");
  // A JSON body for generic receivers; toJson quotes every value, whatever it contains.
  const body = [
    `{"event": "${t.name}"`,
    `"environment": {{toJson .context.environment}}`,
    `"cluster": {{toJson .context.cluster}}`,
    `"app": {{toJson .app.metadata.name}}`,
    `"destination": {{toJson (${WHERE_EXPR})}}`,
    `"revision": {{toJson .app.status.sync.revision}}`,
    `"summary": ${JSON.stringify(t.headline)}}`,
  ].join(", ");
  return {
    message: text,
    ...(webhooks.length > 0
      ? { webhook: Object.fromEntries(webhooks.map((d) => [d.name, { method: "POST", body }])) }
      : {}),
    ...(destinations.some((d) => d.type === "msteams")
      ? { "teams-workflows": { title: `{{.app.metadata.name}} ${t.headline}`, text } }
      : {}),
  };
}

/**
 * The notifications controller's configuration (argocd-notifications-cm): services, triggers and templates, and
 * the context the templates read. Every trigger is defined; which ones a project subscribes to depends on its
 * gate (projectSubscriptions).
 */
function notificationsConfig(n: NotificationsInput) {
  return {
    context: { environment: n.environment, cluster: n.clusterName },
    notifiers: Object.fromEntries(
      n.destinations.map((d) => {
        const s = SERVICES[d.type](d);
        return [`service.${s.type}.${d.name}`, yaml(s.config)];
      }),
    ),
    triggers: Object.fromEntries(
      TRIGGERS.map((t) => [`trigger.${t.name}`, yaml([{ when: t.when, send: [t.template] }])]),
    ),
    templates: Object.fromEntries(
      TRIGGERS.map((t) => [`template.${t.template}`, yaml(template(t, n.destinations, n.argocdUrl))]),
    ),
  };
}

/** The argo-cd chart's `notifications` values: enabled only with a destination, secret from External Secrets. */
export function notificationsValues(n: NotificationsInput) {
  if (n.destinations.length === 0) return { enabled: false };
  return {
    enabled: true,
    ...(n.argocdUrl ? { argocdUrl: n.argocdUrl } : {}),
    ...notificationsConfig(n),
    // The ExternalSecret owns the Secret; a chart-made one would be an empty rival.
    secret: { create: false },
    resources: podResources("20m", "128Mi"),
  };
}

export const NOTIFICATIONS_CONFIG_MAP = "argocd-notifications-cm";

/**
 * argocd-notifications-cm for an Argo CD that runs its notifications controller but writes no configuration of
 * its own (the EKS capability): the data the argo-cd chart writes from notificationsValues, key for key.
 */
export function notificationsConfigMap(
  n: NotificationsInput,
  namespace: string,
  labels: Record<string, string>,
): K8sObject {
  const { context, notifiers, triggers, templates } = notificationsConfig(n);
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: NOTIFICATIONS_CONFIG_MAP, namespace, labels },
    data: {
      context: yaml({ ...(n.argocdUrl ? { argocdUrl: n.argocdUrl } : {}), ...context }),
      ...notifiers,
      ...triggers,
      ...templates,
    },
  };
}

/** AppProject annotations subscribing every destination to every active trigger. */
export function projectSubscriptions(
  destinations: AlertDestination[],
  gated: boolean,
): Record<string, string> {
  return Object.fromEntries(
    activeTriggers(gated).flatMap((t) =>
      destinations.map((d) => [
        `${ANNOTATION_PREFIX}/subscribe.${t.name}.${d.name}`,
        SERVICES[d.type](d).recipient,
      ]),
    ),
  );
}

/** argocd-notifications-secret, one `alert-<name>` key per destination, from Secrets Manager. */
export function notificationsSecret(
  destinations: AlertDestination[],
  namespace: string,
  secretsPrefix: string,
  labels: Record<string, string>,
): K8sObject {
  return externalSecret({
    name: NOTIFICATIONS_SECRET,
    namespace,
    labels,
    data: destinations.map((d) => credential(d, secretsPrefix, secretKey(d))),
    target: { labels: { "app.kubernetes.io/part-of": "argocd" } },
  });
}

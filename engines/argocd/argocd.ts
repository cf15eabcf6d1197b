// The self-managed Argo CD: the argo-cd chart, the in-cluster cluster Secret carrying the bridge metadata, and the
// root objects (credentials, the platform project, a hub's projects, the root Application).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { rootSecretDependencies } from "../../core/bridge";
import { externalSecret, gitCredentials, properties } from "../../core/external-secrets";
import { bootstrapRelease, controllerRelease, type K8sObject } from "../../core/helm";
import { k8sLabels } from "../../core/names";
import { CHARTS } from "../../core/pins";
import { GITOPS_SECRETS } from "../../core/secrets";
import type { WorkloadRole } from "../../identity";
import type { EngineArgs } from "../contract";
import { notificationsSecret, notificationsValues, projectSubscriptions } from "../argo/notifications";
import {
  appProject,
  ARGOCD_NAMESPACE,
  clusterSecretLabels,
  gated,
  IN_CLUSTER,
  IN_CLUSTER_NAME,
  rootApplication,
  ROOT_APP,
} from "../argo/projects";
import { argoCdValues, withServiceAccountAnnotations } from "./values";

/** The chart's service accounts that talk to clusters: the controller syncs, the server shows live state. */
export const ARGOCD_CLUSTER_CLIENTS = ["argocd-application-controller", "argocd-server"];
/** What the self-managed Argo CD reads of the engine contract (engines/contract.ts). */
export type ArgoCdArgs = Omit<EngineArgs, "ctx" | "cluster" | "kmsKeyArn" | "seedSecretArns">;

/** Argo CD, the bridge metadata on its in-cluster cluster Secret, and the root app pointing at the GitOps repository. */
export class ArgoCd extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  readonly root: k8s.helm.v3.Release;
  readonly namespace: k8s.core.v1.Namespace;
  readonly clusterRole?: WorkloadRole;
  /** The in-cluster cluster Secret, which carries the bridge metadata. */
  readonly clusterSecret: k8s.core.v1.Secret;

  constructor(name: string, args: ArgoCdArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gitops-platform:index:ArgoCd", name, {}, opts);
    const { config: c } = args;
    const labels = k8sLabels(args.environment);
    const k8sOpts = { parent: this, provider: args.provider };

    const ns = (this.namespace = new k8s.core.v1.Namespace(
      name,
      { metadata: { name: ARGOCD_NAMESPACE, labels } },
      { ...k8sOpts, dependsOn: args.clusterReady },
    ));
    // No permissions: a token for a cluster is a presigned sts:GetCallerIdentity; what the role may do there is
    // that cluster's access entry.
    // A hub reaches its spokes as this role; spokes only ever see its ARN, so the hub's identity mode is its own.
    const hub = args.hub;
    const clusterRole = (this.clusterRole =
      hub &&
      args.identity.role(
        `${name}-clusters`,
        {
          roleName: hub.roleName,
          namespace: ARGOCD_NAMESPACE,
          serviceAccount: ARGOCD_CLUSTER_CLIENTS,
          tags: args.tags,
        },
        { parent: this },
      ));
    const notifications = notificationsValues({
      environment: args.environment,
      clusterName: args.clusterName,
      destinations: args.alerts.destinations,
      argocdUrl: c.argocd.url,
    });
    this.release = controllerRelease(
      name,
      {
        releaseName: "argocd",
        chart: CHARTS.argoCd.chart,
        version: c.argocd.chartVersion,
        repo: CHARTS.argoCd.repo,
        namespace: ARGOCD_NAMESPACE,
        values: clusterRole
          ? clusterRole.serviceAccountAnnotations.apply((annotations) =>
              withServiceAccountAnnotations(argoCdValues(c, args.environment, notifications), annotations),
            )
          : argoCdValues(c, args.environment, notifications),
        timeout: 900,
      },
      { ...k8sOpts, dependsOn: [ns, ...args.clusterReady, ...(clusterRole?.ready ?? [])] },
    );

    // The in-cluster cluster Secret carries no credential (Argo CD uses its own service account); its labels and
    // annotations are the bridge metadata ApplicationSets template add-on values from.
    const clusterSecret = (this.clusterSecret = new k8s.core.v1.Secret(
      `${name}-in-cluster`,
      {
        metadata: {
          name: IN_CLUSTER_NAME,
          namespace: ARGOCD_NAMESPACE,
          labels: args.bridge.apply((b) => clusterSecretLabels(b, labels, hub?.inClusterLabelKeys)),
          annotations: args.bridge,
        },
        stringData: { name: IN_CLUSTER_NAME, server: IN_CLUSTER },
      },
      { ...k8sOpts, dependsOn: [ns] },
    ));

    const credentials: K8sObject[] = [];
    if (c.private) {
      credentials.push(
        gitCredentials(ARGOCD_NAMESPACE, args.secretsPrefix, labels, {
          labels: { "argocd.argoproj.io/secret-type": "repository" },
          data: { type: "git", url: c.repoUrl, username: "{{ .username }}", password: "{{ .password }}" },
        }),
      );
    }
    if (c.argocd.sso) {
      credentials.push(
        externalSecret({
          name: "argocd-oidc",
          namespace: ARGOCD_NAMESPACE,
          labels,
          data: properties(`${args.secretsPrefix}/${GITOPS_SECRETS.argocdOidc}`, ["clientSecret"]),
          target: { labels: { "app.kubernetes.io/part-of": "argocd" } },
        }),
      );
    }

    const destinations = args.alerts.destinations;
    if (destinations.length > 0)
      credentials.push(notificationsSecret(destinations, ARGOCD_NAMESPACE, args.secretsPrefix, labels));

    this.root = bootstrapRelease(`${name}-root`, {
      namespace: ARGOCD_NAMESPACE,
      objects: [
        ...credentials,
        appProject(
          c,
          labels,
          hub?.localScope,
          projectSubscriptions(destinations, gated(c, args.environment)),
        ),
        ...(hub?.objects ?? []),
        rootApplication(c, labels),
      ],
      provider: args.provider,
      dependsOn: [this.release, clusterSecret, ...rootSecretDependencies(args.externalSecrets, credentials)],
      parent: this,
    });
    this.registerOutputs({ namespace: ARGOCD_NAMESPACE, rootApp: ROOT_APP });
  }
}

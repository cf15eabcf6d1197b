// The root objects the managed engine applies once the capability is ACTIVE: the self-managed engine's, with the
// capability's differences (clusters by ARN, Applications read from one namespace, credentials by reference).
import type { GitOpsConfig } from "../../config";
import { BRIDGE_LABEL_KEYS } from "../../core/bridge";
import type { K8sObject } from "../../core/helm";
import { k8sLabels } from "../../core/names";
import type { Environment } from "../../core/project";
import { notificationsConfigMap, notificationsSecret, type NotificationsInput } from "../argo/notifications";
import {
  APP_PROJECT,
  appProject,
  clusterSecretLabels,
  IN_CLUSTER_NAME,
  rootApplication,
  type ArgoCdCluster,
} from "../argo/projects";
import type { HubArgs } from "../contract";
import { EKS_ARGOCD_NAMESPACE, REPOSITORY_SECRET } from "./capability";

/** The local cluster for the managed Argo CD: known by ARN, Applications read from its one namespace. */
export function managedCluster(clusterArn: string): ArgoCdCluster {
  return { server: clusterArn, sourceNamespaces: [EKS_ARGOCD_NAMESPACE] };
}

/**
 * The local cluster's Secret for the managed Argo CD, `in-cluster` in `platform`, with the bridge metadata as
 * labels (on a hub only those no workload ApplicationSet selects) and annotations.
 */
export function managedClusterSecret(
  clusterArn: string,
  bridge: Record<string, string>,
  labels: Record<string, string>,
  labelKeys: readonly string[] = BRIDGE_LABEL_KEYS,
): K8sObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: IN_CLUSTER_NAME,
      namespace: EKS_ARGOCD_NAMESPACE,
      labels: clusterSecretLabels(bridge, labels, labelKeys),
      annotations: bridge,
    },
    type: "Opaque",
    stringData: managedClusterData({ name: IN_CLUSTER_NAME, arn: clusterArn, project: APP_PROJECT }),
  };
}

/**
 * How the managed Argo CD knows a cluster, local or a fleet's spoke: by its ARN, with no credential (it reaches
 * a cluster through the access entry its role has there), in the one project it lets a cluster belong to.
 */
export function managedClusterData(c: {
  name: string;
  arn: string;
  project: string;
}): Record<string, string> {
  return { name: c.name, server: c.arn, project: c.project };
}

/** The repository's credentials by reference: the capability reads the Secrets Manager entry with its role. */
export function repositorySecret(
  c: GitOpsConfig,
  secretArn: string,
  labels: Record<string, string>,
): K8sObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: REPOSITORY_SECRET,
      namespace: EKS_ARGOCD_NAMESPACE,
      labels: { ...labels, "argocd.argoproj.io/secret-type": "repository" },
    },
    type: "Opaque",
    stringData: { type: "git", url: c.repoUrl, secretArn, project: APP_PROJECT },
  };
}

/** The root objects the managed engine applies once the capability is ACTIVE. */
export function managedRootObjects(p: {
  config: GitOpsConfig;
  environment: Environment;
  clusterArn: string;
  bridge: Record<string, string>;
  repositorySecretArn?: string;
  /** The platform project's alert subscriptions (components/alerts/argocd.ts). */
  subscriptions?: Record<string, string>;
  /** Notifications' ConfigMap and credentials, with a destination. */
  notifications?: K8sObject[];
  hub?: Omit<HubArgs, "roleName">;
}): K8sObject[] {
  const labels = k8sLabels(p.environment);
  const cluster = managedCluster(p.clusterArn);
  return [
    managedClusterSecret(p.clusterArn, p.bridge, labels, p.hub?.inClusterLabelKeys),
    ...(p.repositorySecretArn ? [repositorySecret(p.config, p.repositorySecretArn, labels)] : []),
    ...(p.notifications ?? []),
    appProject(p.config, labels, p.hub?.localScope, p.subscriptions, cluster),
    ...(p.hub?.objects ?? []),
    rootApplication(p.config, labels, cluster),
  ];
}

/**
 * The alerts for the managed notifications controller, which reads argocd-notifications-cm only with the opt-in
 * label the stack gives (gitops.eksArgocd.notificationsLabel): the same services, triggers and templates as the
 * self-managed engine's, linking to the capability's URL, credentials from Secrets Manager.
 */
export function managedNotifications(
  n: NotificationsInput,
  optInLabel: string,
  secretsPrefix: string,
  labels: Record<string, string>,
): K8sObject[] {
  if (n.destinations.length === 0) return [];
  const [key, value] = optInLabel.split(/=(.*)/s);
  return [
    notificationsSecret(n.destinations, EKS_ARGOCD_NAMESPACE, secretsPrefix, labels),
    notificationsConfigMap(n, EKS_ARGOCD_NAMESPACE, { ...labels, [key]: value }),
  ];
}

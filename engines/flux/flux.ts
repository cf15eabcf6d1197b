import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PINNED_REVISION_RE, type GitOpsConfig } from "../../config";
import { BRIDGE_CONFIG_MAP, rootSecretDependencies } from "../../core/bridge";
import { ENGINE_FACTS } from "../../core/engines";
import { GIT_CREDENTIALS_SECRET, gitCredentials } from "../../core/external-secrets";
import { bootstrapRelease, controllerRelease, podResources, type K8sObject } from "../../core/helm";
import { policyDocument } from "../../core/iam";
import { k8sLabels, roleName, ROLES } from "../../core/names";
import { CHARTS } from "../../core/pins";
import type { WorkloadRole } from "../../identity";
import type { EngineArgs } from "../contract";
import { fluxAlertObjects } from "./alerts";

export const FLUX_NAMESPACE = ENGINE_FACTS.flux.namespace;
export const SOURCE = "platform";
export const KUSTOMIZE_CONTROLLER = "kustomize-controller";

/** What every engine is given (engines/types.ts), less what only the managed Argo CD reads. */
export type FluxArgs = Omit<EngineArgs, "cluster" | "seedSecretArns">;

/** A full SHA pins a commit, a version-like ref pins a tag, anything else follows a branch. */
export function gitRef(revision: string): Record<string, string> {
  if (/^[0-9a-f]{40}$/.test(revision)) return { commit: revision };
  if (PINNED_REVISION_RE.test(revision)) return { tag: revision };
  return { branch: revision };
}

/** Helm values for the community flux2 chart: IRSA for SOPS, no RBAC aggregation, one namespace watched. */
export function fluxValues(serviceAccountAnnotations: pulumi.Input<Record<string, string>>) {
  return {
    installCRDs: true,
    // Uninstalling or replacing the release must not delete every Kustomization, HelmRelease and source (and,
    // through them, what they applied): Helm leaves CRDs with this annotation in place.
    crds: { annotations: { "helm.sh/resource-policy": "keep" } },
    // The pre-install `flux check --pre` Job. Its template reads `cli.resources`, which values.yaml leaves out.
    cli: { resources: podResources("20m", "64Mi") },
    // Flux objects live in flux-system; watching nothing else keeps tenants from creating Kustomizations that
    // would reconcile with the controller's cluster-admin rights.
    watchAllNamespaces: false,
    // Aggregation would let namespace editors create Flux objects; the platform keeps that to Git.
    rbac: { create: true, createAggregation: false },
    // allow-egress, allow-scraping, allow-webhooks: ingress from flux-system itself (artifacts, events),
    // metrics from anywhere, the notification-controller's receiver from anywhere; egress open. Enforced by
    // the VPC CNI's network policy agent (compute/).
    policies: { create: true },
    sourceController: { resources: podResources("50m", "256Mi") },
    kustomizeController: {
      resources: podResources("100m", "512Mi"),
      serviceAccount: {
        create: true,
        automount: true,
        annotations: serviceAccountAnnotations,
      },
    },
    helmController: { resources: podResources("100m", "512Mi") },
    notificationController: { resources: podResources("20m", "64Mi") },
    imageReflectionController: { create: true, resources: podResources("20m", "128Mi") },
    imageAutomationController: { create: true, resources: podResources("20m", "128Mi") },
  };
}

export function gitRepository(c: GitOpsConfig, labels: Record<string, string>): K8sObject {
  return {
    apiVersion: "source.toolkit.fluxcd.io/v1",
    kind: "GitRepository",
    metadata: { name: SOURCE, namespace: FLUX_NAMESPACE, labels },
    spec: {
      url: c.repoUrl,
      ref: gitRef(c.targetRevision),
      interval: c.sync.interval,
      timeout: "60s",
      ...(c.private ? { secretRef: { name: GIT_CREDENTIALS_SECRET } } : {}),
    },
  };
}

/** The root Kustomization: prune, wait for health, bridge metadata substitution, SOPS through the platform key. */
export function rootKustomization(c: GitOpsConfig, labels: Record<string, string>): K8sObject {
  return {
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { name: SOURCE, namespace: FLUX_NAMESPACE, labels },
    spec: {
      interval: c.sync.interval,
      retryInterval: "1m",
      timeout: "10m",
      path: `./${c.path}`,
      prune: c.sync.prune,
      wait: true,
      // On destroy, the root waits until everything it applied is gone, while Flux and the nodes still run.
      deletionPolicy: "WaitForTermination",
      sourceRef: { kind: "GitRepository", name: SOURCE },
      decryption: { provider: "sops" },
      postBuild: { substituteFrom: [{ kind: "ConfigMap", name: BRIDGE_CONFIG_MAP }] },
    },
  };
}

/**
 * Flux from the community flux2 chart, whose CRDs arrive with the Helm release, so the GitRepository and root
 * Kustomization can follow in the same `pulumi up`; then Flux owns everything the repository describes.
 */
export class Flux extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  readonly root: k8s.helm.v3.Release;
  readonly decryptRole: WorkloadRole;
  /** The platform-bridge ConfigMap, which carries the bridge metadata. */
  readonly bridge: k8s.core.v1.ConfigMap;

  constructor(name: string, args: FluxArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gitops-platform:index:Flux", name, {}, opts);
    const { config: c } = args;
    const labels = k8sLabels(args.environment);
    const k8sOpts = { parent: this, provider: args.provider };

    // SOPS: kustomize-controller may decrypt with the platform key and do nothing else. A Kustomization's
    // decryption.serviceAccountName makes kustomize-controller exchange that service account's token, which only
    // web identity (IRSA) can, whatever the stack's identity mode.
    this.decryptRole = args.identity.role(
      `${name}-sops`,
      {
        roleName: roleName(args.clusterName, ROLES.fluxSops),
        namespace: FLUX_NAMESPACE,
        serviceAccount: KUSTOMIZE_CONTROLLER,
        webIdentity: true,
        policy: pulumi
          .output(args.kmsKeyArn)
          .apply((key) =>
            policyDocument([{ Sid: "SopsDecrypt", Effect: "Allow", Action: "kms:Decrypt", Resource: key }]),
          ),
        tags: args.tags,
      },
      { parent: this },
    );

    const ns = new k8s.core.v1.Namespace(
      name,
      { metadata: { name: FLUX_NAMESPACE, labels } },
      { ...k8sOpts, dependsOn: args.clusterReady },
    );
    this.release = controllerRelease(
      name,
      {
        releaseName: "flux",
        chart: CHARTS.flux.chart,
        version: c.flux.chartVersion,
        repo: CHARTS.flux.repo,
        namespace: FLUX_NAMESPACE,
        values: fluxValues(this.decryptRole.serviceAccountAnnotations),
        timeout: 600,
      },
      // The role's policy too, not only the role its ARN comes from: SOPS decryption needs both.
      { ...k8sOpts, dependsOn: [ns, ...this.decryptRole.ready, ...args.clusterReady] },
    );
    const bridge = (this.bridge = new k8s.core.v1.ConfigMap(
      `${name}-bridge`,
      { metadata: { name: BRIDGE_CONFIG_MAP, namespace: FLUX_NAMESPACE, labels }, data: args.bridge },
      { ...k8sOpts, dependsOn: [ns] },
    ));

    const credentials = c.private ? [gitCredentials(FLUX_NAMESPACE, args.secretsPrefix, labels)] : [];
    const alerts = fluxAlertObjects({
      environment: args.environment,
      clusterName: args.clusterName,
      destinations: args.alerts.destinations,
      namespace: FLUX_NAMESPACE,
      secretsPrefix: args.secretsPrefix,
      labels,
    });
    // A release of its own that the root waits for: the root's first reconciliation is already watched.
    const alertsRelease =
      alerts.length > 0
        ? bootstrapRelease(`${name}-alerts`, {
            namespace: FLUX_NAMESPACE,
            objects: alerts,
            provider: args.provider,
            // Its ExternalSecrets read through the stores, so it waits for them as the root would.
            dependsOn: [this.release, ...rootSecretDependencies(args.externalSecrets, alerts)],
            parent: this,
          })
        : undefined;
    this.root = bootstrapRelease(`${name}-root`, {
      namespace: FLUX_NAMESPACE,
      objects: [...credentials, gitRepository(c, labels), rootKustomization(c, labels)],
      provider: args.provider,
      dependsOn: [
        this.release,
        bridge,
        ...rootSecretDependencies(args.externalSecrets, credentials),
        ...(alertsRelease ? [alertsRelease] : []),
      ],
      parent: this,
    });
    this.registerOutputs({ namespace: FLUX_NAMESPACE, decryptRoleArn: this.decryptRole.arn });
  }
}

import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** As the release names it: relative to the project, so the state does not depend on where the checkout lives. */
/**
 * Requests for a container, and a memory limit equal to the request: no node overcommits memory for a controller.
 * Every container the installed charts run gets them (test/lib/chart-workloads.ts lists them per chart).
 */
export function podResources(cpu: string, memory: string) {
  return { requests: { cpu, memory }, limits: { memory } };
}

export interface ControllerChart {
  releaseName: string;
  chart: string;
  /** Exact: a rebuild installs what was tested. */
  version: string;
  repo: string;
  namespace: pulumi.Input<string>;
  values: pulumi.Inputs;
  timeout: number;
}

/**
 * A controller's pinned chart in a namespace the program owns (created before, deleted after it). Atomic, so a
 * failed install leaves nothing half-done; the provider also waits on uninstall, which teardown relies on.
 */
export function controllerRelease(
  name: string,
  c: ControllerChart,
  opts: { provider: k8s.Provider; parent: pulumi.Resource; dependsOn: pulumi.Input<pulumi.Resource>[] },
): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(
    name,
    {
      name: c.releaseName,
      chart: c.chart,
      version: c.version,
      repositoryOpts: { repo: c.repo },
      namespace: c.namespace,
      createNamespace: false,
      values: c.values,
      timeout: c.timeout,
      atomic: true,
      cleanupOnFail: true,
    },
    opts,
  );
}

export const BOOTSTRAP_CHART = "./charts/platform-bootstrap";
/** The same chart on this machine, to render it locally. */
export const BOOTSTRAP_CHART_DIR = path.resolve(__dirname, "..", BOOTSTRAP_CHART);

/** A Kubernetes object as plain data, ready to validate against its CRD and to render. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
  };
} & Record<string, unknown>;

export interface BootstrapArgs {
  namespace: pulumi.Input<string>;
  objects: pulumi.Input<K8sObject[]>;
  provider: k8s.Provider;
  /** The controller (and its CRDs) these objects need; on destroy they go first, while it still runs. */
  dependsOn: pulumi.Input<pulumi.Resource>[];
  parent: pulumi.Resource;
  /** For a namespace that a managed service may have created already: Helm creates it only if missing. */
  createNamespace?: boolean;
}

/**
 * Installs custom resources through the local platform-bootstrap chart. Why a chart: `pulumi preview` of a
 * stack whose cluster does not have the controller yet cannot resolve a CustomResource's kind, while a Helm
 * release renders its manifest without asking the API server for CRDs.
 */
export function bootstrapRelease(name: string, args: BootstrapArgs): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(
    name,
    {
      name,
      chart: BOOTSTRAP_CHART,
      namespace: args.namespace,
      values: { resources: args.objects },
      ...(args.createNamespace ? { createNamespace: true } : {}),
      timeout: 300,
      atomic: true,
      cleanupOnFail: true,
      disableOpenapiValidation: true,
    },
    { parent: args.parent, provider: args.provider, dependsOn: args.dependsOn },
  );
}

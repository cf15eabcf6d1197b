// The plan's data: what `npm run plan` writes to plan.json and what the tree and the fleet plan read, and the
// resource types the plan treats apart.
import { type CreationTimeTable } from "../../creation-times";
import { type CapturedResource } from "../../engine";

export const REDACTED = "<redacted>";
export const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";
export const EKS_CLUSTER = "aws:eks/cluster:Cluster";
export const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
export const K8S_SECRET = "kubernetes:core/v1:Secret";
export const PROVIDER_PREFIX = "pulumi:providers:";

export interface PlanResource {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  parent?: string;
  dependencies: string[];
  protect: boolean;
  retainOnDelete: boolean;
  deletedWith?: string;
  /** Inputs with secret material redacted and this machine's repository path made relative. */
  inputs: Record<string, unknown>;
}

/** The minimum the dependency graph needs; CapturedResource and PlanResource both fit. */
export type GraphResource = Pick<CapturedResource, "urn" | "type" | "name" | "custom" | "dependencies"> & {
  parent?: string;
  inputs?: Record<string, unknown>;
};

export interface PathStep {
  urn: string;
  type: string;
  name: string;
  seconds: number;
  /** Seconds after the start of `pulumi up` at which the resource can start / is done. */
  start: number;
  finish: number;
}

export interface CriticalPath {
  /** Estimated wall-clock seconds of the whole graph: the finish time of the critical path. */
  seconds: number;
  /** Longest chain of custom resources (providers and components not counted). */
  depth: number;
  /** The chain that takes longest, first resource first (providers left out: they take no time). */
  path: PathStep[];
}

/**
 * The chain a first `pulumi up` cannot beat whatever the program's ordering: the control plane (after the
 * network and IAM it needs), its first nodes, the slower of the controllers (GitOps engine, External Secrets),
 * the root objects.
 */
export interface PhysicalChain {
  seconds: number;
  steps: Array<{ what: string; seconds: number }>;
}

export type ManifestSource = "resource inputs" | "helm template" | "release values" | "remote chart";

export interface ManifestFile {
  /** Relative to the output folder, e.g. k8s/argocd/application-root.yaml. */
  path: string;
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  source: ManifestSource;
  /** URN of the Pulumi resource the object comes from. */
  from: string;
  content: string;
}

export interface Plan {
  project: string;
  stack: string;
  engine?: string;
  resources: PlanResource[];
  outputs: Record<string, unknown>;
  secretOutputs: string[];
  manifests: ManifestFile[];
  /** A file written against older defaults: what the newest would change and how to opt in. */
  notice?: string;
  summary: {
    resources: number;
    customResources: number;
    components: number;
    byType: Record<string, number>;
    natGateways: number;
    depth: number;
    bootstrapRendering: "helm template" | "release values";
    estimate: {
      seconds: number;
      minutes: number;
      criticalPath: PathStep[];
      physicalChain: PhysicalChain;
      /** estimate / physical chain: 1 means the program serializes nothing the cloud does not. */
      ratio: number;
      /** The creation times (seconds) of the types in this plan, as used for the estimate. */
      secondsPerType: Record<string, number>;
    };
  };
}

export interface PlanOptions {
  table?: CreationTimeTable;
  /**
   * How to expand bootstrap-chart releases: `helm` runs `helm template` (throws when helm is unavailable),
   * `values` reads the objects from the release values, `auto` (default) tries helm and falls back to values.
   */
  render?: "auto" | "helm" | "values";
}

/** A mistake in how the CLI was called (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

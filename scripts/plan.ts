// Offline plan: runs the real program under Pulumi mocks (scripts/engine.ts) and shows a reviewer what a first
// `pulumi up` would create, without a cloud account or the Pulumi CLI. See docs/offline-plan.md.
//
//   npm run plan -- --stack dev [--out plan-out/dev] [--engine argocd|flux|eks-argocd]
//   npm run plan -- --stack-file path/to/Pulumi.x.yaml [--out dir]
//   npm run plan -- --fleet [--out dir]    (every hub with its spokes: scripts/fleet-plan.ts)
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { BOOTSTRAP_CHART } from "../core/helm";
import {
  COMPUTE_MODES,
  ConfigError,
  IDENTITY_MODES,
  resolveStackConfig,
  type ComputeMode,
  type IdentityMode,
} from "../config";
import { ENGINES, type Engine } from "../core/engines";
import { redactString } from "../config/problems";
import { StackFileError } from "../config/stackFile";
import { renderBootstrap } from "./lib/render";
import {
  AUTO_MODE_FIRST_NODE,
  CREATION_TIMES,
  LOCAL_CHART_RELEASE,
  type CreationTimeTable,
} from "./creation-times";
import {
  buildStack,
  loadStackConfig,
  ROOT,
  withOverrides,
  type CapturedResource,
  type StackRun,
} from "./engine";
import { discoverFleets, fleetPlanFiles, planFleet } from "./fleet-plan";

export const PROJECT = "gitops-platform";
export const REDACTED = "<redacted>";
const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";
const EKS_CLUSTER = "aws:eks/cluster:Cluster";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const K8S_SECRET = "kubernetes:core/v1:Secret";
const PROVIDER_PREFIX = "pulumi:providers:";

// ---------------------------------------------------------------------------------------------------------------
// Types

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

// ---------------------------------------------------------------------------------------------------------------
// Dependency graph and critical path

/** Seconds a resource takes to create according to `table` (local-chart Helm releases have their own entry). */
export function creationSeconds(r: GraphResource, table: CreationTimeTable = CREATION_TIMES): number {
  if (r.type.startsWith(PROVIDER_PREFIX)) return table[r.type] ?? 0;
  if (r.type === HELM_RELEASE && isLocalChart(r.inputs?.chart) && table[LOCAL_CHART_RELEASE] !== undefined) {
    return table[LOCAL_CHART_RELEASE];
  }
  return table[r.type] ?? table["*"] ?? 0;
}

function isLocalChart(chart: unknown): boolean {
  return typeof chart === "string" && (chart.startsWith("/") || chart.startsWith(".") || chart.includes("/"));
}

export interface DependencyGraph {
  /** Custom resources (providers included), by URN. */
  nodes: Map<string, GraphResource>;
  /** For each node, the nodes it waits for directly: component dependencies expanded to their descendants. */
  edges: Map<string, string[]>;
}

/**
 * The graph Pulumi schedules creates by: one node per custom resource, an edge for every dependency, where a
 * dependency on a component stands for a dependency on every custom resource below it (as the engine waits for
 * a component's children). Components are not nodes. Providers are nodes (resources wait for what the provider
 * waits for) that take no time.
 */
export function dependencyGraph(resources: GraphResource[]): DependencyGraph {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const children = new Map<string, string[]>();
  for (const r of resources) {
    if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r.urn]);
  }
  const expansion = new Map<string, string[]>();
  const expand = (urn: string, seen = new Set<string>()): string[] => {
    const cached = expansion.get(urn);
    if (cached) return cached;
    const r = byUrn.get(urn);
    if (!r || seen.has(urn)) return [];
    seen.add(urn);
    let out: string[];
    if (r.custom) {
      out = [urn];
    } else {
      // A component: its custom descendants, and whatever the component itself was told to wait for.
      const set = new Set<string>();
      for (const c of children.get(urn) ?? []) for (const u of expand(c, seen)) set.add(u);
      for (const d of r.dependencies) for (const u of expand(d, seen)) set.add(u);
      out = [...set];
    }
    expansion.set(urn, out);
    return out;
  };
  const nodes = new Map<string, GraphResource>();
  const edges = new Map<string, string[]>();
  for (const r of [...resources].sort((a, b) => cmp(a.urn, b.urn))) {
    if (!r.custom) continue;
    nodes.set(r.urn, r);
    const set = new Set<string>();
    for (const d of r.dependencies) for (const u of expand(d)) if (u !== r.urn) set.add(u);
    edges.set(r.urn, [...set].sort(cmp));
  }
  return { nodes, edges };
}

/** Every custom resource `urn` waits for, directly or transitively (through components and providers). */
export function transitiveDependencies(
  resources: GraphResource[] | DependencyGraph,
  urn: string,
): Set<string> {
  const graph = Array.isArray(resources) ? dependencyGraph(resources) : resources;
  const out = new Set<string>();
  const stack = [...(graph.edges.get(urn) ?? [])];
  while (stack.length > 0) {
    const u = stack.pop() as string;
    if (out.has(u)) continue;
    out.add(u);
    stack.push(...(graph.edges.get(u) ?? []));
  }
  return out;
}

function isAutoModeCluster(r: GraphResource): boolean {
  const compute = r.inputs?.computeConfig as { enabled?: unknown } | undefined;
  return r.type === EKS_CLUSTER && compute?.enabled === true;
}

/** A release of a remote chart: a controller whose pods must be scheduled and become Ready. */
function isPodRelease(r: GraphResource): boolean {
  return r.type === HELM_RELEASE && !isLocalChart(r.inputs?.chart);
}

/**
 * The graph plus what the cloud does without a resource: in Auto Mode the first pending pod brings up a node,
 * so every release with pods waits for that step, which waits for the control plane.
 */
export function withModelledSteps(resources: GraphResource[]): GraphResource[] {
  const steps: GraphResource[] = resources.filter(isAutoModeCluster).map((c) => ({
    urn: `${c.urn}$first-node`,
    type: AUTO_MODE_FIRST_NODE,
    name: `${c.name} first node`,
    custom: true,
    dependencies: [c.urn],
  }));
  if (steps.length === 0) return resources;
  return [
    ...resources.map((r) =>
      isPodRelease(r) ? { ...r, dependencies: [...r.dependencies, ...steps.map((x) => x.urn)] } : r,
    ),
    ...steps,
  ];
}

/**
 * Longest path through the dependency graph weighted by creation time: with unlimited parallelism a first
 * `pulumi up` cannot finish before the last resource of this chain. Ties go to the longer chain, then to the
 * smaller URN, so the answer is stable.
 */
export function criticalPath(
  resources: GraphResource[],
  table: CreationTimeTable = CREATION_TIMES,
): CriticalPath & { finish: Map<string, number> } {
  const graph = dependencyGraph(withModelledSteps(resources));
  const finish = new Map<string, number>();
  const depth = new Map<string, number>();
  const via = new Map<string, string | undefined>();
  const visiting = new Set<string>();
  const visit = (urn: string): void => {
    if (finish.has(urn)) return;
    if (visiting.has(urn)) throw new Error(`dependency cycle through ${urn}`);
    visiting.add(urn);
    let best: string | undefined;
    for (const d of graph.edges.get(urn) ?? []) {
      visit(d);
      if (best === undefined || better(d, best)) best = d;
    }
    visiting.delete(urn);
    const node = graph.nodes.get(urn) as GraphResource;
    const counts = node.type.startsWith(PROVIDER_PREFIX) ? 0 : 1;
    finish.set(urn, (best ? (finish.get(best) as number) : 0) + creationSeconds(node, table));
    depth.set(urn, (best ? (depth.get(best) as number) : 0) + counts);
    via.set(urn, best);
  };
  const better = (a: string, b: string): boolean => {
    const fa = finish.get(a) as number;
    const fb = finish.get(b) as number;
    if (fa !== fb) return fa > fb;
    const da = depth.get(a) as number;
    const db = depth.get(b) as number;
    if (da !== db) return da > db;
    return cmp(a, b) < 0;
  };
  let end: string | undefined;
  for (const urn of graph.nodes.keys()) {
    visit(urn);
    if (end === undefined || better(urn, end)) end = urn;
  }
  // Depth on its own: the chain with most resources is not necessarily the slowest one.
  const count = new Map<string, number>();
  const countOf = (urn: string): number => {
    const known = count.get(urn);
    if (known !== undefined) return known;
    const node = graph.nodes.get(urn) as GraphResource;
    const deps = (graph.edges.get(urn) ?? []).map(countOf);
    const value = (node.type.startsWith(PROVIDER_PREFIX) ? 0 : 1) + Math.max(0, ...deps);
    count.set(urn, value);
    return value;
  };
  const maxDepth = Math.max(0, ...[...graph.nodes.keys()].map(countOf));
  const path: PathStep[] = [];
  for (let u = end; u !== undefined; u = via.get(u)) {
    const node = graph.nodes.get(u) as GraphResource;
    if (node.type.startsWith(PROVIDER_PREFIX)) continue;
    const seconds = creationSeconds(node, table);
    const done = finish.get(u) as number;
    path.unshift({ urn: u, type: node.type, name: node.name, seconds, start: done - seconds, finish: done });
  }
  return { seconds: end ? (finish.get(end) as number) : 0, depth: maxDepth, path, finish };
}

/** The physical chain of a plan's graph (see PhysicalChain), from the same table and the same control plane. */
export function physicalChain(
  resources: GraphResource[],
  table: CreationTimeTable = CREATION_TIMES,
  finish: Map<string, number> = criticalPath(resources, table).finish,
): PhysicalChain {
  const modelled = withModelledSteps(resources);
  const max = (rs: GraphResource[]) => Math.max(0, ...rs.map((r) => creationSeconds(r, table)));
  const controllers = modelled.filter(isPodRelease);
  const graph = dependencyGraph(modelled);
  const roots = modelled.filter(
    (r) =>
      r.type === HELM_RELEASE &&
      isLocalChart(r.inputs?.chart) &&
      controllers.some((c) => transitiveDependencies(graph, r.urn).has(c.urn)),
  );
  const steps = [
    {
      what: "control plane, after the network and IAM",
      seconds: Math.max(
        0,
        ...modelled.filter((r) => r.type === EKS_CLUSTER).map((r) => finish.get(r.urn) ?? 0),
      ),
    },
    {
      what: "first nodes",
      seconds: max(modelled.filter((r) => r.type === NODE_GROUP || r.type === AUTO_MODE_FIRST_NODE)),
    },
    { what: "slower of the controllers (GitOps engine, External Secrets)", seconds: max(controllers) },
    { what: "root objects", seconds: max(roots) },
  ];
  return { seconds: steps.reduce((n, x) => n + x.seconds, 0), steps };
}

// ---------------------------------------------------------------------------------------------------------------
// Building the plan

/** Turns one run of the program into a plan: sanitized resources, Kubernetes objects, depth and estimate. */
export function buildPlan(run: StackRun, options: PlanOptions = {}): Plan {
  const table = options.table ?? CREATION_TIMES;
  const resources = [...run.resources].sort((a, b) => cmp(a.urn, b.urn)).map(sanitizeResource);
  const secretOutputs = [...run.secretOutputs].sort(cmp);
  const outputs: Record<string, unknown> = {};
  for (const key of Object.keys(run.outputs).sort(cmp)) {
    if (run.outputs[key] === undefined) continue;
    outputs[key] = secretOutputs.includes(key) ? REDACTED : sanitize(run.outputs[key]);
  }
  const { manifests, rendering } = kubernetesManifests(run.resources, options.render ?? "auto");
  const cp = criticalPath(run.resources, table);
  const physical = physicalChain(run.resources, table, cp.finish);
  const byType: Record<string, number> = {};
  for (const r of resources) byType[r.type] = (byType[r.type] ?? 0) + 1;
  const secondsPerType: Record<string, number> = {};
  for (const r of resources) if (r.custom) secondsPerType[timeKey(r, table)] = creationSeconds(r, table);
  for (const r of withModelledSteps(run.resources))
    if (r.type === AUTO_MODE_FIRST_NODE) secondsPerType[r.type] = creationSeconds(r, table);
  const engine = typeof run.outputs.gitopsEngine === "string" ? run.outputs.gitopsEngine : undefined;
  return {
    project: PROJECT,
    stack: run.stack,
    engine,
    resources,
    outputs,
    secretOutputs,
    manifests,
    summary: {
      resources: resources.length,
      customResources: resources.filter((r) => r.custom).length,
      components: resources.filter((r) => !r.custom).length,
      byType: sortKeys(byType),
      natGateways: byType["aws:ec2/natGateway:NatGateway"] ?? 0,
      depth: cp.depth,
      bootstrapRendering: rendering,
      estimate: {
        seconds: cp.seconds,
        minutes: Math.round(cp.seconds / 6) / 10,
        criticalPath: cp.path,
        physicalChain: physical,
        ratio: physical.seconds > 0 ? Math.round((cp.seconds / physical.seconds) * 1000) / 1000 : 0,
        secondsPerType: sortKeys(secondsPerType),
      },
    },
  };
}

function timeKey(r: GraphResource, table: CreationTimeTable): string {
  if (r.type === HELM_RELEASE && isLocalChart(r.inputs?.chart) && table[LOCAL_CHART_RELEASE] !== undefined) {
    return LOCAL_CHART_RELEASE;
  }
  return r.type in table || r.type.startsWith(PROVIDER_PREFIX) ? r.type : `${r.type} (default *)`;
}

function sanitizeResource(r: CapturedResource): PlanResource {
  let inputs = sanitize(r.inputs) as Record<string, unknown>;
  inputs = redactInputs(r.type, inputs);
  const out: PlanResource = {
    urn: r.urn,
    type: r.type,
    name: r.name,
    custom: r.custom,
    parent: r.parent,
    dependencies: [...r.dependencies].sort(cmp),
    protect: r.protect,
    retainOnDelete: r.retainOnDelete,
    deletedWith: r.deletedWith,
    inputs,
  };
  if (out.parent === undefined) delete out.parent;
  if (out.deletedWith === undefined) delete out.deletedWith;
  return out;
}

/**
 * Secret material never leaves the plan: Kubernetes Secret data and the provider's kubeconfig are replaced.
 * (scripts/engine.ts unwraps Pulumi's secret envelopes, so inputs marked secret elsewhere cannot be told apart.)
 */
function redactInputs(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const out = { ...inputs };
  if (type === K8S_SECRET) {
    for (const field of ["data", "stringData"]) {
      if (isObject(out[field])) out[field] = redactValues(out[field] as Record<string, unknown>);
    }
  }
  if (type.startsWith(PROVIDER_PREFIX) && out.kubeconfig !== undefined) out.kubeconfig = REDACTED;
  return out;
}

function redactValues(map: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.keys(map).map((k) => [k, REDACTED]));
}

/** Drops undefined members, so that what the files hold does not depend on how an input was left out. */
function sanitize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sanitize);
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = sanitize(v);
    return out;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes objects

const CLUSTER_SCOPED = new Set([
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "PersistentVolume",
  "StorageClass",
  "IngressClass",
  "IngressClassParams",
  "NodePool",
  "NodeClass",
  "PriorityClass",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
]);

type K8sDoc = Record<string, unknown> & { metadata?: { name?: string; namespace?: string } };

function kubernetesManifests(
  resources: CapturedResource[],
  mode: "auto" | "helm" | "values",
): { manifests: ManifestFile[]; rendering: "helm template" | "release values" } {
  const manifests: ManifestFile[] = [];
  let useHelm = mode !== "values";
  const sorted = [...resources].sort((a, b) => cmp(a.urn, b.urn));
  for (const r of sorted) {
    if (!r.custom || !r.type.startsWith("kubernetes:")) continue;
    if (r.type === HELM_RELEASE) {
      const namespace = String(r.inputs.namespace ?? "default");
      if (r.inputs.chart === BOOTSTRAP_CHART) {
        let objects: Record<string, unknown>[] | undefined;
        if (useHelm) {
          try {
            objects = renderBootstrap(r);
          } catch (err) {
            if (mode === "helm") throw err;
            useHelm = false;
          }
        }
        const source: ManifestSource = objects ? "helm template" : "release values";
        const values = (r.inputs.values as { resources?: Record<string, unknown>[] } | undefined) ?? {};
        for (const obj of objects ?? values.resources ?? []) {
          manifests.push(objectFile(obj as K8sDoc, namespace, source, r, releaseHeader(r, source)));
        }
      } else {
        manifests.push(remoteRelease(r, namespace));
      }
      continue;
    }
    const manifest = manifestOf(r);
    if (manifest) {
      const header = [
        `# ${r.type} ${r.name}: created directly by the program, reconstructed from its inputs.`,
      ];
      manifests.push(objectFile(manifest, "default", "resource inputs", r, header));
    }
  }
  // If helm failed half way, every bootstrap object is taken from values, so the output does not mix sources.
  if (!useHelm && mode === "auto" && manifests.some((m) => m.source === "helm template")) {
    return kubernetesManifests(resources, "values");
  }
  const seen = new Map<string, number>();
  for (const m of manifests) {
    const n = (seen.get(m.path) ?? 0) + 1;
    seen.set(m.path, n);
    if (n > 1) m.path = m.path.replace(/\.yaml$/, `-${n}.yaml`);
  }
  manifests.sort((a, b) => cmp(a.path, b.path));
  return { manifests, rendering: useHelm ? "helm template" : "release values" };
}

function releaseHeader(r: CapturedResource, source: ManifestSource): string[] {
  const how =
    source === "helm template"
      ? "rendered with `helm template`"
      : "taken from the release values (helm binary not available)";
  return [`# Applied by Helm release ${String(r.inputs.name)} (chart ${BOOTSTRAP_CHART}), ${how}.`];
}

/** A core Kubernetes object the program creates directly: apiVersion/kind from the type token, then its inputs. */
function manifestOf(r: CapturedResource): K8sDoc | undefined {
  const match = /^kubernetes:([^:]+):([A-Za-z0-9]+)$/.exec(r.type);
  if (!match) return undefined;
  const [, groupVersion, kind] = match;
  const apiVersion = groupVersion.startsWith("core/") ? groupVersion.slice("core/".length) : groupVersion;
  const inputs = redactInputs(r.type, sanitize(r.inputs) as Record<string, unknown>);
  return { ...inputs, apiVersion, kind } as K8sDoc;
}

function objectFile(
  obj: K8sDoc,
  releaseNamespace: string,
  source: ManifestSource,
  from: CapturedResource,
  header: string[],
): ManifestFile {
  const doc = (obj.kind === "Secret" ? redactSecretObject(obj) : sanitize(obj)) as K8sDoc;
  const kind = String(doc.kind);
  const name = String(doc.metadata?.name ?? "unnamed");
  const namespace =
    doc.metadata?.namespace ??
    (CLUSTER_SCOPED.has(kind) || kind.startsWith("Cluster") ? undefined : releaseNamespace);
  const file = `k8s/${namespace ?? "_cluster"}/${kind.toLowerCase()}-${name}.yaml`;
  return {
    path: file,
    apiVersion: String(doc.apiVersion),
    kind,
    name,
    namespace,
    source,
    from: from.urn,
    content: `${header.join("\n")}\n${toYaml(k8sOrder(doc))}`,
  };
}

function redactSecretObject(obj: K8sDoc): K8sDoc {
  const out = sanitize(obj) as Record<string, unknown>;
  for (const field of ["data", "stringData"]) {
    if (isObject(out[field])) out[field] = redactValues(out[field] as Record<string, unknown>);
  }
  return out as K8sDoc;
}

function remoteRelease(r: CapturedResource, namespace: string): ManifestFile {
  const inputs = sanitize(r.inputs) as Record<string, unknown>;
  const repo = (inputs.repositoryOpts as { repo?: string } | undefined)?.repo;
  const chart = String(inputs.chart);
  const version = inputs.version === undefined ? "latest" : String(inputs.version);
  const release = String(inputs.name ?? r.name);
  const doc = {
    release,
    chart,
    version,
    repository: repo,
    namespace,
    createNamespace: inputs.createNamespace,
    atomic: inputs.atomic,
    timeout: inputs.timeout,
    values: inputs.values ?? {},
  };
  const header = [
    `# Helm release ${release}: chart ${chart}@${version}${repo ? ` from ${repo}` : ""}, namespace ${namespace}.`,
    "# Not rendered: remote charts cannot be pulled offline. These are the chart coordinates and the values",
    "# Pulumi passes to Helm; run `helm template` against the chart to see the objects.",
  ];
  return {
    path: `k8s/${namespace}/helmrelease-${release}.yaml`,
    apiVersion: "helm.sh/v3",
    kind: "HelmRelease",
    name: release,
    namespace,
    source: "remote chart",
    from: r.urn,
    content: `${header.join("\n")}\n${toYaml(sortKeys(canonical(doc) as Record<string, unknown>))}`,
  };
}

/** apiVersion, kind, metadata first (as people write manifests); every map below sorted. */
function k8sOrder(doc: Record<string, unknown>): Record<string, unknown> {
  const c = canonical(doc) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of ["apiVersion", "kind", "metadata"]) if (k in c) out[k] = c[k];
  for (const k of Object.keys(c)) if (!(k in out)) out[k] = c[k];
  return out;
}

function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, minContentWidth: 0 });
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

/** Writes plan.json, tree.txt and the Kubernetes objects into `dir`, which is emptied first. */
export function writePlan(plan: Plan, dir: string): string[] {
  return writeFiles(planFiles(plan), dir, "plan.json");
}

/** Empties `dir` (when it holds a previous output, recognised by `marker`) and writes `files` into it. */
export function writeFiles(files: Record<string, string>, dir: string, marker: string): string[] {
  const target = path.resolve(dir);
  assertSafeToClean(target, marker);
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(target, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(target, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return Object.keys(files);
}

/** Every file of a plan, by relative path. */
export function planFiles(plan: Plan): Record<string, string> {
  const files: Record<string, string> = {};
  const json = {
    ...plan,
    manifests: plan.manifests.map((m) => ({
      path: m.path,
      apiVersion: m.apiVersion,
      kind: m.kind,
      name: m.name,
      namespace: m.namespace,
      source: m.source,
      from: m.from,
    })),
  };
  files["plan.json"] = `${JSON.stringify(canonical(json), null, 2)}\n`;
  files["tree.txt"] = renderTree(plan);
  for (const m of plan.manifests) files[m.path] = m.content;
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => cmp(a, b)));
}

/** Refuses to empty the repository, a parent of it, the filesystem root, or a folder that holds anything but a plan. */
function assertSafeToClean(dir: string, marker = "plan.json"): void {
  const rel = path.relative(dir, ROOT);
  if (dir === path.parse(dir).root || rel === "" || !rel.startsWith("..")) {
    throw new UsageError(`refusing to clean ${dir}: it is the repository or one of its parents`);
  }
  if (!fs.existsSync(dir)) return;
  if (!fs.statSync(dir).isDirectory()) throw new UsageError(`--out ${dir} is not a directory`);
  const entries = fs.readdirSync(dir);
  if (entries.length > 0 && !entries.includes(marker)) {
    throw new UsageError(`refusing to clean ${dir}: not empty and not a previous plan (no ${marker})`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The readable tree

/** The resource tree with the settings a reviewer cares about, then the summary and the critical path. */
export function renderTree(plan: Plan): string {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const children = new Map<string, PlanResource[]>();
  const roots: PlanResource[] = [];
  for (const r of plan.resources) {
    if (r.parent && byUrn.has(r.parent)) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
    else roots.push(r);
  }
  const order = (list: PlanResource[]) =>
    [...list].sort(
      (a, b) => cmp(a.custom ? "1" : "0", b.custom ? "1" : "0") || cmp(a.type, b.type) || cmp(a.name, b.name),
    );
  const lines: string[] = [];
  lines.push(`${plan.project} / ${plan.stack}${plan.engine ? ` (gitops engine: ${plan.engine})` : ""}`);
  const walk = (list: PlanResource[], prefix: string) => {
    const sorted = order(list);
    sorted.forEach((r, i) => {
      const last = i === sorted.length - 1;
      const flags = [
        r.protect ? "[protect]" : "",
        r.retainOnDelete ? "[retainOnDelete]" : "",
        r.deletedWith ? `[deletedWith ${shortUrn(r.deletedWith)}]` : "",
      ].filter(Boolean);
      lines.push(
        `${prefix}${last ? "`- " : "+- "}${r.type} "${r.name}"${flags.length ? ` ${flags.join(" ")}` : ""}`,
      );
      const inner = `${prefix}${last ? "   " : "|  "}`;
      const kids = children.get(r.urn) ?? [];
      for (const d of details(r, plan, byUrn)) lines.push(`${inner}${kids.length ? "|" : " "}     ${d}`);
      walk(kids, inner);
    });
  };
  walk(roots, "");
  lines.push("", ...renderSummary(plan));
  return `${lines.map((l) => l.replace(/\s+$/, "")).join("\n")}\n`;
}

function renderSummary(plan: Plan): string[] {
  const s = plan.summary;
  const lines = [
    "Summary",
    `  resources: ${s.resources} (${s.customResources} custom, ${s.components} components)`,
    `  NAT gateways: ${s.natGateways}`,
    `  Kubernetes objects written: ${plan.manifests.length} (bootstrap charts: ${s.bootstrapRendering})`,
    `  dependency depth: ${s.depth} (longest chain of custom resources, through component parents)`,
    `  estimated first \`pulumi up\`: ~${Math.round(s.estimate.seconds / 60)} min (${s.estimate.seconds} s, critical path below;`,
    "    typical creation times from scripts/creation-times.ts, unlimited parallelism assumed)",
    `  physical chain: ~${Math.round(s.estimate.physicalChain.seconds / 60)} min (${s.estimate.physicalChain.seconds} s: ${s.estimate.physicalChain.steps.map((x) => `${x.what} ${x.seconds}s`).join(" -> ")})`,
    `  estimate / physical chain: ${s.estimate.ratio.toFixed(3)} (target <= 1.05)`,
    "",
    "Critical path",
    "  start   finish  time   resource",
  ];
  for (const step of s.estimate.criticalPath) {
    lines.push(
      `  ${clock(step.start).padEnd(7)} ${clock(step.finish).padEnd(7)} ${`${step.seconds}s`.padEnd(6)} ${step.type} "${step.name}"`,
    );
  }
  return lines;
}

function clock(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

function shortUrn(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

type Dict = Record<string, unknown>;

function details(r: PlanResource, plan: Plan, byUrn: Map<string, PlanResource>): string[] {
  const i = r.inputs as Dict;
  const depNames = (type: string) =>
    r.dependencies
      .map((u) => byUrn.get(u))
      .filter((d): d is PlanResource => d?.type === type)
      .map((d) => d.name);
  const keyRef = (arn: unknown) => {
    if (arn === undefined) return "none";
    const keys = depNames("aws:kms/key:Key");
    return `${String(arn)}${keys.length === 1 ? ` (kms key "${keys[0]}")` : ""}`;
  };
  const count = (v: unknown) => (Array.isArray(v) ? v.length : 0);
  switch (r.type) {
    case "gitops-platform:index:Network": {
      const descendants = plan.resources.filter((d) => isBelow(d, r.urn, byUrn));
      const subnets = descendants.filter((d) => d.type === "aws:ec2/subnet:Subnet");
      const tagged = (role: string) =>
        subnets.filter((s) => isObject((s.inputs as Dict).tags) && role in ((s.inputs as Dict).tags as Dict))
          .length;
      return [
        `NAT gateways: ${descendants.filter((d) => d.type === "aws:ec2/natGateway:NatGateway").length}`,
        `subnets: ${tagged("kubernetes.io/role/elb")} public, ${tagged("kubernetes.io/role/internal-elb")} private`,
      ];
    }
    case "aws:eks/cluster:Cluster": {
      const vpc = (i.vpcConfig ?? {}) as Dict;
      const enc = (i.encryptionConfig ?? {}) as Dict;
      const access = (i.accessConfig ?? {}) as Dict;
      return [
        `name: ${String(i.name)}, version: ${String(i.version)}`,
        `endpoint: private=${bool(vpc.endpointPrivateAccess)} public=${bool(vpc.endpointPublicAccess)}` +
          (vpc.endpointPublicAccess === true ? ` publicAccessCidrs=[${list(vpc.publicAccessCidrs)}]` : ""),
        `secrets encryption: resources=[${list(enc.resources)}] key=${keyRef(((enc.provider ?? {}) as Dict).keyArn)}`,
        `control plane logs: ${list(i.enabledClusterLogTypes)}`,
        `authentication: ${String(access.authenticationMode)}, creator admin=${bool(access.bootstrapClusterCreatorAdminPermissions)}`,
        `subnets: ${count(vpc.subnetIds)}`,
        computeLine(i),
      ];
    }
    case "aws:eks/podIdentityAssociation:PodIdentityAssociation":
      return [`${String(i.namespace)}/${String(i.serviceAccount)} -> ${String(i.roleArn)}`];
    case "aws:kms/key:Key":
      return [
        `rotation: ${i.enableKeyRotation === true ? `enabled, every ${String(i.rotationPeriodInDays ?? 365)} days` : "DISABLED"}`,
        `deletion window: ${String(i.deletionWindowInDays ?? 30)} days, multi-region: ${bool(i.multiRegion)}`,
        `protect: ${bool(r.protect)}, retainOnDelete: ${bool(r.retainOnDelete)}`,
      ];
    case "aws:kms/alias:Alias":
      return [`alias: ${String(i.name)}`];
    case "aws:eks/nodeGroup:NodeGroup": {
      const scaling = (i.scalingConfig ?? {}) as Dict;
      return [
        `instance types: ${list(i.instanceTypes)}, capacity: ${String(i.capacityType)}, ami: ${String(i.amiType)}`,
        `size: min=${String(scaling.minSize)} desired=${String(scaling.desiredSize)} max=${String(scaling.maxSize)}`,
        `subnets: ${count(i.subnetIds)}`,
      ];
    }
    case "aws:ec2/launchTemplate:LaunchTemplate": {
      const md = (i.metadataOptions ?? {}) as Dict;
      const ebs = ((Array.isArray(i.blockDeviceMappings) ? i.blockDeviceMappings[0] : {}) as Dict)?.ebs as
        Dict | undefined;
      return [
        `IMDS: tokens=${String(md.httpTokens)} hopLimit=${String(md.httpPutResponseHopLimit)} endpoint=${String(md.httpEndpoint)}`,
        ebs
          ? `root volume: ${String(ebs.volumeSize)} GiB ${String(ebs.volumeType)} encrypted=${String(ebs.encrypted)} key=${keyRef(ebs.kmsKeyId)}`
          : "root volume: default",
      ];
    }
    case "aws:ec2/vpc:Vpc":
      return [`cidr: ${String(i.cidrBlock)}`];
    case "aws:ec2/subnet:Subnet":
      return [
        `${String(i.availabilityZone)} ${String(i.cidrBlock)}, public IPs on launch: ${bool(i.mapPublicIpOnLaunch)}`,
      ];
    case "aws:ec2/natGateway:NatGateway":
      return [`in subnet: ${depNames("aws:ec2/subnet:Subnet").join(", ") || "-"}`];
    case "aws:ec2/flowLog:FlowLog":
      return [`traffic: ${String(i.trafficType)} -> ${String(i.logDestinationType)}`];
    case "aws:cloudwatch/logGroup:LogGroup":
      return [`${String(i.name)}, retention ${String(i.retentionInDays)} days, key=${keyRef(i.kmsKeyId)}`];
    case "aws:iam/role:Role":
      return [
        `name: ${i.name === undefined ? "(auto-named)" : String(i.name)}`,
        `trust: ${trust(i.assumeRolePolicy)}`,
      ];
    case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
      return [`policy: ${String(i.policyArn)}`];
    case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
      return [`audiences: ${list(i.clientIdLists)}`];
    case "aws:secretsmanager/secret:Secret":
      return [
        `name: ${String(i.name)}, recovery window: ${String(i.recoveryWindowInDays ?? 30)} days, key=${keyRef(i.kmsKeyId)}`,
      ];
    case "aws:eks/addon:Addon":
      return [
        `${String(i.addonName)}@${String(i.addonVersion)}${i.serviceAccountRoleArn ? ` (IRSA ${String(i.serviceAccountRoleArn)})` : ""}`,
      ];
    case "aws:eks/accessEntry:AccessEntry":
      return [`principal: ${String(i.principalArn)}`];
    case "aws:eks/accessPolicyAssociation:AccessPolicyAssociation":
      return [
        `${String(i.principalArn)} -> ${String(i.policyArn).split("/").pop()} (${String(((i.accessScope ?? {}) as Dict).type)})`,
      ];
    case "kubernetes:core/v1:Namespace":
    case "kubernetes:core/v1:Secret":
    case "kubernetes:core/v1:ConfigMap":
    case "kubernetes:rbac.authorization.k8s.io/v1:Role":
    case "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": {
      const meta = (i.metadata ?? {}) as Dict;
      const where = `${meta.namespace ? `${String(meta.namespace)}/` : ""}${String(meta.name)}`;
      const keys = Object.keys({ ...((i.data ?? {}) as Dict), ...((i.stringData ?? {}) as Dict) }).sort(cmp);
      return [`${where}${keys.length ? `, keys: ${keys.join(", ")}` : ""}`];
    }
    case "kubernetes:core/v1:SecretPatch": {
      const meta = (i.metadata ?? {}) as Dict;
      const labels = Object.entries((meta.labels ?? {}) as Dict)
        .map(([k, v]) => `${k}=${String(v)}`)
        .sort(cmp);
      return [`patches ${String(meta.namespace)}/${String(meta.name)}: labels ${labels.join(", ") || "-"}`];
    }
    case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
      return [`${String(i.ipProtocol)} ${String(i.fromPort)}-${String(i.toPort)} from ${String(i.cidrIpv4)}`];
    case "command:local:Command":
      return [
        `on create: ${i.create === undefined ? "-" : String(i.create).split("\n")[0]}`,
        `on delete: ${i.delete === undefined ? "-" : `script (${String(i.delete).split("\n").length} lines)`}`,
      ];
    case HELM_RELEASE:
      return releaseDetails(i);
    default:
      return [];
  }
}

function computeLine(i: Dict): string {
  const compute = (i.computeConfig ?? {}) as Dict;
  if (compute.enabled !== true) return "compute: node groups defined by the program";
  const lb = ((i.kubernetesNetworkConfig ?? {}) as Dict).elasticLoadBalancing as Dict | undefined;
  const storage = ((i.storageConfig ?? {}) as Dict).blockStorage as Dict | undefined;
  return (
    `compute: EKS Auto Mode, pools [${list(compute.nodePools)}], block storage=${bool(storage?.enabled)}, ` +
    `load balancing=${bool(lb?.enabled)}, self-managed add-ons=${bool(i.bootstrapSelfManagedAddons !== false)}`
  );
}

function releaseDetails(i: Dict): string[] {
  const chart = String(i.chart);
  const repo = (i.repositoryOpts as Dict | undefined)?.repo;
  const lines = [
    `chart: ${chart}${i.version ? `@${String(i.version)}` : ""}${repo ? ` from ${String(repo)}` : " (local)"}`,
    `release: ${String(i.name)} in namespace ${String(i.namespace)}, atomic=${bool(i.atomic)} timeout=${String(i.timeout)}s`,
  ];
  const objects = ((i.values as Dict | undefined)?.resources ?? []) as Dict[];
  if (!repo && Array.isArray(objects)) {
    for (const o of objects) {
      const meta = (o.metadata ?? {}) as Dict;
      lines.push(
        `applies ${String(o.kind)} ${meta.namespace ? `${String(meta.namespace)}/` : ""}${String(meta.name)}`,
      );
      lines.push(...objectDetails(o).map((l) => `  ${l}`));
    }
  }
  return lines;
}

function objectDetails(o: Dict): string[] {
  const spec = (o.spec ?? {}) as Dict;
  switch (o.kind) {
    case "Application": {
      const sp = (spec.syncPolicy ?? {}) as Dict;
      const auto = sp.automated as Dict | undefined;
      const retry = sp.retry as Dict | undefined;
      const src = (spec.source ?? {}) as Dict;
      return [
        `source: ${String(src.repoURL)} @ ${String(src.targetRevision)} path ${String(src.path)}`,
        auto
          ? `sync: automated (prune=${bool(auto.prune)}, selfHeal=${bool(auto.selfHeal)})`
          : "sync: manual (not automated)",
        `retry: ${retry ? `limit=${String(retry.limit)}` : "none"}, options: ${Array.isArray(sp.syncOptions) ? sp.syncOptions.join(", ") : "-"}`,
      ];
    }
    case "AppProject": {
      const windows = (Array.isArray(spec.syncWindows) ? spec.syncWindows : []) as Dict[];
      return [
        `source repos: ${(spec.sourceRepos as string[] | undefined)?.join(", ") ?? "-"}`,
        `sync windows: ${windows.length ? windows.map((w) => `${String(w.kind)} "${String(w.schedule)}" for ${String(w.duration)}`).join("; ") : "none"}`,
      ];
    }
    case "GitRepository": {
      const ref = (spec.ref ?? {}) as Dict;
      return [
        `url: ${String(spec.url)}`,
        `ref: ${
          Object.entries(ref)
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(", ") || "-"
        }, interval: ${String(spec.interval)}`,
      ];
    }
    case "Kustomization":
      return [
        `path: ${String(spec.path)}, interval: ${String(spec.interval)}`,
        `prune: ${bool(spec.prune)}, wait: ${bool(spec.wait)}`,
      ];
    case "ClusterSecretStore": {
      const aws = (((spec.provider ?? {}) as Dict).aws ?? {}) as Dict;
      return [`aws ${String(aws.service)} in ${String(aws.region)}`];
    }
    case "ExternalSecret": {
      const data = (Array.isArray(spec.data) ? spec.data : []) as Dict[];
      const keys = [...new Set(data.map((d) => String(((d.remoteRef ?? {}) as Dict).key)))];
      return [`from: ${keys.join(", ")}`];
    }
    default:
      return [];
  }
}

/** Who may assume a role: services, or for IRSA the federated provider's service-account subject. */
function trust(policy: unknown): string {
  let doc: Dict;
  try {
    doc = JSON.parse(String(policy)) as Dict;
  } catch {
    return "?";
  }
  const parts: string[] = [];
  for (const st of (Array.isArray(doc.Statement) ? doc.Statement : []) as Dict[]) {
    const p = (st.Principal ?? {}) as Dict;
    if (p.Service) parts.push(`service ${list(p.Service)}`);
    if (p.AWS) parts.push(`aws ${list(p.AWS)}`);
    if (p.Federated) {
      const cond = ((st.Condition ?? {}) as Dict).StringEquals as Dict | undefined;
      const sub = Object.entries(cond ?? {}).find(([k]) => k.endsWith(":sub"))?.[1];
      parts.push(`IRSA ${sub === undefined ? "(no subject condition!)" : String(sub)}`);
    }
  }
  return parts.join("; ") || "-";
}

function list(v: unknown): string {
  return Array.isArray(v) ? v.map(String).join(", ") : v === undefined ? "-" : String(v);
}

function bool(v: unknown): string {
  return v === true || v === "true" ? "yes" : "no";
}

function isBelow(r: PlanResource, ancestor: string, byUrn: Map<string, PlanResource>): boolean {
  for (let p = r.parent; p; p = byUrn.get(p)?.parent) if (p === ancestor) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function sortKeys<T>(obj: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => cmp(a, b)));
}

/** Maps with sorted keys and no undefined values, recursively; array order is kept (it can mean something). */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort(cmp)) if (value[k] !== undefined) out[k] = canonical(value[k]);
    return out;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// CLI

/** A mistake in how the CLI was called (exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const USAGE = `usage: npm run plan -- (--stack <name or path.yaml> | --stack-file <path/to/Pulumi.<stack>.yaml> | --fleet)
                        [--out <dir>] [--engine argocd|flux|eks-argocd] [--compute nodeGroups|autoMode]
                        [--identity podIdentity|irsa] [--quiet]
  --stack       a stack of this project (Pulumi.<name>.yaml in the repository root)
  --stack-file  any stack configuration file
  --fleet       every hub stack with the spoke stacks that name it, and what crosses stacks
                (default --out plan-out/fleet)
  --out         output folder, emptied first (default: plan-out/<stack>)
  --engine      override gitops.engine for this plan (eks-argocd also needs gitops.eksArgocd in the file)
  --compute     override cluster.compute (autoMode drops the stack's nodeGroups)
  --identity    override identity
  --quiet       do not print the tree (files are still written)`;

/** The axes a plan can switch without editing the stack file. */
export interface ModeOverrides {
  engine?: Engine;
  compute?: ComputeMode;
  identity?: IdentityMode;
}

interface CliOptions extends ModeOverrides {
  /** Empty with --fleet. */
  stackFile: string;
  fleet: boolean;
  out?: string;
  quiet: boolean;
}

/** Config overrides for the given modes; Auto Mode runs its own nodes, so the stack's node groups are dropped. */
export function modeOverrides(m: ModeOverrides): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (m.engine) out[`${PROJECT}:gitops`] = { engine: m.engine };
  if (m.compute) out[`${PROJECT}:cluster`] = { compute: m.compute };
  if (m.compute === "autoMode") out[`${PROJECT}:nodeGroups`] = undefined;
  if (m.identity) out[`${PROJECT}:identity`] = m.identity;
  return out;
}

export function parseArgs(argv: string[]): CliOptions {
  const values: Record<string, string> = {};
  let quiet = false;
  let fleet = false;
  for (let n = 0; n < argv.length; n++) {
    const arg = argv[n];
    if (arg === "--quiet") {
      quiet = true;
      continue;
    }
    if (arg === "--fleet") {
      fleet = true;
      continue;
    }
    const m = /^--(stack|stack-file|out|engine|compute|identity)(?:=(.*))?$/.exec(arg);
    if (!m) throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    const value = m[2] ?? argv[++n];
    if (value === undefined || value === "") throw new UsageError(`--${m[1]} needs a value`);
    if (m[1] in values) throw new UsageError(`--${m[1]} given twice`);
    values[m[1]] = value;
  }
  if (fleet) {
    if (["stack", "stack-file", "engine", "compute", "identity"].some((k) => values[k] !== undefined)) {
      throw new UsageError(
        "--fleet plans every fleet stack as configured: no --stack, --stack-file, --engine, --compute or --identity",
      );
    }
    return { stackFile: "", fleet, out: values.out, quiet };
  }
  if ((values.stack === undefined) === (values["stack-file"] === undefined)) {
    throw new UsageError("give exactly one of --stack, --stack-file and --fleet");
  }
  let stackFile: string;
  // `--stack path/to/Pulumi.x.yaml` is a stack file, as loadStackConfig reads it.
  if (values.stack !== undefined && /\.ya?ml$|\//.test(values.stack)) {
    values["stack-file"] = values.stack;
    delete values.stack;
  }
  if (values.stack !== undefined) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(values.stack)) {
      throw new UsageError(
        `--stack ${JSON.stringify(values.stack)} is not a stack name (use --stack-file for a path)`,
      );
    }
    stackFile = path.join(ROOT, `Pulumi.${values.stack}.yaml`);
    if (!fs.existsSync(stackFile)) {
      const known = fs
        .readdirSync(ROOT)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort(cmp);
      throw new UsageError(
        `stack "${values.stack}" not found: no Pulumi.${values.stack}.yaml (stacks: ${known.join(", ")})`,
      );
    }
  } else {
    const given = values["stack-file"];
    if (!/\.ya?ml$/.test(given)) throw new UsageError(`--stack-file ${given}: a stack file ends in .yaml`);
    stackFile = path.resolve(given);
    if (!fs.existsSync(stackFile) || !fs.statSync(stackFile).isFile()) {
      throw new UsageError(`stack file not found: ${given}`);
    }
  }
  const choice = <T extends string>(flag: string, allowed: readonly T[]): T | undefined => {
    const value = values[flag];
    if (value !== undefined && !allowed.includes(value as T)) {
      throw new UsageError(`--${flag} ${JSON.stringify(value)}: must be ${allowed.join(" or ")}`);
    }
    return value as T | undefined;
  };
  return {
    stackFile,
    fleet,
    out: values.out,
    engine: choice("engine", ENGINES),
    compute: choice("compute", COMPUTE_MODES),
    identity: choice("identity", IDENTITY_MODES),
    quiet,
  };
}

/** Runs the program for a stack file (optionally with other modes) and plans it. */
export async function planStack(stackFile: string, opts: ModeOverrides & PlanOptions = {}): Promise<Plan> {
  const overrides = modeOverrides(opts);
  // The program validates the same way; doing it first means a bad file never reaches the mock engine.
  resolveStackConfig(withOverrides(loadStackConfig(stackFile).config, overrides));
  const run = await buildStack(stackFile, overrides);
  return buildPlan(run, opts);
}

function stackNameOf(stackFile: string): string {
  return path
    .basename(stackFile)
    .replace(/^Pulumi\./, "")
    .replace(/\.ya?ml$/, "");
}

async function fleetMain(opts: CliOptions): Promise<number> {
  const out = opts.out ? path.resolve(opts.out) : path.join(ROOT, "plan-out", "fleet");
  assertSafeToClean(out, "fleet.txt");
  const fleets = discoverFleets();
  if (fleets.length === 0)
    throw new UsageError("no stack of this repository has gitops-platform:fleet.role hub");
  const plans = [];
  for (const f of fleets) plans.push(await planFleet(f));
  const files = writeFiles(fleetPlanFiles(plans), out, "fleet.txt");
  if (!opts.quiet) process.stdout.write(plans.map((p) => p.text).join("\n"));
  const shown = path.relative(process.cwd(), out) || ".";
  process.stdout.write(`\nwrote ${files.length} files to ${shown.startsWith("..") ? out : shown}\n`);
  return 0;
}

/** The CLI; returns the exit code: 0 done, 1 invalid stack configuration or failure, 2 usage error. */
export async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    const opts = parseArgs(argv);
    if (opts.fleet) return await fleetMain(opts);
    const out = opts.out ? path.resolve(opts.out) : path.join(ROOT, "plan-out", stackNameOf(opts.stackFile));
    assertSafeToClean(out);
    const plan = await planStack(opts.stackFile, opts);
    const files = writePlan(plan, out);
    if (!opts.quiet) process.stdout.write(renderTree(plan));
    const shown = path.relative(process.cwd(), out) || ".";
    process.stdout.write(`\nwrote ${files.length} files to ${shown.startsWith("..") ? out : shown}\n`);
    return 0;
  } catch (err) {
    if (err instanceof StackFileError) {
      process.stderr.write(`plan: ${err.message}\n`);
      return 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`plan: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof ConfigError || (err instanceof Error && err.name === "ConfigError")) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    // Never a stack trace for any input: the message only (PLAN_DEBUG=1 shows the trace to a developer).
    const shownError =
      err instanceof Error
        ? process.env.PLAN_DEBUG
          ? err.stack
          : `${err.name}: ${err.message}`
        : String(err);
    process.stderr.write(`plan failed: ${redactString(String(shownError))}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.stdout.write("", () => process.exit(code)),
    (err: unknown) => {
      process.stderr.write(
        `plan failed: ${redactString(String(err instanceof Error ? err.message : err))}\n`,
      );
      process.exit(1);
    },
  );
}

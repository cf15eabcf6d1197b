// The dependency graph of a run and its critical path: which resource waits for which, and how long a first
// `pulumi up` takes along the longest chain (modelled steps included), against the physical chain.
import {
  AUTO_MODE_FIRST_NODE,
  CREATION_TIMES,
  type CreationTimeTable,
  LOCAL_CHART_RELEASE,
} from "../../creation-times";
import {
  type CriticalPath,
  EKS_CLUSTER,
  type GraphResource,
  HELM_RELEASE,
  NODE_GROUP,
  PROVIDER_PREFIX,
  type PathStep,
  type PhysicalChain,
} from "./types";
import { cmp } from "./canonical";

/** Seconds a resource takes to create according to `table` (local-chart Helm releases have their own entry). */
export function creationSeconds(r: GraphResource, table: CreationTimeTable = CREATION_TIMES): number {
  if (r.type.startsWith(PROVIDER_PREFIX)) return table[r.type] ?? 0;
  if (r.type === HELM_RELEASE && isLocalChart(r.inputs?.chart) && table[LOCAL_CHART_RELEASE] !== undefined) {
    return table[LOCAL_CHART_RELEASE];
  }
  return table[r.type] ?? table["*"] ?? 0;
}

export function isLocalChart(chart: unknown): boolean {
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

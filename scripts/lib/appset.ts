// What Argo CD's ApplicationSet controller does with a cluster generator, for exactly the subset the gitops/
// template uses: select cluster Secrets by `matchLabels`, then render the template with Go template semantics
// under `missingkey=error` (a field path into the generator's parameters; a missing key is an error, not "").
// Anything else between {{ }} is refused, so a template that outgrows this evaluator fails the tests loudly.

type Obj = Record<string, unknown>;

/** The parameters a cluster generator hands the template for one cluster Secret (goTemplate: true). */
export interface ClusterParams {
  name: string;
  nameNormalized: string;
  server: string;
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
}

/** A cluster Secret as the API server would hold it: stringData folded into plain values. */
export interface ClusterSecret {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  stringData: Record<string, string>;
}

export function clusterParams(secret: ClusterSecret): ClusterParams {
  const name = secret.stringData.name;
  return {
    name,
    nameNormalized: name.toLowerCase().replace(/[^a-z0-9.-]/g, "-"),
    server: secret.stringData.server,
    metadata: { labels: secret.metadata.labels ?? {}, annotations: secret.metadata.annotations ?? {} },
  };
}

const FIELD = /^\.[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$/;

/** One `{{ ... }}` action: a field chain such as `.metadata.annotations.cluster_name`. */
function evaluate(expr: string, params: unknown): string {
  if (!FIELD.test(expr)) throw new Error(`unsupported template action {{ ${expr} }}`);
  let value: unknown = params;
  for (const key of expr.slice(1).split(".")) {
    if (value === null || typeof value !== "object" || !(key in (value as Obj))) {
      throw new Error(`template: map has no entry for key "${key}" (in {{ ${expr} }}): missingkey=error`);
    }
    value = (value as Obj)[key];
  }
  if (typeof value === "object") throw new Error(`{{ ${expr} }} is not a scalar`);
  return String(value);
}

/** Renders every string in `template` (recursively), as fasttemplate/Go text/template would for this subset. */
export function renderTemplate<T>(template: T, params: unknown): T {
  if (typeof template === "string") {
    return template.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_m, expr: string) => evaluate(expr, params)) as T;
  }
  if (Array.isArray(template)) return template.map((t) => renderTemplate(t, params)) as T;
  if (template !== null && typeof template === "object") {
    return Object.fromEntries(
      Object.entries(template as Obj).map(([k, v]) => [renderTemplate(k, params), renderTemplate(v, params)]),
    ) as T;
  }
  return template;
}

interface ApplicationSet {
  metadata: { name: string };
  spec: {
    goTemplate?: boolean;
    goTemplateOptions?: string[];
    generators: Array<{
      clusters?: { selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown } };
    }>;
    template: Obj;
  };
}

/** The Applications one ApplicationSet generates from the given cluster Secrets. */
export function generateApplications(appset: ApplicationSet, secrets: ClusterSecret[]): Obj[] {
  const { spec } = appset;
  if (spec.goTemplate !== true || !spec.goTemplateOptions?.includes("missingkey=error")) {
    throw new Error(`${appset.metadata.name}: only goTemplate with missingkey=error is modelled`);
  }
  if (spec.generators.length !== 1 || !spec.generators[0].clusters) {
    throw new Error(`${appset.metadata.name}: only a single cluster generator is modelled`);
  }
  const selector = spec.generators[0].clusters.selector ?? {};
  if (selector.matchExpressions !== undefined) throw new Error("matchExpressions are not modelled");
  const wanted = Object.entries(selector.matchLabels ?? {});
  return secrets
    .filter((s) => s.metadata.labels?.["argocd.argoproj.io/secret-type"] === "cluster")
    .filter((s) => wanted.every(([k, v]) => s.metadata.labels?.[k] === v))
    .map((s) => ({
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Application",
      ...renderTemplate(spec.template, clusterParams(s)),
    }));
}

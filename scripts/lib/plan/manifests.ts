// The Kubernetes objects of a plan, one file each: what the program creates directly and what its Helm
// releases render, secrets redacted.
import { stringify } from "yaml";
import { BOOTSTRAP_CHART } from "../../../core/helm";
import { renderBootstrap } from "../render";
import { type CapturedResource } from "../../engine";
import { HELM_RELEASE, type ManifestFile, type ManifestSource } from "./types";
import { redactInputs, redactValues } from "./redact";
import { canonical, cmp, isObject, sanitize, sortKeys } from "./canonical";

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

export function kubernetesManifests(
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

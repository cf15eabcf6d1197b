/**
 * Strict offline validator for Kubernetes custom resources.
 *
 * Loads the upstream CustomResourceDefinitions of the pinned versions from the test-data cache (`npm run
 * test-data`, see test/lib/prerequisites.ts), compiles the
 * `openAPIV3Schema` of every served version with ajv and rejects unknown fields, as `kubeconform -strict`
 * does: every object schema that declares `properties` but neither `additionalProperties` nor
 * `x-kubernetes-preserve-unknown-fields: true` is closed with `additionalProperties: false`.
 *
 * Not checked (the API server's job): CEL rules (`x-kubernetes-validations`), list-map key uniqueness, formats.
 */
import * as fs from "fs";
import * as path from "path";
import Ajv, { ValidateFunction } from "ajv";
import { parseAllDocuments } from "yaml";
import { STAMP_FILE, UPSTREAM_DIR } from "./prerequisites";

export interface ValidationResult {
  ok: boolean;
  errors: string[];
}

type Schema = Record<string, unknown>;

/** Where the upstream CRDs live: one folder per pin's `crds.folder` (pins.ts). */
export const CRD_DIR = path.join(UPSTREAM_DIR, "crds");

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const OBJECT_META_KEYS = new Set([
  "name",
  "generateName",
  "namespace",
  "labels",
  "annotations",
  "finalizers",
  "ownerReferences",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "selfLink",
]);

interface CrdVersion {
  group: string;
  version: string;
  kind: string;
  namespaced: boolean;
  schema: Schema;
  validate?: ValidateFunction;
}

let registry: Map<string, CrdVersion> | undefined;
let ajv: Ajv | undefined;

function isObject(v: unknown): v is Schema {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function listYamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listYamlFiles(p));
    else if (/\.ya?ml$/.test(entry.name) && entry.name !== "values.yaml") out.push(p);
  }
  return out.sort();
}

function parseRegistry(): CrdVersion[] {
  const entries: CrdVersion[] = [];
  for (const file of listYamlFiles(CRD_DIR)) {
    for (const doc of parseAllDocuments(fs.readFileSync(file, "utf8"))) {
      const crd = doc.toJS() as Schema | null;
      if (!isObject(crd) || crd.kind !== "CustomResourceDefinition") continue;
      const spec = crd.spec as Schema;
      const names = spec.names as Schema;
      for (const v of (spec.versions as Schema[]) ?? []) {
        if (v.served !== true) continue;
        const schema = (v.schema as Schema | undefined)?.openAPIV3Schema as Schema | undefined;
        if (!schema) continue;
        entries.push({
          group: String(spec.group),
          version: String(v.name),
          kind: String(names.kind),
          namespaced: spec.scope === "Namespaced",
          schema,
        });
      }
    }
  }
  return entries;
}

// Parsing the YAML of every CRD (7 MB) costs each test process seconds; the parsed schemas are kept as JSON
// beside the cache, for the cache's contents (its stamp) only.
const PARSED = path.join(UPSTREAM_DIR, ".crd-registry.json");

function loadRegistry(): Map<string, CrdVersion> {
  if (registry) return registry;
  if (!fs.existsSync(CRD_DIR))
    throw new Error(`CRD directory not found: ${CRD_DIR} (run \`npm run test-data\`)`);
  const stamp = fs.readFileSync(STAMP_FILE, "utf8");
  let entries: CrdVersion[] | undefined;
  try {
    const parsed = JSON.parse(fs.readFileSync(PARSED, "utf8")) as { stamp: string; entries: CrdVersion[] };
    if (parsed.stamp === stamp) entries = parsed.entries;
  } catch {
    // Not written yet, or by an older cache.
  }
  if (!entries) {
    entries = parseRegistry();
    const tmp = `${PARSED}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ stamp, entries }));
    fs.renameSync(tmp, PARSED);
  }
  registry = new Map(entries.map((e) => [`${e.group}/${e.version}/${e.kind}`, e]));
  return registry;
}

/**
 * Returns a deep copy of a structural OpenAPI v3 schema made strict and ajv-friendly: closes objects that
 * declare `properties`, turns `x-kubernetes-int-or-string` into `anyOf integer|string`, and drops the other
 * `x-kubernetes-*` keywords. Combinator branches (`anyOf`/`oneOf`/`allOf`/`not`) are only constraints in a
 * structural schema, so they are not closed.
 */
export function strictSchema(schema: Schema, close = true): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith("x-kubernetes-")) continue;
    if (key === "properties" && isObject(value)) {
      const props: Schema = {};
      for (const [name, sub] of Object.entries(value))
        props[name] = isObject(sub) ? strictSchema(sub, true) : sub;
      out.properties = props;
    } else if ((key === "items" || key === "additionalProperties") && isObject(value)) {
      out[key] = strictSchema(value, true);
    } else if ((key === "anyOf" || key === "oneOf" || key === "allOf") && Array.isArray(value)) {
      out[key] = value.map((s) => (isObject(s) ? strictSchema(s, false) : s));
    } else if (key === "not" && isObject(value)) {
      out[key] = strictSchema(value, false);
    } else {
      out[key] = value;
    }
  }
  if (schema["x-kubernetes-int-or-string"] === true) {
    delete out.type;
    if (!out.anyOf) out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
  if (close && !preserve && isObject(out.properties) && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

function getAjv(): Ajv {
  // `code.optimize: false`: ajv skips its optimisation passes over the generated code (which drop unused names),
  // the same checks compiled in less than half the time; each test process compiles every CRD kind it meets.
  if (!ajv)
    ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, code: { optimize: false } });
  return ajv;
}

/** Every served custom resource kind, as `group/version/Kind`. */
export function knownCustomResourceKinds(): string[] {
  return [...loadRegistry().keys()].sort();
}

function formatError(e: { instancePath: string; message?: string; params: Record<string, unknown> }): string {
  const where = e.instancePath || "/";
  if (e.params && "additionalProperty" in e.params)
    return `${where}: unknown field "${e.params.additionalProperty}"`;
  if (e.params && "allowedValues" in e.params)
    return `${where}: ${e.message} (${(e.params.allowedValues as unknown[]).join(", ")})`;
  return `${where}: ${e.message}`;
}

function validateMetadata(meta: unknown, namespaced: boolean): string[] {
  const errors: string[] = [];
  if (!isObject(meta)) return ["/metadata: must be an object"];
  for (const key of Object.keys(meta)) {
    if (!OBJECT_META_KEYS.has(key)) errors.push(`/metadata: unknown field "${key}"`);
  }
  const name = meta.name;
  if (typeof name !== "string" || name.length === 0) {
    errors.push("/metadata/name: required");
  } else if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    errors.push(`/metadata/name: "${name}" is not a DNS-1123 subdomain`);
  }
  if (meta.namespace !== undefined) {
    if (!namespaced) errors.push("/metadata/namespace: set on a cluster-scoped resource");
    else if (typeof meta.namespace !== "string" || !DNS1123_SUBDOMAIN.test(meta.namespace))
      errors.push(`/metadata/namespace: "${String(meta.namespace)}" is not a valid namespace name`);
  }
  for (const field of ["labels", "annotations"]) {
    const m = meta[field];
    if (m === undefined) continue;
    if (!isObject(m)) {
      errors.push(`/metadata/${field}: must be a map of strings`);
      continue;
    }
    for (const [k, v] of Object.entries(m)) {
      if (typeof v !== "string") errors.push(`/metadata/${field}/${k}: must be a string`);
    }
  }
  return errors;
}

/** Validates one custom resource against its CRD (picked by apiVersion + kind), strictly. */
export function validateCustomResource(obj: Record<string, unknown>): ValidationResult {
  const apiVersion = obj.apiVersion;
  const kind = obj.kind;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    return { ok: false, errors: ["apiVersion and kind must be strings"] };
  }
  if (!apiVersion.includes("/")) {
    return { ok: false, errors: [`${apiVersion}/${kind}: core API group, not a custom resource`] };
  }
  const entry = loadRegistry().get(`${apiVersion}/${kind}`);
  if (!entry) {
    return { ok: false, errors: [`no served CRD version for apiVersion "${apiVersion}" kind "${kind}"`] };
  }
  if (!entry.validate) entry.validate = getAjv().compile(strictSchema(entry.schema));
  const errors: string[] = [];
  if (!entry.validate(obj)) errors.push(...(entry.validate.errors ?? []).map(formatError));
  errors.push(...validateMetadata(obj.metadata, entry.namespaced));
  return { ok: errors.length === 0, errors: [...new Set(errors)] };
}

/** Throws an Error naming the object and listing every violation. */
export function assertValidCustomResource(obj: Record<string, unknown>): void {
  const result = validateCustomResource(obj);
  if (!result.ok) {
    const meta = isObject(obj.metadata) ? obj.metadata : {};
    const name = `${String(obj.kind)}/${meta.namespace ? `${String(meta.namespace)}/` : ""}${String(meta.name)}`;
    throw new Error(
      `${name} is not a valid ${String(obj.apiVersion)} ${String(obj.kind)}:\n  ${result.errors.join("\n  ")}`,
    );
  }
}

/**
 * Offline validation of built-in Kubernetes objects (Deployment, Service, ConfigMap, ...).
 *
 * Types and values: the JSON-schema validators of `kubernetes-models` 4.5 (`new Kind(obj).validate()`).
 * Unknown kinds fail. Those validators accept unknown fields, so strictness is added here: the field names of
 * every object are checked against the TypeScript declarations that ship with the same package (each model has a
 * `.d.ts` file with one interface, whose property types point at the other models' files), walked recursively.
 */
import * as fs from "fs";
import * as path from "path";
import type { ValidationResult } from "./crd";

type TypeRef =
  | { kind: "leaf" }
  | { kind: "ref"; file: string }
  | { kind: "array"; of: TypeRef }
  | { kind: "map"; of: TypeRef };

interface Shape {
  props: Map<string, TypeRef>;
}

const MODELS_DIR = path.dirname(require.resolve("kubernetes-models/package.json"));
const shapes = new Map<string, Shape | null>();

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Splits `a; b; { c; }; d` at semicolons outside braces/angle brackets. */
function splitStatements(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of body) {
    if (ch === "{" || ch === "<" || ch === "(") depth++;
    if (ch === "}" || ch === ">" || ch === ")") depth--;
    if (ch === ";" && depth === 0) {
      out.push(current.trim());
      current = "";
    } else current += ch;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

function resolveImport(fromFile: string, spec: string): string | undefined {
  try {
    const js = spec.startsWith(".")
      ? path.resolve(path.dirname(fromFile), spec)
      : require.resolve(spec, { paths: [MODELS_DIR] }).replace(/\.js$/, "");
    const dts = `${js.replace(/\.js$/, "")}.d.ts`;
    return fs.existsSync(dts) ? dts : undefined;
  } catch {
    return undefined;
  }
}

function parseType(text: string, imports: Map<string, string>): TypeRef {
  const t = text.trim();
  const arr = /^Array<([\s\S]*)>$/.exec(t);
  if (arr) return { kind: "array", of: parseType(arr[1], imports) };
  const map = /^\{\s*\[key: string\]:\s*([\s\S]*?);?\s*\}$/.exec(t);
  if (map) return { kind: "map", of: parseType(map[1], imports) };
  const file = imports.get(t);
  if (file) return { kind: "ref", file };
  return { kind: "leaf" };
}

/** The first `export interface` of a model's `.d.ts` (null when the file declares only a type alias). */
function loadShape(file: string): Shape | null {
  if (shapes.has(file)) return shapes.get(file) ?? null;
  const text = fs.readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
  const imports = new Map<string, string>();
  for (const m of text.matchAll(/import \{ (\w+) \} from "([^"]+)";/g)) {
    const target = resolveImport(file, m[2]);
    if (target) imports.set(m[1], target);
  }
  const start = /export interface \w+(?: extends [\w, ]+)? \{\n/.exec(text);
  if (!start) {
    shapes.set(file, null);
    return null;
  }
  const bodyStart = start.index + start[0].length;
  const bodyEnd = text.indexOf("\n}", bodyStart);
  const props = new Map<string, TypeRef>();
  for (const stmt of splitStatements(text.slice(bodyStart, bodyEnd))) {
    const m = /^"([^"]+)"\??:\s*([\s\S]+)$/.exec(stmt);
    if (m) props.set(m[1], parseType(m[2], imports));
  }
  const shape = { props };
  shapes.set(file, shape);
  return shape;
}

function checkFields(value: unknown, type: TypeRef, where: string, errors: string[]): void {
  if (value === null || value === undefined) return;
  switch (type.kind) {
    case "leaf":
      return;
    case "array":
      if (Array.isArray(value)) value.forEach((v, i) => checkFields(v, type.of, `${where}/${i}`, errors));
      return;
    case "map":
      if (isObject(value))
        for (const [k, v] of Object.entries(value)) checkFields(v, type.of, `${where}/${k}`, errors);
      return;
    case "ref": {
      const shape = loadShape(type.file);
      if (!shape || !isObject(value)) return;
      for (const [k, v] of Object.entries(value)) {
        const sub = shape.props.get(k);
        if (!sub) errors.push(`${where || "/"}: unknown field "${k}"`);
        else checkFields(v, sub, `${where}/${k}`, errors);
      }
    }
  }
}

function modelFile(apiVersion: string, kind: string): string | undefined {
  if (!/^[a-zA-Z0-9.]+(\/[a-z0-9]+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind))
    return undefined;
  const file = path.join(MODELS_DIR, apiVersion, `${kind}.d.ts`);
  return fs.existsSync(file) ? file : undefined;
}

/** True when `apiVersion`/`kind` is a built-in Kubernetes type modelled by kubernetes-models. */
export function isBuiltinKind(apiVersion: string, kind: string): boolean {
  return modelFile(apiVersion, kind) !== undefined;
}

/** Validates a built-in object: types/required/enums via kubernetes-models, unknown fields via the model typings. */
export function validateBuiltinObject(obj: Record<string, unknown>): ValidationResult {
  const { apiVersion, kind } = obj;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    return { ok: false, errors: ["apiVersion and kind must be strings"] };
  }
  const file = modelFile(apiVersion, kind);
  if (!file) return { ok: false, errors: [`unknown built-in kind ${apiVersion}/${kind}`] };
  const errors: string[] = [];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(path.join(MODELS_DIR, apiVersion)) as Record<
    string,
    new (d: unknown) => { validate(): void }
  >;
  const Model = mod[kind];
  if (typeof Model !== "function") return { ok: false, errors: [`kubernetes-models has no class ${kind}`] };
  try {
    new Model(obj).validate();
  } catch (err) {
    errors.push(...String((err as Error).message).split("\n"));
  }
  checkFields(obj, { kind: "ref", file }, "", errors);
  const meta = obj.metadata;
  if (!isObject(meta) || typeof meta.name !== "string" || meta.name === "")
    errors.push("/metadata/name: required");
  return { ok: errors.length === 0, errors };
}

/** Throws an Error naming the object and listing every violation. */
export function assertValidBuiltinObject(obj: Record<string, unknown>): void {
  const r = validateBuiltinObject(obj);
  if (!r.ok) {
    const meta = isObject(obj.metadata) ? obj.metadata : {};
    throw new Error(
      `${String(obj.kind)}/${String(meta.name)} is not a valid ${String(obj.apiVersion)} ${String(obj.kind)}:\n  ${r.errors.join("\n  ")}`,
    );
  }
}

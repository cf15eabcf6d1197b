// Reads a Pulumi.<stack>.yaml the way the Pulumi engine hands it to a program (structured values as JSON), and
// refuses a file that is not a well-formed stack file with its line and column: bad encoding, tabs, YAML errors,
// duplicate keys, explicit tags, alias bombs, an empty file, a document or `config:` that is not a mapping.
import * as fs from "node:fs";
import { isMap, isScalar, parseDocument, visit, type Node, type Pair } from "yaml";

/** A stack file that is not a well-formed stack file (the offline plan exits 2). */
export class StackFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    message: string,
  ) {
    super(`${file}:${line}:${col}: ${message}`);
    this.name = "StackFileError";
  }
}

/** Top-level keys of a stack file: Pulumi writes the last three for a passphrase or KMS secrets provider. */
export const STACK_FILE_KEYS = ["config", "secretsprovider", "encryptedkey", "encryptionsalt"];
const MAX_BYTES = 1 << 20;
const MAX_ALIASES = 100;
// The YAML core schema's tags (`!!str 1.30` is one way to quote); !!binary, !!set, !!timestamp and custom tags are not.
const CORE_TAGS = new Set(
  ["str", "int", "float", "bool", "null", "map", "seq"].map((t) => `tag:yaml.org,2002:${t}`),
);

function position(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split("\n").length;
  return { line, col: offset - before.lastIndexOf("\n") };
}

/** The `config:` block as `{key: JSON text or string}`, keys in an object without a prototype. */
export function readStackFile(file: string): Record<string, string> {
  const fail = (offset: number, message: string, text = ""): never => {
    const { line, col } = position(text, offset);
    throw new StackFileError(file, line, col, message);
  };
  const size = fs.statSync(file).size;
  if (size > MAX_BYTES) fail(0, `is ${size} bytes: a stack file is at most ${MAX_BYTES}`);
  const bytes = fs.readFileSync(file);
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    fail(0, "starts with a byte order mark: save it as UTF-8 without BOM");
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    fail(0, "is UTF-16: save it as UTF-8");
  const text = bytes.toString("utf8");
  const at = (offset: number, message: string): never => fail(offset, message, text);
  const bad = text.indexOf("\uFFFD");
  if (bad >= 0 && !Buffer.from(text, "utf8").equals(bytes)) at(bad, "is not valid UTF-8: save it as UTF-8");
  const nul = text.indexOf("\0");
  if (nul >= 0) at(nul, "contains a NUL character: a stack file is text");
  const tab = text.indexOf("\t");
  if (tab >= 0)
    at(tab, "contains a tab: YAML indents with spaces (write \\t in a double-quoted value if you must)");

  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true });
  const first = doc.errors[0] ?? doc.warnings[0];
  if (first) {
    const pos = first.linePos?.[0];
    throw new StackFileError(
      file,
      pos?.line ?? 1,
      pos?.col ?? 1,
      `not valid YAML: ${first.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")}`,
    );
  }
  // Pulumi reads stack files as YAML 1.2: a 1.1 document would mean something else to it (yes/no, octals).
  if (doc.directives?.yaml.explicit && doc.directives.yaml.version !== "1.2")
    at(
      0,
      `is a YAML ${doc.directives.yaml.version} document: stack files are YAML 1.2 (drop the %YAML directive)`,
    );
  const nodeAt = (node: Node | null | undefined, message: string): never =>
    at(node?.range?.[0] ?? 0, message);
  visit(doc, (_key, node) => {
    const tag = (node as { tag?: string } | null)?.tag;
    if (tag && !CORE_TAGS.has(tag))
      nodeAt(
        node as Node,
        `explicit YAML tag ${tag}: a stack file holds plain values (!!str and the other core tags are fine)`,
      );
  });
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === "")))
    at(0, "is empty: expected a mapping with a config: key");
  if (!isMap(root))
    return nodeAt(root as Node, `must be a mapping with a config: key, not a ${kindOf(root)}`);
  let config: Pair | undefined;
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? pair.key.value : undefined;
    if (typeof key !== "string") return nodeAt(pair.key as Node, "a top-level key must be a plain string");
    if (!STACK_FILE_KEYS.includes(key)) {
      const hint = /^c[a-z]*fig|^con|fig$|^config./i.test(key) ? " (did you mean config?)" : "";
      return nodeAt(
        pair.key as Node,
        `unknown top-level key ${JSON.stringify(key)}${hint}; allowed: ${STACK_FILE_KEYS.join(", ")}`,
      );
    }
    if (key === "config") config = pair;
  }
  if (!config) return at(0, "has no config: mapping (the stack's configuration)");
  const block = config.value;
  if (!isMap(block))
    return nodeAt(
      (block as Node) ?? (config.key as Node),
      `config: must be a mapping of keys to values, not ${block ? `a ${kindOf(block)}` : "empty"}`,
    );
  const out: Record<string, string> = Object.create(null);
  for (const pair of block.items) {
    const key = isScalar(pair.key) ? pair.key.value : undefined;
    if (typeof key !== "string" || key === "")
      return nodeAt(pair.key as Node, "a config key must be a plain string such as gitops-platform:name");
    let value: unknown;
    try {
      value = pair.value === null ? null : (pair.value as Node).toJS(doc, { maxAliasCount: MAX_ALIASES });
    } catch (err) {
      return nodeAt(
        pair.value as Node,
        `${key}: ${err instanceof Error && /alias/i.test(err.message) ? `expands more than ${MAX_ALIASES} aliases (or an unset one)` : "cannot be read"}`,
      );
    }
    if (value !== null && typeof value === "object" && !Array.isArray(value) && "secure" in value)
      return nodeAt(
        pair.value as Node,
        `${key} is a secure value; secrets belong in AWS Secrets Manager, not stack files`,
      );
    // JSON has no .inf or .nan: keep them visible (as YAML wrote them) rather than turning them into null.
    out[key] =
      typeof value === "string"
        ? value
        : JSON.stringify(value, (_k, v: unknown) =>
            typeof v === "number" && !Number.isFinite(v)
              ? Number.isNaN(v)
                ? ".nan"
                : v > 0
                  ? ".inf"
                  : "-.inf"
              : v,
          );
  }
  return out;
}

function kindOf(node: unknown): string {
  if (isScalar(node)) return typeof node.value === "string" ? "string" : String(typeof node.value);
  return isMap(node) ? "mapping" : "list";
}

// The JSON Schema editors check stack files with, and the README's config reference, both come from the zod
// schema: these tests fail when either drifts from it.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { parse } from "yaml";
import { stackFileJsonSchema } from "../config";
import { SCHEMA_FILE, schemaText } from "../scripts/config-schema";

const ROOT = path.resolve(__dirname, "..");
const STACK_FILES = fs.readdirSync(ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f));
type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  type?: string;
};

/** Every key path the schema declares: objects' properties, `<name>` for maps; lists are leaves. */
function schemaKeys(): { all: Set<string>; leaves: string[] } {
  const all = new Set<string>();
  const leaves: string[] = [];
  const walk = (s: JsonSchema, at: string) => {
    all.add(at);
    const map = typeof s.additionalProperties === "object" ? s.additionalProperties : undefined;
    // A union (fleet's hub or spoke): the keys of every branch.
    if (s.anyOf) for (const branch of s.anyOf) walk(branch, at);
    else if (s.properties) for (const [k, v] of Object.entries(s.properties)) walk(v, `${at}.${k}`);
    else if (map?.properties) walk(map, `${at}.<name>`);
    else leaves.push(at);
  };
  const config = (stackFileJsonSchema() as { properties: { config: JsonSchema } }).properties.config;
  for (const [key, s] of Object.entries(config.properties ?? {}))
    walk(s, key.replace(/^gitops-platform:/, ""));
  return { all, leaves };
}

/** The keys the README's configuration reference documents (first column of its tables). */
function readmeKeys(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Configuration reference"));
  const body = section.slice(0, section.indexOf("\n## ", 5));
  return body.split("\n").flatMap((line) => {
    const cell = /^\| (`[^|]+) \|/.exec(line)?.[1];
    if (!cell) return [];
    const [first, ...siblings] = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    const parent = first.includes(".") ? first.slice(0, first.lastIndexOf(".") + 1) : "";
    // `<env>` stands for each environment, as the schema spells them out.
    return [first, ...siblings.map((s) => parent + s)].flatMap((k) =>
      k.includes("<env>") ? ["dev", "staging", "prod"].map((e) => k.replace("<env>", e)) : [k],
    );
  });
}

describe("config schema: the JSON Schema of Pulumi.<stack>.yaml", () => {
  it("the committed file is what `npm run config-schema` generates", () =>
    assert.equal(fs.readFileSync(SCHEMA_FILE, "utf8"), schemaText(), "stale: run `npm run config-schema`"));

  it("every stack file points editors at it with a yaml-language-server modeline", () => {
    assert.ok(STACK_FILES.length >= 3);
    for (const f of STACK_FILES) {
      const first = fs.readFileSync(path.join(ROOT, f), "utf8").split("\n")[0];
      assert.equal(first, "# yaml-language-server: $schema=./config/stack-file.schema.json", f);
    }
  });

  it("accepts every stack file and refuses a misspelt key, a wrong type and a misspelt namespace", () => {
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(JSON.parse(schemaText()));
    for (const f of STACK_FILES) {
      const doc = parse(fs.readFileSync(path.join(ROOT, f), "utf8"));
      assert.ok(validate(doc), `${f}: ${JSON.stringify(validate.errors)}`);
    }
    const dev = parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"));
    const broken = [
      { ...dev, config: { ...dev.config, "gitops-platform:network": { vpcCIDR: "10.0.0.0/16" } } },
      { ...dev, config: { ...dev.config, "gitops-platform:kms": { deletionWindowDays: "7" } } },
      { ...dev, config: { ...dev.config, "gitops-platfrom:kms": {} } },
      { confg: dev.config },
    ];
    for (const doc of broken) assert.equal(validate(doc), false, JSON.stringify(doc).slice(0, 120));
  });
});

describe("config schema: the README's configuration reference", () => {
  const { all, leaves } = schemaKeys();
  const documented = readmeKeys();

  it("documents only keys that exist", () => {
    const unknown = documented.filter((k) => !all.has(k));
    assert.deepEqual(unknown, [], `documented but not in the schema: ${unknown.join(", ")}`);
  });

  it("documents every key (itself or the object it belongs to)", () => {
    const covered = (k: string) => documented.some((d) => k === d || k.startsWith(`${d}.`));
    const missing = leaves.filter((k) => !covered(k));
    assert.deepEqual(missing, [], `in the schema but not in README.md: ${missing.join(", ")}`);
  });
});

// Property: a stack file mutated at random (keys dropped, replaced, retyped, injected; hostile strings planted)
// either resolves or is refused with a ConfigError, in well-formed messages that never echo a planted secret;
// never another exception, never a hang, and never a resource registered before the refusal.
import * as assert from "node:assert/strict";
import fc from "fast-check";
import { ConfigError, resolveStackConfig } from "../config";
import { loadStackConfig, runProgram } from "../scripts/engine";

const STACKS = ["dev", "prod", "dr"];
const SECRETS = ["ghp_PLANTEDabcdefghijklmnopqrstuvwxyz0123", "PLANTEDpassw0rd", "AKIAPLANTED000000000"];
const HOSTILE_STRINGS = [
  "",
  " ",
  "-",
  "--upload-pack=touch /tmp/x",
  "main..x",
  "ma\u200bin",
  "a\u202eb",
  "a\nb",
  "a\u0000b",
  "\uFEFFx",
  "x".repeat(5000),
  "é".repeat(300),
  "gіthub.com",
  "eu-(west-1",
  ".*",
  "$(id)",
  "${HOME}",
  "* * * * *",
  "0 9 * * 1-4",
  "1.30",
  "null",
  "yes",
  "platform/dev/prod",
  "apps-podinfo",
  "arn:aws-cn:iam::111122223333:role/x",
  "arn:aws:iam::111122223333:role/a-b",
  "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234567890abcdef1234567890abcdef",
  `https://user:${SECRETS[1]}@github.com/o/r.git`,
  `HTTPS://x:${SECRETS[0]}@github.com/o/r.git`,
  `https://github.com/o/r.git?token=${SECRETS[1]}`,
  `ssh://deploy:${SECRETS[1]}@github.com/o/r.git`,
  `deploy:${SECRETS[1]}@github.com:o/r.git`,
  "git@-oProxyCommand=x:o/r",
  SECRETS[0],
  SECRETS[2],
  "eu-west-1d",
  "Mars/Base",
  "v1.2.3",
  "0123456789abcdef0123456789abcdef01234567",
];
const KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "password",
  "token",
  "vpcCIDR",
  "x\u200b",
  "aws:owner",
  "",
  "k".repeat(200),
];
const TOP_KEYS = [
  "aws:accessKey",
  "aws:secretKey",
  "aws:token",
  "gitops-platfrom:cluster",
  "environment",
  "aws:profile",
  "aws:defaultTags",
  "gitops-platform:__proto__",
  "kubernetes:context",
];

const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    fc.constantFrom(...HOSTILE_STRINGS),
    fc.string({ maxLength: 20 }),
    fc.constantFrom(null, true, false, 0, -1, 1.3, 1e39, 2 ** 53, NaN),
    fc.integer(),
    fc.array(tie("v"), { maxLength: 3 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 8 })), tie("v"), { maxKeys: 3 }),
  ),
})).v;

type Mutation = { op: "drop" | "replace" | "inject" | "top"; at: number; key: string; value: unknown };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom("drop", "replace", "replace", "inject", "top"),
  at: fc.nat(),
  key: fc.oneof(fc.constantFrom(...KEYS), fc.constantFrom(...TOP_KEYS), fc.string({ maxLength: 10 })),
  value,
}) as fc.Arbitrary<Mutation>;

/** The stack config as structured values (what the YAML said), and every path into it. */
const parsed = new Map<string, Record<string, unknown>>();
function base(stack: string): Record<string, unknown> {
  if (!parsed.has(stack)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(loadStackConfig(stack).config))
      out[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
    parsed.set(stack, out);
  }
  return structuredClone(parsed.get(stack) as Record<string, unknown>);
}

function paths(obj: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (obj === null || typeof obj !== "object") return [at];
  // Object.entries, not map: an injected "constructor" key breaks an array's own methods.
  // An array's injected non-index key stays a string key (Number("token") would be NaN, a path to nothing).
  const entries = Object.entries(obj).map(
    ([k, v]) => [Array.isArray(obj) && /^\d+$/.test(k) ? Number(k) : k, v] as const,
  );
  return [at, ...entries.flatMap(([k, v]) => paths(v, [...at, k]))];
}

function setAt(obj: Record<string, unknown>, path: Array<string | number>, v: unknown, drop: boolean): void {
  let o = obj as Record<string | number, unknown>;
  for (const p of path.slice(0, -1)) o = o[p] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (drop) delete o[last];
  else Object.defineProperty(o, last, { value: v, enumerable: true, writable: true, configurable: true });
}

function mutate(stack: string, mutations: Mutation[]): Record<string, string> {
  const doc = base(stack);
  for (const m of mutations) {
    const all = paths(doc).filter((p) => p.length > 0);
    const path = all[m.at % all.length];
    if (m.op === "top") setAt(doc, [m.key], m.value, false);
    else if (m.op === "inject") {
      const holder = path.slice(0, -1);
      setAt(doc, [...holder, m.key], m.value, false);
    } else setAt(doc, path, m.value, m.op === "drop");
  }
  const config: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(doc))
    Object.defineProperty(config, k, {
      value: typeof v === "string" ? v : (JSON.stringify(v) ?? "null"),
      enumerable: true,
    });
  return config;
}

const PROBLEM_LINE = /^ {2}- \S.* = .*: .+$/;

function check(config: Record<string, string>): "resolved" | "refused" {
  const started = Date.now();
  try {
    resolveStackConfig(config);
    return "resolved";
  } catch (err) {
    if (!(err instanceof ConfigError))
      throw new Error(`not a ConfigError: ${err instanceof Error ? err.stack : err}`);
    const [head, ...lines] = err.message.split("\n");
    assert.match(head, /^Invalid gitops-platform stack configuration \(\d+ problems?\):$/);
    assert.ok(lines.length > 0);
    for (const line of lines) assert.match(line, PROBLEM_LINE);
    for (const s of SECRETS) assert.ok(!err.message.includes(s), `echoed a planted secret: ${err.message}`);
    assert.ok(err.message.length < 200 * lines.length + 200, "a long value was not cut");
    return "refused";
  } finally {
    assert.ok(Date.now() - started < 2000, "took more than 2 s");
  }
}

describe("config: random mutations of the stack files (fast-check)", () => {
  it("each of 300 runs resolves or is refused with a ConfigError, never a crash or a hang", () => {
    const outcomes = { resolved: 0, refused: 0 };
    fc.assert(
      fc.property(
        fc.constantFrom(...STACKS),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (stack, ms) => {
          outcomes[check(mutate(stack, ms))]++;
        },
      ),
      { numRuns: 300, seed: 1111 },
    );
    // Proves the generator reaches both outcomes: a property that only ever refuses would say little.
    assert.ok(outcomes.refused > 100 && outcomes.resolved > 0, JSON.stringify(outcomes));
  });

  it("the unmutated stack files resolve", () => {
    for (const stack of STACKS) assert.equal(check(mutate(stack, [])), "resolved");
  });

  it("through the mock engine: a refused mutation registers no resource", async function () {
    this.timeout(120_000);
    const samples = fc.sample(
      fc.tuple(fc.constantFrom(...STACKS), fc.array(mutation, { minLength: 1, maxLength: 2 })),
      { numRuns: 40, seed: 11 },
    );
    let refused = 0;
    for (const [stack, ms] of samples) {
      const config = mutate(stack, ms);
      if (check(config) !== "refused") continue;
      await assert.rejects(
        runProgram(stack, { ...config }),
        (err: Error & { resourcesRegistered?: number }) => {
          assert.equal(err.name, "ConfigError", String(err));
          assert.equal(err.resourcesRegistered, 0);
          return true;
        },
      );
      if (++refused === 4) break;
    }
    assert.equal(refused, 4);
  });
});

// The import rules of .dependency-cruiser.cjs (run by `npm run lint`): the real tree obeys them, and each rule
// fires on a small tree that breaks it, so a rule that can no longer fail is caught here rather than trusted.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const CLI = path.join(ROOT, "node_modules", "dependency-cruiser", "bin", "dependency-cruise.mjs");

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** depcruise over `dir` with the project's rules; the violations it reports. */
function cruise(dir: string): Violation[] {
  const run = spawnSync(
    process.execPath,
    [CLI, "--config", path.join(ROOT, ".dependency-cruiser.cjs"), "--output-type", "json", "--no-cache", "."],
    { cwd: dir, encoding: "utf8" },
  );
  assert.ok(run.stdout, `depcruise printed nothing: ${run.stderr}`);
  return (JSON.parse(run.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

/** Files of a tree that breaks every rule once, and the violation each must give (rule, from, to). */
const BROKEN: Record<string, string> = {
  "core/names.ts": 'import type { Config } from "../config/schema";\nexport type Name = Config;\n',
  "config/schema.ts": "export type Config = string;\n",
  "config/a.ts": 'import { b } from "./b";\nexport const a = () => b;\n',
  "config/b.ts": 'import { a } from "./a";\nexport const b = () => a;\n',
  "scripts/plan.ts": 'import { fixture } from "../test/lib/fixture";\nexport const plan = fixture;\n',
  "test/lib/fixture.ts": "export const fixture = 1;\n",
  "engines/flux/index.ts":
    'import { argocd } from "../argocd/index";\nimport { shared } from "../argo/shared";\nexport const flux = argocd + shared;\n',
  "engines/argocd/index.ts": "export const argocd = 1;\n",
  "engines/argo/shared.ts": "export const shared = 1;\n",
};
const EXPECTED = [
  "engine-stays-in-its-folder engines/flux/index.ts -> engines/argocd/index.ts",
  "layer-core core/names.ts -> config/schema.ts",
  "layer-scripts scripts/plan.ts -> test/lib/fixture.ts",
  "no-circular config/a.ts -> config/b.ts",
  "no-test-imports scripts/plan.ts -> test/lib/fixture.ts",
];

describe("layers: the import rules lint enforces", function () {
  this.timeout(60_000);

  it("the project's own tree has no violation", () => {
    assert.deepEqual(cruise(ROOT), []);
  });

  it("each rule fires on a tree that breaks it (type-only imports included), and a shared engines/argo/ import is allowed", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "layers-"));
    try {
      for (const [file, text] of Object.entries(BROKEN)) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), text);
      }
      fs.copyFileSync(path.join(ROOT, "tsconfig.json"), path.join(dir, "tsconfig.json"));
      const found = cruise(dir)
        .map((v) => `${v.rule.name} ${v.from} -> ${v.to}`)
        .sort();
      assert.deepEqual(found, EXPECTED);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

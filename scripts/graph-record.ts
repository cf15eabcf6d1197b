// Records the compact resource graph of the single-cluster stacks into test/golden/single-stacks.json, which
// test/fleet.test.ts holds the program to. Run `npm run golden` after a deliberate change to what a
// single-cluster stack builds, and review the diff: every changed line is a change `pulumi up` would make.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildStack, ROOT, type StackRun } from "./engine";

/** The cases recorded: label, stack, config overrides. */
export const GOLDEN_CASES: Array<[string, string, Record<string, unknown> | undefined]> = [
  ["dev", "dev", undefined],
  ["dev-flux", "dev", { "gitops-platform:gitops": { engine: "flux" } }],
  ["prod", "prod", undefined],
  ["dr", "dr", undefined],
  ["dev-irsa", "dev", { "gitops-platform:identity": "irsa" }],
];

export const GOLDEN_FILE = path.join(ROOT, "test", "golden", "single-stacks.json");

/** What `pulumi up` would create, in which tree, in which order; inputs as a digest. */
export function graphOf(run: StackRun) {
  return {
    resources: run.resources
      .map((r) => ({
        urn: r.urn,
        type: r.type,
        parent: r.parent ?? null,
        dependencies: r.dependencies,
        inputs: createHash("sha256").update(JSON.stringify(r.inputs)).digest("hex").slice(0, 16),
      }))
      .sort((a, b) => (a.urn < b.urn ? -1 : 1)),
    outputs: Object.keys(run.outputs)
      .filter((k) => run.outputs[k] !== undefined)
      .sort(),
  };
}

async function main() {
  const out: Record<string, ReturnType<typeof graphOf>> = {};
  for (const [label, stack, overrides] of GOLDEN_CASES)
    out[label] = graphOf(await buildStack(stack, overrides));
  fs.writeFileSync(GOLDEN_FILE, JSON.stringify(out, null, 2) + "\n");
  console.log(`recorded ${Object.keys(out).join(", ")} into ${path.relative(ROOT, GOLDEN_FILE)}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

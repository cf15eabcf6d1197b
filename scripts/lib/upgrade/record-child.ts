// Runs inside a child process of scripts/release-fixture.ts: loads a released program's own offline engine
// (scripts/engine.ts of that release's tree) and prints the graphs of the given stacks as JSON. A process of
// its own, so the release's program never shares Pulumi's runtime state with today's.
import * as path from "node:path";
import { recordGraph, type ReleaseStack } from "./graph";

async function main(tree: string, stacks: string[]): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const engine = require(path.join(tree, "scripts", "engine")) as typeof import("../../engine");
  const out: Record<string, ReleaseStack> = {};
  for (const stack of stacks) {
    const run = await engine.buildStack(stack);
    out[stack] = { file: `Pulumi.${stack}.yaml`, resources: recordGraph(run) };
  }
  process.stdout.write(JSON.stringify(out));
}

const [tree, ...stacks] = process.argv.slice(2);
main(path.resolve(tree), stacks).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

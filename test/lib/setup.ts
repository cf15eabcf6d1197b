// Mocha root plugin (.mocharc.cjs `require`), run once in the main process (also with --parallel) before any
// test file: fills the upstream-data cache from ../shared, says once why some tests will be pending, and gives the
// run a directory in which parallel workers share the stack graphs they build (test/lib/harness.ts).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GRAPHS_ENV, inCI, missingPrerequisites } from "./prerequisites";

let graphs: string | undefined;

export function mochaGlobalSetup(): void {
  for (const reason of missingPrerequisites())
    console.log(`\n  ${inCI() ? "FAILING (CI is set)" : "PENDING"}: tests that need it: ${reason}\n`);
  graphs = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-platform-graphs-"));
  process.env[GRAPHS_ENV] = graphs;
}

export function mochaGlobalTeardown(): void {
  if (graphs) fs.rmSync(graphs, { recursive: true, force: true });
}

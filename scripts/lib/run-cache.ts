// What the tests compute more than once with the same input in one mocha run (a `helm template` or a
// `kubectl kustomize` of the same files): memoized within the process, and shared across mocha's parallel workers
// and the CLI processes the tests start through the directory GRAPHS_ENV names, which exists for one run only
// (test/lib/setup.ts), so nothing outlives the files it was computed from. Outside a mocha run (npm run plan)
// results are only memoized in the process.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** The directory, for one mocha run, in which test processes share the stack graphs and renders they compute. */
export const GRAPHS_ENV = "GITOPS_PLATFORM_TEST_GRAPHS";

const memo = new Map<string, string>();

/** `compute()`'s text for `key` (which must name every input the text depends on); a throw is not cached. */
export function runCached(kind: string, key: string, compute: () => string): string {
  const id = `${kind}-${createHash("sha256").update(key).digest("hex")}`;
  const hit = memo.get(id);
  if (hit !== undefined) return hit;
  const dir = process.env[GRAPHS_ENV];
  const file = dir && fs.existsSync(dir) ? path.join(dir, `${id}.txt`) : undefined;
  let text: string | undefined;
  try {
    if (file) text = fs.readFileSync(file, "utf8");
  } catch {
    // Not computed yet in this run.
  }
  if (text === undefined) {
    text = compute();
    if (file) {
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, file);
    }
  }
  memo.set(id, text);
  return text;
}

/** A digest of every file under `dir` (paths and contents), for keys of results computed from that tree. */
export function treeDigest(dir: string): string {
  const hash = createHash("sha256");
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile())
        hash
          .update(`${path.relative(dir, p)}\0`)
          .update(fs.readFileSync(p))
          .update("\0");
    }
  };
  walk(dir);
  return hash.digest("hex");
}

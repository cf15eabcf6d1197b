// Writing a plan to disk, refusing to empty anything that is not a previous plan.
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../../engine";
import { type Plan, UsageError } from "./types";
import { renderTree } from "./tree";
import { canonical, cmp } from "./canonical";

/** Writes plan.json, tree.txt and the Kubernetes objects into `dir`, which is emptied first. */
export function writePlan(plan: Plan, dir: string): string[] {
  return writeFiles(planFiles(plan), dir, "plan.json");
}

/** Empties `dir` (when it holds a previous output, recognised by `marker`) and writes `files` into it. */
export function writeFiles(files: Record<string, string>, dir: string, marker: string): string[] {
  const target = path.resolve(dir);
  assertSafeToClean(target, marker);
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(target, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(target, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return Object.keys(files);
}

/** Every file of a plan, by relative path. */
export function planFiles(plan: Plan): Record<string, string> {
  const files: Record<string, string> = {};
  const json = {
    ...plan,
    manifests: plan.manifests.map((m) => ({
      path: m.path,
      apiVersion: m.apiVersion,
      kind: m.kind,
      name: m.name,
      namespace: m.namespace,
      source: m.source,
      from: m.from,
    })),
  };
  files["plan.json"] = `${JSON.stringify(canonical(json), null, 2)}\n`;
  files["tree.txt"] = renderTree(plan);
  for (const m of plan.manifests) files[m.path] = m.content;
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => cmp(a, b)));
}

/** Refuses to empty the repository, a parent of it, the filesystem root, or a folder that holds anything but a plan. */
export function assertSafeToClean(dir: string, marker = "plan.json"): void {
  const rel = path.relative(dir, ROOT);
  if (dir === path.parse(dir).root || rel === "" || !rel.startsWith("..")) {
    throw new UsageError(`refusing to clean ${dir}: it is the repository or one of its parents`);
  }
  if (!fs.existsSync(dir)) return;
  if (!fs.statSync(dir).isDirectory()) throw new UsageError(`--out ${dir} is not a directory`);
  const entries = fs.readdirSync(dir);
  if (entries.length > 0 && !entries.includes(marker)) {
    throw new UsageError(`refusing to clean ${dir}: not empty and not a previous plan (no ${marker})`);
  }
}

// Test-side view of the offline engine: run a stack and look resources up by type and name.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as v8 from "node:v8";
import {
  buildFleet as fleet,
  buildStack as build,
  loadStackConfig,
  withOverrides,
  type CapturedResource,
  type StackRun,
  type StackRuns,
} from "../../scripts/engine";
import { dependencyGraph, transitiveDependencies } from "../../scripts/lib/plan/graph";
import { GRAPHS_ENV } from "./prerequisites";

export type { CapturedResource, StackRun };

export interface Stack extends StackRun {
  ofType(type: string): CapturedResource[];
  one(type: string, nameFragment?: string): CapturedResource;
  byUrn(urn: string): CapturedResource;
  /** Whether `dependent` (a custom resource) waits, directly or transitively, for `dependency` to exist. */
  dependsOn(dependent: CapturedResource, dependency: CapturedResource): boolean;
}

// One mock-engine run per distinct stack config in a test run, shared by every test file: the program is
// deterministic under mocks, and each caller gets its own copy, so no test sees another's mutations. Within a
// process the runs are memoized; across mocha's parallel workers they are shared through GRAPHS_ENV, a directory
// that exists for one `mocha` run only (test/lib/setup.ts), so no graph outlives the code that built it. Runs
// given explicit stack references (fleet tests) are not shared.
const runs = new Map<string, Promise<StackRun>>();

function shared(key: string, run: () => Promise<StackRun>): Promise<StackRun> {
  const dir = process.env[GRAPHS_ENV];
  if (!dir || !fs.existsSync(dir)) return run();
  const file = path.join(dir, `${createHash("sha256").update(key).digest("hex")}.v8`);
  if (fs.existsSync(file)) return Promise.resolve(v8.deserialize(fs.readFileSync(file)) as StackRun);
  return run().then((r) => {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, v8.serialize(r));
    fs.renameSync(tmp, file);
    return r;
  });
}

function capture(stackOrFile: string, overrides?: Record<string, unknown>): Promise<StackRun> {
  const { stack, config } = loadStackConfig(stackOrFile);
  const key = JSON.stringify([
    stack,
    Object.entries(withOverrides(config, overrides)).sort(([a], [b]) => a.localeCompare(b)),
  ]);
  let pending = runs.get(key);
  if (!pending) {
    // The engine is not re-entrant: chain each new run after the previous one.
    const previous = [...runs.values()].at(-1)?.catch(() => undefined);
    pending = (previous ?? Promise.resolve()).then(() => shared(key, () => build(stackOrFile, overrides)));
    runs.set(key, pending);
  }
  return pending.then((r) => structuredClone(r));
}

export async function buildStack(
  stack: string,
  overrides?: Record<string, unknown>,
  referenced?: StackRuns,
): Promise<Stack> {
  return stackOf(await (referenced ? build(stack, overrides, referenced) : capture(stack, overrides)));
}

/** A hub and its spokes, each spoke reading the hub's run (scripts/engine.ts buildFleet). */
export async function buildFleet(
  ...args: Parameters<typeof fleet>
): Promise<{ hub: Stack; spokes: Stack[] }> {
  const run = await fleet(...args);
  return { hub: stackOf(run.hub), spokes: run.spokes.map(stackOf) };
}

export function stackOf(run: StackRun): Stack {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const ofType = (type: string) => run.resources.filter((r) => r.type === type);
  const descendants = (urn: string): CapturedResource[] =>
    run.resources.filter((r) => r.parent === urn).flatMap((c) => [c, ...descendants(c.urn)]);
  return {
    ...run,
    ofType,
    one(type, nameFragment) {
      const found = ofType(type).filter((r) => nameFragment === undefined || r.name.includes(nameFragment));
      if (found.length !== 1) {
        throw new Error(
          `expected one ${type}${nameFragment ? ` named *${nameFragment}*` : ""}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`,
        );
      }
      return found[0];
    },
    byUrn(urn) {
      const r = byUrn.get(urn);
      if (!r) throw new Error(`no resource ${urn}`);
      return r;
    },
    dependsOn(dependent, dependency) {
      // The same graph the offline plan computes: explicit and input dependencies, where depending on a
      // component means depending on its descendants and on what the component itself waits for.
      const graph = dependencyGraph(run.resources);
      const waitsFor = transitiveDependencies(graph, dependent.urn);
      const targets = dependency.custom
        ? [dependency.urn]
        : descendants(dependency.urn)
            .filter((r) => r.custom)
            .map((r) => r.urn);
      if (targets.length === 0) throw new Error(`${dependency.urn} has no resources to depend on`);
      return targets.every((t) => waitsFor.has(t));
    },
  };
}

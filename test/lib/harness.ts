// Test-side view of the offline engine: run a stack and look resources up by type and name.
import { buildStack as build, type CapturedResource, type StackRun } from "../../scripts/engine";

export type { CapturedResource, StackRun };

export interface Stack extends StackRun {
  ofType(type: string): CapturedResource[];
  one(type: string, nameFragment?: string): CapturedResource;
  byUrn(urn: string): CapturedResource;
  /** Transitive dependencies of a resource (explicit and through inputs, plus its parents' dependencies). */
  dependsOn(dependent: CapturedResource, dependency: CapturedResource): boolean;
}

export async function buildStack(stack: string, overrides?: Record<string, unknown>): Promise<Stack> {
  const run = await build(stack, overrides);
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
  const ofType = (type: string) => run.resources.filter((r) => r.type === type);
  const children = (urn: string): CapturedResource[] =>
    run.resources.filter((r) => r.parent === urn).flatMap((c) => [c, ...children(c.urn)]);
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
      // A dependency on a component means a dependency on everything inside it.
      const targets = new Set([dependency.urn]);
      const seen = new Set<string>();
      const stack = [dependent.urn];
      while (stack.length > 0) {
        const urn = stack.pop() as string;
        if (seen.has(urn)) continue;
        seen.add(urn);
        const r = byUrn.get(urn);
        if (!r) continue;
        for (const d of r.dependencies) {
          if (targets.has(d)) return true;
          stack.push(d);
          for (const c of children(d)) if (c.urn === dependency.urn) return true;
        }
      }
      return false;
    },
  };
}

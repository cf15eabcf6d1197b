// What `pulumi up` would do to a stack deployed with a released program when today's program runs on it:
// resources matched by URN, or through the aliases today's program declares (inherited by children, as the
// engine does); an input that forces replacement (force-new.ts) makes the update a replace. The rules a
// release must keep (no stateful resource lost, no physical name held twice) are checked by upgradeProblems.
import type { AliasSpec, StackRun } from "../../engine";
import { forcingInputs, STATEFUL_TYPES } from "./force-new";
import { recordGraph, type ReleaseResource } from "./graph";

export type StepKind = "create" | "update" | "replace" | "delete";

export interface Step {
  kind: StepKind;
  urn: string;
  type: string;
  physicalName?: string;
  /** The URN it had in the release, where an alias carried it over. */
  from?: string;
  /** The inputs that changed (update) or forced the replacement (replace). */
  inputs: string[];
  deleteBeforeReplace?: boolean;
}

const STACK_TYPE = "pulumi:pulumi:Stack";

interface Urn {
  prefix: string;
  qualifiedType: string;
  name: string;
}

function parseUrn(urn: string): Urn {
  const parts = urn.split("::");
  return { prefix: parts.slice(0, 2).join("::"), qualifiedType: parts[2], name: parts.slice(3).join("::") };
}

/** The URN a resource of `type` and `name` gets under `parentUrn`: its parent's own type qualifies its type. */
function urnOf(prefix: string, parentUrn: string | undefined, type: string, name: string): string {
  const parentType = parentUrn && parseUrn(parentUrn).qualifiedType.split("$").pop();
  const qualifier = parentType && parentType !== STACK_TYPE ? `${parentType}$` : "";
  return `${prefix}::${qualifier}${type}::${name}`;
}

/**
 * Every URN a resource answers to: its own, each of its aliases, and, under each URN its parent answers to,
 * the same again (children inherit their parents' aliases).
 */
function urnsOf(
  r: ReleaseResource,
  byUrn: Map<string, ReleaseResource>,
  memo: Map<string, string[]>,
): string[] {
  const known = memo.get(r.urn);
  if (known) return known;
  const { prefix, name } = parseUrn(r.urn);
  const parent = r.parent ? byUrn.get(r.parent) : undefined;
  const parentUrns = parent ? urnsOf(parent, byUrn, memo) : [r.parent];
  const specs: AliasSpec[] = [{}, ...(r.aliases ?? [])];
  const out = new Set<string>([r.urn]);
  for (const spec of specs) {
    if (spec.urn) {
      out.add(spec.urn);
      continue;
    }
    const parents = spec.noParent ? [undefined] : spec.parentUrn ? [spec.parentUrn] : parentUrns;
    for (const p of parents) out.add(urnOf(prefix, p, spec.type ?? r.type, spec.name ?? name));
  }
  const list = [...out];
  memo.set(r.urn, list);
  return list;
}

function changedInputs(before: ReleaseResource, after: ReleaseResource): string[] {
  const keys = new Set([...Object.keys(before.inputs), ...Object.keys(after.inputs)]);
  return [...keys].filter((k) => before.inputs[k] !== after.inputs[k]).sort();
}

/** The steps from the release's graph to today's program's run of the same stack file. */
export function upgradeDiff(release: ReleaseResource[], today: StackRun | ReleaseResource[]): Step[] {
  const now = Array.isArray(today) ? today : recordGraph(today);
  const old = new Map(release.map((r) => [r.urn, r]));
  const byUrn = new Map(now.map((r) => [r.urn, r]));
  const memo = new Map<string, string[]>();
  const claimed = new Set<string>();
  const steps: Step[] = [];
  for (const r of now) {
    const from = urnsOf(r, byUrn, memo).find((u) => old.has(u) && !claimed.has(u));
    const base = { urn: r.urn, type: r.type, physicalName: r.physicalName };
    if (!from) {
      steps.push({ kind: "create", ...base, inputs: [] });
      continue;
    }
    claimed.add(from);
    const before = old.get(from)!;
    const moved = from === r.urn ? {} : { from };
    const changed = changedInputs(before, r);
    const forcing = forcingInputs(r.type, r.inputs, changed);
    if (before.type !== r.type && r.custom) forcing.push("(type)");
    if (before.physicalName !== r.physicalName) forcing.push("(physical name)");
    if (forcing.length > 0)
      steps.push({
        kind: "replace",
        ...base,
        ...moved,
        inputs: forcing,
        deleteBeforeReplace: r.deleteBeforeReplace,
      });
    else if (changed.length > 0 || from !== r.urn)
      steps.push({ kind: "update", ...base, ...moved, inputs: changed });
  }
  for (const r of release)
    if (!claimed.has(r.urn))
      steps.push({ kind: "delete", urn: r.urn, type: r.type, physicalName: r.physicalName, inputs: [] });
  return steps;
}

/** What an upgrade must never do; empty when the upgrade is safe. */
export function upgradeProblems(steps: Step[]): string[] {
  const problems: string[] = [];
  for (const s of steps) {
    if ((s.kind === "delete" || s.kind === "replace") && STATEFUL_TYPES.has(s.type))
      problems.push(`${s.kind}s stateful ${s.urn}${s.inputs.length ? ` (${s.inputs.join(", ")})` : ""}`);
    // Pulumi creates the replacement first: a fixed name is then held twice, and the cloud refuses it.
    if (s.kind === "replace" && s.physicalName && !s.deleteBeforeReplace)
      problems.push(`replaces ${s.urn} keeping its name ${s.physicalName}: the new one is created first`);
  }
  const created = new Map<string, Step>();
  for (const s of steps) if (s.kind === "create" && s.physicalName) created.set(s.physicalName, s);
  for (const s of steps) {
    const twin = s.kind === "delete" && s.physicalName ? created.get(s.physicalName) : undefined;
    if (twin)
      problems.push(`creates ${twin.urn} while ${s.urn} still holds ${s.physicalName}: an alias is missing`);
  }
  return problems;
}

/** One line per step that changes something, for a person (`npm run plan -- --upgrade-from`). */
export function renderSteps(steps: Step[]): string {
  const counts = { create: 0, update: 0, replace: 0, delete: 0 };
  for (const s of steps) counts[s.kind]++;
  const order: StepKind[] = ["delete", "replace", "create", "update"];
  const lines = order.flatMap((kind) =>
    steps
      .filter((s) => s.kind === kind)
      .map((s) => {
        const why =
          s.kind === "update" || s.kind === "replace"
            ? [
                s.from && `was ${s.from}`,
                s.inputs.length &&
                  `${s.kind === "replace" ? "forced by" : "changed"}: ${s.inputs.join(", ")}`,
              ]
                .filter(Boolean)
                .join("; ")
            : s.kind === "create"
              ? "new in this release"
              : "not in this release";
        return `  ${kind.padEnd(7)} ${s.urn.split("::").slice(2).join("::")}${why ? `  (${why})` : ""}`;
      }),
  );
  const head = `${counts.create} to create, ${counts.update} to update, ${counts.replace} to replace, ${counts.delete} to delete`;
  return [head, ...lines].join("\n");
}

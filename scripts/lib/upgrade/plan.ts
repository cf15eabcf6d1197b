// `npm run plan -- --stack <s> --upgrade-from <tag | old Pulumi.<s>.yaml>`: what `pulumi up` with today's program
// would do to stack <s> as a release (or an earlier version of its file) left it.
import * as path from "node:path";
import { buildStack, loadStackConfig } from "../../engine";
import { UsageError } from "../plan/types";
import { upgradeDiff, upgradeProblems, type Step } from "./diff";
import { recordGraph, type ReleaseResource } from "./graph";
import { loadRelease } from "./releases";

export interface UpgradePlan {
  from: string;
  steps: Step[];
  problems: string[];
}

const stackOf = (file: string) => loadStackConfig(file).stack;

export async function upgradePlan(
  stackFile: string,
  from: string,
  overrides: Record<string, unknown> = {},
): Promise<UpgradePlan> {
  const stack = stackOf(stackFile);
  let before: ReleaseResource[];
  if (/\.ya?ml$/.test(from)) {
    if (stackOf(from) !== stack)
      throw new UsageError(
        `--upgrade-from ${from}: an earlier version of Pulumi.${stack}.yaml (the same stack)`,
      );
    before = recordGraph(await buildStack(path.resolve(from), overrides));
  } else {
    let release;
    try {
      release = loadRelease(from);
    } catch (err) {
      throw new UsageError(`--upgrade-from ${(err as Error).message}`);
    }
    const recorded = release.stacks[stack];
    if (!recorded)
      throw new UsageError(
        `--upgrade-from ${from}: stack ${stack} was not shipped by ${from} (stacks: ${Object.keys(release.stacks).join(", ")})`,
      );
    before = recorded.resources;
  }
  const steps = upgradeDiff(before, await buildStack(stackFile, overrides));
  return { from, steps, problems: upgradeProblems(steps) };
}

// Offline plan: runs the real program under Pulumi mocks (scripts/engine.ts) and shows a reviewer what a first
// `pulumi up` would create, without a cloud account or the Pulumi CLI. See docs/offline-plan.md.
//
//   npm run plan -- --stack dev [--out plan-out/dev] [--engine argocd|flux|eks-argocd]
//   npm run plan -- --stack-file path/to/Pulumi.x.yaml [--out dir]
//   npm run plan -- --fleet [--out dir]    (every hub with its spokes: scripts/lib/plan/fleet.ts)
//   npm run plan -- --stack dev --upgrade-from v0.1.0    (scripts/lib/upgrade/: what an upgrade would change)
import * as fs from "node:fs";
import * as path from "node:path";
import {
  COMPUTE_MODES,
  type ComputeMode,
  ConfigError,
  IDENTITY_MODES,
  type IdentityMode,
  newerDefaultsNotice,
  resolveStackConfig,
} from "../config";
import { ENGINES, type Engine } from "../core/engines";
import { redactString } from "../config/problems";
import { StackFileError } from "../config/stackFile";
import { ROOT, buildStack, loadStackConfig, withOverrides } from "./engine";
import { PROJECT } from "../core/project";
import { type Plan, type PlanOptions, UsageError } from "./lib/plan/types";
import { buildPlan } from "./lib/plan/build";
import { assertSafeToClean, writeFiles, writePlan } from "./lib/plan/files";
import { renderTree } from "./lib/plan/tree";
import { cmp } from "./lib/plan/canonical";
import { discoverFleets, fleetPlanFiles, planFleet } from "./lib/plan/fleet";
import { renderSteps } from "./lib/upgrade/diff";
import { upgradePlan } from "./lib/upgrade/plan";

const USAGE = `usage: npm run plan -- (--stack <name or path.yaml> | --stack-file <path/to/Pulumi.<stack>.yaml> | --fleet)
                        [--out <dir>] [--engine argocd|flux|eks-argocd] [--compute nodeGroups|autoMode]
                        [--identity podIdentity|irsa] [--upgrade-from <tag | old stack file>] [--quiet]
  --stack       a stack of this project (Pulumi.<name>.yaml in the repository root)
  --stack-file  any stack configuration file
  --fleet       every hub stack with the spoke stacks that name it, and what crosses stacks
                (default --out plan-out/fleet)
  --out         output folder, emptied first (default: plan-out/<stack>)
  --engine      override gitops.engine for this plan (eks-argocd also needs gitops.eksArgocd in the file)
  --compute     override cluster.compute (autoMode drops the stack's nodeGroups)
  --identity    override identity
  --upgrade-from  instead of the plan, what \`pulumi up\` with this program would create, update, replace and
                delete on the stack as a recorded release (releases/<tag>) or an earlier version of its file left
                it, and why; exit 1 when it breaks an upgrade rule (README, "Upgrading")
  --quiet       do not print the tree (files are still written)`;

/** The axes a plan can switch without editing the stack file. */
export interface ModeOverrides {
  engine?: Engine;
  compute?: ComputeMode;
  identity?: IdentityMode;
}

interface CliOptions extends ModeOverrides {
  /** Empty with --fleet. */
  stackFile: string;
  fleet: boolean;
  out?: string;
  quiet: boolean;
  upgradeFrom?: string;
}

/** Config overrides for the given modes; Auto Mode runs its own nodes, so the stack's node groups are dropped. */
export function modeOverrides(m: ModeOverrides): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (m.engine) out[`${PROJECT}:gitops`] = { engine: m.engine };
  if (m.compute) out[`${PROJECT}:cluster`] = { compute: m.compute };
  if (m.compute === "autoMode") out[`${PROJECT}:nodeGroups`] = undefined;
  if (m.identity) out[`${PROJECT}:identity`] = m.identity;
  return out;
}

export function parseArgs(argv: string[]): CliOptions {
  const values: Record<string, string> = {};
  let quiet = false;
  let fleet = false;
  for (let n = 0; n < argv.length; n++) {
    const arg = argv[n];
    if (arg === "--quiet") {
      quiet = true;
      continue;
    }
    if (arg === "--fleet") {
      fleet = true;
      continue;
    }
    const m = /^--(stack|stack-file|out|engine|compute|identity|upgrade-from)(?:=(.*))?$/.exec(arg);
    if (!m) throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    const value = m[2] ?? argv[++n];
    if (value === undefined || value === "") throw new UsageError(`--${m[1]} needs a value`);
    if (m[1] in values) throw new UsageError(`--${m[1]} given twice`);
    values[m[1]] = value;
  }
  if (fleet) {
    if (
      ["stack", "stack-file", "engine", "compute", "identity", "upgrade-from"].some(
        (k) => values[k] !== undefined,
      )
    ) {
      throw new UsageError(
        "--fleet plans every fleet stack as configured: no --stack, --stack-file, --engine, --compute, --identity or --upgrade-from",
      );
    }
    return { stackFile: "", fleet, out: values.out, quiet };
  }
  if ((values.stack === undefined) === (values["stack-file"] === undefined)) {
    throw new UsageError("give exactly one of --stack, --stack-file and --fleet");
  }
  let stackFile: string;
  // `--stack path/to/Pulumi.x.yaml` is a stack file, as loadStackConfig reads it.
  if (values.stack !== undefined && /\.ya?ml$|\//.test(values.stack)) {
    values["stack-file"] = values.stack;
    delete values.stack;
  }
  if (values.stack !== undefined) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(values.stack)) {
      throw new UsageError(
        `--stack ${JSON.stringify(values.stack)} is not a stack name (use --stack-file for a path)`,
      );
    }
    stackFile = path.join(ROOT, `Pulumi.${values.stack}.yaml`);
    if (!fs.existsSync(stackFile)) {
      const known = fs
        .readdirSync(ROOT)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort(cmp);
      throw new UsageError(
        `stack "${values.stack}" not found: no Pulumi.${values.stack}.yaml (stacks: ${known.join(", ")})`,
      );
    }
  } else {
    const given = values["stack-file"];
    if (!/\.ya?ml$/.test(given)) throw new UsageError(`--stack-file ${given}: a stack file ends in .yaml`);
    stackFile = path.resolve(given);
    if (!fs.existsSync(stackFile) || !fs.statSync(stackFile).isFile()) {
      throw new UsageError(`stack file not found: ${given}`);
    }
  }
  const choice = <T extends string>(flag: string, allowed: readonly T[]): T | undefined => {
    const value = values[flag];
    if (value !== undefined && !allowed.includes(value as T)) {
      throw new UsageError(`--${flag} ${JSON.stringify(value)}: must be ${allowed.join(" or ")}`);
    }
    return value as T | undefined;
  };
  return {
    stackFile,
    fleet,
    out: values.out,
    engine: choice("engine", ENGINES),
    compute: choice("compute", COMPUTE_MODES),
    identity: choice("identity", IDENTITY_MODES),
    quiet,
    upgradeFrom: values["upgrade-from"],
  };
}

/** Runs the program for a stack file (optionally with other modes) and plans it. */
export async function planStack(stackFile: string, opts: ModeOverrides & PlanOptions = {}): Promise<Plan> {
  const overrides = modeOverrides(opts);
  // The program validates the same way; doing it first means a bad file never reaches the mock engine.
  const all = withOverrides(loadStackConfig(stackFile).config, overrides);
  const notice = newerDefaultsNotice(all, resolveStackConfig(all));
  const run = await buildStack(stackFile, overrides);
  return { ...buildPlan(run, opts), ...(notice && { notice }) };
}

function stackNameOf(stackFile: string): string {
  return path
    .basename(stackFile)
    .replace(/^Pulumi\./, "")
    .replace(/\.ya?ml$/, "");
}

async function fleetMain(opts: CliOptions): Promise<number> {
  const out = opts.out ? path.resolve(opts.out) : path.join(ROOT, "plan-out", "fleet");
  assertSafeToClean(out, "fleet.txt");
  const fleets = discoverFleets();
  if (fleets.length === 0)
    throw new UsageError("no stack of this repository has gitops-platform:fleet.role hub");
  const plans = [];
  for (const f of fleets) plans.push(await planFleet(f));
  const files = writeFiles(fleetPlanFiles(plans), out, "fleet.txt");
  if (!opts.quiet) process.stdout.write(plans.map((p) => p.text).join("\n"));
  const shown = path.relative(process.cwd(), out) || ".";
  process.stdout.write(`\nwrote ${files.length} files to ${shown.startsWith("..") ? out : shown}\n`);
  return 0;
}

async function upgradeMain(opts: CliOptions, from: string): Promise<number> {
  const overrides = modeOverrides(opts);
  resolveStackConfig(withOverrides(loadStackConfig(opts.stackFile).config, overrides));
  const plan = await upgradePlan(opts.stackFile, from, overrides);
  const stack = stackNameOf(opts.stackFile);
  process.stdout.write(`upgrade of ${PROJECT} / ${stack} from ${from}: ${renderSteps(plan.steps)}\n`);
  if (plan.problems.length === 0) return 0;
  process.stderr.write(`\nthis upgrade breaks ${plan.problems.length} rule(s) (README, "Upgrading"):\n`);
  process.stderr.write(plan.problems.map((p) => `  - ${p}\n`).join(""));
  return 1;
}

/** The CLI; returns the exit code: 0 done, 1 invalid stack configuration or failure, 2 usage error. */
export async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    const opts = parseArgs(argv);
    if (opts.fleet) return await fleetMain(opts);
    if (opts.upgradeFrom) return await upgradeMain(opts, opts.upgradeFrom);
    const out = opts.out ? path.resolve(opts.out) : path.join(ROOT, "plan-out", stackNameOf(opts.stackFile));
    assertSafeToClean(out);
    const plan = await planStack(opts.stackFile, opts);
    const files = writePlan(plan, out);
    if (!opts.quiet) process.stdout.write(renderTree(plan));
    if (plan.notice) process.stdout.write(`\n${plan.notice}\n`);
    const shown = path.relative(process.cwd(), out) || ".";
    process.stdout.write(`\nwrote ${files.length} files to ${shown.startsWith("..") ? out : shown}\n`);
    return 0;
  } catch (err) {
    if (err instanceof StackFileError) {
      process.stderr.write(`plan: ${err.message}\n`);
      return 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`plan: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof ConfigError || (err instanceof Error && err.name === "ConfigError")) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    // Never a stack trace for any input: the message only (PLAN_DEBUG=1 shows the trace to a developer).
    const shownError =
      err instanceof Error
        ? process.env.PLAN_DEBUG
          ? err.stack
          : `${err.name}: ${err.message}`
        : String(err);
    process.stderr.write(`plan failed: ${redactString(String(shownError))}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.stdout.write("", () => process.exit(code)),
    (err: unknown) => {
      process.stderr.write(
        `plan failed: ${redactString(String(err instanceof Error ? err.message : err))}\n`,
      );
      process.exit(1);
    },
  );
}

// How long it takes to build each stack's resource graph under mocks (what every test and `npm run plan` pays),
// and how much memory it takes. Each stack runs in its own child process so that peak RSS is per stack.
//
//   npm run bench [-- --runs 5 --stacks dev,prod]
//
// It reports figures against a target; it does not fail on a slow machine.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { buildStack, ROOT } from "./engine";

const TARGET_MS = 1500;
const TARGET_MB = 400;

export interface BenchResult {
  stack: string;
  /** Wall-clock milliseconds of each buildStack call, first (cold: loads the program's modules) first. */
  runsMs: number[];
  medianMs: number;
  resources: number;
  /** Peak resident set size of the worker process, in MiB. */
  peakRssMiB: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** In the worker process: builds one stack `runs` times and returns the figures. */
export async function benchStack(stack: string, runs: number): Promise<BenchResult> {
  const runsMs: number[] = [];
  let resources = 0;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const run = await buildStack(stack);
    runsMs.push(Number(process.hrtime.bigint() - start) / 1e6);
    resources = run.resources.length;
  }
  // maxRSS is in KiB and covers the whole life of the process (module loading included).
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  return { stack, runsMs, medianMs: median(runsMs), resources, peakRssMiB };
}

function parse(argv: string[]): { worker?: string; runs: number; stacks: string[] } {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const runs = Number(get("--runs") ?? 5);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer`);
  return {
    worker: get("--worker"),
    runs,
    stacks: (get("--stacks") ?? "dev,prod").split(",").filter(Boolean),
  };
}

function runWorker(stack: string, runs: number): BenchResult {
  const child = spawnSync(
    process.execPath,
    [
      "-r",
      "ts-node/register/transpile-only",
      path.join("scripts", "bench.ts"),
      "--worker",
      stack,
      "--runs",
      String(runs),
    ],
    { cwd: ROOT, encoding: "utf8", env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" } },
  );
  if (child.status !== 0) {
    throw new Error(`bench worker for ${stack} failed (exit ${child.status}):\n${child.stderr}`);
  }
  const line = child.stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(line) as BenchResult;
}

function fmt(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

export async function main(argv: string[]): Promise<number> {
  const opts = parse(argv);
  if (opts.worker) {
    const result = await benchStack(opts.worker, opts.runs);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  }
  process.stdout.write(
    `Building each stack's resource graph under mocks, ${opts.runs} run(s) per stack, one process per stack.\n` +
      `Target: median under ${fmt(TARGET_MS)} and peak RSS under ${TARGET_MB} MiB per stack (reported, not enforced).\n\n`,
  );
  const header = `${"stack".padEnd(8)} ${"median".padStart(8)} ${"first".padStart(8)} ${"min".padStart(8)} ${"max".padStart(8)} ${"resources".padStart(9)} ${"peak RSS".padStart(10)}  target`;
  process.stdout.write(`${header}\n`);
  for (const stack of opts.stacks) {
    const r = runWorker(stack, opts.runs);
    const ok = r.medianMs < TARGET_MS && r.peakRssMiB < TARGET_MB;
    process.stdout.write(
      `${stack.padEnd(8)} ${fmt(r.medianMs).padStart(8)} ${fmt(r.runsMs[0]).padStart(8)} ${fmt(Math.min(...r.runsMs)).padStart(8)} ${fmt(Math.max(...r.runsMs)).padStart(8)} ${String(r.resources).padStart(9)} ${`${r.peakRssMiB.toFixed(0)} MiB`.padStart(10)}  ${ok ? "met" : "MISSED"}\n`,
    );
  }
  process.stdout.write(
    "\nfirst = the cold run, which also loads @pulumi/* and the program's modules; median includes it.\n",
  );
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.stdout.write("", () => process.exit(code)),
    (err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

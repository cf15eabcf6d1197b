/**
 * scripts/promote.ts against a real, throw-away git repository in os.tmpdir() with its own small gitops fixture
 * (not the project's gitops/ folder). Git runs with a local identity and without global/system config, so this
 * works in CI as root with no global git identity.
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  main,
  promote,
  PromoteError,
  readImageTags,
  renderTag,
  setImageTags,
  unifiedDiff,
} from "../scripts/promote";
import { ensureTools, kubectlKustomize } from "../scripts/lib/kustomize";
import { itNeeds } from "./lib/prerequisites";

const PROJECT_ROOT = path.resolve(__dirname, "..");
const SCRIPT = path.join(PROJECT_ROOT, "scripts", "promote.ts");
const PODINFO = "ghcr.io/stefanprodan/podinfo";
const SIDECAR = "ghcr.io/example/sidecar";
const SETTER = '# {"$imagepolicy": "flux-system:podinfo:tag"}';

const OVERLAY = (env: string, podinfoTag: string, comment = ""): string =>
  [
    "# Overlay for " + env + " - comments, order and quoting must survive promotion byte for byte",
    "apiVersion: kustomize.config.k8s.io/v1beta1",
    "kind: Kustomization",
    "namespace: podinfo-" + env,
    "resources:",
    "  - ../../base",
    "images:",
    `  - name: ${PODINFO}`,
    `    newTag: "${podinfoTag}"${comment ? " " + comment : ""}`,
    `  - name: ${SIDECAR}`,
    "    newTag: '1.4.0'   # sidecar, same everywhere",
    "patches:",
    "  - target: {kind: Deployment, name: podinfo}",
    "    patch: |-",
    "      - op: replace",
    "        path: /spec/replicas",
    `        value: ${env === "prod" ? 3 : 1}`,
    "",
  ].join("\n");

const FIXTURE: Record<string, string> = {
  "README.md": "fixture\n",
  "gitops/apps/podinfo/base/kustomization.yaml":
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n",
  "gitops/apps/podinfo/base/deployment.yaml": [
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    "  name: podinfo",
    "spec:",
    "  replicas: 1",
    "  selector:",
    "    matchLabels: {app: podinfo}",
    "  template:",
    "    metadata:",
    "      labels: {app: podinfo}",
    "    spec:",
    "      containers:",
    "        - name: podinfo",
    `          image: ${PODINFO}:6.0.0`,
    "        - name: sidecar",
    `          image: ${SIDECAR}:0.0.1`,
    "",
  ].join("\n"),
  "gitops/apps/podinfo/overlays/dev/kustomization.yaml": OVERLAY("dev", "6.9.2", SETTER),
  "gitops/apps/podinfo/overlays/staging/kustomization.yaml": OVERLAY(
    "staging",
    "6.9.1",
    "# pinned by release",
  ),
  "gitops/apps/podinfo/overlays/prod/kustomization.yaml": OVERLAY("prod", "6.9.0"),
  // A second app, so "unknown app" has something to list.
  "gitops/apps/other/base/kustomization.yaml": "resources: []\n",
  "gitops/apps/other/overlays/dev/kustomization.yaml":
    "resources: [../../base]\nimages:\n  - name: x\n    newTag: a\n",
};

const overlayPath = (env: string) => `gitops/apps/podinfo/overlays/${env}/kustomization.yaml`;

function git(repo: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function makeRepo(files: Record<string, string> = FIXTURE): string {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), "promote-test-"));
  git(repo, "init", "--quiet", "-b", "main");
  git(repo, "config", "user.name", "Promote Test");
  git(repo, "config", "user.email", "promote-test@example.invalid");
  git(repo, "config", "commit.gpgsign", "false");
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
    fs.writeFileSync(path.join(repo, rel), text);
  }
  git(repo, "add", "-A");
  git(repo, "commit", "--quiet", "-m", "fixture");
  return repo;
}

/** Everything a refusal must leave unchanged. */
function snapshot(repo: string) {
  return {
    head: git(repo, "rev-parse", "HEAD"),
    branch: git(repo, "rev-parse", "--abbrev-ref", "HEAD"),
    branches: git(repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads"),
    status: git(repo, "status", "--porcelain"),
    overlays: ["dev", "staging", "prod"].map((e) => fs.readFileSync(path.join(repo, overlayPath(e)), "utf8")),
  };
}

function refusal(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PromoteError, `expected PromoteError, got ${String(e)}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes("\n"), "refusal message is one line");
    return true;
  });
}

describe("promote: pure helpers", () => {
  const text = OVERLAY("dev", "6.9.2", SETTER);

  it("readImageTags reads every images: entry by name, keeping plain tags as written", () => {
    assert.deepStrictEqual(readImageTags(text), [
      { name: PODINFO, newTag: "6.9.2" },
      { name: SIDECAR, newTag: "1.4.0" },
    ]);
    assert.deepStrictEqual(readImageTags("images:\n  - name: a\n    newTag: 1.0\n"), [
      { name: "a", newTag: "1.0" },
    ]);
    assert.deepStrictEqual(readImageTags("resources: []\n"), []);
  });

  it("setImageTags changes only the tag bytes: setter comments, quoting and everything else stay", () => {
    const out = setImageTags(text, { [PODINFO]: "6.10.0" });
    assert.strictEqual(out, text.replace('newTag: "6.9.2"', 'newTag: "6.10.0"'));
    assert.ok(out.includes(`newTag: "6.10.0" ${SETTER}`));
    const both = setImageTags(text, new Map([[SIDECAR, "2.0.0"]]));
    assert.strictEqual(both, text.replace("newTag: '1.4.0'   #", "newTag: '2.0.0'   #"));
    assert.throws(() => setImageTags(text, { "not/there": "1" }), /not\/there is not in/);
  });

  it("renderTag keeps the original quoting and only writes plain when it stays a string", () => {
    assert.strictEqual(renderTag("1.2.3", "PLAIN"), "1.2.3");
    assert.strictEqual(renderTag("1.0", "PLAIN"), '"1.0"'); // plain 1.0 would be a number
    assert.strictEqual(renderTag("true", "PLAIN"), '"true"');
    assert.strictEqual(renderTag("v1", "QUOTE_SINGLE"), "'v1'");
    assert.strictEqual(renderTag("v1", "QUOTE_DOUBLE"), '"v1"');
  });

  it("unifiedDiff emits a git-style one-line hunk", () => {
    const a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
    const b = a.replace("5", "five");
    assert.strictEqual(
      unifiedDiff(a, b, "f"),
      "--- a/f\n+++ b/f\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n",
    );
    assert.strictEqual(unifiedDiff(a, a, "f"), "");
  });

  it("unifiedDiff matches git diff --no-index (separate hunks, merged hunks, no final newline)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promote-diff-"));
    try {
      const lines = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`);
      const cases: [string, string][] = [
        [lines.join("\n") + "\n", lines.map((l, i) => ([1, 20].includes(i) ? l + "!" : l)).join("\n") + "\n"],
        [lines.join("\n") + "\n", lines.map((l, i) => ([9, 15].includes(i) ? l + "!" : l)).join("\n") + "\n"],
        [lines.join("\n"), lines.map((l, i) => (i === 29 ? l + "!" : l)).join("\n")],
        ["a\nb\n", "a\nc\n"],
      ];
      for (const [a, b] of cases) {
        fs.writeFileSync(path.join(dir, "a"), a);
        fs.writeFileSync(path.join(dir, "b"), b);
        const res = spawnSync("git", ["diff", "--no-index", "--no-color", "a", "b"], {
          cwd: dir,
          encoding: "utf8",
        });
        const expected = res.stdout
          .replace(/^diff --git.*\nindex .*\n/, "")
          .replace(/^--- a\/a$/m, "--- a/f")
          .replace(/^\+\+\+ b\/b$/m, "+++ b/f")
          .replace(/^(@@ [^@]+ @@).*$/gm, "$1");
        assert.strictEqual(unifiedDiff(a, b, "f"), expected);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("promote: against a real git repository", function () {
  this.timeout(60000);
  const savedEnv = { ...process.env };
  const repos: string[] = [];
  const newRepo = (files?: Record<string, string>) => {
    const r = makeRepo(files);
    repos.push(r);
    return r;
  };

  before(() => {
    // Hermetic git: ignore the runner's global/system config (hooks paths, signing, templates...).
    process.env.GIT_CONFIG_GLOBAL = "/dev/null";
    process.env.GIT_CONFIG_NOSYSTEM = "1";
    for (const k of Object.keys(process.env)) {
      if (/^GIT_(AUTHOR|COMMITTER)_|^GIT_DIR$|^GIT_WORK_TREE$|^GIT_INDEX_FILE$/.test(k))
        delete process.env[k];
    }
  });
  after(() => {
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
    for (const r of repos) fs.rmSync(r, { recursive: true, force: true });
  });

  it("commits exactly the one-line tag change on a new promote/ branch and stays on it", () => {
    const repo = newRepo();
    const base = git(repo, "rev-parse", "HEAD").trim();
    const before = fs.readFileSync(path.join(repo, overlayPath("prod")), "utf8");

    const r = promote({ app: "podinfo", from: "staging", to: "prod", repo });

    assert.strictEqual(r.branch, "promote/podinfo-prod-6.9.1");
    assert.strictEqual(r.baseBranch, "main");
    assert.deepStrictEqual(r.changes, [{ name: PODINFO, from: "6.9.0", to: "6.9.1" }]);
    assert.strictEqual(git(repo, "rev-parse", "--abbrev-ref", "HEAD").trim(), r.branch);
    assert.strictEqual(git(repo, "rev-parse", "HEAD").trim(), r.sha);
    assert.strictEqual(git(repo, "rev-parse", "HEAD~1").trim(), base, "branched from the previous HEAD");
    assert.strictEqual(git(repo, "status", "--porcelain"), "", "clean tree afterwards");

    // One file, one line changed (1 added, 1 removed).
    const files = git(repo, "show", "--name-only", "--format=", "HEAD").trim().split("\n");
    assert.deepStrictEqual(files, [overlayPath("prod")]);
    assert.match(
      git(repo, "show", "--stat", "--format=", "HEAD"),
      /1 file changed, 1 insertion\(\+\), 1 deletion\(-\)/,
    );
    assert.strictEqual(
      git(repo, "show", "--numstat", "--format=", "HEAD").trim(),
      `1\t1\t${overlayPath("prod")}`,
    );
    const changed = git(repo, "show", "--format=", "--unified=0", "HEAD")
      .split("\n")
      .filter((l) => /^[-+](?![-+]{2} )/.test(l));
    assert.deepStrictEqual(changed, ['-    newTag: "6.9.0"', '+    newTag: "6.9.1"']);
    assert.strictEqual(
      fs.readFileSync(path.join(repo, overlayPath("prod")), "utf8"),
      before.replace('newTag: "6.9.0"', 'newTag: "6.9.1"'),
    );
    // Same diff as git's (minus git's "diff --git"/"index" lines and its hunk-header function context).
    const gitDiff = git(repo, "show", "--format=", "HEAD")
      .replace(/^diff --git.*\nindex .*\n/, "")
      .replace(/^(@@ [^@]+ @@).*$/gm, "$1");
    assert.strictEqual(r.diff, gitDiff);

    // Message: subject + a rollback hint in the body.
    const msg = git(repo, "log", "-1", "--format=%B");
    assert.strictEqual(msg.split("\n")[0], "promote(podinfo): prod 6.9.0 -> 6.9.1 (from staging)");
    assert.match(msg, /git revert </);
    // Other branches/files untouched.
    assert.strictEqual(git(repo, "rev-parse", "main").trim(), base);
  });

  it("keeps the target's own setter comment and never copies the source's", () => {
    const repo = newRepo();
    promote({ app: "podinfo", from: "dev", to: "staging", repo });
    const staging = fs.readFileSync(path.join(repo, overlayPath("staging")), "utf8");
    assert.ok(staging.includes('    newTag: "6.9.2" # pinned by release\n'));
    assert.ok(!staging.includes("$imagepolicy"));

    const repo2 = newRepo();
    promote({ app: "podinfo", from: "dev", to: "prod", repo: repo2 });
    const prod = fs.readFileSync(path.join(repo2, overlayPath("prod")), "utf8");
    assert.ok(prod.includes('    newTag: "6.9.2"\n'), "prod line has no comment, and gets none");
    assert.ok(!prod.includes("$imagepolicy"));
  });

  it("promotes every image whose tag differs (matched by name), one line each", () => {
    const files = { ...FIXTURE };
    files[overlayPath("staging")] = files[overlayPath("staging")].replace("'1.4.0'", "'1.5.0'");
    const repo = newRepo(files);
    const r = promote({ app: "podinfo", from: "staging", to: "prod", repo });
    assert.deepStrictEqual(r.changes, [
      { name: PODINFO, from: "6.9.0", to: "6.9.1" },
      { name: SIDECAR, from: "1.4.0", to: "1.5.0" },
    ]);
    assert.strictEqual(
      git(repo, "show", "--numstat", "--format=", "HEAD").trim(),
      `2\t2\t${overlayPath("prod")}`,
    );
    assert.ok(
      fs.readFileSync(path.join(repo, overlayPath("prod")), "utf8").includes("newTag: '1.5.0'   # sidecar"),
    );
  });

  it("dry-run returns the diff and changes nothing", () => {
    const repo = newRepo();
    const s = snapshot(repo);
    const r = promote({ app: "podinfo", from: "staging", to: "prod", repo, dryRun: true });
    assert.strictEqual(r.sha, undefined);
    assert.strictEqual(
      r.diff,
      [
        `--- a/${overlayPath("prod")}`,
        `+++ b/${overlayPath("prod")}`,
        "@@ -6,7 +6,7 @@",
        "   - ../../base",
        " images:",
        `   - name: ${PODINFO}`,
        '-    newTag: "6.9.0"',
        '+    newTag: "6.9.1"',
        `   - name: ${SIDECAR}`,
        "     newTag: '1.4.0'   # sidecar, same everywhere",
        " patches:",
        "",
      ].join("\n"),
    );
    assert.match(r.diff, /^--- a\/gitops\/apps\/podinfo\/overlays\/prod\/kustomization\.yaml\n\+\+\+ b\//);
    assert.match(r.diff, /\n- {4}newTag: "6\.9\.0"\n\+ {4}newTag: "6\.9\.1"\n/);
    assert.strictEqual(r.diff.split("\n").filter((l) => /^[-+](?![-+]{2} )/.test(l)).length, 2);
    assert.deepStrictEqual(snapshot(repo), s);
  });

  describe("refusals leave the repository untouched", () => {
    let repo: string;
    beforeEach(() => {
      repo = newRepo();
    });
    const cases: [string, (repo: string) => void, RegExp][] = [
      [
        "dirty tree (modified file)",
        (r) => fs.appendFileSync(path.join(r, "README.md"), "edit\n"),
        /working tree is dirty .*commit or stash/,
      ],
      [
        "dirty tree (untracked file)",
        (r) => fs.writeFileSync(path.join(r, "new.txt"), "x"),
        /working tree is dirty/,
      ],
    ];
    for (const [name, dirty, pattern] of cases) {
      it(`refuses a ${name}`, () => {
        dirty(repo);
        const s = snapshot(repo);
        refusal(() => promote({ app: "podinfo", from: "staging", to: "prod", repo }), pattern);
        assert.deepStrictEqual(snapshot(repo), s);
      });
    }

    it("refuses an unknown app and lists the known ones", () => {
      const s = snapshot(repo);
      refusal(
        () => promote({ app: "nope", from: "dev", to: "prod", repo }),
        /unknown app "nope"; known apps: other, podinfo$/,
      );
      assert.deepStrictEqual(snapshot(repo), s);
    });

    it("refuses an unknown environment and lists the known ones", () => {
      const s = snapshot(repo);
      refusal(
        () => promote({ app: "podinfo", from: "dev", to: "qa", repo }),
        /unknown environment "qa" \(--to\) for app podinfo; known: dev, staging, prod$/,
      );
      refusal(
        () => promote({ app: "podinfo", from: "test", to: "prod", repo }),
        /unknown environment "test" \(--from\)/,
      );
      assert.deepStrictEqual(snapshot(repo), s);
    });

    it("refuses from == to", () => {
      const s = snapshot(repo);
      refusal(
        () => promote({ app: "podinfo", from: "prod", to: "prod", repo }),
        /--from and --to are both "prod"/,
      );
      assert.deepStrictEqual(snapshot(repo), s);
    });

    it("refuses when the target is already at the source's tag", () => {
      promote({ app: "podinfo", from: "staging", to: "prod", repo });
      const s = snapshot(repo);
      refusal(
        () => promote({ app: "podinfo", from: "staging", to: "prod", repo }),
        /already at 6\.9\.1, 1\.4\.0 \(same as staging\), nothing to promote$/,
      );
      assert.deepStrictEqual(snapshot(repo), s);
    });

    it("refuses when the promotion branch already exists", () => {
      git(repo, "branch", "promote/podinfo-prod-6.9.1");
      const s = snapshot(repo);
      refusal(
        () => promote({ app: "podinfo", from: "staging", to: "prod", repo }),
        /branch promote\/podinfo-prod-6\.9\.1 already exists/,
      );
      refusal(
        () => promote({ app: "podinfo", from: "staging", to: "prod", repo, dryRun: true }),
        /already exists/,
      );
      assert.deepStrictEqual(snapshot(repo), s);
    });

    it("refuses when the promotion branch exists as a remote-tracking branch", () => {
      git(repo, "update-ref", "refs/remotes/origin/promote/podinfo-prod-6.9.1", "HEAD");
      const s = snapshot(repo);
      refusal(
        () => promote({ app: "podinfo", from: "staging", to: "prod", repo }),
        /already exists on the remote \(origin\/promote\/podinfo-prod-6\.9\.1\)/,
      );
      assert.deepStrictEqual(snapshot(repo), s);
    });

    it("puts everything back when the commit itself fails (e.g. a rejecting hook)", () => {
      const hook = path.join(repo, ".git", "hooks", "pre-commit");
      fs.writeFileSync(hook, "#!/bin/sh\necho 'rejected by hook' >&2\nexit 1\n", { mode: 0o755 });
      const s = snapshot(repo);
      refusal(
        () => promote({ app: "podinfo", from: "staging", to: "prod", repo }),
        /git commit failed: rejected by hook/,
      );
      assert.deepStrictEqual(snapshot(repo), s);
    });

    it("refuses missing arguments and a path that is not a git repository", () => {
      refusal(
        () => promote({ app: "", from: "dev", to: "", repo }),
        /missing --app, --to; usage: promote --app/,
      );
      const notRepo = fs.mkdtempSync(path.join(os.tmpdir(), "promote-norepo-"));
      repos.push(notRepo);
      refusal(
        () => promote({ app: "podinfo", from: "dev", to: "prod", repo: notRepo }),
        /not inside a git work tree/,
      );
    });
  });

  itNeeds(
    ["tools"],
    "rollback: git revert restores the overlay byte for byte and the kustomize render",
    function () {
      const repo = newRepo();
      const overlayDir = path.join(repo, "gitops/apps/podinfo/overlays/prod");
      const original = fs.readFileSync(path.join(overlayDir, "kustomization.yaml"));
      const { kubectl } = ensureTools();
      const render = () =>
        execFileSync(kubectl, ["kustomize", overlayDir], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        });
      const renderedBefore = render();
      const objectsBefore = kubectlKustomize(overlayDir);
      assert.ok(renderedBefore.includes(`image: ${PODINFO}:6.9.0`), renderedBefore);

      const r = promote({ app: "podinfo", from: "staging", to: "prod", repo });
      assert.ok(render().includes(`image: ${PODINFO}:6.9.1`), "promotion reaches the rendered Deployment");
      assert.notStrictEqual(render(), renderedBefore);

      git(repo, "revert", "--no-edit", r.sha as string);
      assert.strictEqual(
        git(repo, "show", "--numstat", "--format=", "HEAD").trim(),
        `1\t1\t${overlayPath("prod")}`,
      );
      assert.ok(
        fs.readFileSync(path.join(overlayDir, "kustomization.yaml")).equals(original),
        "byte for byte",
      );
      assert.strictEqual(render(), renderedBefore, "rendered manifests identical after revert");
      assert.deepStrictEqual(kubectlKustomize(overlayDir), objectsBefore);
      // And the revert leaves the tree exactly as it was before promoting.
      assert.strictEqual(git(repo, "diff", "--stat", "main", "HEAD"), "");
    },
  );

  it("on the real gitops/ template: promotion changes only the image, revert restores every engine's render", () => {
    // A copy of the project's gitops/ folder, so the analyses (thresholds in deploy/<engine>/<env>, not in the
    // overlay) are rendered as they ship: a promotion must neither carry dev's thresholds to prod nor lose them.
    const files: Record<string, string> = {};
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else files[path.relative(PROJECT_ROOT, p)] = fs.readFileSync(p, "utf8");
      }
    };
    walk(path.join(PROJECT_ROOT, "gitops"));
    const repo = newRepo(files);
    const { kubectl } = ensureTools();
    const dirs = ["argocd", "flux"].map((engine) =>
      path.join(repo, `gitops/apps/podinfo/deploy/${engine}/prod`),
    );
    const renderAll = () =>
      dirs.map((d) =>
        execFileSync(kubectl, ["kustomize", d], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }),
      );
    const before = renderAll();
    const tagOf = (env: string) =>
      readImageTags(fs.readFileSync(path.join(repo, overlayPath(env)), "utf8")).find(
        (t) => t.name === PODINFO,
      )?.newTag;
    const [devTag, prodTag] = [tagOf("dev"), tagOf("prod")];
    assert.ok(devTag && prodTag && devTag !== prodTag, "dev is ahead of prod in the template");

    const r = promote({ app: "podinfo", from: "dev", to: "prod", repo });
    const after = renderAll();
    after.forEach((text, i) => {
      assert.strictEqual(
        text,
        before[i].replace(`image: ${PODINFO}:${prodTag}`, `image: ${PODINFO}:${devTag}`),
        `${dirs[i]}: only the image line moves; the analysis and its prod thresholds stay`,
      );
      assert.notStrictEqual(text, before[i]);
    });

    git(repo, "revert", "--no-edit", r.sha as string);
    assert.deepStrictEqual(renderAll(), before, "byte for byte after git revert, on both engines");
    assert.strictEqual(git(repo, "diff", "--stat", "main", "HEAD"), "");
  });

  describe("CLI (child process)", () => {
    const cli = (cwd: string, args: string[]) =>
      spawnSync(
        process.execPath,
        [require.resolve("ts-node/dist/bin.js"), "--transpile-only", SCRIPT, ...args],
        {
          cwd,
          encoding: "utf8",
          env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" },
        },
      );

    it("exit codes: 0 on success (repo found from cwd), 1 on refusal, 2 on bad usage", () => {
      const repo = newRepo();
      const sub = path.join(repo, "gitops/apps");

      const dry = cli(sub, ["--app", "podinfo", "--from", "staging", "--to", "prod", "--dry-run"]);
      assert.strictEqual(dry.status, 0, dry.stderr);
      assert.match(dry.stdout, /\n- {4}newTag: "6\.9\.0"\n\+ {4}newTag: "6\.9\.1"\n/);
      assert.match(dry.stdout, /dry run: would create branch promote\/podinfo-prod-6\.9\.1/);
      assert.strictEqual(git(repo, "rev-parse", "--abbrev-ref", "HEAD").trim(), "main");

      const ok = cli(sub, ["--app", "podinfo", "--from", "staging", "--to", "prod"]);
      assert.strictEqual(ok.status, 0, ok.stderr);
      const sha = git(repo, "rev-parse", "HEAD").trim();
      assert.match(ok.stdout, /branch: promote\/podinfo-prod-6\.9\.1\n/);
      assert.ok(ok.stdout.includes(`commit: ${sha}\n`));
      assert.match(ok.stdout, /git push -u origin promote\/podinfo-prod-6\.9\.1/);
      assert.ok(ok.stdout.includes(`git revert ${sha}`));

      const again = cli(repo, ["--app", "podinfo", "--from", "staging", "--to", "prod"]);
      assert.strictEqual(again.status, 1);
      assert.match(again.stderr, /^promote: refused: .*nothing to promote\n$/);

      const unknown = cli(os.tmpdir(), ["--repo", repo, "--app", "nope", "--from", "dev", "--to", "prod"]);
      assert.strictEqual(unknown.status, 1);
      assert.match(unknown.stderr, /unknown app "nope"; known apps: other, podinfo/);

      const missing = cli(repo, ["--app", "podinfo"]);
      assert.strictEqual(missing.status, 2);
      assert.match(missing.stderr, /^promote: missing --from, --to; usage: /);

      const bogus = cli(repo, ["--app", "podinfo", "--from", "dev", "--to", "prod", "--force"]);
      assert.strictEqual(bogus.status, 2);
      assert.match(bogus.stderr, /Unknown option '--force'/);
    });

    it("main() can be called in-process with captured output", () => {
      const repo = newRepo();
      let out = "";
      let err = "";
      const sink = (f: (s: string) => void) => ({ write: (s: string) => (f(s), true) });
      const code = main(
        ["--repo", repo, "--app", "podinfo", "--from", "dev", "--to", "dev"],
        sink((s) => (out += s)),
        sink((s) => (err += s)),
      );
      assert.strictEqual(code, 1);
      assert.strictEqual(out, "");
      assert.match(err, /^promote: refused: --from and --to are both "dev"/);
    });
  });
});

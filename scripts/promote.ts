/**
 * promote: copy an app's image tag(s) from one environment overlay to another, on a new branch, as one commit.
 *
 *   npm run promote -- --app podinfo --from staging --to prod [--dry-run] [--repo <path>] [--gitops-dir gitops]
 *
 * Contract: the image tag of app A in environment E lives in exactly one place, the kustomize `images:` list of
 * `<gitops-dir>/apps/<A>/overlays/<E>/kustomization.yaml`. Promotion rewrites only the `newTag` values of the
 * target overlay (matched by image `name`), as a textual edit that keeps every other byte - comments, ordering,
 * quoting, Flux image-automation setter comments - as it was. Rolling back is `git revert <promotion-sha>`.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { isMap, isScalar, isSeq, parse as parseYaml, parseDocument, Scalar } from "yaml";

export interface ImageTag {
  /** The kustomize `images[].name` (the image as written in the base manifests). */
  name: string;
  /** The `newTag` value as written (plain scalars keep their source text, so `1.0` stays `1.0`). */
  newTag: string;
}

export interface ImageChange {
  name: string;
  from: string;
  to: string;
}

export interface PromoteOptions {
  app: string;
  from: string;
  to: string;
  /** Print-only: compute the change and the diff, touch nothing. */
  dryRun?: boolean;
  /** Repository root; default: `git rev-parse --show-toplevel` of `cwd`. */
  repo?: string;
  /** GitOps folder, relative to the repository root. Default `gitops`. */
  gitopsDir?: string;
  /** Where to discover the repository when `repo` is not given. Default `process.cwd()`. */
  cwd?: string;
}

export interface PromoteResult {
  app: string;
  from: string;
  to: string;
  dryRun: boolean;
  /** Repository root (absolute). */
  repo: string;
  /** The changed file, relative to the repository root, with forward slashes. */
  file: string;
  /** Only the images whose tag actually changes. */
  changes: ImageChange[];
  /** Unified diff of the change (`--- a/<file>` / `+++ b/<file>`). */
  diff: string;
  branch: string;
  /** Branch (or short sha when detached) that was checked out before promoting: the PR base. */
  baseBranch: string;
  /** Commit sha of the promotion; undefined on dry-run. */
  sha?: string;
  /** Full commit message (subject + body). */
  commitMessage: string;
}

/** A refusal: one line naming the problem and what is allowed. */
export class PromoteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PromoteError";
  }
}

const ENV_ORDER = ["dev", "staging", "prod"];
const KUSTOMIZATION = "kustomization.yaml";

// ---------------------------------------------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------------------------------------------

interface LocatedTag extends ImageTag {
  /** [start, end) offsets of the `newTag` scalar (quotes included) in the source text. */
  range: [number, number];
  style: Scalar.Type | undefined;
}

function locateImageTags(text: string): LocatedTag[] {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new PromoteError(`not valid YAML: ${doc.errors[0].message.split("\n")[0]}`);
  }
  const images = doc.get("images", true);
  if (images === undefined || images === null) return [];
  if (!isSeq(images)) throw new PromoteError("`images:` is not a list");
  const found: LocatedTag[] = [];
  for (const item of images.items) {
    if (!isMap(item)) throw new PromoteError("an `images:` entry is not a mapping");
    const nameNode = item.get("name", true);
    if (!isScalar(nameNode) || typeof nameNode.value !== "string") {
      throw new PromoteError("an `images:` entry has no string `name`");
    }
    const tagNode = item.get("newTag", true);
    if (tagNode === undefined) {
      throw new PromoteError(`image ${nameNode.value} has no \`newTag\` (only newTag is promoted)`);
    }
    if (!isScalar(tagNode) || !tagNode.range) {
      throw new PromoteError(`image ${nameNode.value}: \`newTag\` is not a scalar`);
    }
    if (tagNode.type === "BLOCK_LITERAL" || tagNode.type === "BLOCK_FOLDED") {
      throw new PromoteError(`image ${nameNode.value}: block-scalar \`newTag\` is not supported`);
    }
    const source = (tagNode as Scalar & { source?: string }).source;
    const newTag = tagNode.type === "PLAIN" && source !== undefined ? source : String(tagNode.value);
    found.push({
      name: nameNode.value,
      newTag,
      range: [tagNode.range[0], tagNode.range[1]],
      style: tagNode.type,
    });
  }
  const seen = new Set<string>();
  for (const t of found) {
    if (seen.has(t.name)) throw new PromoteError(`image ${t.name} is listed twice under \`images:\``);
    seen.add(t.name);
  }
  return found;
}

/** The `images:` entries (name and newTag) of a kustomization, in file order. */
export function readImageTags(text: string): ImageTag[] {
  return locateImageTags(text).map(({ name, newTag }) => ({ name, newTag }));
}

const SAFE_PLAIN = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;

/** Render a tag in the quoting style the original scalar used (plain only when it stays a plain string). */
export function renderTag(tag: string, style: Scalar.Type | undefined): string {
  if (style === "QUOTE_SINGLE") return `'${tag.replace(/'/g, "''")}'`;
  if (style === "PLAIN" && SAFE_PLAIN.test(tag) && parseYaml(tag) === tag) return tag;
  return JSON.stringify(tag); // a JSON string is a valid YAML double-quoted scalar
}

/**
 * Replace the `newTag` of the named images, and nothing else: every byte outside the tag scalars (comments,
 * including a Flux `{"$imagepolicy": ...}` setter on the same line, ordering, indentation) is kept.
 * Throws when a name is not in the file.
 */
export function setImageTags(text: string, tags: Record<string, string> | Map<string, string>): string {
  const wanted = tags instanceof Map ? tags : new Map(Object.entries(tags));
  const located = locateImageTags(text);
  for (const name of wanted.keys()) {
    if (!located.some((t) => t.name === name)) throw new PromoteError(`image ${name} is not in \`images:\``);
  }
  let out = text;
  // Right to left, so earlier offsets stay valid.
  for (const t of [...located].sort((a, b) => b.range[0] - a.range[0])) {
    const next = wanted.get(t.name);
    if (next === undefined || next === t.newTag) continue;
    out = out.slice(0, t.range[0]) + renderTag(next, t.style) + out.slice(t.range[1]);
  }
  return out;
}

/** A unified diff (3 lines of context) between two texts. Line-count-preserving edits only need this. */
export function unifiedDiff(oldText: string, newText: string, file: string, context = 3): string {
  if (oldText === newText) return "";
  const a = splitLines(oldText);
  const b = splitLines(newText);
  // Trim common prefix/suffix; the middle is shown as one removed block and one added block.
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf])
    suf++;
  // Same-length edits: split into per-line hunks so unrelated lines far apart do not get merged.
  type Block = { aStart: number; aEnd: number; bStart: number; bEnd: number };
  const blocks: Block[] = [];
  if (a.length === b.length) {
    for (let i = pre; i < a.length - suf; i++) {
      if (a[i] === b[i]) continue;
      const last = blocks[blocks.length - 1];
      if (last && last.aEnd === i) {
        last.aEnd = i + 1;
        last.bEnd = i + 1;
      } else blocks.push({ aStart: i, aEnd: i + 1, bStart: i, bEnd: i + 1 });
    }
  } else {
    blocks.push({ aStart: pre, aEnd: a.length - suf, bStart: pre, bEnd: b.length - suf });
  }
  // Group blocks into hunks with context.
  const hunks: Block[][] = [];
  for (const blk of blocks) {
    const cur = hunks[hunks.length - 1];
    if (cur && blk.aStart - cur[cur.length - 1].aEnd <= 2 * context) cur.push(blk);
    else hunks.push([blk]);
  }
  const out = [`--- a/${file}`, `+++ b/${file}`];
  for (const h of hunks) {
    const first = h[0];
    const last = h[h.length - 1];
    const aFrom = Math.max(0, first.aStart - context);
    const aTo = Math.min(a.length, last.aEnd + context);
    const bFrom = first.bStart - (first.aStart - aFrom);
    const bTo = last.bEnd + (aTo - last.aEnd);
    out.push(`@@ -${range(aFrom, aTo - aFrom)} +${range(bFrom, bTo - bFrom)} @@`);
    let ai = aFrom;
    for (const blk of h) {
      for (; ai < blk.aStart; ai++) out.push(...line(" ", a, ai));
      for (let i = blk.aStart; i < blk.aEnd; i++) out.push(...line("-", a, i));
      for (let i = blk.bStart; i < blk.bEnd; i++) out.push(...line("+", b, i));
      ai = blk.aEnd;
    }
    for (; ai < aTo; ai++) out.push(...line(" ", a, ai));
  }
  return out.join("\n") + "\n";

  function range(start: number, len: number): string {
    return len === 1 ? `${start + 1}` : `${len === 0 ? start : start + 1},${len}`;
  }
}

interface Lines extends Array<string> {
  noFinalNewline?: boolean;
}

function splitLines(text: string): Lines {
  const parts: Lines = text.split("\n");
  if (parts[parts.length - 1] === "") parts.pop();
  else parts.noFinalNewline = true;
  return parts;
}

function line(prefix: string, lines: Lines, i: number): string[] {
  const l = [prefix + lines[i]];
  if (lines.noFinalNewline && i === lines.length - 1) l.push("\\ No newline at end of file");
  return l;
}

/** Known environments first in pipeline order (dev, staging, prod), then any others alphabetically. */
export function sortEnvs(envs: string[]): string[] {
  const rank = (e: string) => (ENV_ORDER.includes(e) ? ENV_ORDER.indexOf(e) : ENV_ORDER.length);
  return [...envs].sort((x, y) => rank(x) - rank(y) || x.localeCompare(y));
}

export function branchName(app: string, to: string, tag: string): string {
  return `promote/${app}-${to}-${tag}`;
}

export function commitMessage(app: string, from: string, to: string, changes: ImageChange[]): string {
  const [first] = changes;
  const more =
    changes.length > 1 ? ` (+${changes.length - 1} more image${changes.length > 2 ? "s" : ""})` : "";
  const subject = `promote(${app}): ${to} ${first.from} -> ${first.to} (from ${from})${more}`;
  const body = [
    `Promote ${app} from ${from} to ${to}:`,
    "",
    ...changes.map((c) => `  ${c.name}: ${c.from} -> ${c.to}`),
    "",
    "Generated by scripts/promote.ts; this commit changes only the newTag value(s) of the",
    `${to} overlay. To roll back, revert this commit (Git stays the source of truth):`,
    "",
    "  git revert <sha-of-this-commit>",
    "",
    "and merge the revert through the same PR flow; ArgoCD/Flux then sync the previous tag.",
  ];
  return [subject, "", ...body].join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------------------------
// Git and the filesystem
// ---------------------------------------------------------------------------------------------------------------

function git(cwd: string, args: string[], input?: string): string {
  try {
    return execFileSync("git", args, {
      cwd,
      input,
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const detail = (e.stderr || e.message).trim().split("\n")[0];
    throw new PromoteError(`git ${args[0]} failed: ${detail}`);
  }
}

function gitOk(cwd: string, args: string[]): boolean {
  try {
    execFileSync("git", args, { cwd, stdio: ["ignore", "ignore", "ignore"] });
    return true;
  } catch {
    return false;
  }
}

function listDirs(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** Apps: folders under `<gitops>/apps` with an `overlays/` folder. */
export function listApps(gitopsRoot: string): string[] {
  const appsDir = path.join(gitopsRoot, "apps");
  return listDirs(appsDir).filter((a) => fs.existsSync(path.join(appsDir, a, "overlays")));
}

/** Environments of an app: its overlay folders that hold a kustomization.yaml. */
export function listEnvs(gitopsRoot: string, app: string): string[] {
  const overlays = path.join(gitopsRoot, "apps", app, "overlays");
  return sortEnvs(listDirs(overlays).filter((e) => fs.existsSync(path.join(overlays, e, KUSTOMIZATION))));
}

function resolveRepo(opts: PromoteOptions): string {
  const start = path.resolve(opts.cwd ?? process.cwd(), opts.repo ?? ".");
  if (!fs.existsSync(start)) throw new PromoteError(`repository path ${start} does not exist`);
  try {
    return execFileSync("git", ["rev-parse", "--show-toplevel"], {
      cwd: start,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    throw new PromoteError(`${start} is not inside a git work tree; run from the repo or pass --repo <path>`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// promote()
// ---------------------------------------------------------------------------------------------------------------

/**
 * Promote `app` from `from` to `to`. Throws PromoteError (nothing changed) on any refusal. The checks run in dry-run
 * mode too, so a successful dry run means the real run will succeed.
 */
export function promote(opts: PromoteOptions): PromoteResult {
  const missing = (["app", "from", "to"] as const).filter((k) => !opts[k]);
  if (missing.length > 0) {
    throw new PromoteError(`missing ${missing.map((k) => `--${k}`).join(", ")}; usage: ${USAGE}`);
  }
  const { app, from, to } = opts;
  const repo = resolveRepo(opts);
  const gitopsDir = (opts.gitopsDir ?? "gitops").replace(/\\/g, "/").replace(/\/+$/, "");
  const gitopsRoot = path.join(repo, gitopsDir);

  const apps = listApps(gitopsRoot);
  if (apps.length === 0) {
    throw new PromoteError(`no apps found under ${gitopsDir}/apps/*/overlays in ${repo}; check --gitops-dir`);
  }
  if (!apps.includes(app)) throw new PromoteError(`unknown app "${app}"; known apps: ${apps.join(", ")}`);
  const envs = listEnvs(gitopsRoot, app);
  for (const [flag, env] of [
    ["--from", from],
    ["--to", to],
  ] as const) {
    if (!envs.includes(env)) {
      throw new PromoteError(
        `unknown environment "${env}" (${flag}) for app ${app}; known: ${envs.join(", ")}`,
      );
    }
  }
  if (from === to) {
    throw new PromoteError(
      `--from and --to are both "${from}"; pick two different environments of ${envs.join(", ")}`,
    );
  }

  const status = git(repo, ["status", "--porcelain"]);
  if (status.trim() !== "") {
    const n = status.trim().split("\n").length;
    throw new PromoteError(
      `working tree is dirty (${n} changed or untracked path${n > 1 ? "s" : ""}); commit or stash first - promote only runs on a clean tree`,
    );
  }

  const rel = (env: string) => `${gitopsDir}/apps/${app}/overlays/${env}/${KUSTOMIZATION}`;
  const file = rel(to);
  const read = (env: string) => {
    const f = rel(env);
    try {
      return { f, text: fs.readFileSync(path.join(repo, f), "utf8") };
    } catch (e) {
      throw new PromoteError(`cannot read ${f}: ${(e as Error).message}`);
    }
  };
  const withFile = <T>(f: string, fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof PromoteError) throw new PromoteError(`${f}: ${e.message}`);
      throw e;
    }
  };
  const src = read(from);
  const dst = read(to);
  const srcTags = withFile(src.f, () => readImageTags(src.text));
  const dstTags = withFile(dst.f, () => readImageTags(dst.text));
  if (srcTags.length === 0)
    throw new PromoteError(`${src.f} has no \`images:\` entries with a newTag to promote`);
  if (dstTags.length === 0) throw new PromoteError(`${dst.f} has no \`images:\` entries to update`);
  const srcNames = srcTags.map((t) => t.name);
  const dstNames = dstTags.map((t) => t.name);
  const onlySrc = srcNames.filter((n) => !dstNames.includes(n));
  const onlyDst = dstNames.filter((n) => !srcNames.includes(n));
  if (onlySrc.length > 0 || onlyDst.length > 0) {
    throw new PromoteError(
      `the ${from} and ${to} overlays list different images (only in ${from}: ${onlySrc.join(", ") || "-"}; only in ${to}: ${onlyDst.join(", ") || "-"}); align the images: lists by hand first`,
    );
  }
  const srcByName = new Map(srcTags.map((t) => [t.name, t.newTag]));
  const changes: ImageChange[] = dstTags
    .filter((t) => srcByName.get(t.name) !== t.newTag)
    .map((t) => ({ name: t.name, from: t.newTag, to: srcByName.get(t.name) as string }));
  if (changes.length === 0) {
    const at = [...new Set(dstTags.map((t) => t.newTag))].join(", ");
    throw new PromoteError(`${app} in ${to} is already at ${at} (same as ${from}), nothing to promote`);
  }

  const newText = withFile(dst.f, () => setImageTags(dst.text, new Map(changes.map((c) => [c.name, c.to]))));
  const diff = unifiedDiff(dst.text, newText, file);
  const branch = branchName(app, to, changes[0].to);
  if (!gitOk(repo, ["check-ref-format", "--branch", branch])) {
    throw new PromoteError(`"${branch}" is not a valid branch name; tags must be valid in git ref names`);
  }
  if (gitOk(repo, ["show-ref", "--verify", "--quiet", `refs/heads/${branch}`])) {
    throw new PromoteError(
      `branch ${branch} already exists; finish or delete it first (git branch -D ${branch}) - one promotion branch per app/env/tag`,
    );
  }
  const remoteRef = git(repo, [
    "for-each-ref",
    "--format=%(refname:short)",
    `refs/remotes/*/${branch}`,
  ]).trim();
  if (remoteRef !== "") {
    throw new PromoteError(
      `branch ${branch} already exists on the remote (${remoteRef.split("\n")[0]}); finish that PR first`,
    );
  }
  const headRef = git(repo, ["rev-parse", "--abbrev-ref", "HEAD"]).trim();
  const baseBranch = headRef === "HEAD" ? git(repo, ["rev-parse", "--short", "HEAD"]).trim() : headRef;
  const message = commitMessage(app, from, to, changes);

  const result: PromoteResult = {
    app,
    from,
    to,
    dryRun: !!opts.dryRun,
    repo,
    file,
    changes,
    diff,
    branch,
    baseBranch,
    commitMessage: message,
  };
  if (opts.dryRun) return result;

  const abs = path.join(repo, file);
  git(repo, ["checkout", "--quiet", "-b", branch]);
  try {
    fs.writeFileSync(abs, newText);
    git(repo, ["add", "--", file]);
    git(repo, ["commit", "--quiet", "-F", "-", "--", file], message);
  } catch (err) {
    // Put everything back the way it was: original content, original branch, no promotion branch.
    fs.writeFileSync(abs, dst.text);
    gitOk(repo, ["reset", "--quiet", "--", file]);
    gitOk(repo, ["checkout", "--quiet", headRef === "HEAD" ? baseBranch : headRef]);
    gitOk(repo, ["branch", "-D", branch]);
    throw err;
  }
  result.sha = git(repo, ["rev-parse", "HEAD"]).trim();
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------------------------

export const USAGE =
  "promote --app <name> --from <env> --to <env> [--dry-run] [--repo <path>] [--gitops-dir gitops]";

export interface Writable {
  write(text: string): unknown;
}

/** Runs the CLI; returns the exit code (0 ok, 1 refused, 2 bad usage). */
export function main(argv: string[], out: Writable = process.stdout, err: Writable = process.stderr): number {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        app: { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        "dry-run": { type: "boolean" },
        repo: { type: "string" },
        "gitops-dir": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    err.write(`promote: ${(e as Error).message.split("\n")[0]}; usage: ${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    out.write(`usage: ${USAGE}\n`);
    return 0;
  }
  const missing = ["app", "from", "to"].filter((k) => !values[k]);
  if (missing.length > 0) {
    err.write(`promote: missing ${missing.map((k) => `--${k}`).join(", ")}; usage: ${USAGE}\n`);
    return 2;
  }
  try {
    const r = promote({
      app: values.app as string,
      from: values.from as string,
      to: values.to as string,
      dryRun: values["dry-run"] as boolean | undefined,
      repo: values.repo as string | undefined,
      gitopsDir: values["gitops-dir"] as string | undefined,
    });
    const summary = r.changes.map((c) => `${c.name} ${c.from} -> ${c.to}`).join("; ");
    if (r.dryRun) {
      out.write(r.diff);
      out.write(
        `dry run: would create branch ${r.branch} with one commit (${summary}); nothing was changed\n`,
      );
      return 0;
    }
    out.write(r.diff);
    out.write(
      [
        `promoted ${r.app} ${r.from} -> ${r.to}: ${summary}`,
        `branch: ${r.branch}`,
        `commit: ${r.sha}`,
        `next:   git push -u origin ${r.branch}   # then open a PR into ${r.baseBranch}, e.g.`,
        `        gh pr create --base ${r.baseBranch} --head ${r.branch} --fill`,
        `undo:   git revert ${r.sha}   # after merge: revert on ${r.baseBranch} via a PR`,
        "",
      ].join("\n"),
    );
    return 0;
  } catch (e) {
    if (e instanceof PromoteError) {
      err.write(`promote: refused: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}

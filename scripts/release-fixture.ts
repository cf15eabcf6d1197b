// Records what a released version of this program builds, for test/upgrade.test.ts and `npm run plan -- --upgrade-from`: its shipped stack files
// and, per stack, the graph its own code builds under the offline engine (scripts/lib/upgrade/graph.ts says
// what is kept). Run once per release, after tagging it:
//
//   npm run release-fixture -- v0.2.0        (writes releases/v0.2.0/)
//
// The release's tree comes from git (`git archive <tag>`), runs with this checkout's node_modules (a release's
// dependencies are a subset of later ones at the same major versions) and is deleted afterwards.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT } from "./engine";

import { RELEASES_DIR } from "./lib/upgrade/releases";

function git(args: string[]): Buffer {
  return execFileSync("git", args, { cwd: ROOT, maxBuffer: 1 << 30 });
}

function record(tag: string): string {
  const commit = git(["rev-parse", `${tag}^{commit}`])
    .toString()
    .trim();
  const stacks = git(["ls-tree", "--name-only", commit])
    .toString()
    .split("\n")
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
  const tree = fs.mkdtempSync(path.join(os.tmpdir(), `gitops-platform-${tag}-`));
  try {
    execFileSync("tar", ["-x", "-C", tree], { input: git(["archive", commit]) });
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(tree, "node_modules"));
    const graphs = execFileSync(
      process.execPath,
      [
        "-r",
        "ts-node/register/transpile-only",
        path.join(__dirname, "lib", "upgrade", "record-child.ts"),
        tree,
        ...stacks,
      ],
      { cwd: ROOT, maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "inherit"] },
    ).toString();
    const out = path.join(RELEASES_DIR, tag);
    // Only what this script generates is replaced: upgrade.json is written by hand from the CHANGELOG.
    for (const f of fs.existsSync(out) ? fs.readdirSync(out) : [])
      if (f === "graph.json" || /^Pulumi\..+\.yaml$/.test(f)) fs.rmSync(path.join(out, f));
    fs.mkdirSync(out, { recursive: true });
    for (const s of stacks)
      fs.copyFileSync(path.join(tree, `Pulumi.${s}.yaml`), path.join(out, `Pulumi.${s}.yaml`));
    const fixture = {
      release: tag,
      commit,
      recordedWith: `npm run release-fixture -- ${tag}`,
      stacks: JSON.parse(graphs),
    };
    fs.writeFileSync(path.join(out, "graph.json"), `${JSON.stringify(fixture, null, 1)}\n`);
    return `${path.relative(ROOT, out)}: ${stacks.join(", ")}`;
  } finally {
    fs.rmSync(tree, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const tags = process.argv.slice(2);
  if (tags.length === 0 || tags.some((t) => !/^v\d+\.\d+\.\d+$/.test(t))) {
    process.stderr.write("usage: npm run release-fixture -- vX.Y.Z [...]\n");
    process.exit(2);
  }
  for (const t of tags) process.stdout.write(`${record(t)}\n`);
}

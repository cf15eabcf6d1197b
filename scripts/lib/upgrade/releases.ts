// The recorded releases (releases/<tag>/, written by scripts/release-fixture.ts): what each shipped, what its
// program built, and what its "Upgrading" notes ask of its stack files.
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../../engine";
import type { ReleaseStack } from "./graph";

export const RELEASES_DIR = path.join(ROOT, "releases");

export interface Release {
  tag: string;
  commit: string;
  stacks: Record<string, ReleaseStack>;
  /** Config additions per stack that the release's "Upgrading" notes ask for. */
  steps: Record<string, Record<string, unknown>>;
  /** The release's own copy of a stack file. */
  stackFile(stack: string): string;
}

const SEMVER = /^v(\d+)\.(\d+)\.(\d+)$/;

export function releaseTags(): string[] {
  if (!fs.existsSync(RELEASES_DIR)) return [];
  const key = (t: string) => SEMVER.exec(t)!.slice(1).map(Number);
  return fs
    .readdirSync(RELEASES_DIR)
    .filter((t) => SEMVER.test(t))
    .sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
    });
}

export function loadRelease(tag: string): Release {
  const dir = path.join(RELEASES_DIR, tag);
  if (!SEMVER.test(tag) || !fs.existsSync(path.join(dir, "graph.json"))) {
    throw new Error(
      `release ${JSON.stringify(tag)} is not recorded (recorded: ${releaseTags().join(", ") || "none"})`,
    );
  }
  const graph = JSON.parse(fs.readFileSync(path.join(dir, "graph.json"), "utf8"));
  const upgradeFile = path.join(dir, "upgrade.json");
  const steps = fs.existsSync(upgradeFile) ? JSON.parse(fs.readFileSync(upgradeFile, "utf8")).stacks : {};
  return {
    tag,
    commit: graph.commit,
    stacks: graph.stacks,
    steps: steps ?? {},
    stackFile: (stack) => path.join(dir, `Pulumi.${stack}.yaml`),
  };
}

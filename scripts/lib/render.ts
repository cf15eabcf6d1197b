// Renders what the program hands to Helm with the real helm binary, so tests check the manifest the cluster
// would receive rather than the program's own data structures.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { BOOTSTRAP_CHART, BOOTSTRAP_CHART_DIR } from "../../core/helm";
import type { CapturedResource } from "../engine";
import { ensureTools, parseYamlDocs } from "./kustomize";
import { runCached, treeDigest } from "./run-cache";

/**
 * `helm template` of the local bootstrap chart with the values a captured Release was given; rendered once per
 * distinct release name, namespace, values and chart files in a test run (scripts/lib/run-cache.ts).
 */
export function renderBootstrap(release: CapturedResource): Record<string, unknown>[] {
  assert(release.inputs.chart === BOOTSTRAP_CHART, `${release.name} is not a platform-bootstrap release`);
  const { helm } = ensureTools();
  const name = String(release.inputs.name);
  const namespace = String(release.inputs.namespace);
  const values = stringify(release.inputs.values);
  const key = JSON.stringify([
    helm,
    name,
    namespace,
    BOOTSTRAP_CHART_DIR,
    treeDigest(BOOTSTRAP_CHART_DIR),
    values,
  ]);
  const out = runCached("helm-template", key, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bootstrap-"));
    try {
      const file = path.join(dir, "values.yaml");
      fs.writeFileSync(file, values);
      return execFileSync(helm, ["template", name, BOOTSTRAP_CHART_DIR, "-f", file, "-n", namespace], {
        encoding: "utf8",
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  return parseYamlDocs(out, release.name);
}

function assert(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

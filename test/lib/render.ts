// Renders what the program hands to Helm with the real helm binary, so tests check the manifest the cluster
// would receive rather than the program's own data structures.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { BOOTSTRAP_CHART, BOOTSTRAP_CHART_DIR } from "../../components/helm";
import type { CapturedResource } from "./harness";
import { ensureTools, parseYamlDocs } from "./kustomize";

/** `helm template` of the local bootstrap chart with the values a captured Release was given. */
export function renderBootstrap(release: CapturedResource): Record<string, unknown>[] {
  assert(release.inputs.chart === BOOTSTRAP_CHART, `${release.name} is not a platform-bootstrap release`);
  const { helm } = ensureTools();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bootstrap-"));
  try {
    const values = path.join(dir, "values.yaml");
    fs.writeFileSync(values, stringify(release.inputs.values));
    const out = execFileSync(
      helm,
      [
        "template",
        String(release.inputs.name),
        BOOTSTRAP_CHART_DIR,
        "-f",
        values,
        "-n",
        String(release.inputs.namespace),
      ],
      { encoding: "utf8" },
    );
    return parseYamlDocs(out, release.name);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function assert(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

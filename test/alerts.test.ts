// Alerts (issue 14): destinations from config, Argo CD notifications through the pinned chart's values and the
// AppProject, Flux Providers and Alerts through the bootstrap chart, HelmRelease drift detection in gitops/.
// Trigger conditions are evaluated (test/lib/expr.ts) and templates rendered by Go (test/lib/gotemplate.ts) on
// sample Application states, so a wrong expression or template fails here.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { resolveConfig } from "../config";
import { notificationsValues, SILENCE_ANNOTATION, TRIGGERS } from "../engines/argo/notifications";
import { DRIFT_MESSAGE_RE, FAILURE_SOURCES } from "../engines/flux/alerts";
import { CHARTS } from "../core/pins";
import { chartValues, unknownValueKeys } from "./lib/chart-values";
import { describeNeeds } from "./lib/prerequisites";
import { configProblems, stackRaw } from "./lib/config";
import { assertValidCustomResource } from "./lib/crd";
import { evaluate, triggered } from "./lib/expr";
import { renderGoTemplates } from "./lib/gotemplate";
import { buildStack, type Stack } from "./lib/harness";
import { kubectlKustomize, REPO_ROOT } from "../scripts/lib/kustomize";
import { renderBootstrap } from "../scripts/lib/render";

type Obj = Record<string, any>;

const DESTINATIONS = [
  { name: "platform-oncall", type: "slack", channel: "#platform-alerts" },
  { name: "hooks", type: "webhook" },
  { name: "teams", type: "msteams" },
];
const withAlerts = (engine: "argocd" | "flux", destinations: unknown[] = DESTINATIONS) => ({
  "gitops-platform:gitops": { ...(stackRaw("dev").gitops as Obj), engine },
  "gitops-platform:alerts": { destinations },
});

/** The objects of a bootstrap release (`argocd-root`, `flux-alerts`...), rendered by helm, validated strictly. */
const bootstrapDocs = (s: Stack, release: string): Obj[] => {
  const docs = renderBootstrap(s.one("kubernetes:helm.sh/v3:Release", release)) as Obj[];
  for (const d of docs) assertValidCustomResource(d);
  return docs;
};
const argoValues = (s: Stack): Obj =>
  s.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.chart === CHARTS.argoCd.chart)?.inputs
    .values as Obj;

/** Sample Application states, as the notifications controller sees them (`app` is the whole object). */
function application(status: Obj, extra: Obj = {}): Obj {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: { name: "podinfo", namespace: "argocd", ...(extra.metadata ?? {}) },
    spec: {
      project: "platform",
      destination: {
        server: "https://kubernetes.default.svc",
        namespace: "podinfo",
        ...(extra.destination ?? {}),
      },
    },
    status,
  };
}
const REVISION = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const synced = { status: "Synced", revision: REVISION };
const STATES: Record<string, Obj> = {
  healthy: application({ sync: synced, health: { status: "Healthy" } }),
  progressing: application({ sync: synced, health: { status: "Progressing" } }),
  outOfSync: application({
    sync: { status: "OutOfSync", revision: REVISION },
    health: { status: "Healthy" },
  }),
  degraded: application({
    sync: synced,
    health: { status: "Degraded", message: "Deployment podinfo exceeded its progress deadline" },
  }),
  syncFailed: application({
    sync: synced,
    health: { status: "Healthy" },
    operationState: { phase: "Failed", message: "one or more objects failed to apply" },
  }),
  syncError: application({
    sync: synced,
    health: { status: "Healthy" },
    operationState: { phase: "Error", message: "ComparisonError: rpc error" },
  }),
  syncRunning: application({
    sync: synced,
    health: { status: "Healthy" },
    operationState: { phase: "Running" },
  }),
  syncSucceeded: application({
    sync: synced,
    health: { status: "Healthy" },
    operationState: { phase: "Succeeded", message: "successfully synced" },
  }),
};
const silenced = (app: Obj): Obj => ({
  ...app,
  metadata: { ...app.metadata, annotations: { [SILENCE_ANNOTATION]: "true", other: "x" } },
});

describe("alerts: config", () => {
  const prodWithout = (alerts?: unknown) => {
    const raw = stackRaw("prod");
    delete raw.alerts;
    return alerts === undefined ? raw : { ...raw, alerts };
  };
  it("refuses prod without a destination, naming the key", () => {
    const expected =
      "gitops-platform:alerts.destinations = []: must list at least one destination in prod: failed syncs, degraded apps and drift must reach a person";
    for (const raw of [prodWithout(), prodWithout({ destinations: [] })]) {
      const lines = configProblems(raw).split("\n").slice(1);
      assert.deepEqual(lines, [`  - ${expected}`]);
    }
  });
  it("accepts dev without a destination (alerts are optional outside prod)", () => {
    const dev = resolveConfig(stackRaw("dev"), "eu-west-1");
    assert.deepEqual(dev.alerts.destinations, []);
  });
  it("the prod stack file has a destination; the channel loses its '#'", () => {
    const prod = resolveConfig(stackRaw("prod"), "eu-west-1");
    assert.deepEqual(prod.alerts.destinations, [
      { name: "platform-oncall", type: "slack", channel: "platform-alerts" },
    ]);
  });
  const problems = (destinations: unknown) =>
    configProblems({ ...stackRaw("dev"), alerts: { destinations } });
  it("refuses bad names, repeated names, unknown types and misplaced or malformed channels", () => {
    const text = problems([
      { name: "Platform_Oncall", type: "slack", channel: "#ok" },
      { name: "hooks", type: "webhook" },
      { name: "hooks", type: "webhook" },
      { name: "pager", type: "pagerduty" },
      { name: "hook2", type: "webhook", channel: "#x" },
      { name: "slack2", type: "slack" },
      { name: "slack3", type: "slack", channel: "#Platform Alerts" },
      { name: "slack4", type: "slack", channel: "#a", token: "xoxb-123" },
    ]);
    assert.match(text, /alerts\.destinations\[0\]\.name = "Platform_Oncall": must be a Kubernetes name/);
    assert.match(text, /alerts\.destinations = "hooks": must not repeat a name/);
    assert.match(
      text,
      /alerts\.destinations\[3\]\.type = "pagerduty": must be one of slack, webhook, msteams/,
    );
    assert.match(text, /alerts\.destinations\[4\]\.channel = "#?x": is for slack only/);
    assert.match(text, /alerts\.destinations\[5\]\.channel = \(unset\): is required for a slack destination/);
    assert.match(text, /alerts\.destinations\[6\]\.channel = "#Platform Alerts": must be a Slack channel/);
    assert.match(text, /alerts\.destinations\[7\]\.token = "\(redacted\)": is not a known key/);
    assert.doesNotMatch(text, /xoxb-123/, "a misplaced credential is never echoed");
  });
  it("refuses alerts when External Secrets, which brings the credentials, is off", () =>
    assert.match(
      configProblems({
        ...stackRaw("dev"),
        alerts: { destinations: [DESTINATIONS[1]] },
        externalSecrets: { enabled: false },
      }),
      /externalSecrets.enabled = false: must be true with alerts.destinations/,
    ));
});

describe("alerts: the trigger conditions, evaluated on sample Application states", () => {
  const fired = (trigger: string) =>
    Object.entries(STATES)
      .filter(([, app]) => triggered(TRIGGERS.find((t) => t.name === trigger)!.when, { app }))
      .map(([name]) => name);

  it("on-sync-failed fires on a Failed or Error operation only", () =>
    assert.deepEqual(fired("on-sync-failed"), ["syncFailed", "syncError"]));
  it("on-health-degraded fires on Degraded health only", () =>
    assert.deepEqual(fired("on-health-degraded"), ["degraded"]));
  it("on-out-of-sync fires on OutOfSync only", () =>
    assert.deepEqual(fired("on-out-of-sync"), ["outOfSync"]));
  it("nothing fires on a healthy, synced app, nor on a silenced one", () => {
    for (const t of TRIGGERS) {
      assert.equal(triggered(t.when, { app: STATES.healthy }), false, t.name);
      for (const [name, app] of Object.entries(STATES))
        assert.equal(triggered(t.when, { app: silenced(app) }), false, `${t.name} on silenced ${name}`);
    }
  });
  it("the evaluator is expr-lang's: nil fetch is an error, ?. and missing keys give nil, unknown syntax throws", () => {
    const app = STATES.healthy;
    assert.throws(
      () => evaluate("app.status.operationState.phase", { app }),
      /cannot fetch phase from <nil>/,
    );
    assert.equal(evaluate("app.status.operationState?.phase", { app }), null);
    assert.equal(evaluate("app.metadata.annotations == nil", { app }), true);
    assert.equal(evaluate("app.status.sync.status in ['Synced', 'OutOfSync']", { app }), true);
    assert.equal(evaluate("false and app.nope.nope == 1", { app }), false, "and short-circuits");
    assert.throws(() => evaluate("len(app.status) > 0", { app }), SyntaxError);
    // A condition without the nil guard errors on apps that never synced, and the controller skips it.
    assert.equal(triggered("app.status.operationState.phase in ['Error', 'Failed']", { app }), false);
  });
  it("a wrong condition is caught: a misspelt phase or status changes what fires", () => {
    const wrong = "app.status.operationState != nil and app.status.operationState.phase in ['Error', 'Fail']";
    assert.equal(triggered(wrong, { app: STATES.syncFailed }), false);
    assert.equal(triggered("app.status.health.status == 'degraded'", { app: STATES.degraded }), false);
  });
});

describeNeeds(["tools", "upstream"], "alerts: Argo CD", () => {
  let dev: Stack;
  let prod: Stack;
  let plain: Stack;
  before(async () => {
    // One program run at a time (the engine is not re-entrant).
    dev = await buildStack("dev", withAlerts("argocd"));
    prod = await buildStack("prod");
    plain = await buildStack("dev");
  });

  it("sets only notifications keys the pinned argo-cd chart has; the chart creates no Secret", () => {
    const chart = chartValues(CHARTS.argoCd);
    for (const s of [dev, prod, plain]) {
      const n = argoValues(s).notifications;
      assert.deepEqual(unknownValueKeys({ notifications: n }, chart), []);
    }
    const n = argoValues(dev).notifications;
    assert.equal(n.enabled, true);
    assert.deepEqual(n.secret, { create: false }, "the ExternalSecret owns argocd-notifications-secret");
    assert.deepEqual(n.context, { environment: "dev", cluster: "platform-dev" });
    assert.equal(n.argocdUrl, undefined, "no gitops.argocd.url: no URL is made up");
  });

  it("without a destination (dev's stack file) the controller is off and nothing is subscribed", () => {
    assert.deepEqual(argoValues(plain).notifications, { enabled: false });
    const docs = bootstrapDocs(plain, "argocd-root");
    assert.equal(docs.filter((d) => d.kind === "ExternalSecret").length, 0);
    const project = docs.find((d) => d.kind === "AppProject")!;
    assert.deepEqual(Object.keys(project.metadata.annotations ?? {}), []);
  });

  it("each service reads its credential from a key the ExternalSecret writes from <prefix>/alerts/<name>", () => {
    const notifiers = argoValues(dev).notifications.notifiers as Record<string, string>;
    assert.deepEqual(Object.keys(notifiers).sort(), [
      "service.slack.platform-oncall",
      "service.teams-workflows.teams",
      "service.webhook.hooks",
    ]);
    const refs = Object.values(notifiers).flatMap((text) =>
      [...text.matchAll(/\$([\w-]+)/g)].map((m) => m[1]),
    );
    const es = bootstrapDocs(dev, "argocd-root").find((d) => d.kind === "ExternalSecret")!;
    assert.equal(es.metadata.name, "argocd-notifications-secret");
    assert.equal(es.spec.target.name, "argocd-notifications-secret");
    assert.deepEqual(es.spec.data.map((d: Obj) => d.secretKey).sort(), [...refs].sort());
    assert.deepEqual(
      es.spec.data.map((d: Obj) => [d.remoteRef.key, d.remoteRef.property]),
      [
        ["platform/dev/alerts/platform-oncall", "token"],
        ["platform/dev/alerts/hooks", "address"],
        ["platform/dev/alerts/teams", "address"],
      ],
    );
    const seeded = dev.ofType("aws:secretsmanager/secret:Secret").map((r) => r.inputs.name);
    for (const d of DESTINATIONS) assert.ok(seeded.includes(`platform/dev/alerts/${d.name}`), d.name);
    assert.deepEqual(parse(notifiers["service.slack.platform-oncall"]), { token: "$alert-platform-oncall" });
    assert.equal(parse(notifiers["service.webhook.hooks"]).url, "$alert-hooks");
    assert.deepEqual(parse(notifiers["service.teams-workflows.teams"]), {
      recipientUrls: { teams: "$alert-teams" },
    });
  });

  it("defines every trigger, each sending a template that exists (projects choose which they subscribe to)", () => {
    for (const s of [dev, prod]) {
      const n = argoValues(s).notifications;
      const triggers = Object.keys(n.triggers).map((k) => k.replace(/^trigger\./, ""));
      assert.deepEqual(triggers.sort(), ["on-health-degraded", "on-out-of-sync", "on-sync-failed"]);
      for (const [key, text] of Object.entries<string>(n.triggers)) {
        const conditions = parse(text) as Obj[];
        assert.equal(conditions.length, 1, key);
        assert.deepEqual(Object.keys(conditions[0]).sort(), ["send", "when"]);
        assert.equal(conditions[0].when, TRIGGERS.find((t) => `trigger.${t.name}` === key)!.when);
        for (const t of conditions[0].send) assert.ok(`template.${t}` in n.templates, `${key} sends ${t}`);
      }
    }
  });

  it("subscribes every destination on the AppProject, so every Application of the project is covered", () => {
    for (const [s, gated] of [
      [dev, false],
      [prod, true],
    ] as const) {
      const n = argoValues(s).notifications;
      const project = bootstrapDocs(s, "argocd-root").find((d) => d.kind === "AppProject")!;
      const annotations = project.metadata.annotations as Record<string, string>;
      const services = new Set(Object.keys(n.notifiers).map((k) => k.split(".").slice(2).join(".")));
      const triggers = new Set(Object.keys(n.triggers).map((k) => k.replace(/^trigger\./, "")));
      const keys = Object.keys(annotations);
      // The out-of-sync trigger only where drift is not healed (prod).
      assert.equal(keys.length, services.size * (gated ? 3 : 2));
      for (const key of keys) {
        const m = /^notifications\.argoproj\.io\/subscribe\.([\w-]+)\.([\w-]+)$/.exec(key);
        assert.ok(m, key);
        assert.ok(triggers.has(m[1]) && services.has(m[2]), key);
      }
      assert.equal(
        keys.some((k) => k.includes("on-out-of-sync")),
        gated,
      );
    }
    const annotations = bootstrapDocs(dev, "argocd-root").find((d) => d.kind === "AppProject")!.metadata
      .annotations;
    assert.equal(
      annotations["notifications.argoproj.io/subscribe.on-sync-failed.platform-oncall"],
      "platform-alerts",
    );
    assert.equal(annotations["notifications.argoproj.io/subscribe.on-sync-failed.hooks"], "");
    assert.equal(annotations["notifications.argoproj.io/subscribe.on-sync-failed.teams"], "teams");
  });

  describe("templates rendered by Go text/template on sample data", () => {
    // Read when a test runs, not when the suite is declared.
    const chartDomain = () => (chartValues(CHARTS.argoCd).global as Obj).domain;
    /** The variables the controller gives a template: the cm's context (chart default URL when unset) and app. */
    const vars = (n: Obj, app: Obj) => ({
      app,
      context: { argocdUrl: n.argocdUrl || `https://${chartDomain()}`, ...n.context },
    });
    /** Every Go template string of a notification template (message, webhook bodies, Teams fields). */
    const strings = (tpl: Obj, at = ""): Record<string, string> =>
      Object.fromEntries(
        Object.entries(tpl).flatMap(([k, v]) =>
          typeof v === "string" ? [[`${at}${k}`, v]] : Object.entries(strings(v as Obj, `${at}${k}.`)),
        ),
      );
    const render = (n: Obj, template: string, app: Obj) =>
      renderGoTemplates(strings(parse(n.templates[`template.${template}`])), vars(n, app));

    it("messages name the app, environment, cluster, revision, detail and where to look", () => {
      const n = argoValues(prod).notifications;
      const failed = render(n, "app-sync-failed", STATES.syncFailed);
      assert.equal(
        failed.message,
        [
          "[prod/platform-prod] podinfo failed to sync",
          "Destination: https://kubernetes.default.svc",
          `Revision: ${REVISION}`,
          "one or more objects failed to apply",
          "argocd app get argocd/podinfo (gitops.argocd.url is not set)",
        ].join("\n"),
      );
      assert.match(
        render(n, "app-health-degraded", STATES.degraded).message,
        /podinfo is Degraded\n[\s\S]*exceeded its progress deadline/,
      );
      assert.match(
        render(n, "app-out-of-sync", STATES.outOfSync).message,
        /^\[prod\/platform-prod\] podinfo is OutOfSync/,
      );
    });

    it("in a fleet, the hub's alert names the spoke cluster", () => {
      const n = argoValues(prod).notifications;
      const spokeApp = application(STATES.degraded.status, {
        destination: { name: "spoke-eu-1", server: "https://spoke-eu-1.example.com" },
      });
      assert.match(render(n, "app-health-degraded", spokeApp).message, /^Destination: spoke-eu-1$/m);
    });

    it("links to the Argo CD URL when gitops.argocd.url is known", () => {
      const n: Obj = notificationsValues({
        environment: "prod",
        clusterName: "platform-prod",
        destinations: [{ name: "hooks", type: "webhook" }],
        argocdUrl: "https://argocd.platform.example.com",
      });
      assert.equal(n.argocdUrl, "https://argocd.platform.example.com");
      assert.match(
        render(n, "app-sync-failed", STATES.syncFailed).message,
        /^https:\/\/argocd\.platform\.example\.com\/applications\/argocd\/podinfo$/m,
      );
    });

    it("webhook bodies are JSON naming the event, app, environment, spoke and revision; Teams has a title", () => {
      const n = argoValues(dev).notifications;
      const out = render(n, "app-sync-failed", silenced(STATES.syncFailed));
      assert.deepEqual(JSON.parse(out["webhook.hooks.body"]), {
        event: "on-sync-failed",
        environment: "dev",
        cluster: "platform-dev",
        app: "podinfo",
        destination: "https://kubernetes.default.svc",
        revision: REVISION,
        summary: "failed to sync",
      });
      assert.equal(parse(n.templates["template.app-sync-failed"]).webhook.hooks.method, "POST");
      assert.equal(out["teams-workflows.title"], "podinfo failed to sync");
      assert.equal(out["teams-workflows.text"], out.message);
    });
  });
});

describeNeeds(["tools", "upstream"], "alerts: Flux", () => {
  let dev: Stack;
  let prod: Stack;
  before(async () => {
    dev = await buildStack("dev", withAlerts("flux"));
    prod = await buildStack("prod", {
      "gitops-platform:gitops": { ...(stackRaw("prod").gitops as Obj), engine: "flux" },
    });
  });

  it("renders a Provider per destination reading its Secret, which an ExternalSecret writes (strict CRDs)", () => {
    const docs = bootstrapDocs(dev, "flux-alerts");
    const providers = docs.filter((d) => d.kind === "Provider");
    assert.deepEqual(
      providers.map((p) => [p.metadata.name, p.apiVersion, p.spec]),
      [
        [
          "platform-oncall",
          "notification.toolkit.fluxcd.io/v1beta3",
          {
            type: "slack",
            channel: "platform-alerts",
            address: "https://slack.com/api/chat.postMessage",
            secretRef: { name: "alert-platform-oncall" },
          },
        ],
        [
          "hooks",
          "notification.toolkit.fluxcd.io/v1beta3",
          { type: "generic", secretRef: { name: "alert-hooks" } },
        ],
        [
          "teams",
          "notification.toolkit.fluxcd.io/v1beta3",
          { type: "msteams", secretRef: { name: "alert-teams" } },
        ],
      ],
    );
    for (const p of providers) {
      const es = docs.find(
        (d) => d.kind === "ExternalSecret" && d.spec.target.name === p.spec.secretRef.name,
      );
      assert.ok(es, `no ExternalSecret writes ${p.spec.secretRef.name}`);
      // Flux reads `token` (Slack) and `address` (the URL, which overrides spec.address) from the Secret.
      assert.deepEqual(
        es.spec.data.map((d: Obj) => [d.secretKey, d.remoteRef.key]),
        [[p.spec.type === "slack" ? "token" : "address", `platform/dev/alerts/${p.metadata.name}`]],
      );
    }
  });

  it("alerts on failed Kustomizations, HelmReleases and sources, naming environment and cluster", () => {
    const docs = bootstrapDocs(dev, "flux-alerts");
    const alerts = docs.filter((d) => d.kind === "Alert");
    assert.deepEqual(
      alerts.map((a) => a.metadata.name),
      ["platform-oncall-failures", "hooks-failures", "teams-failures"],
    );
    for (const a of alerts) {
      assert.equal(a.spec.eventSeverity, "error");
      assert.deepEqual(
        a.spec.eventSources,
        FAILURE_SOURCES.map((kind) => ({ kind, name: "*" })),
      );
      for (const kind of ["Kustomization", "HelmRelease", "GitRepository"])
        assert.ok(
          a.spec.eventSources.some((e: Obj) => e.kind === kind),
          kind,
        );
      assert.deepEqual(a.spec.eventMetadata, { environment: "dev", cluster: "platform-dev" });
      assert.ok(docs.some((d) => d.kind === "Provider" && d.metadata.name === a.spec.providerRef.name));
    }
    // Providers and Alerts exist before the root Kustomization, and their Secrets' store before them.
    const releases = dev.ofType("kubernetes:helm.sh/v3:Release");
    const byName = (n: string) => releases.find((r) => r.name === n)!;
    assert.ok(dev.dependsOn(byName("flux-root"), byName("flux-alerts")));
    assert.ok(dev.dependsOn(byName("flux-alerts"), byName("flux")));
    assert.ok(dev.dependsOn(byName("flux-alerts"), byName("external-secrets-stores")));
    assert.equal(bootstrapDocs(dev, "flux-root").filter((d) => /Provider|Alert/.test(d.kind)).length, 0);
  });

  it("prod adds a drift Alert matching helm-controller's DriftDetected message; failures exclude it", () => {
    const docs = bootstrapDocs(prod, "flux-alerts");
    const drift = docs.find((d) => d.kind === "Alert" && d.metadata.name === "platform-oncall-drift")!;
    assert.deepEqual(drift.spec.eventSources, [{ kind: "HelmRelease", name: "*" }]);
    // The message helm-controller emits (internal/reconcile/atomic_release.go), as a Go regexp would match it.
    const message =
      "Cluster state of release flux-system/metrics-server.v1 has drifted from the desired state:\nDeployment/kube-system/metrics-server changed (0 additions, 1 changes, 0 removals)";
    for (const re of drift.spec.inclusionList) assert.match(message, new RegExp(re));
    const failures = docs.find((d) => d.kind === "Alert" && d.metadata.name === "platform-oncall-failures")!;
    assert.ok(failures.spec.exclusionList.some((re: string) => new RegExp(re).test(message)));
    assert.ok(
      !failures.spec.exclusionList.some((re: string) => new RegExp(re).test("Helm upgrade failed: timeout")),
    );
    assert.equal(
      bootstrapDocs(dev, "flux-alerts").filter((d) => d.kind === "Alert" && /-drift$/.test(d.metadata.name))
        .length,
      0,
    );
    assert.equal(DRIFT_MESSAGE_RE, drift.spec.inclusionList[0]);
  });
});

describeNeeds(["tools", "upstream"], "alerts: HelmRelease drift detection in the GitOps template", () => {
  /**
   * The paths a Flux Kustomization may read: a bridge switch in the path (`enabled-${enable_...}`, substituted
   * by the root's postBuild) gives one path per value, and both must be covered.
   */
  const variants = (p: string): string[] =>
    /\$\{[a-z0-9_]+\}/.test(p)
      ? ["true", "false"].flatMap((v) => variants(p.replace(/\$\{[a-z0-9_]+\}/, v)))
      : [p];
  /** What kustomize-controller applies for a Flux Kustomization: its path, built, with its spec.patches. */
  const applied = (k: Obj): Obj[] => variants(k.spec.path).flatMap((p) => build(p, k.spec.patches));
  function build(kustomizationPath: string, patches: unknown): Obj[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flux-ks-"));
    try {
      fs.writeFileSync(
        path.join(dir, "kustomization.yaml"),
        stringify({
          apiVersion: "kustomize.config.k8s.io/v1beta1",
          kind: "Kustomization",
          // kustomize takes a directory outside the root only by a relative path.
          resources: [path.relative(dir, path.join(REPO_ROOT, kustomizationPath))],
          ...(patches ? { patches } : {}),
        }),
      );
      return kubectlKustomize(dir) as Obj[];
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const [env, mode] of [
    ["dev", "enabled"],
    ["staging", "enabled"],
    ["prod", "warn"],
  ]) {
    it(`${env}: every HelmRelease Flux applies has driftDetection.mode ${mode}`, () => {
      const kustomizations = kubectlKustomize(`gitops/clusters/${env}/flux`) as Obj[];
      const releases = kustomizations
        .filter((k) => k.kind === "Kustomization")
        .flatMap(applied)
        .filter((o) => o.kind === "HelmRelease");
      assert.ok(releases.length >= 3, `found ${releases.length} HelmReleases`);
      for (const hr of releases) {
        assert.deepEqual(hr.spec.driftDetection, { mode }, hr.metadata.name);
        assertValidCustomResource(hr);
      }
    });
  }
});

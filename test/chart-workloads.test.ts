// What the charts the program installs would run, read against the pinned charts' own defaults and the table of
// their containers and workloads (test/lib/chart-workloads.ts, from their templates): requests everywhere,
// PodDisruptionBudgets exactly where there is more than one replica, CRDs that outlive their release, and
// network policies that something enforces.
import * as assert from "node:assert/strict";
import { CHARTS } from "../core/pins";
import { modeOverrides } from "../scripts/plan";
import {
  active,
  budgetOf,
  CONTAINERS,
  DISABLED_DEPENDENCIES,
  WORKLOADS,
  type InstalledChart,
} from "./lib/chart-workloads";
import { chartDefaults, declares, mergeValues, valueAt } from "./lib/charts";
import { buildStack, type Stack } from "./lib/harness";
import { renderBootstrap } from "../scripts/lib/render";
import { describeNeeds } from "./lib/prerequisites";

type Obj = Record<string, any>;

/** Helm's `helm.sh/resource-policy: keep` on every CRD the chart installs: the values that put it there. */
const KEEP_CRDS: Record<InstalledChart, Record<string, unknown>> = {
  // templates/crds/*.yaml: `{{- if .Values.crds.keep }} "helm.sh/resource-policy": keep`
  argoCd: { "crds.install": true, "crds.keep": true },
  // templates/*.crds.yaml: `{{- with .Values.crds.annotations }}` on each CRD
  flux: { installCRDs: true, "crds.annotations": { "helm.sh/resource-policy": "keep" } },
  // CRDs generated into templates/crds/ at packaging with `{{- with .Values.crds.annotations }}`
  externalSecrets: { installCRDs: true, "crds.annotations": { "helm.sh/resource-policy": "keep" } },
};

/**
 * The values that decide which NetworkPolicies each chart renders, set deliberately (README, "Network policies"):
 * argo-cd's per-component ingress policies and flux2's namespace policies let every controller reach what it
 * needs; redis-ha's and ESO's policies stay off (ESO's default policy has no egress at all).
 */
const NETWORK_POLICIES: Record<InstalledChart, Array<{ path: string; is: boolean; when?: string[] }>> = {
  argoCd: [
    { path: "global.networkPolicy.create", is: true },
    { path: "global.networkPolicy.defaultDenyIngress", is: false },
    { path: "redis-ha.networkPolicy.enabled", is: false, when: ["redis-ha.enabled"] },
    { path: "redis-ha.haproxy.networkPolicy.enabled", is: false, when: ["redis-ha.enabled"] },
  ],
  flux: [{ path: "policies.create", is: true }],
  externalSecrets: [
    { path: "networkPolicy.enabled", is: false },
    { path: "webhook.networkPolicy.enabled", is: false },
    { path: "certController.networkPolicy.enabled", is: false },
  ],
};

const variants: Array<{ stack: string; engine: "argocd" | "flux"; compute?: "autoMode" }> = [
  { stack: "dev", engine: "argocd" },
  { stack: "prod", engine: "argocd" },
  { stack: "dev", engine: "flux" },
  { stack: "prod", engine: "flux" },
  { stack: "dev", engine: "argocd", compute: "autoMode" },
];

for (const v of variants) {
  describeNeeds(
    ["upstream"],
    `Charts as installed: ${v.stack} with ${v.engine}${v.compute ? ` on ${v.compute}` : ""}`,
    () => {
      let s: Stack;
      const charts: InstalledChart[] = [v.engine === "argocd" ? "argoCd" : "flux", "externalSecrets"];
      /** The values the program passes to a chart, and those merged over the chart's defaults as Helm renders. */
      const values = (chart: InstalledChart) => {
        const found = s
          .ofType("kubernetes:helm.sh/v3:Release")
          .filter((r) => r.inputs.chart === CHARTS[chart].chart);
        assert.equal(found.length, 1, CHARTS[chart].chart);
        const ours = found[0].inputs.values as Obj;
        return { ours, merged: mergeValues(chartDefaults(chart), ours) as Obj };
      };
      before(async () => {
        s = await buildStack(v.stack, modeOverrides({ engine: v.engine, compute: v.compute }));
      });

      it("sets requests on every container the charts run, init containers and hooks included", () => {
        const missing: string[] = [];
        for (const chart of charts) {
          const { merged } = values(chart);
          for (const c of CONTAINERS[chart].filter((c) => active(merged, c.when))) {
            const requests = (valueAt(merged, c.resources) as Obj | undefined)?.requests;
            if (!requests?.cpu || !requests?.memory)
              missing.push(`${chart}: ${c.container} (${c.resources})`);
          }
          for (const dep of DISABLED_DEPENDENCIES[chart])
            assert.ok(!valueAt(merged, dep), `${chart}: ${dep} has no container table`);
        }
        assert.deepEqual(missing, []);
      });

      it("gives every workload with more than one replica a PodDisruptionBudget, and none to a single replica", () => {
        const wrong: string[] = [];
        for (const chart of charts) {
          const { merged } = values(chart);
          for (const w of WORKLOADS[chart].filter((w) => active(merged, w.when))) {
            const replicas =
              typeof w.replicas === "number" ? w.replicas : Number(valueAt(merged, w.replicas));
            assert.ok(replicas >= 1, `${w.workload}: replicas ${replicas}`);
            const pdb = budgetOf(merged, w.pdb);
            if (replicas > 1 && !pdb) wrong.push(`${w.workload}: ${replicas} replicas, no budget`);
            if (replicas === 1 && pdb)
              wrong.push(`${w.workload}: a budget on one replica blocks every drain`);
            if (pdb) {
              const limits = [pdb.minAvailable, pdb.maxUnavailable].filter(
                (x) => x !== undefined && x !== "",
              );
              assert.equal(limits.length, 1, `${w.workload}: exactly one of minAvailable, maxUnavailable`);
            }
          }
        }
        assert.deepEqual(wrong, []);
      });

      if (v.stack === "prod" && v.engine === "argocd")
        it("runs prod's Argo CD redis and haproxy as three replicas each, under a budget that keeps sentinel quorum", () => {
          const { merged } = values("argoCd");
          assert.equal(merged["redis-ha"].enabled, true);
          for (const p of ["redis-ha.podDisruptionBudget", "redis-ha.haproxy.podDisruptionBudget"])
            assert.deepEqual(valueAt(merged, p), { maxUnavailable: 1 }, p);
        });

      it("keeps every CRD its charts install when the release is uninstalled or replaced", () => {
        for (const chart of charts) {
          const { ours } = values(chart);
          for (const [p, expected] of Object.entries(KEEP_CRDS[chart]))
            assert.deepEqual(valueAt(ours, p), expected, `${chart}: ${p}`);
        }
      });

      it("enforces network policies in the VPC CNI and renders, per chart, the policies chosen on purpose", () => {
        const cni = s.ofType("aws:eks/addon:Addon").filter((a) => a.inputs.addonName === "vpc-cni");
        if (cni.length > 0) {
          assert.equal(
            JSON.parse(String(cni[0].inputs.configurationValues ?? "{}")).enableNetworkPolicy,
            "true",
            "the network policy agent enforces nothing unless the add-on enables it",
          );
        } else {
          // Auto Mode runs the CNI itself: its network policy controller is switched on by a ConfigMap.
          const objects = renderBootstrap(s.one("kubernetes:helm.sh/v3:Release", "auto-mode"));
          const switches = objects.filter(
            (o: Obj) => o.kind === "ConfigMap" && o.metadata.name === "amazon-vpc-cni",
          ) as Obj[];
          assert.equal(switches.length, 1, "Auto Mode: no kube-system/amazon-vpc-cni ConfigMap");
          assert.equal(switches[0].metadata.namespace, "kube-system");
          assert.deepEqual(switches[0].data, { "enable-network-policy-controller": "true" });
        }
        for (const chart of charts) {
          const { ours, merged } = values(chart);
          for (const np of NETWORK_POLICIES[chart].filter((np) => active(merged, np.when)))
            assert.equal(
              valueAt(ours, np.path),
              np.is,
              `${chart}: ${np.path} (set by the program, not by default)`,
            );
        }
      });
    },
  );
}

describeNeeds(["upstream"], "Charts as installed: the tables match the pinned charts", () => {
  const charts = Object.keys(CONTAINERS) as InstalledChart[];

  it("every value path the tables and checks name is declared in the pinned chart's values.yaml", () => {
    const undeclared: string[] = [];
    for (const chart of charts) {
      const defaults = chartDefaults(chart);
      const paths = [
        ...CONTAINERS[chart].filter((c) => !c.undeclared).map((c) => c.resources),
        ...CONTAINERS[chart].flatMap((c) => c.when ?? []),
        ...WORKLOADS[chart].flatMap((w) => [
          ...(typeof w.replicas === "string" ? [w.replicas] : []),
          w.pdb!.path,
          ...(w.when ?? []),
        ]),
        ...DISABLED_DEPENDENCIES[chart],
        ...Object.keys(KEEP_CRDS[chart]),
        ...NETWORK_POLICIES[chart].map((np) => np.path),
      ].map((p) => p.replace(/^!/, ""));
      for (const p of new Set(paths)) if (!declares(defaults, p)) undeclared.push(`${chart}: ${p}`);
    }
    assert.deepEqual(undeclared, []);
  });

  it("marks as undeclared only keys that values.yaml really lacks", () => {
    for (const chart of charts)
      for (const c of CONTAINERS[chart].filter((c) => c.undeclared))
        assert.ok(!declares(chartDefaults(chart), c.resources), `${chart}: ${c.resources} is declared`);
  });

  it("the condition check can fail: a chart default without requests is caught", () => {
    const merged = mergeValues(chartDefaults("argoCd"), { "redis-ha": { enabled: true } }) as Obj;
    const haproxy = CONTAINERS.argoCd.find((c) => c.resources === "redis-ha.haproxy.resources")!;
    assert.ok(active(merged, haproxy.when));
    assert.equal((valueAt(merged, haproxy.resources) as Obj).requests, undefined);
  });
});

// The offline plan (scripts/plan.ts): deterministic output, what a reviewer sees, CLI errors, and a dependency
// graph without needless serialization. Expectations come from the resources' properties, never from a fixed
// resource list, so the tests keep working while components change.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { buildPlan } from "../scripts/lib/plan/build";
import { planFiles, writePlan } from "../scripts/lib/plan/files";
import {
  criticalPath,
  dependencyGraph,
  physicalChain,
  transitiveDependencies,
} from "../scripts/lib/plan/graph";
import { renderTree } from "../scripts/lib/plan/tree";
import { REDACTED, type GraphResource, type Plan, type PlanResource } from "../scripts/lib/plan/types";
import { planStack } from "../scripts/plan";
import { ROOT } from "../scripts/engine";
import { assertValidCustomResource } from "./lib/crd";
import { buildStack } from "./lib/harness";
import { itNeeds } from "./lib/prerequisites";

const TS_NODE = path.join(ROOT, "node_modules/ts-node/dist/bin.js");
const PLAN = path.join(ROOT, "scripts/plan.ts");
const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";

function runCli(args: string[]) {
  return spawnSync(process.execPath, [TS_NODE, "--transpile-only", PLAN, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
}

function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `plan-${prefix}-`));
}

function listFiles(dir: string, base = dir): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? listFiles(path.join(dir, e.name), base)
        : [path.relative(base, path.join(dir, e.name))],
    )
    .sort();
}

function assertSameTree(a: string, b: string): void {
  const files = listFiles(a);
  assert.deepEqual(listFiles(b), files, "the two plans have different files");
  assert.ok(files.length > 3, `only ${files.length} files written`);
  for (const f of files) {
    assert.ok(
      fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f))),
      `${f} differs between runs`,
    );
  }
}

const stackFile = (stack: string) => path.join(ROOT, `Pulumi.${stack}.yaml`);
const ofType = (plan: Plan, type: string) => plan.resources.filter((r) => r.type === type);
const releaseByChart = (plan: Plan, chart: string) => {
  const found = ofType(plan, HELM_RELEASE).filter((r) => r.inputs.chart === chart);
  assert.equal(found.length, 1, `expected one Helm release of chart ${chart}`);
  return found[0];
};
/** The tree's lines from a resource's line up to the next resource line at the same or a lower depth. */
function section(tree: string, r: PlanResource): string {
  const lines = tree.split("\n");
  const start = lines.findIndex(
    (l) => l.endsWith(`${r.type} "${r.name}"`) || l.includes(`${r.type} "${r.name}" [`),
  );
  assert.ok(start >= 0, `${r.type} ${r.name} is not in the tree`);
  const indent = lines[start].indexOf(r.type);
  const end = lines.findIndex((l, i) => i > start && /[+`]- \S/.test(l) && l.indexOf("- ") + 2 <= indent);
  return lines.slice(start, end < 0 ? undefined : end).join("\n");
}

describe("offline plan: critical path on a hand-made graph", () => {
  const r = (
    urn: string,
    dependencies: string[] = [],
    extra: Partial<GraphResource> = {},
  ): GraphResource => ({
    urn,
    type: `test:index:${urn}`,
    name: urn,
    custom: true,
    dependencies,
    ...extra,
  });
  const table = { "test:index:A": 10, "test:index:B": 20, "test:index:C": 30, "test:index:D": 45, "*": 1 };

  it("follows the slowest chain and adds its times", () => {
    // A -> B -> C takes 10 + 20 + 30 = 60 s, D -> C takes 45 + 30 = 75 s: the slower chain is the critical one.
    const both = criticalPath([r("A"), r("B", ["A"]), r("C", ["B", "D"]), r("D")], table);
    assert.deepEqual(
      both.path.map((s) => s.urn),
      ["D", "C"],
    );
    assert.equal(both.seconds, 75);
    assert.equal(both.depth, 3, "depth counts resources on the longest chain, A -> B -> C");

    const chain = criticalPath([r("A"), r("B", ["A"]), r("C", ["B"])], table);
    assert.deepEqual(
      chain.path.map((s) => [s.urn, s.start, s.finish]),
      [
        ["A", 0, 10],
        ["B", 10, 30],
        ["C", 30, 60],
      ],
    );
    assert.equal(chain.seconds, 60);
  });

  it("expands components to their descendants, and lets providers take no time", () => {
    const resources: GraphResource[] = [
      r("A"),
      { urn: "X", type: "test:index:Component", name: "X", custom: false, dependencies: [] },
      r("B", ["A"], { parent: "X" }),
      r("P", ["B"], { type: "pulumi:providers:kubernetes" }),
      r("C", ["X", "P"]),
      r("E", [], { parent: "X" }),
    ];
    const cp = criticalPath(resources, table);
    assert.deepEqual(
      cp.path.map((s) => s.urn),
      ["A", "B", "C"],
    );
    assert.equal(cp.seconds, 60);
    assert.equal(cp.depth, 3, "the provider does not count towards depth");
    const deps = transitiveDependencies(resources, "C");
    assert.deepEqual([...deps].sort(), ["A", "B", "E", "P"]);
    assert.deepEqual(dependencyGraph(resources).edges.get("C"), ["B", "E", "P"]);
  });

  it("puts Auto Mode's first node between the cluster and every release with pods, and measures the physical chain", () => {
    const cluster = (compute: boolean) =>
      r("K", [], {
        type: "aws:eks/cluster:Cluster",
        inputs: compute ? { computeConfig: { enabled: true } } : {},
      });
    const release = r("R", ["K"], {
      type: "kubernetes:helm.sh/v3:Release",
      inputs: { chart: "argo-cd", repositoryOpts: { repo: "https://x" } },
    });
    const root = r("L", ["R"], {
      type: "kubernetes:helm.sh/v3:Release",
      inputs: { chart: "./charts/platform-bootstrap" },
    });
    const times = {
      "aws:eks/cluster:Cluster": 600,
      "aws:eks:AutoModeNode (first node, modelled)": 60,
      "kubernetes:helm.sh/v3:Release": 120,
      "kubernetes:helm.sh/v3:Release (local chart)": 15,
    };
    const auto = criticalPath([cluster(true), release, root], times);
    assert.deepEqual(
      auto.path.map((s) => s.type),
      [
        "aws:eks/cluster:Cluster",
        "aws:eks:AutoModeNode (first node, modelled)",
        "kubernetes:helm.sh/v3:Release",
        "kubernetes:helm.sh/v3:Release",
      ],
    );
    assert.equal(auto.seconds, 795);
    assert.deepEqual(
      physicalChain([cluster(true), release, root], times).steps.map((s) => s.seconds),
      [600, 60, 120, 15],
    );
    assert.equal(
      criticalPath([cluster(false), release, root], times).seconds,
      735,
      "no step without Auto Mode",
    );
  });

  it("reports a dependency cycle instead of looping", () => {
    assert.throws(() => criticalPath([r("A", ["B"]), r("B", ["A"])], table), /cycle/);
  });
});

describe("offline plan of the real program", function () {
  this.timeout(60_000);
  let dev: Plan;
  let prod: Plan;
  let flux: Plan;
  let devTree: string;
  let prodTree: string;
  const dirs: string[] = [];

  before(async () => {
    // The graphs other test files build too (test/lib/harness.ts); the CLI and rerun() below run the program anew.
    dev = buildPlan(await buildStack("dev"));
    prod = buildPlan(await buildStack("prod"));
    flux = await planStack(stackFile("dev"), { engine: "flux" });
    devTree = renderTree(dev);
    prodTree = renderTree(prod);
  });
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it("is byte-identical between runs: dev through the CLI and in-process, prod twice", async () => {
    const a = tmpDir("dev-a");
    const b = tmpDir("dev-b");
    dirs.push(a, b);
    writePlan(dev, a);
    const cli = runCli(["--stack", "dev", "--out", b, "--quiet"]);
    assert.equal(cli.status, 0, cli.stderr);
    assertSameTree(a, b);

    const c = tmpDir("prod-a");
    const d = tmpDir("prod-b");
    dirs.push(c, d);
    writePlan(prod, c);
    writePlan(buildPlan(await rerun("prod")), d);
    assertSameTree(c, d);
  });

  it("holds no absolute path of this machine", () => {
    for (const plan of [dev, prod, flux]) {
      for (const [file, content] of Object.entries(planFiles(plan))) {
        assert.ok(!content.includes(ROOT), `${file} contains ${ROOT}`);
      }
      const bootstrap = ofType(plan, HELM_RELEASE).filter((r) => !r.inputs.repositoryOpts);
      assert.ok(bootstrap.length > 0);
      for (const r of bootstrap) assert.equal(r.inputs.chart, "./charts/platform-bootstrap");
    }
  });

  it("shows the cluster's encryption key and endpoint, the node group sizes", () => {
    for (const [plan, tree] of [
      [dev, devTree],
      [prod, prodTree],
    ] as const) {
      const cluster = ofType(plan, "aws:eks/cluster:Cluster")[0];
      const vpc = cluster.inputs.vpcConfig as Record<string, unknown>;
      const keyArn = ((cluster.inputs.encryptionConfig as any).provider as any).keyArn as string;
      const text = section(tree, cluster);
      assert.match(text, new RegExp(`secrets encryption: .*key=${escape(keyArn)} \\(kms key "`));
      const pub = vpc.endpointPublicAccess === true ? "yes" : "no";
      assert.match(text, new RegExp(`endpoint: private=yes public=${pub}`));
      if (vpc.endpointPublicAccess) {
        for (const cidr of vpc.publicAccessCidrs as string[])
          assert.ok(text.includes(cidr), `${cidr} not shown`);
      }
      for (const ng of ofType(plan, "aws:eks/nodeGroup:NodeGroup")) {
        const s = ng.inputs.scalingConfig as Record<string, number>;
        assert.ok(
          section(tree, ng).includes(`size: min=${s.minSize} desired=${s.desiredSize} max=${s.maxSize}`),
          `${ng.name} sizes not shown`,
        );
      }
      const key = ofType(plan, "aws:kms/key:Key")[0];
      if (key) assert.match(section(tree, key), /rotation: enabled/);
    }
  });

  it("shows the engine's chart and the root app's sync policy: automated in dev, not in prod", () => {
    for (const [plan, tree] of [
      [dev, devTree],
      [prod, prodTree],
    ] as const) {
      const engine = releaseByChart(plan, "argo-cd");
      assert.ok(section(tree, engine).includes(`chart: argo-cd@${String(engine.inputs.version)}`));
    }
    const rootOf = (plan: Plan) =>
      ofType(plan, HELM_RELEASE).find((r) =>
        ((r.inputs.values as any)?.resources ?? []).some((o: any) => o.kind === "Application"),
      ) as PlanResource;
    assert.match(
      section(devTree, rootOf(dev)),
      /applies Application argocd\/root\n.*\n.* sync: automated \(prune=yes, selfHeal=yes\)/,
    );
    assert.match(section(prodTree, rootOf(prod)), /sync: manual \(not automated\)/);
    assert.doesNotMatch(section(prodTree, rootOf(prod)), /sync: automated/);

    const fluxTree = renderTree(flux);
    const fluxRelease = releaseByChart(flux, "flux2");
    assert.ok(section(fluxTree, fluxRelease).includes(`chart: flux2@${String(fluxRelease.inputs.version)}`));
    const fluxObjects = ofType(flux, HELM_RELEASE).flatMap(
      (r) => ((r.inputs.values as any)?.resources ?? []) as any[],
    );
    const repo = fluxObjects.find((o) => o.kind === "GitRepository");
    const ks = fluxObjects.find((o) => o.kind === "Kustomization");
    const ref = Object.entries(repo.spec.ref)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(", ");
    const yes = (v: unknown) => (v === true ? "yes" : "no");
    assert.ok(
      fluxTree.includes(`applies GitRepository flux-system/${repo.metadata.name}`) &&
        fluxTree.includes(`ref: ${ref}, interval: ${repo.spec.interval}`),
      "GitRepository ref and interval not shown",
    );
    assert.ok(
      fluxTree.includes(`applies Kustomization flux-system/${ks.metadata.name}`) &&
        fluxTree.includes(`prune: ${yes(ks.spec.prune)}, wait: ${yes(ks.spec.wait)}`),
      "Kustomization prune and wait not shown",
    );
  });

  itNeeds(
    ["tools", "upstream"],
    "writes plan.json and the root Application / GitRepository / Kustomization, valid against their CRDs",
    function () {
      for (const [plan, kinds] of [
        [dev, ["Application", "AppProject"]],
        [flux, ["GitRepository", "Kustomization"]],
      ] as const) {
        const dir = tmpDir(`files-${plan.engine}`);
        dirs.push(dir);
        const files = writePlan(plan, dir);
        const json = JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8"));
        assert.equal(json.resources.length, plan.resources.length);
        assert.equal(json.summary.depth, plan.summary.depth);
        assert.equal(plan.summary.bootstrapRendering, "helm template");
        for (const kind of kinds) {
          const manifest = plan.manifests.find((m) => m.kind === kind);
          assert.ok(manifest, `no ${kind} written`);
          assert.ok(files.includes(manifest.path));
          const obj = parse(fs.readFileSync(path.join(dir, manifest.path), "utf8"));
          assertValidCustomResource(obj);
        }
        const stores = plan.manifests.filter((m) => m.kind === "ClusterSecretStore");
        for (const m of stores) assert.ok(m.path.startsWith("k8s/_cluster/"), m.path);
        for (const chart of ["external-secrets", plan.engine === "flux" ? "flux2" : "argo-cd"]) {
          const release = releaseByChart(plan, chart);
          const file = plan.manifests.find((m) => m.from === release.urn);
          assert.ok(
            file !== undefined && file.path.endsWith(`/helmrelease-${String(release.inputs.name)}.yaml`),
            `${chart}: ${file?.path}`,
          );
          assert.match(file.content, /cannot be pulled offline/);
        }
      }
    },
  );

  it("never writes a Secret's values", () => {
    const secrets = ofType(dev, "kubernetes:core/v1:Secret");
    assert.ok(secrets.length > 0, "dev has no Kubernetes Secret to check");
    for (const plan of [dev, prod, flux]) {
      const files = planFiles(plan);
      for (const m of plan.manifests.filter((x) => x.kind === "Secret")) {
        const obj = parse(files[m.path]);
        for (const field of ["data", "stringData"]) {
          for (const [k, v] of Object.entries(obj[field] ?? {}))
            assert.equal(v, REDACTED, `${m.path} ${field}.${k}`);
        }
      }
      for (const r of ofType(plan, "kubernetes:core/v1:Secret")) {
        for (const v of Object.values((r.inputs.stringData ?? {}) as object)) assert.equal(v, REDACTED);
      }
      const json = JSON.parse(files["plan.json"]);
      for (const key of plan.secretOutputs) assert.equal(json.outputs[key], REDACTED);
    }
  });

  it("has no needless serialization in the dependency graph", () => {
    for (const plan of [dev, prod, flux]) {
      const graph = dependencyGraph(plan.resources);
      const waitsFor = (a: PlanResource, b: PlanResource) => transitiveDependencies(graph, a.urn).has(b.urn);
      const name = (r: PlanResource) => `${plan.stack}/${plan.engine}: ${r.type} ${r.name}`;

      const keys = ofType(plan, "aws:kms/key:Key");
      const vpcs = ofType(plan, "aws:ec2/vpc:Vpc");
      assert.ok(vpcs.length > 0);
      for (const key of keys) {
        for (const dep of transitiveDependencies(graph, key.urn)) {
          const r = plan.resources.find((x) => x.urn === dep) as PlanResource;
          assert.ok(
            !r.type.startsWith("aws:ec2/"),
            `${name(key)} waits for network resource ${r.type} ${r.name}`,
          );
          assert.ok(
            !r.type.startsWith("aws:iam/"),
            `${name(key)} waits for IAM resource ${r.type} ${r.name}`,
          );
        }
        for (const vpc of vpcs) assert.ok(!waitsFor(vpc, key), `${name(vpc)} waits for the KMS key`);
      }

      const eso = releaseByChart(plan, "external-secrets");
      const engine = releaseByChart(plan, plan.engine === "flux" ? "flux2" : "argo-cd");
      assert.ok(!waitsFor(eso, engine), `${name(eso)} waits for ${name(engine)}`);
      assert.ok(!waitsFor(engine, eso), `${name(engine)} waits for ${name(eso)}`);

      const flowLogs = ofType(plan, "aws:ec2/flowLog:FlowLog");
      assert.ok(flowLogs.length > 0);
      const flowLogOnly = flowLogs.flatMap((f) =>
        plan.resources.filter((r) => f.dependencies.includes(r.urn) && r.type !== "aws:ec2/vpc:Vpc"),
      );
      for (const cluster of ofType(plan, "aws:eks/cluster:Cluster")) {
        for (const r of [...flowLogs, ...flowLogOnly]) {
          assert.ok(
            !waitsFor(cluster, r),
            `${name(cluster)} waits for flow-log resource ${r.type} ${r.name}`,
          );
        }
      }
    }
  });

  it("estimates a first `pulumi up` through the cluster and a node group", () => {
    for (const plan of [dev, prod, flux]) {
      const { depth, estimate } = plan.summary;
      assert.ok(depth > 3, `depth ${depth}`);
      assert.ok(estimate.minutes >= 15 && estimate.minutes <= 90, `${plan.stack}: ${estimate.minutes} min`);
      const types = estimate.criticalPath.map((s) => s.type);
      assert.ok(types.includes("aws:eks/cluster:Cluster"), types.join(" -> "));
      assert.ok(types.includes("aws:eks/nodeGroup:NodeGroup"), types.join(" -> "));
      const last = estimate.criticalPath[estimate.criticalPath.length - 1];
      assert.equal(last.finish, estimate.seconds);
    }
    assert.match(devTree, /Critical path\n\s+start\s+finish/);
  });

  it("prints the physical chain and the ratio beside the estimate, for node groups and Auto Mode", async () => {
    const auto = await planStack(stackFile("dev"), { compute: "autoMode", identity: "podIdentity" });
    for (const plan of [dev, auto]) {
      const { seconds, physicalChain: chain, ratio } = plan.summary.estimate;
      const tree = renderTree(plan);
      assert.ok(
        tree.includes(`physical chain: ~${Math.round(chain.seconds / 60)} min (${chain.seconds} s:`),
        tree,
      );
      assert.ok(tree.includes(`estimate / physical chain: ${ratio.toFixed(3)}`));
      assert.equal(ratio, Math.round((seconds / chain.seconds) * 1000) / 1000);
    }
    assert.match(
      renderTree(auto),
      /compute: EKS Auto Mode, pools \[system, general-purpose\], block storage=yes, load balancing=yes, self-managed add-ons=no/,
    );
    assert.match(devTree, /compute: node groups defined by the program/);
    const types = auto.summary.estimate.criticalPath.map((s) => s.type);
    assert.ok(types.includes("aws:eks:AutoModeNode (first node, modelled)"), types.join(" -> "));
    assert.ok(!types.includes("aws:eks/nodeGroup:NodeGroup"));
    assert.ok(auto.summary.estimate.seconds <= 14 * 60, `${auto.summary.estimate.seconds}s`);
    const cli = runCli(["--stack", "dev", "--compute", "fargate"]);
    assert.equal(cli.status, 2, cli.stderr);
    assert.match(cli.stderr, /--compute "fargate": must be nodeGroups or autoMode/);
  });
});

describe("offline plan CLI errors", function () {
  this.timeout(60_000);

  it("exits 1 with the program's ConfigError message for a bad stack file", () => {
    const dir = tmpDir("bad");
    try {
      const file = path.join(dir, "Pulumi.bad.yaml");
      const good = parse(fs.readFileSync(stackFile("dev"), "utf8"));
      good.config["gitops-platform:gitops"].engine = "spinnaker";
      fs.writeFileSync(file, JSON.stringify(good));
      const res = runCli(["--stack-file", file, "--out", path.join(dir, "out")]);
      assert.equal(res.status, 1, res.stderr);
      assert.ok(res.stderr.includes('gitops.engine = "spinnaker": must be one of argocd, flux'), res.stderr);
      assert.doesNotMatch(res.stderr, /\n\s+at /, "stack trace in the output");
      assert.ok(!fs.existsSync(path.join(dir, "out")), "wrote a plan for a bad config");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("exits 2 for a missing stack file", () => {
    const res = runCli(["--stack-file", path.join(os.tmpdir(), "no-such-dir", "Pulumi.nope.yaml")]);
    assert.equal(res.status, 2, res.stderr);
    assert.match(res.stderr, /stack file not found/);
  });
});

async function rerun(stack: string) {
  const { buildStack } = await import("../scripts/engine");
  return buildStack(stack);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

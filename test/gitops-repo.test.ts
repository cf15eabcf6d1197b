/**
 * The GitOps repository template (gitops/): renders every kustomization with the real `kubectl kustomize`,
 * validates every object (custom resources strictly against the pinned upstream CRDs, built-in
 * objects against kubernetes-models plus an unknown-field check), and checks the contracts the Pulumi program
 * and the promote tool rely on: entry points, bridge metadata, paths, the single image-tag line, environment
 * parity, sync behaviour and ordering.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import {
  assertValidCustomResource,
  knownCustomResourceKinds,
  validateCustomResource,
  ValidationResult,
} from "./lib/crd";
import { isBuiltinKind, validateBuiltinObject } from "./lib/k8s-schema";
import { CHARTS, type ChartName, type ChartPin } from "../core/pins";
import { acceptedValues, ALLOWANCES, unknownValueKeys } from "./lib/chart-values";
import { kubectlKustomize, REPO_ROOT } from "../scripts/lib/kustomize";
import { describeNeeds } from "./lib/prerequisites";
import { chartAppVersion, chartDefaults, declares, mergeValues, valueAt } from "./lib/charts";
import { budgetOf, type ChartWorkload } from "./lib/chart-workloads";

type Obj = Record<string, unknown>;
type Any = any;

const GITOPS = path.join(REPO_ROOT, "gitops");
const PINS = Object.values(CHARTS) as ChartPin[];
const ENVS = ["dev", "staging", "prod"] as const;
const ENGINES = ["argocd", "flux"] as const;
const PODINFO_IMAGE = "ghcr.io/stefanprodan/podinfo";
const IMAGE_POLICY_MARKER = '# {"$imagepolicy": "flux-system:podinfo:tag"}';
/** The bridge metadata written by the Pulumi program (ArgoCD cluster Secret annotations, Flux ConfigMap data). */
const BRIDGE_KEYS = [
  "cluster_name",
  "environment",
  "aws_region",
  "aws_account_id",
  "aws_vpc_id",
  "gitops_repo_url",
  "gitops_repo_revision",
  "gitops_repo_path",
  "secrets_prefix",
  "external_secrets_iam_role_arn",
  "external_secrets_namespace",
  "external_secrets_service_account",
  "external_secrets_role_annotation",
  "aws_load_balancer_controller_iam_role_arn",
  "aws_load_balancer_controller_role_annotation",
  "aws_load_balancer_controller_namespace",
  "aws_load_balancer_controller_service_account",
  "enable_aws_load_balancer_controller",
];
/**
 * Bridge keys that switch an add-on on or off by the path a Flux Kustomization reads (`enabled-${key}`): both
 * values must lead somewhere; "false" leads to a kustomization that installs nothing.
 */
const BRIDGE_SWITCHES = ["enable_aws_load_balancer_controller"];
function switchVariants(raw: string): string[] {
  let out = [raw];
  for (const key of BRIDGE_SWITCHES) {
    out = out.flatMap((p) =>
      p.includes(`\${${key}}`) ? ["true", "false"].map((v) => p.split(`\${${key}}`).join(v)) : [p],
    );
  }
  return out;
}
/**
 * How each add-on chart installs CRDs, read from its templates upstream: `keepValue` puts
 * helm.sh/resource-policy: keep on templated CRDs (argo-rollouts templates/crds/); `crdsDir` ships them in
 * crds/, which Helm installs but never deletes, yet Argo CD deletes with the Application (aws-load-balancer-
 * controller's carry no keep annotation); `templateToggle` would render them as templates instead (flagger).
 */
const ADDON_CRDS: Record<string, { keepValue?: string; crdsDir?: true; templateToggle?: string }> = {
  "argo-rollouts": { keepValue: "keepCRDs" },
  "aws-load-balancer-controller": { crdsDir: true },
  flagger: { crdsDir: true, templateToggle: "crd.create" },
  "metrics-server": {},
  // The prometheus chart installs no CRDs (no operator: see gitops/README.md, progressive delivery).
  prometheus: {},
};
/**
 * The add-on charts' controllers, read from their templates upstream: where replicas, the budget and the
 * controller container's resources come from (none of them runs another container with these values: argo-rollouts'
 * dashboard and metrics-server's addon-resizer are off by default).
 */
const ADDON_WORKLOADS: Record<
  string,
  Required<Pick<ChartWorkload, "replicas" | "pdb">> & { resources: string }
> = {
  "argo-rollouts": {
    replicas: "controller.replicas",
    pdb: { path: "controller.pdb", form: "enabled" },
    resources: "controller.resources",
  },
  "aws-load-balancer-controller": {
    replicas: "replicaCount",
    pdb: { path: "podDisruptionBudget", form: "budget" },
    resources: "resources",
  },
  "metrics-server": {
    replicas: "replicas",
    pdb: { path: "podDisruptionBudget", form: "enabled" },
    resources: "resources",
  },
  flagger: {
    replicas: "leaderElection.replicaCount",
    pdb: { path: "podDisruptionBudget", form: "enabled" },
    resources: "resources",
  },
};
/** Every HelmRelease of the Flux template, the optional add-ons' included. */
const fluxHelmReleases = (): Any[] =>
  [
    "gitops/platform/flux/infra-controllers",
    "gitops/platform/flux/aws-load-balancer-controller/enabled-true",
  ].flatMap((dir) => ofKind(render(dir), "HelmRelease"));
/** Placeholder that clusters/base uses for per-environment values; every clusters/<env> entry point replaces it. */
const ENV_PLACEHOLDER = "ENVIRONMENT";

const renders = new Map<string, Obj[]>();
function render(dir: string): Obj[] {
  const rel = path.relative(REPO_ROOT, path.resolve(REPO_ROOT, dir));
  if (!renders.has(rel)) renders.set(rel, kubectlKustomize(rel));
  return renders.get(rel)!;
}

const clone = <T>(o: T): T => JSON.parse(JSON.stringify(o)) as T;
const nameOf = (o: Obj): string => String((o.metadata as Any)?.name);
const id = (o: Obj): string => `${String(o.kind)}/${nameOf(o)}`;
const ofKind = (objs: Obj[], kind: string): Any[] => objs.filter((o) => o.kind === kind);
/** An ApplicationSet template's sources, single- or multi-source. */
const sourcesOf = (o: Any): Any[] => {
  const spec = o.spec.template.spec;
  return spec.sources ?? [spec.source];
};

function validateObject(o: Obj): ValidationResult {
  const apiVersion = String(o.apiVersion);
  if (isBuiltinKind(apiVersion, String(o.kind))) return validateBuiltinObject(o);
  return validateCustomResource(o);
}

/** Every directory under gitops/ whose kustomization.yaml is a Kustomization (not a Component). */
function kustomizationDirs(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (
        e.name === "kustomization.yaml" &&
        parseYaml(fs.readFileSync(p, "utf8")).kind === "Kustomization"
      )
        out.push(path.relative(REPO_ROOT, dir));
    }
  };
  walk(GITOPS);
  return out.sort();
}

/** Go duration (Flux/Kubernetes style: 1h30m, 5m, 30s) in seconds. */
function seconds(d: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
  assert.ok(m && d !== "", `not a duration: ${d}`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/**
 * Replaces the image tag, replicas and container resources (the overlays' knobs) and the analysis thresholds (what
 * deploy/<engine>/<env> adds): the knobs an environment may change.
 */
function normaliseKnobs(objs: Obj[]): Obj[] {
  return clone(objs).map((o: Any) => {
    if (o.spec && "replicas" in o.spec) o.spec.replicas = "<replicas>";
    if (o.kind === "AnalysisTemplate")
      for (const a of o.spec.args) if (/-max(-|$)/.test(a.name)) a.value = "<threshold>";
    if (o.kind === "Canary") for (const m of o.spec.analysis.metrics) m.thresholdRange = "<threshold>";
    for (const c of o.spec?.template?.spec?.containers ?? []) {
      c.image = String(c.image).replace(/:[^:/]+$/, ":<tag>");
      c.resources = "<resources>";
    }
    return o;
  });
}

function podinfoTagLine(env: string): { line: string; tag: string; marker: boolean } {
  const file = path.join(GITOPS, "apps/podinfo/overlays", env, "kustomization.yaml");
  const lines = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => /^\s*newTag:/.test(l));
  assert.strictEqual(lines.length, 1, `${file}: exactly one newTag line`);
  const m = /^ {4}newTag: "(\d+\.\d+\.\d+)"( # \{"\$imagepolicy": "flux-system:podinfo:tag"\})?$/.exec(
    lines[0],
  );
  assert.ok(m, `${file}: newTag line has the promote-tool format: ${lines[0]}`);
  return { line: lines[0], tag: m[1], marker: m[2] !== undefined };
}

const validApplication = (): Any => ({
  apiVersion: "argoproj.io/v1alpha1",
  kind: "Application",
  metadata: { name: "podinfo", namespace: "argocd" },
  spec: {
    project: "platform",
    source: {
      repoURL: "https://example.com/org/repo.git",
      targetRevision: "main",
      path: "gitops/apps/podinfo",
    },
    destination: { server: "https://kubernetes.default.svc", namespace: "podinfo" },
    syncPolicy: { automated: { prune: true, selfHeal: true }, retry: { limit: 5 } },
  },
});

describeNeeds(["tools", "upstream"], "gitops repository", function () {
  this.timeout(60_000);

  describe("validators reject broken objects", () => {
    it("accepts a valid ArgoCD Application", () => {
      assert.deepStrictEqual(validateCustomResource(validApplication()), { ok: true, errors: [] });
      assertValidCustomResource(validApplication());
    });

    it("rejects an unknown field (spec.syncPolicy.automatedd)", () => {
      const app = validApplication();
      app.spec.syncPolicy.automatedd = app.spec.syncPolicy.automated;
      delete app.spec.syncPolicy.automated;
      const r = validateCustomResource(app);
      assert.strictEqual(r.ok, false);
      assert.ok(
        r.errors.some((e) => e.includes('unknown field "automatedd"')),
        r.errors.join("; "),
      );
      assert.throws(() => assertValidCustomResource(app), /Application\/argocd\/podinfo.*\n.*automatedd/);
    });

    it("rejects a wrong type and a missing required field", () => {
      const app = validApplication();
      app.spec.syncPolicy.retry.limit = "five";
      delete app.spec.destination;
      const r = validateCustomResource(app);
      assert.strictEqual(r.ok, false);
      assert.ok(
        r.errors.some((e) => e.includes("/spec/syncPolicy/retry/limit")),
        r.errors.join("; "),
      );
      assert.ok(
        r.errors.some((e) => e.includes("destination")),
        r.errors.join("; "),
      );
    });

    it("rejects an unknown apiVersion, a core kind and a bad metadata.name", () => {
      assert.strictEqual(
        validateCustomResource({ ...validApplication(), apiVersion: "argoproj.io/v9" }).ok,
        false,
      );
      assert.strictEqual(
        validateCustomResource({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } }).ok,
        false,
      );
      const app = validApplication();
      app.metadata.name = "Not_DNS";
      assert.match(validateCustomResource(app).errors.join(), /DNS-1123/);
      delete app.metadata.name;
      assert.match(validateCustomResource(app).errors.join(), /metadata\/name: required/);
    });

    it("accepts x-kubernetes-int-or-string as integer or string, nothing else", () => {
      const rollout = (maxSurge: unknown): Any => ({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Rollout",
        metadata: { name: "r" },
        spec: { strategy: { canary: { maxSurge } } },
      });
      assert.deepStrictEqual(validateCustomResource(rollout("25%")).errors, []);
      assert.deepStrictEqual(validateCustomResource(rollout(2)).errors, []);
      assert.strictEqual(validateCustomResource(rollout(true)).ok, false);
    });

    it("knows the CRDs of every engine and add-on used here", () => {
      const kinds = knownCustomResourceKinds();
      for (const k of [
        "argoproj.io/v1alpha1/ApplicationSet",
        "argoproj.io/v1alpha1/Rollout",
        "flagger.app/v1beta1/Canary",
        "kustomize.toolkit.fluxcd.io/v1/Kustomization",
        "helm.toolkit.fluxcd.io/v2/HelmRelease",
        "image.toolkit.fluxcd.io/v1/ImagePolicy",
        "external-secrets.io/v1/ExternalSecret",
      ])
        assert.ok(kinds.includes(k), k);
      assert.ok(!kinds.includes("external-secrets.io/v1beta1/ExternalSecret"), "v1beta1 is not served");
    });

    it("rejects broken built-in objects and unknown kinds", () => {
      const deploy: Any = ofKind(render("gitops/apps/podinfo/overlays/dev"), "Deployment")[0];
      assert.deepStrictEqual(validateBuiltinObject(deploy).errors, []);
      const typo = clone(deploy);
      typo.spec.template.spec.containers[0].resourcez = {};
      assert.match(validateBuiltinObject(typo).errors.join(), /containers\/0: unknown field "resourcez"/);
      const wrongType = clone(deploy);
      wrongType.spec.replicas = "three";
      assert.strictEqual(validateBuiltinObject(wrongType).ok, false);
      assert.match(
        validateBuiltinObject({
          apiVersion: "v1",
          kind: "Frobnicator",
          metadata: { name: "x" },
        }).errors.join(),
        /unknown/,
      );
      assert.strictEqual(
        validateObject({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "x" } }).ok,
        false,
      );
    });

    it("fails to render a kustomization with a missing resource", () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kustomize-broken-"));
      try {
        fs.writeFileSync(path.join(dir, "kustomization.yaml"), "resources:\n  - does-not-exist.yaml\n");
        assert.throws(() => kubectlKustomize(dir), /kubectl kustomize .* failed/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("layout and rendering", () => {
    it("has one entry point per environment and engine: gitops/clusters/<env>/<engine>", () => {
      for (const env of ENVS)
        for (const engine of ENGINES)
          assert.ok(
            fs.existsSync(path.join(GITOPS, "clusters", env, engine, "kustomization.yaml")),
            `${env}/${engine}`,
          );
    });

    for (const dir of kustomizationDirs()) {
      it(`renders and validates ${dir}`, () => {
        const objs = render(dir);
        // The "off" variant of a bridge switch installs nothing, on purpose.
        assert.equal(objs.length > 0, !dir.endsWith("/enabled-false"), "renders objects unless switched off");
        const problems = objs.flatMap((o) => validateObject(o).errors.map((e) => `${id(o)} ${e}`));
        assert.deepStrictEqual(problems, []);
      });
    }

    it("puts ArgoCD objects in argocd, Flux objects in flux-system, under project platform", () => {
      for (const env of ENVS) {
        for (const o of render(`gitops/clusters/${env}/argocd`) as Any[]) {
          assert.strictEqual(o.kind, "ApplicationSet", id(o));
          assert.strictEqual(o.metadata.namespace, "argocd", id(o));
          assert.strictEqual(o.spec.template.spec.project, "platform", id(o));
        }
        for (const o of render(`gitops/clusters/${env}/flux`) as Any[]) {
          assert.strictEqual(o.apiVersion, "kustomize.toolkit.fluxcd.io/v1", id(o));
          assert.strictEqual(o.metadata.namespace, "flux-system", id(o));
        }
      }
    });

    it("does not redefine what the Pulumi program owns", () => {
      const owned = new Set([
        "AppProject/platform",
        "GitRepository/platform",
        "ConfigMap/platform-bridge",
        "ClusterSecretStore/aws-secrets-manager",
        "ClusterSecretStore/aws-parameter-store",
      ]);
      for (const dir of kustomizationDirs())
        for (const o of render(dir))
          assert.ok(!owned.has(id(o)) && o.kind !== "AppProject", `${dir} defines ${id(o)}`);
    });
  });

  describe("paths", () => {
    /** Every source path of Applications/ApplicationSets and spec.path of Flux Kustomizations, per render. */
    function referencedPaths(objs: Any[]): string[] {
      const out: string[] = [];
      for (const o of objs) {
        if (o.kind === "Kustomization" && o.apiVersion?.startsWith("kustomize.toolkit.fluxcd.io/"))
          out.push(o.spec.path);
        const spec =
          o.kind === "ApplicationSet"
            ? o.spec?.template?.spec
            : o.kind === "Application"
              ? o.spec
              : undefined;
        for (const s of [spec?.source, ...(spec?.sources ?? [])]) if (s?.path !== undefined) out.push(s.path);
      }
      return out;
    }

    for (const env of ENVS) {
      for (const engine of ENGINES) {
        it(`every path referenced by clusters/${env}/${engine} exists and builds`, () => {
          const paths = referencedPaths(render(`gitops/clusters/${env}/${engine}`));
          assert.ok(paths.length >= 2, "references at least two paths");
          for (const raw of paths) {
            assert.match(raw, /^(\.\/)?gitops\//, `${raw}: relative to the repository root`);
            assert.ok(!raw.includes(ENV_PLACEHOLDER), `${raw}: placeholder left unpatched`);
            const resolved = raw.replace(/\{\{ *\.metadata\.labels\.environment *\}\}/g, env);
            assert.ok(
              !resolved.includes("{{"),
              `${raw}: only the environment label may be templated in a path`,
            );
            for (const variant of switchVariants(resolved)) {
              assert.ok(
                fs.existsSync(path.join(REPO_ROOT, variant, "kustomization.yaml")),
                `${variant} exists`,
              );
              const off = /\/enabled-false$/.test(variant);
              assert.equal(
                render(variant).length > 0,
                !off,
                `${variant} renders ${off ? "nothing" : "objects"}`,
              );
            }
          }
        });
      }
    }

    it("every path in any manifest file exists (placeholders only in clusters/base)", () => {
      for (const dir of kustomizationDirs()) {
        for (const raw of referencedPaths(render(dir))) {
          if (raw.includes(ENV_PLACEHOLDER)) {
            assert.ok(dir.startsWith("gitops/clusters/base/"), `${dir}: ${raw}`);
            continue;
          }
          for (const env of ENVS) {
            const resolved = raw.replace(/\{\{ *\.metadata\.labels\.environment *\}\}/g, env);
            for (const variant of switchVariants(resolved))
              assert.ok(fs.existsSync(path.join(REPO_ROOT, variant)), `${dir}: ${variant} exists`);
          }
        }
      }
    });
  });

  describe("bridge metadata contract", () => {
    it("ApplicationSets template only bridge annotations, the environment label and the cluster server and name", () => {
      for (const env of ENVS) {
        for (const o of render(`gitops/clusters/${env}/argocd`) as Any[]) {
          assert.strictEqual(o.spec.goTemplate, true, id(o));
          const { environment, ...switches } = o.spec.generators[0].clusters.selector.matchLabels;
          assert.strictEqual(environment, env, id(o));
          for (const [k, v] of Object.entries(switches)) {
            assert.ok(BRIDGE_SWITCHES.includes(k), `${id(o)} selects on ${k}, not a bridge switch`);
            assert.strictEqual(v, "true", id(o));
          }
          const text = JSON.stringify(o.spec.template);
          for (const m of text.matchAll(/\{\{(.*?)\}\}/g)) {
            const expr = m[1].trim();
            const key = /^\.metadata\.annotations\.(\w+)$/.exec(expr)?.[1];
            assert.ok(
              (key && BRIDGE_KEYS.includes(key)) ||
                expr === ".server" ||
                // The Argo CD cluster name: generated Applications carry it so a leaving spoke can wait on them.
                expr === ".name" ||
                expr === ".metadata.labels.environment",
              `${id(o)}: {{${m[1]}}} is not bridge metadata`,
            );
          }
        }
      }
    });

    it("Flux manifests substitute only bridge keys, and every Kustomization reads the bridge", () => {
      for (const env of ENVS) {
        for (const ks of render(`gitops/clusters/${env}/flux`) as Any[]) {
          assert.deepStrictEqual(ks.spec.sourceRef, { kind: "GitRepository", name: "platform" }, id(ks));
          assert.deepStrictEqual(
            ks.spec.postBuild.substituteFrom,
            [{ kind: "ConfigMap", name: "platform-bridge" }],
            id(ks),
          );
          for (const m of String(ks.spec.path).matchAll(/\$\{([^}]*)\}/g))
            assert.ok(BRIDGE_SWITCHES.includes(m[1]), `${ks.spec.path}: \${${m[1]}} in a path`);
          for (const variant of switchVariants(ks.spec.path)) {
            const text = JSON.stringify(render(variant));
            for (const m of text.matchAll(/\$\{([^}]*)\}/g))
              assert.ok(BRIDGE_KEYS.includes(m[1]), `${variant}: \${${m[1]}}`);
          }
        }
      }
    });

    it("the AWS Load Balancer Controller gets its role and annotation from the bridge in both engines, only where enabled", () => {
      const appset: Any = ofKind(render("gitops/clusters/dev/argocd"), "ApplicationSet").find(
        (o: Any) => o.metadata.name === "aws-load-balancer-controller",
      );
      assert.strictEqual(
        appset.spec.generators[0].clusters.selector.matchLabels.enable_aws_load_balancer_controller,
        "true",
      );
      const values = appset.spec.template.spec.source.helm.valuesObject;
      assert.deepStrictEqual(values.serviceAccount.annotations, {
        "{{ .metadata.annotations.aws_load_balancer_controller_role_annotation }}":
          "{{ .metadata.annotations.aws_load_balancer_controller_iam_role_arn }}",
      });
      const hr: Any = ofKind(
        render("gitops/platform/flux/aws-load-balancer-controller/enabled-true"),
        "HelmRelease",
      ).find((o: Any) => o.metadata.name === "aws-load-balancer-controller");
      assert.deepStrictEqual(hr.spec.values.serviceAccount.annotations, {
        "${aws_load_balancer_controller_role_annotation}": "${aws_load_balancer_controller_iam_role_arn}",
      });
      assert.deepStrictEqual(render("gitops/platform/flux/aws-load-balancer-controller/enabled-false"), []);
      assert.strictEqual(hr.spec.targetNamespace, "${aws_load_balancer_controller_namespace}");
    });

    it("ExternalSecrets read <secrets_prefix>/... through a Pulumi-owned ClusterSecretStore, patched for ArgoCD", () => {
      const configs = render("gitops/platform/configs");
      const secrets = ofKind(configs, "ExternalSecret");
      assert.ok(secrets.length > 0);
      const appset: Any = ofKind(render("gitops/clusters/dev/argocd"), "ApplicationSet").find(
        (o: Any) => o.spec.template.spec.source?.path === "gitops/platform/configs",
      );
      const patches: Any[] = appset.spec.template.spec.source.kustomize.patches;
      for (const es of secrets) {
        assert.strictEqual(es.apiVersion, "external-secrets.io/v1");
        assert.strictEqual(es.spec.secretStoreRef.kind, "ClusterSecretStore");
        assert.ok(["aws-secrets-manager", "aws-parameter-store"].includes(es.spec.secretStoreRef.name));
        es.spec.dataFrom.forEach((d: Any, i: number) => {
          assert.match(d.extract.key, /^\$\{secrets_prefix\}\//);
          const covering = patches.filter(
            (p) => p.target.kind === "ExternalSecret" && p.target.name === nameOf(es),
          );
          const ops: Any[] = covering.flatMap((p) => parseYaml(p.patch));
          const op = ops.find((x) => x.path === `/spec/dataFrom/${i}/extract/key`);
          assert.ok(op, `ArgoCD patches ${id(es)} dataFrom[${i}]`);
          assert.strictEqual(
            op.value,
            d.extract.key.replace("${secrets_prefix}", "{{ .metadata.annotations.secrets_prefix }}"),
          );
        });
      }
    });
  });

  describe("podinfo environments", () => {
    it("keeps each environment's image tag on exactly one line, in the promote-tool format", () => {
      const tags: Record<string, string> = {};
      for (const env of ENVS) {
        const { tag, marker } = podinfoTagLine(env);
        tags[env] = tag;
        assert.strictEqual(marker, env === "dev", `${env}: image-policy marker only in dev`);
        const deploy: Any = ofKind(render(`gitops/apps/podinfo/overlays/${env}`), "Deployment")[0];
        assert.strictEqual(deploy.spec.template.spec.containers[0].image, `${PODINFO_IMAGE}:${tag}`);
      }
      // No other file pins a podinfo tag.
      const offenders: string[] = [];
      const walk = (dir: string): void => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
          const p = path.join(dir, e.name);
          if (e.isDirectory()) walk(p);
          else if (/\.ya?ml$/.test(e.name)) {
            const text = fs.readFileSync(p, "utf8");
            if (
              /newTag:|stefanprodan\/podinfo:/.test(text) &&
              !/apps\/podinfo\/overlays\/[a-z]+\/kustomization\.yaml$/.test(p)
            )
              offenders.push(path.relative(REPO_ROOT, p));
          }
        }
      };
      walk(GITOPS);
      assert.deepStrictEqual(offenders, []);
    });

    it("differ only in replicas, resources and image tag", () => {
      const base = normaliseKnobs(render("gitops/apps/podinfo/overlays/dev"));
      for (const env of ["staging", "prod"])
        assert.deepStrictEqual(normaliseKnobs(render(`gitops/apps/podinfo/overlays/${env}`)), base, env);
      for (const engine of ENGINES) {
        const first = normaliseKnobs(render(`gitops/apps/podinfo/deploy/${engine}/dev`));
        for (const env of ["staging", "prod"])
          assert.deepStrictEqual(
            normaliseKnobs(render(`gitops/apps/podinfo/deploy/${engine}/${env}`)),
            first,
            `${engine}/${env}`,
          );
      }
    });

    it("scales up towards prod (the knobs are actually used)", () => {
      const replicas = ENVS.map(
        (env) =>
          (ofKind(render(`gitops/apps/podinfo/overlays/${env}`), "Deployment")[0] as Any).spec.replicas,
      );
      assert.ok(
        replicas[0] <= replicas[1] && replicas[1] <= replicas[2] && replicas[0] < replicas[2],
        replicas.join(),
      );
    });

    it("ArgoCD flavour: Argo Rollouts canary with analysis that aborts on failure", () => {
      for (const env of ENVS) {
        const objs = render(`gitops/apps/podinfo/deploy/argocd/${env}`);
        const overlay: Any = ofKind(render(`gitops/apps/podinfo/overlays/${env}`), "Deployment")[0];
        assert.strictEqual(ofKind(objs, "Deployment").length, 0, "the Deployment becomes a Rollout");
        const rollout: Any = ofKind(objs, "Rollout")[0];
        assert.deepStrictEqual(
          rollout.spec.template,
          overlay.spec.template,
          "same pod template as the overlay",
        );
        assert.strictEqual(rollout.spec.replicas, overlay.spec.replicas);
        const canary = rollout.spec.strategy.canary;
        const services = ofKind(objs, "Service").map(nameOf);
        // No stableService: the podinfo Service spans stable and canary pods (replica-weighted canary).
        assert.ok(services.includes("podinfo") && services.includes(canary.canaryService));
        assert.strictEqual(canary.stableService, undefined);
        const templates = new Set(ofKind(objs, "AnalysisTemplate").map(nameOf));
        const refs = [
          ...(canary.analysis?.templates ?? []),
          ...canary.steps.filter((s: Any) => s.analysis).flatMap((s: Any) => s.analysis.templates),
        ].map((t: Any) => t.templateName);
        assert.ok(refs.length > 0 && refs.every((r) => templates.has(r)), refs.join());
        assert.ok(canary.steps.some((s: Any) => s.setWeight !== undefined));
        for (const t of ofKind(objs, "AnalysisTemplate"))
          for (const m of t.spec.metrics)
            assert.ok(Number.isInteger(m.failureLimit) && m.successCondition, m.name);
      }
    });

    it("Flux flavour: Flagger Canary with threshold and metrics targets the Deployment", () => {
      for (const env of ENVS) {
        const objs = render(`gitops/apps/podinfo/deploy/flux/${env}`);
        const canary: Any = ofKind(objs, "Canary")[0];
        const target = objs.find(
          (o) => o.kind === canary.spec.targetRef.kind && nameOf(o) === canary.spec.targetRef.name,
        );
        assert.ok(target, "targetRef exists in the render");
        assert.ok(
          !objs.some((o) => o.kind === "Service" && nameOf(o) === "podinfo"),
          "Flagger owns the podinfo Services",
        );
        const a = canary.spec.analysis;
        assert.ok(a.threshold > 0 && a.metrics.length > 0 && a.interval);
        const templates = new Set(ofKind(objs, "MetricTemplate").map(nameOf));
        for (const m of a.metrics) {
          assert.ok(m.thresholdRange, m.name);
          if (m.templateRef) assert.ok(templates.has(m.templateRef.name), m.templateRef.name);
        }
      }
    });

    it("dev image automation writes the dev overlay through the setter marker", () => {
      const dev = render("gitops/clusters/dev/flux") as Any[];
      const ks = dev.find((o) => o.metadata.name === "image-automation");
      assert.ok(ks, "dev has the image-automation Kustomization");
      for (const env of ["staging", "prod"])
        assert.ok(!render(`gitops/clusters/${env}/flux`).some((o) => nameOf(o) === "image-automation"), env);
      const objs = render(ks.spec.path);
      const policy: Any = ofKind(objs, "ImagePolicy")[0];
      assert.strictEqual(`${policy.metadata.namespace}:${policy.metadata.name}`, "flux-system:podinfo");
      assert.ok(IMAGE_POLICY_MARKER.includes(`${policy.metadata.namespace}:${policy.metadata.name}:tag`));
      const repo: Any = ofKind(objs, "ImageRepository").find(
        (r: Any) => r.metadata.name === policy.spec.imageRepositoryRef.name,
      );
      assert.strictEqual(repo.spec.image, PODINFO_IMAGE);
      assert.ok(policy.spec.policy.semver.range);
      const iua: Any = ofKind(objs, "ImageUpdateAutomation")[0];
      assert.strictEqual(iua.spec.update.strategy, "Setters");
      assert.strictEqual(
        path.normalize(iua.spec.update.path),
        path.normalize("gitops/apps/podinfo/overlays/dev"),
      );
      assert.deepStrictEqual(iua.spec.sourceRef, { kind: "GitRepository", name: "platform" });
      assert.ok(podinfoTagLine("dev").line.endsWith(IMAGE_POLICY_MARKER));
    });
  });

  describe("secrets alternatives", () => {
    it("ships a .sops.yaml example keyed to KMS that encrypts only data/stringData", () => {
      const sops = parseYaml(fs.readFileSync(path.join(GITOPS, ".sops.yaml"), "utf8"));
      assert.ok(sops.creation_rules.length > 0);
      for (const rule of sops.creation_rules) {
        assert.strictEqual(rule.encrypted_regex, "^(data|stringData)$");
        assert.match(rule.kms, /^arn:aws:kms:[^:]+:[^:]+:key\/.+$/);
      }
    });
  });

  describe("sync behaviour and ordering", () => {
    it("ArgoCD: automated prune+selfHeal in dev/staging, manual in prod, finite retry everywhere", () => {
      for (const env of ENVS) {
        for (const o of render(`gitops/clusters/${env}/argocd`) as Any[]) {
          const sp = o.spec.template.spec.syncPolicy;
          if (env === "prod") assert.strictEqual(sp.automated, undefined, `${env} ${id(o)}`);
          else assert.deepStrictEqual(sp.automated, { prune: true, selfHeal: true }, `${env} ${id(o)}`);
          assert.ok(
            Number.isInteger(sp.retry.limit) && sp.retry.limit > 0 && sp.retry.limit <= 10,
            `${id(o)} retry.limit`,
          );
          assert.ok(seconds(sp.retry.backoff.maxDuration) <= 600, `${id(o)} backoff`);
        }
      }
    });

    it("ArgoCD: sync waves put controllers before configs before apps", () => {
      const objs = render("gitops/clusters/dev/argocd") as Any[];
      const wave = (o: Any): number => Number(o.metadata.annotations["argocd.argoproj.io/sync-wave"]);
      for (const o of objs)
        assert.strictEqual(
          o.spec.template.metadata.annotations["argocd.argoproj.io/sync-wave"],
          String(wave(o)),
        );
      const isChart = (o: Any): boolean => sourcesOf(o).some((s: Any) => s.chart !== undefined);
      const configs = objs.find((o) => o.spec.template.spec.source?.path === "gitops/platform/configs");
      const apps = objs.filter((o) => !isChart(o) && o !== configs);
      assert.ok(configs && apps.length > 0);
      const maxChart = Math.max(...objs.filter(isChart).map(wave));
      assert.ok(maxChart < wave(configs), "controllers before configs");
      for (const a of apps) assert.ok(wave(configs) < wave(a), `configs before ${id(a)}`);
    });

    it("Flux: prune, wait, dependsOn chain infra-controllers -> infra-configs -> apps", () => {
      for (const env of ENVS) {
        const objs = render(`gitops/clusters/${env}/flux`) as Any[];
        const byName = new Map(objs.map((o) => [o.metadata.name, o]));
        for (const o of objs) {
          assert.strictEqual(o.spec.prune, true, id(o));
          assert.ok(
            o.spec.wait === true || (o.spec.healthChecks ?? []).length > 0,
            `${id(o)} waits for health`,
          );
          assert.ok(o.spec.timeout, `${id(o)} has a timeout`);
          for (const d of o.spec.dependsOn ?? [])
            assert.ok(byName.has(d.name), `${id(o)} dependsOn ${d.name}`);
        }
        const deps = (n: string): string[] => (byName.get(n)?.spec.dependsOn ?? []).map((d: Any) => d.name);
        assert.deepStrictEqual(deps("infra-controllers"), []);
        assert.deepStrictEqual(deps("aws-load-balancer-controller"), ["infra-controllers"]);
        assert.deepStrictEqual(deps("infra-configs"), ["infra-controllers", "aws-load-balancer-controller"]);
        assert.deepStrictEqual(deps("apps"), ["infra-configs"]);
      }
    });

    it("Flux: short intervals in dev (1m-5m), long in prod (>= 10m)", () => {
      const intervals = (env: string): number[] =>
        (render(`gitops/clusters/${env}/flux`) as Any[]).map((o) => seconds(o.spec.interval));
      for (const s of intervals("dev")) assert.ok(s >= 60 && s <= 300, `dev ${s}s`);
      for (const s of intervals("prod")) assert.ok(s >= 600, `prod ${s}s`);
      assert.ok(Math.min(...intervals("prod")) > Math.max(...intervals("dev")));
    });

    it("environment entry points differ only in the documented sync knobs", () => {
      const argo = (env: string): Any[] =>
        clone(render(`gitops/clusters/${env}/argocd`)).map((o: Any) => {
          o.spec.generators[0].clusters.selector.matchLabels.environment = "<env>";
          delete o.spec.template.spec.syncPolicy.automated;
          return o;
        });
      const flux = (env: string): Any[] =>
        clone(render(`gitops/clusters/${env}/flux`))
          .filter((o: Any) => o.metadata.name !== "image-automation")
          .map((o: Any) => {
            o.spec.interval = "<interval>";
            o.spec.path = o.spec.path.replace(new RegExp(`/${env}$`), "/<env>");
            // HelmRelease drift detection: warn in prod, enabled elsewhere (test/alerts.test.ts).
            for (const p of o.spec.patches ?? [])
              p.patch = String(p.patch).replace(/mode: (warn|enabled)$/, "mode: <drift>");
            return o;
          });
      for (const env of ["staging", "prod"]) {
        assert.deepStrictEqual(argo(env), argo("dev"), `argocd ${env}`);
        assert.deepStrictEqual(flux(env), flux("dev"), `flux ${env}`);
      }
    });

    it("installs every chart at its pin (pins.ts), from the pin's repository, with values keys the chart has", () => {
      const seen: string[] = [];
      const unknown: string[] = [];
      const check = (where: string, chart: string, repo: string, version: string, values: Any) => {
        const pin = PINS.find((p) => p.chart === chart);
        assert.ok(pin, `${where}: chart ${chart} is not in pins.ts`);
        assert.ok(pin.installedBy !== "program", `${where}: ${chart} is the program's to install`);
        assert.strictEqual(version, pin.version, `${where}: ${chart} version`);
        assert.strictEqual(repo, pin.repo, `${where}: ${chart} repository`);
        for (const k of unknownValueKeys(values ?? {}, acceptedValues(pin), ALLOWANCES[chart]))
          unknown.push(`${where}: ${chart} ${k}`);
        seen.push(chart);
      };
      // A HelmRelease's source may be applied by another kustomization (Flux's own Kustomizations order them).
      const repositories = new Map<string, Any>();
      for (const dir of kustomizationDirs())
        for (const r of ofKind(render(dir), "HelmRepository"))
          repositories.set(`${r.metadata.namespace}/${nameOf(r)}`, r);
      for (const dir of kustomizationDirs()) {
        const objs = render(dir) as Any[];
        for (const o of objs) {
          const spec =
            o.kind === "ApplicationSet"
              ? o.spec.template.spec
              : o.kind === "Application"
                ? o.spec
                : undefined;
          for (const src of spec ? [spec.source, ...(spec.sources ?? [])].filter((x) => x?.chart) : []) {
            const h = src.helm ?? {};
            check(
              `${dir} ${id(o)}`,
              src.chart,
              src.repoURL,
              String(src.targetRevision),
              h.valuesObject ?? parseYaml(h.values ?? "{}"),
            );
          }
          if (o.kind === "HelmRelease") {
            const c = o.spec.chart.spec;
            const ref = `${c.sourceRef.namespace ?? o.metadata.namespace}/${c.sourceRef.name}`;
            const repo = repositories.get(ref);
            assert.ok(repo, `${dir} ${id(o)}: no HelmRepository ${ref} in gitops/`);
            check(`${dir} ${id(o)}`, c.chart, repo.spec.url, String(c.version), o.spec.values);
          }
        }
      }
      assert.deepStrictEqual(unknown, []);
      const template = PINS.filter((p) => p.installedBy !== "program").map((p) => p.chart);
      assert.deepStrictEqual(
        [...new Set(seen)].sort(),
        template.sort(),
        "every template pin is used, and only those",
      );
    });

    it("keeps the CRDs every add-on chart installs when its Application or HelmRelease goes", () => {
      const kinds = (chart: string) => {
        const kind = ADDON_CRDS[chart];
        assert.ok(kind, `${chart}: say in ADDON_CRDS how the chart installs CRDs (read its templates)`);
        return kind;
      };
      const pinOf = (chart: string) =>
        (Object.keys(CHARTS) as ChartName[]).find((k) => CHARTS[k].chart === chart)!;
      for (const o of ofKind(render("gitops/clusters/prod/argocd"), "ApplicationSet")) {
        const source = sourcesOf(o).find((s) => s.chart);
        if (!source) continue;
        const kind = kinds(source.chart);
        if (kind.keepValue) {
          assert.ok(declares(chartDefaults(pinOf(source.chart)), kind.keepValue), kind.keepValue);
          assert.strictEqual(source.helm.valuesObject[kind.keepValue], true, `${id(o)}: ${kind.keepValue}`);
        }
        // Argo CD applies crds/ like any manifest, and deletes what it applied with the Application.
        if (kind.crdsDir)
          assert.strictEqual(
            o.spec.syncPolicy?.preserveResourcesOnDeletion,
            true,
            `${id(o)}: deletion cascades`,
          );
      }
      for (const hr of fluxHelmReleases()) {
        const chart = hr.spec.chart.spec.chart;
        const kind = kinds(chart);
        if (kind.crdsDir) {
          for (const when of ["install", "upgrade"])
            assert.match(String(hr.spec[when]?.crds), /^Create(Replace)?$/, `${id(hr)}: ${when}.crds`);
        }
        if (kind.templateToggle) {
          assert.ok(declares(chartDefaults(pinOf(chart)), kind.templateToggle), kind.templateToggle);
          const [k1, k2] = kind.templateToggle.split(".");
          assert.strictEqual(hr.spec.values?.[k1]?.[k2], false, `${id(hr)}: ${kind.templateToggle}`);
        }
      }
      for (const pin of Object.values(CHARTS)) if (pin.installedBy !== "program") kinds(pin.chart);
    });

    it("gives every add-on controller requests, and a budget exactly when it runs more than one replica", () => {
      const pinOf = (chart: string) =>
        (Object.keys(CHARTS) as ChartName[]).find((k) => CHARTS[k].chart === chart)!;
      const installs: Array<[string, string, Record<string, unknown>]> = [
        ...ofKind(render("gitops/clusters/prod/argocd"), "ApplicationSet")
          .map((o): [Any, Any] => [o, sourcesOf(o).find((s) => s.chart)])
          // Values kept as files in the repository (Prometheus') are held to these rules where they live:
          // test/progressive-delivery.test.ts.
          .filter(([, s]) => s && !s.helm?.valueFiles)
          .map(([o, s]): [string, string, Record<string, unknown>] => [
            id(o),
            s.chart,
            s.helm?.valuesObject ?? {},
          ]),
        ...fluxHelmReleases()
          .filter((hr) => !hr.spec.valuesFrom)
          .map((hr): [string, string, Record<string, unknown>] => [
            id(hr),
            hr.spec.chart.spec.chart,
            hr.spec.values ?? {},
          ]),
      ];
      assert.ok(installs.length >= 5);
      const wrong: string[] = [];
      for (const [where, chart, values] of installs) {
        const w = ADDON_WORKLOADS[chart];
        assert.ok(w, `${chart}: add it to ADDON_WORKLOADS (read its templates)`);
        const defaults = chartDefaults(pinOf(chart));
        for (const p of [w.replicas as string, w.pdb.path, w.resources])
          assert.ok(declares(defaults, p), `${chart}: ${p}`);
        const merged = mergeValues(defaults, values);
        const replicas = Number(valueAt(merged, w.replicas as string));
        const budget = budgetOf(merged, w.pdb);
        if (replicas > 1 && !budget) wrong.push(`${where}: ${replicas} replicas, no budget`);
        if (replicas === 1 && budget) wrong.push(`${where}: a budget on one replica`);
        const requests = (valueAt(merged, w.resources) as Record<string, Any> | undefined)?.requests;
        if (!requests?.cpu || !requests?.memory) wrong.push(`${where}: no requests (${w.resources})`);
      }
      assert.deepStrictEqual(wrong, []);
    });

    it("states the controller versions the pins ship, read from the charts' Chart.yaml", () => {
      const apps: Array<[string, ChartName]> = [
        ["Argo CD", "argoCd"],
        ["Argo Rollouts", "argoRollouts"],
        ["Flagger", "flagger"],
        ["Flux", "flux"],
      ];
      const wrong: string[] = [];
      for (const doc of ["README.md", "gitops/README.md"]) {
        const text = fs.readFileSync(path.join(REPO_ROOT, doc), "utf8");
        for (const [app, pin] of apps) {
          const shipped = chartAppVersion(pin).replace(/^v/, "");
          for (const m of text.matchAll(new RegExp(`${app} v?(\\d+\\.\\d+(?:\\.\\d+)?)`, "g")))
            if (!`${shipped}.`.startsWith(`${m[1]}.`))
              wrong.push(`${doc}: "${m[0]}", the pin ships ${shipped}`);
        }
      }
      assert.deepStrictEqual(wrong, []);
    });

    it("pins every chart to an exact version", () => {
      const exact = /^\d+\.\d+\.\d+$/;
      for (const o of render("gitops/clusters/prod/argocd") as Any[])
        for (const s of sourcesOf(o)) if (s.chart) assert.match(String(s.targetRevision), exact, id(o));
      for (const hr of fluxHelmReleases()) assert.match(String(hr.spec.chart.spec.version), exact, id(hr));
    });
  });
});

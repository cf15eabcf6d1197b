import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { configProblems, stackRaw } from "./lib/config";
import { assertValidCustomResource } from "./lib/crd";
import { buildStack, type CapturedResource, type Stack } from "./lib/harness";
import { simulateIdentity, simulateResourcePolicy } from "./lib/iam";
import { describeNeeds, itNeeds } from "./lib/prerequisites";
import { renderBootstrap } from "../scripts/lib/render";
import { parse } from "yaml";
import { findPlaintextSecrets } from "../policy/policies";

type Obj = Record<string, any>;
const json = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v) as object;
const REPO = "https://github.com/example-org/gitops-platform.git";

/** Every object a stack hands to the engines, rendered by the real helm and validated strictly. */
function rootObjects(s: Stack, engine: string): Obj[] {
  const release = s.one("kubernetes:helm.sh/v3:Release", `${engine}-root`);
  const docs = renderBootstrap(release);
  for (const d of docs) assertValidCustomResource(d);
  return docs;
}
const find = (docs: Obj[], kind: string, name?: string) => {
  const found = docs.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  assert.equal(found.length, 1, `expected one ${kind} ${name ?? ""}, found ${found.length}`);
  return found[0];
};
const release = (s: Stack, chart: string): CapturedResource => {
  const found = s.ofType("kubernetes:helm.sh/v3:Release").filter((r) => r.inputs.chart === chart);
  assert.equal(found.length, 1);
  return found[0];
};

const variants: Array<{ title: string; stack: "dev" | "prod"; engine: "argocd" | "flux"; overrides?: Obj }> =
  [
    { title: "dev (argocd, from the stack file)", stack: "dev", engine: "argocd" },
    { title: "prod (argocd, from the stack file)", stack: "prod", engine: "argocd" },
    {
      title: "dev with engine: flux",
      stack: "dev",
      engine: "flux",
      overrides: { "gitops-platform:gitops": { engine: "flux" } },
    },
    {
      title: "prod with engine: flux",
      stack: "prod",
      engine: "flux",
      overrides: { "gitops-platform:gitops": { engine: "flux" } },
    },
  ];

for (const v of variants) {
  describeNeeds(["tools", "upstream"], `GitOps engine: ${v.title}`, () => {
    let s: Stack;
    let docs: Obj[];
    const prod = v.stack === "prod";
    before(async () => {
      s = await buildStack(v.stack, v.overrides);
      docs = rootObjects(s, v.engine);
    });

    it("installs only the chosen engine, from a pinned chart with a timeout", () => {
      const chart = v.engine === "argocd" ? "argo-cd" : "flux2";
      const other = v.engine === "argocd" ? "flux2" : "argo-cd";
      const r = release(s, chart);
      assert.match(r.inputs.version as string, /^\d+\.\d+\.\d+$/);
      assert.ok(Number(r.inputs.timeout) > 0);
      assert.equal(
        s.ofType("kubernetes:helm.sh/v3:Release").filter((x) => x.inputs.chart === other).length,
        0,
      );
    });

    it("orders the controller after the nodes and the root objects after the controller", () => {
      const chart = release(s, v.engine === "argocd" ? "argo-cd" : "flux2");
      const root = s.one("kubernetes:helm.sh/v3:Release", `${v.engine}-root`);
      assert.ok(s.dependsOn(chart, s.one("aws:eks/nodeGroup:NodeGroup")));
      assert.ok(
        s.dependsOn(root, chart),
        "the root app must wait for (and on destroy go before) its controller",
      );
      assert.ok(!s.dependsOn(chart, root));
    });

    it("hands the bridge metadata to the engine under the documented keys", () => {
      const bridge =
        v.engine === "argocd"
          ? (s.one("kubernetes:core/v1:Secret", "in-cluster").inputs.metadata as Obj).annotations
          : s.one("kubernetes:core/v1:ConfigMap", "bridge").inputs.data;
      assert.equal(bridge.cluster_name, `platform-${v.stack}`);
      assert.equal(bridge.environment, v.stack);
      assert.equal(bridge.gitops_repo_url, REPO);
      assert.match(
        bridge.aws_load_balancer_controller_iam_role_arn,
        new RegExp(`:role/platform-${v.stack}-aws-lb-controller$`),
      );
      assert.match(
        bridge.external_secrets_iam_role_arn,
        new RegExp(`:role/platform-${v.stack}-external-secrets$`),
      );
      assert.equal(bridge.gitops_repo_path, `gitops/clusters/${v.stack}/${v.engine}`);
      assert.ok(
        fs.existsSync(path.join(__dirname, "..", bridge.gitops_repo_path)),
        "the default path exists in gitops/",
      );
    });

    if (v.engine === "argocd") {
      it("puts the root app in the platform project, never default, with the resources finalizer and finite retry", () => {
        const app = find(docs, "Application", "root");
        assert.equal(app.spec.project, "platform");
        assert.deepEqual(app.metadata.finalizers, ["resources-finalizer.argocd.argoproj.io"]);
        assert.ok(app.spec.syncPolicy.retry.limit >= 1 && app.spec.syncPolicy.retry.limit <= 10);
        assert.equal(app.spec.source.repoURL, REPO);
        assert.equal(app.spec.source.targetRevision, prod ? "v0.1.0" : "main");
      });

      it(prod ? "does not sync prod automatically" : "syncs automatically with prune and self-heal", () => {
        const policy = find(docs, "Application", "root").spec.syncPolicy;
        if (prod) assert.equal(policy.automated, undefined);
        else assert.deepEqual(policy.automated, { prune: true, selfHeal: true });
      });

      it("restricts the project to the GitOps repository, the listed chart repositories and the local cluster", () => {
        const project = find(docs, "AppProject", "platform");
        assert.equal(project.spec.sourceRepos[0], REPO);
        for (const repo of project.spec.sourceRepos) assert.doesNotMatch(repo, /[*?]/);
        assert.deepEqual(project.spec.destinations, [
          { name: "in-cluster", server: "https://kubernetes.default.svc", namespace: "*" },
        ]);
        assert.deepEqual(project.spec.orphanedResources, { warn: true });
      });

      it("admits every repository the GitOps template's Applications pull from, or Argo CD refuses them", () => {
        const admitted = new Set(find(docs, "AppProject", "platform").spec.sourceRepos as string[]);
        const used = new Set<string>();
        const walk = (dir: string) => {
          for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, e.name);
            if (e.isDirectory()) walk(p);
            else
              for (const m of fs.readFileSync(p, "utf8").matchAll(/repoURL:\s*(?:"([^"]+)"|(\S+))/g))
                used.add(m[1] ?? m[2]);
          }
        };
        walk(path.join(__dirname, "..", "gitops", "clusters"));
        assert.ok(used.size >= 2, "the template's Applications must be found");
        const refused = [...used]
          .map((u) => (u.includes("gitops_repo_url") ? REPO : u))
          .filter((u) => !admitted.has(u));
        assert.deepEqual(refused, []);
      });

      it("never puts a PodDisruptionBudget on a single replica (it would block every node drain)", () => {
        const values = release(s, "argo-cd").inputs.values as Obj;
        for (const part of ["controller", "server", "repoServer", "applicationSet"]) {
          if (values[part].pdb?.enabled)
            assert.ok((values[part].replicas ?? 1) >= 2, `${part} has a PDB with one replica`);
        }
      });

      it(`configures Argo CD ${prod ? "highly available" : "as a single replica"}, ClusterIP only, read-only by default`, () => {
        const values = release(s, "argo-cd").inputs.values as Obj;
        assert.equal(values["redis-ha"].enabled, prod);
        for (const part of ["server", "repoServer", "applicationSet"]) {
          assert.equal(values[part].replicas, prod ? 2 : 1, part);
          assert.equal(values[part].pdb.enabled, prod, part);
        }
        assert.equal(values.server.service.type, "ClusterIP");
        assert.equal(values.configs.rbac["policy.default"], "role:readonly");
        assert.equal(values.configs.cm["admin.enabled"], true, "no SSO configured: the local admin stays");
      });

      it("labels the in-cluster cluster Secret for ApplicationSet selectors and stores no credential", () => {
        const secret = s.one("kubernetes:core/v1:Secret", "in-cluster");
        const labels = (secret.inputs.metadata as Obj).labels;
        assert.equal(labels["argocd.argoproj.io/secret-type"], "cluster");
        assert.equal(labels.environment, v.stack);
        assert.deepEqual(Object.keys(secret.inputs.stringData as Obj).sort(), ["name", "server"]);
      });
    } else {
      it(`points a GitRepository at ${prod ? "the pinned tag" : "the branch"} and reconciles every ${prod ? "10m" : "1m"}`, () => {
        const repo = find(docs, "GitRepository", "platform");
        assert.deepEqual(repo.spec.ref, prod ? { tag: "v0.1.0" } : { branch: "main" });
        assert.equal(repo.spec.interval, prod ? "10m" : "1m");
        assert.equal(repo.spec.secretRef, undefined, "a public repository needs no credentials");
      });

      it("reconciles the root Kustomization with prune, health checks, bridge substitution and SOPS", () => {
        const k = find(docs, "Kustomization", "platform");
        assert.equal(k.spec.prune, true);
        assert.equal(k.spec.wait, true);
        assert.equal(k.spec.path, `./gitops/clusters/${v.stack}/flux`);
        assert.deepEqual(k.spec.postBuild.substituteFrom, [{ kind: "ConfigMap", name: "platform-bridge" }]);
        assert.deepEqual(k.spec.decryption, { provider: "sops" });
      });

      it("hardens the flux2 chart: no RBAC aggregation, one namespace watched, IRSA on kustomize-controller", () => {
        const values = release(s, "flux2").inputs.values as Obj;
        assert.equal(values.rbac.createAggregation, false);
        assert.equal(values.watchAllNamespaces, false);
        assert.equal(
          values.kustomizeController.serviceAccount.annotations["eks.amazonaws.com/role-arn"],
          s.outputs.fluxDecryptRoleArn,
        );
      });

      describe("the kustomize-controller SOPS role, evaluated by the IAM simulator", () => {
        const role = () =>
          `arn:aws:iam::${(s.outputs.kmsKeyArn as string).split(":")[4]}:role/platform-${v.stack}-flux-sops`;
        const identity = () => json(s.one("aws:iam/rolePolicy:RolePolicy", "flux-sops").inputs.policy);
        const keyPolicy = () => json(s.one("aws:kms/key:Key").inputs.policy);
        const ask = (action: string, resource: string) =>
          simulateResourcePolicy(
            keyPolicy(),
            { principal: role(), action, resource, context: { "aws:PrincipalArn": role() } },
            [identity()],
          );

        it("can decrypt with the platform key", async () => {
          assert.equal(await ask("kms:Decrypt", s.outputs.kmsKeyArn as string), "Allowed");
        });
        it("can do nothing else: no encrypt, no other key, no secrets", async () => {
          assert.equal(await ask("kms:Encrypt", s.outputs.kmsKeyArn as string), "ImplicitlyDenied");
          const other = (s.outputs.kmsKeyArn as string).replace(
            /key\/.*/,
            "key/00000000-0000-0000-0000-000000000000",
          );
          assert.equal(
            await simulateIdentity([identity()], {
              principal: role(),
              action: "kms:Decrypt",
              resource: other,
            }),
            "ImplicitlyDenied",
          );
          const secret = `arn:aws:secretsmanager:eu-west-1:${role().split(":")[4]}:secret:platform/${v.stack}/x-AbCdEf`;
          assert.equal(
            await simulateIdentity([identity()], {
              principal: role(),
              action: "secretsmanager:GetSecretValue",
              resource: secret,
            }),
            "ImplicitlyDenied",
          );
        });
        it("is assumable only by flux-system:kustomize-controller", async () => {
          const trust = json(
            s.ofType("aws:iam/role:Role").find((r) => r.inputs.name === `platform-${v.stack}-flux-sops`)
              ?.inputs.assumeRolePolicy,
          );
          const issuer = s.outputs.oidcIssuer as string;
          const assume = (sub: string) =>
            simulateResourcePolicy(trust, {
              principal: s.outputs.oidcProviderArn as string,
              action: "sts:AssumeRoleWithWebIdentity",
              resource: role(),
              context: { [`${issuer}:sub`]: sub, [`${issuer}:aud`]: "sts.amazonaws.com" },
            });
          assert.equal(await assume("system:serviceaccount:flux-system:kustomize-controller"), "Allowed");
          assert.equal(await assume("system:serviceaccount:flux-system:helm-controller"), "ImplicitlyDenied");
        });
      });
    }
  });
}

describe("GitOps engine: overrides and gates", () => {
  itNeeds(
    ["tools", "upstream"],
    "prod may sync automatically only inside allow windows, which land on the project",
    async function () {
      const s = await buildStack("prod", {
        "gitops-platform:gitops": {
          sync: {
            automated: true,
            prune: true,
            selfHeal: true,
            windows: [
              {
                kind: "allow",
                schedule: "0 9 * * 1-4",
                duration: "3h",
                timeZone: "Europe/Dublin",
                manualSync: true,
              },
            ],
          },
        },
      });
      const docs = rootObjects(s, "argocd");
      assert.deepEqual(find(docs, "Application", "root").spec.syncPolicy.automated, {
        prune: true,
        selfHeal: true,
      });
      assert.deepEqual(find(docs, "AppProject", "platform").spec.syncWindows, [
        {
          kind: "allow",
          schedule: "0 9 * * 1-4",
          duration: "3h",
          timeZone: "Europe/Dublin",
          manualSync: true,
          applications: ["*"],
        },
      ]);
    },
  );

  const problems = (stack: string, gitops: Obj, extra: Obj = {}) => {
    const raw = stackRaw(stack) as Obj;
    return configProblems({ ...raw, ...extra, gitops: { ...raw.gitops, ...gitops } });
  };
  it("refuses automated sync in prod without an allow window", () =>
    assert.match(
      problems("prod", { sync: { automated: true } }),
      /gitops.sync.automated = true: needs gitops.sync.windows with an allow window in prod/,
    ));
  it("refuses sync windows with Flux", () =>
    assert.match(
      problems("prod", {
        engine: "flux",
        sync: { windows: [{ kind: "allow", schedule: "0 9 * * *", duration: "1h" }] },
      }),
      /gitops.sync.windows = .*: are an ArgoCD feature/,
    ));
  it("refuses a malformed window", () =>
    assert.match(
      problems("dev", { sync: { windows: [{ kind: "sometimes", schedule: "daily", duration: "1h" }] } }),
      /windows\[0\].kind = "sometimes": must be one of allow, deny[\s\S]*windows\[0\].schedule = "daily": must be a five-field cron/,
    ));
  it("refuses Argo CD without HA in prod", () =>
    assert.match(
      problems("prod", { argocd: { ha: false } }),
      /gitops.argocd.ha = false: must be true in prod/,
    ));
  it("refuses an unbounded retry", () =>
    assert.match(
      problems("dev", { sync: { retryLimit: 0 } }),
      /gitops.sync.retryLimit = 0: must be a whole number from 1 to 10/,
    ));
  it("refuses a private repository when External Secrets is off", () =>
    assert.match(
      problems("dev", { private: true }, { externalSecrets: { enabled: false } }),
      /externalSecrets.enabled = false: must be true with gitops.private/,
    ));
  it("refuses admin groups without SSO", () =>
    assert.match(
      problems("dev", { argocd: { adminGroups: ["platform"] } }),
      /gitops.argocd.adminGroups = \["platform"\]: need gitops.argocd.sso/,
    ));
  const sso = { issuer: "https://login.example.com", clientId: "argocd" };
  it("refuses SSO without Argo CD's external URL: every login would be sent to the chart's example domain", () =>
    assert.match(
      problems("prod", { argocd: { sso } }),
      /gitops-platform:gitops.argocd.url = \(unset\): is required with gitops.argocd.sso: /,
    ));
  for (const [url, why] of [
    ["http://argocd.example.com", /must be an https:\/\/ URL of a host/],
    ["https://argocd.example.com/argocd", /must be an https:\/\/ URL of a host/],
    ["https://argocd.example.com?next=https://evil.example", /must be an https:\/\/ URL of a host/],
    ["https://argocd.example.com#x", /must be an https:\/\/ URL of a host/],
    ["https://argocd.example.com\\@evil.example", /must (not carry credentials|be an https:\/\/ URL)/],
    ["https://10.0.0.1", /must be an https:\/\/ URL of a host/],
    ["https://argocd.example.com:99999", /must be an https:\/\/ URL of a host/],
    ["argocd.example.com", /must be an https:\/\/ URL of a host/],
  ] as const)
    it(`refuses gitops.argocd.url ${url}`, () =>
      assert.match(
        problems("dev", { argocd: { sso, url } }),
        new RegExp(`gitops.argocd.url = .*${why.source}`),
      ));
  it("refuses credentials in gitops.argocd.url without echoing them", () => {
    const message = problems("dev", { argocd: { sso, url: "https://admin:hunter2@argocd.example.com" } });
    assert.match(
      message,
      /gitops.argocd.url = "https:\/\/\*\*\*@argocd.example.com": must not carry credentials/,
    );
    assert.doesNotMatch(message, /hunter2/);
  });
  it("writes Argo CD's external URL to argocd-cm through global.domain, from which the chart renders `url`", async () => {
    const s = await buildStack("dev", {
      "gitops-platform:gitops": { argocd: { sso, url: "https://ArgoCD.platform-dev.example.com/" } },
    });
    const values = release(s, "argo-cd").inputs.values as Obj;
    assert.equal(values.global.domain, "argocd.platform-dev.example.com");
    // A url in configs.cm would override the chart's https://<global.domain>; only one source of truth.
    assert.equal(values.configs.cm.url, undefined);
  });
  it("refuses an unknown sync key", () =>
    assert.match(
      problems("dev", { sync: { autoSync: true } }),
      /gitops.sync.autoSync = true: is not a known key/,
    ));
});

describeNeeds(
  ["tools", "upstream"],
  "GitOps engine: credentials come from Secrets Manager, never from config or state",
  () => {
    for (const engine of ["argocd", "flux"] as const) {
      it(`${engine}: a private repository gets an ExternalSecret, a seed secret, and no credential anywhere in the graph`, async () => {
        const s = await buildStack("dev", {
          "gitops-platform:gitops": {
            engine,
            private: true,
            ...(engine === "argocd"
              ? {
                  argocd: {
                    sso: { issuer: "https://login.example.com", clientId: "argocd" },
                    url: "https://argocd.platform-dev.example.com",
                    adminGroups: ["platform-admins"],
                  },
                }
              : {}),
          },
          "gitops-platform:externalSecrets": {
            allowedNamespaces: ["argocd", "flux-system", "external-secrets"],
          },
          "gitops-platform:alerts": {
            destinations: [
              { name: "oncall", type: "slack", channel: "#platform-alerts" },
              { name: "hooks", type: "webhook" },
              { name: "teams", type: "msteams" },
            ],
          },
        });
        const docs = rootObjects(s, engine);
        const es = find(docs, "ExternalSecret", "gitops-repository");
        assert.equal(es.spec.data[0].remoteRef.key, "platform/dev/gitops/repository");
        assert.equal(es.spec.secretStoreRef.name, "aws-secrets-manager");
        const seeded = s.ofType("aws:secretsmanager/secret:Secret").map((x) => x.inputs.name);
        assert.ok(seeded.includes("platform/dev/gitops/repository"));
        if (engine === "argocd") {
          assert.equal(
            es.spec.target.template.metadata.labels["argocd.argoproj.io/secret-type"],
            "repository",
          );
          assert.equal(es.spec.target.template.data.password, "{{ .password }}");
          assert.ok(seeded.includes("platform/dev/argocd/oidc"));
          const values = release(s, "argo-cd").inputs.values as Obj;
          assert.equal(
            values.configs.cm["admin.enabled"],
            false,
            "SSO configured: the local admin is disabled",
          );
          assert.match(values.configs.cm["oidc.config"], /clientSecret: \$argocd-oidc:clientSecret/);
          assert.equal(values.configs.rbac["policy.csv"], "g, platform-admins, role:admin");
        } else {
          assert.deepEqual(find(docs, "GitRepository", "platform").spec.secretRef, {
            name: "gitops-repository",
          });
        }
        const root = s.one("kubernetes:helm.sh/v3:Release", `${engine}-root`);
        assert.ok(s.dependsOn(root, s.one("kubernetes:helm.sh/v3:Release", "external-secrets-stores")));
        assert.equal(s.ofType("aws:secretsmanager/secretVersion:SecretVersion").length, 0);
        assert.doesNotMatch(JSON.stringify(s.resources.map((r) => r.inputs)), /password"\s*:\s*"(?!\{\{)/);
        // The alert credentials (Slack token, webhook URLs) exist only in Secrets Manager: seeded empty, read by
        // ExternalSecrets; the engines' configs hold references to the Secret's keys, never a value.
        for (const name of ["oncall", "hooks", "teams"])
          assert.ok(seeded.includes(`platform/dev/alerts/${name}`));
        for (const r of s.ofType("kubernetes:helm.sh/v3:Release"))
          assert.deepEqual(findPlaintextSecrets(r.inputs.values), [], `${r.name}: secret-looking values`);
        if (engine === "argocd") {
          const notifiers = (release(s, "argo-cd").inputs.values as Obj).notifications.notifiers;
          const scalars = (v: unknown): string[] =>
            typeof v === "string" ? [v] : Object.values((v ?? {}) as Obj).flatMap(scalars);
          for (const [key, text] of Object.entries<string>(notifiers)) {
            const config = parse(text) as Obj;
            const credentials = scalars({ ...config, headers: undefined });
            assert.ok(credentials.length > 0, key);
            for (const c of credentials)
              assert.match(c, /^\$alert-[a-z0-9-]+$/, `${key}: ${c} is not a reference`);
          }
          assert.equal(find(docs, "ExternalSecret", "argocd-notifications-secret").spec.data.length, 3);
        } else {
          const alerts = renderBootstrap(s.one("kubernetes:helm.sh/v3:Release", "flux-alerts"));
          for (const d of alerts) assertValidCustomResource(d);
          assert.equal(alerts.filter((d) => d.kind === "Provider").length, 3);
          for (const p of alerts.filter((d) => d.kind === "Provider") as Obj[]) {
            assert.ok(
              [undefined, "https://slack.com/api/chat.postMessage"].includes(p.spec.address),
              p.metadata.name,
            );
            assert.equal(p.spec.secretRef.name, `alert-${p.metadata.name}`);
            find(alerts as Obj[], "ExternalSecret", `alert-${p.metadata.name}`);
          }
        }
      });
    }
  },
);

describe("GitOps engine: the bridge contract matches what gitops/ consumes", () => {
  it("every bridge key the GitOps repository reads is one the program writes", async () => {
    const s = await buildStack("dev");
    const written = new Set(s.outputs.bridgeMetadataKeys as string[]);
    const used = new Set<string>();
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.ya?ml$/.test(e.name)) {
          const text = fs.readFileSync(p, "utf8");
          for (const m of text.matchAll(/\.metadata\.annotations\.([a-z0-9_]+)/g)) used.add(m[1]);
          for (const m of text.matchAll(/\$\{([a-z][a-z0-9_]*)(:?=[^}]*)?\}/g)) used.add(m[1]);
        }
      }
    };
    walk(path.join(__dirname, "..", "gitops"));
    assert.ok(used.size >= 3, `expected gitops/ to consume bridge keys, found ${[...used].join(", ")}`);
    const missing = [...used].filter((k) => !written.has(k));
    assert.deepEqual(
      missing,
      [],
      `gitops/ reads bridge keys the program never writes: ${missing.join(", ")}`,
    );
  });
});

describe("the AWS Load Balancer Controller role, evaluated by the IAM simulator", () => {
  let s: Stack;
  let policy: object;
  let account: string;
  before(async () => {
    s = await buildStack("dev");
    policy = json(s.one("aws:iam/rolePolicy:RolePolicy", "aws-load-balancer-controller").inputs.policy);
    account = (s.outputs.kmsKeyArn as string).split(":")[4];
  });
  const lb = (name: string) =>
    `arn:aws:elasticloadbalancing:eu-west-1:${account}:loadbalancer/app/${name}/0123456789abcdef`;
  const ask = (action: string, resource: string, context: Record<string, string | string[]> = {}) =>
    simulateIdentity([policy], {
      principal: `arn:aws:iam::${account}:role/platform-dev-aws-lb-controller`,
      action,
      resource,
      context,
    });

  it("creates load balancers only with this cluster's tag", async () => {
    const tag = (v: string) => ({
      "aws:RequestTag/elbv2.k8s.aws/cluster": v,
      "aws:TagKeys": ["elbv2.k8s.aws/cluster"],
    });
    assert.equal(
      await ask("elasticloadbalancing:CreateLoadBalancer", lb("k8s-podinfo"), tag("platform-dev")),
      "Allowed",
    );
    assert.equal(
      await ask("elasticloadbalancing:CreateLoadBalancer", lb("k8s-podinfo"), tag("platform-prod")),
      "ImplicitlyDenied",
    );
  });
  it("deletes only load balancers this cluster owns", async () => {
    const owned = (v: string) => ({ "aws:ResourceTag/elbv2.k8s.aws/cluster": v });
    assert.equal(
      await ask("elasticloadbalancing:DeleteLoadBalancer", lb("k8s-podinfo"), owned("platform-dev")),
      "Allowed",
    );
    assert.equal(
      await ask("elasticloadbalancing:DeleteLoadBalancer", lb("k8s-other"), owned("platform-prod")),
      "ImplicitlyDenied",
    );
  });
  it("can describe, cannot touch IAM beyond the ELB service-linked role", async () => {
    assert.equal(await ask("elasticloadbalancing:DescribeLoadBalancers", "*"), "Allowed");
    assert.equal(await ask("iam:CreateRole", `arn:aws:iam::${account}:role/anything`), "ImplicitlyDenied");
  });
  it("cannot claim another team's load balancer or security group by tagging it", async () => {
    const claim = {
      "aws:RequestTag/elbv2.k8s.aws/cluster": "platform-dev",
      "aws:TagKeys": ["elbv2.k8s.aws/cluster"],
    };
    assert.equal(await ask("elasticloadbalancing:AddTags", lb("other-team"), claim), "ImplicitlyDenied");
    const sg = `arn:aws:ec2:eu-west-1:${account}:security-group/sg-0123456789abcdef0`;
    assert.equal(await ask("ec2:CreateTags", sg, claim), "ImplicitlyDenied");
    assert.equal(
      await ask("ec2:CreateTags", sg, { ...claim, "ec2:CreateAction": "CreateSecurityGroup" }),
      "Allowed",
      "tagging its own security group as it creates it",
    );
    assert.equal(
      await ask("elasticloadbalancing:AddTags", lb("k8s-podinfo"), {
        ...claim,
        "elasticloadbalancing:CreateAction": "CreateLoadBalancer",
      }),
      "Allowed",
      "tagging its own load balancer as it creates it",
    );
  });
  it("cannot move a load balancer it owns to another cluster", async () => {
    const owned = { "aws:ResourceTag/elbv2.k8s.aws/cluster": "platform-dev" };
    const retag = {
      ...owned,
      "aws:RequestTag/elbv2.k8s.aws/cluster": "platform-prod",
      "aws:TagKeys": ["elbv2.k8s.aws/cluster"],
    };
    assert.equal(await ask("elasticloadbalancing:AddTags", lb("k8s-podinfo"), retag), "ImplicitlyDenied");
    assert.equal(
      await ask("elasticloadbalancing:AddTags", lb("k8s-podinfo"), { ...owned, "aws:TagKeys": ["team"] }),
      "Allowed",
    );
  });
  it("cannot delete listeners of load balancers the controller did not name", async () => {
    const listener = (name: string) =>
      `arn:aws:elasticloadbalancing:eu-west-1:${account}:listener/app/${name}/0123456789abcdef/fedcba9876543210`;
    assert.equal(
      await ask("elasticloadbalancing:DeleteListener", listener("other-team")),
      "ImplicitlyDenied",
    );
    assert.equal(await ask("elasticloadbalancing:DeleteListener", listener("k8s-podinfo-web")), "Allowed");
  });
});

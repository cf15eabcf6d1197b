// The managed engine (gitops.engine: eks-argocd): the EKS Argo CD capability, its role and cluster access, the
// same root objects as the self-managed engine, and what it refuses. Checked against the pinned Argo CD CRDs,
// the real helm binary, the IAM simulator and the policy pack.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { resolveConfig } from "../config";
import { ENGINES, HUB_ENGINES } from "../core/engines";
import { ENGINE_DEFINITIONS } from "../engines";
import {
  NOTIFICATIONS_CONFIG_MAP,
  NOTIFICATIONS_SECRET,
  notificationsValues,
} from "../engines/argo/notifications";
import { runPolicies } from "../policy/harness";
import { ROOT } from "../scripts/engine";
import { configProblems, stackRaw } from "./lib/config";
import { assertValidCustomResource } from "./lib/crd";
import { buildFleet, buildStack, type CapturedResource, type Stack } from "./lib/harness";
import { simulateIdentity, simulateResourcePolicy } from "./lib/iam";
import { kubectlKustomize } from "../scripts/lib/kustomize";
import { renderBootstrap } from "../scripts/lib/render";
import { itNeeds } from "./lib/prerequisites";
import { generateApplications } from "../scripts/lib/appset";
import { asServer } from "../scripts/lib/plan/fleet";
import type { FleetHubOutputs } from "../topology/fleet-hub";
import { MANUAL_ONLY_WINDOW } from "../engines/argo/projects";

type Obj = Record<string, any>;
const json = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v) as object;
const REPO = "https://github.com/example-org/gitops-platform.git";
const INSTANCE_ARN = "arn:aws:sso:::instance/ssoins-72230a1b2c3d4e5f";
const ADMINS = "9067c1f2a3-5a8b3c4d-1e2f-4a5b-8c9d-0e1f2a3b4c5d";
const VIEWERS = "9067c1f2a3-6b9c4d5e-2f3a-4b5c-9d0e-1f2a3b4c5d6e";
const ONCALL_USER = "7a1e4f5b-1c2d-4e3f-8a9b-0c1d2e3f4a5b";
const EKS_ARGOCD = {
  identityCenter: { instanceArn: INSTANCE_ARN, region: "eu-west-1" },
  rbac: [
    { role: "ADMIN", groups: [ADMINS], users: [ONCALL_USER] },
    { role: "VIEWER", groups: [VIEWERS] },
  ],
};
const CAPABILITY = "aws:eks/capability:Capability";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const SECRET = "kubernetes:core/v1:Secret";
const SECRET_PATCH = "kubernetes:core/v1:SecretPatch";
const ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry";
const ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation";

/**
 * A stand-in for the opt-in label the EKS user guide names (gitops.eksArgocd.notificationsLabel): the program
 * copies whatever the stack gives onto argocd-notifications-cm, so any valid label proves it.
 */
const OPT_IN = "notifications.example.com/opt-in=true";
/** The hub stack file's gitops section switched to the managed engine: Identity Center instead of OIDC and HA. */
const MANAGED_HUB = {
  engine: "eks-argocd",
  argocd: {},
  eksArgocd: { ...EKS_ARGOCD, notificationsLabel: OPT_IN },
};
/** Overrides that switch a stack file to the managed engine. */
function managed(extra: Obj = {}): Obj {
  return { "gitops-platform:gitops": { engine: "eks-argocd", eksArgocd: EKS_ARGOCD, ...extra } };
}
/** Prod alerts (its stack file has a destination), so the managed notifications controller needs its label. */
const managedFor = (stack: string) =>
  managed(stack === "prod" ? { eksArgocd: { ...EKS_ARGOCD, notificationsLabel: OPT_IN } } : {});
const rendered = (s: Stack) => renderBootstrap(s.one(RELEASE, "eks-argocd-root"));
const find = (docs: Obj[], kind: string, name?: string) => {
  const found = docs.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  assert.equal(found.length, 1, `expected one ${kind} ${name ?? ""}, found ${found.length}`);
  return found[0];
};
const accountOf = (s: Stack) => (s.outputs.kmsKeyArn as string).split(":")[4];

for (const stack of ["dev", "prod"] as const) {
  const prod = stack === "prod";
  describe(`eks-argocd engine: ${stack} stack`, () => {
    let s: Stack;
    let capability: CapturedResource;
    let docs: Obj[];
    before(async () => {
      s = await buildStack(stack, managedFor(stack));
      capability = s.one(CAPABILITY);
      docs = rendered(s);
    });

    it("creates the ARGOCD capability on this cluster with its role, Identity Center and the role mappings", () => {
      const i = capability.inputs as Obj;
      assert.equal(i.type, "ARGOCD");
      assert.equal(i.clusterName, `platform-${stack}`);
      assert.match(i.roleArn, new RegExp(`:role/platform-${stack}-argocd-capability$`));
      assert.equal(i.roleArn, s.outputs.argocdCapabilityRoleArn);
      assert.equal(i.deletePropagationPolicy, "RETAIN", "the only value the EKS API accepts");
      assert.deepEqual(i.configuration.argoCd, {
        awsIdc: { idcInstanceArn: INSTANCE_ARN, idcRegion: "eu-west-1" },
        namespace: "argocd",
        rbacRoleMappings: [
          {
            role: "ADMIN",
            identities: [
              { id: ADMINS, type: "SSO_GROUP" },
              { id: ONCALL_USER, type: "SSO_USER" },
            ],
          },
          { role: "VIEWER", identities: [{ id: VIEWERS, type: "SSO_GROUP" }] },
        ],
      });
      assert.equal(s.outputs.gitopsEngine, "eks-argocd");
      assert.equal(s.outputs.gitopsNamespace, "argocd");
    });

    it("installs no Argo CD chart and no Flux: AWS runs the controllers", () => {
      const charts = s.ofType(RELEASE).map((r) => r.inputs.chart);
      assert.ok(!charts.includes("argo-cd") && !charts.includes("flux2"), charts.join(", "));
      assert.equal(
        s.ofType("kubernetes:core/v1:Namespace").filter((n) => (n.inputs.metadata as Obj).name === "argocd")
          .length,
        0,
      );
    });

    it("associates cluster access with the capability role after the capability, and creates no access entry for it", () => {
      const role = s.outputs.argocdCapabilityRoleArn as string;
      const entries = s
        .ofType("aws:eks/accessEntry:AccessEntry")
        .filter((e) => e.inputs.principalArn === role);
      assert.deepEqual(entries, [], "EKS creates the capability role's entry; a second one is refused");
      const associations = s
        .ofType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        .filter((a) => a.inputs.principalArn === role);
      assert.equal(associations.length, 1);
      const a = associations[0];
      assert.equal(a.inputs.clusterName, `platform-${stack}`);
      assert.equal(a.inputs.policyArn, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy");
      assert.deepEqual(a.inputs.accessScope, { type: "cluster" });
      assert.ok(
        s.dependsOn(a, capability),
        "the association needs the entry EKS creates with the capability",
      );
    });

    it("applies the root objects after the capability is ACTIVE, its access, the nodes and the secrets operator", () => {
      const root = s.one(RELEASE, "eks-argocd-root");
      assert.equal(root.inputs.namespace, "argocd");
      assert.equal(root.inputs.createNamespace, true, "the capability may have created its namespace");
      for (const dep of [
        capability,
        s.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "eks-argocd-local-cluster"),
        s.one("aws:eks/nodeGroup:NodeGroup"),
        s.ofType(RELEASE).find((r) => r.inputs.chart === "external-secrets") as CapturedResource,
      ]) {
        assert.ok(s.dependsOn(root, dep), `the root must wait for (and on destroy go before) ${dep.name}`);
      }
      assert.equal(
        s.dependsOn(root, s.one(RELEASE, "external-secrets-stores")),
        prod,
        prod
          ? "prod's alert credentials come through the stores"
          : "without alerts the root's objects read nothing through the stores: the capability reads the repository's credentials itself",
      );
      assert.ok(
        !s.dependsOn(capability, s.one("aws:eks/nodeGroup:NodeGroup")),
        "the capability runs off the nodes",
      );
    });

    itNeeds(
      ["upstream"],
      "renders an AppProject and root Application valid against the pinned Argo CD CRDs",
      function () {
        const custom = docs.filter((d) => d.apiVersion.includes("/"));
        assert.deepEqual(custom.map((d) => d.kind).sort(), [
          "AppProject",
          "Application",
          ...(prod ? ["ExternalSecret"] : []),
        ]);
        for (const d of custom) assertValidCustomResource(d);
      },
    );

    it("restricts the project to the repository and this cluster by ARN, reading Applications from argocd only", () => {
      const project = find(docs, "AppProject", "platform");
      const arn = `arn:aws:eks:eu-west-1:${accountOf(s)}:cluster/platform-${stack}`;
      assert.deepEqual(project.spec.sourceNamespaces, ["argocd"]);
      assert.deepEqual(project.spec.destinations, [{ name: "in-cluster", server: arn, namespace: "*" }]);
      assert.equal(project.spec.sourceRepos[0], REPO);
      assert.doesNotMatch(
        JSON.stringify(docs),
        /kubernetes\.default\.svc/,
        "the capability does not know it",
      );
    });

    it(`points the root Application at the repository, ${prod ? "syncing prod by hand" : "syncing automatically"}`, () => {
      const app = find(docs, "Application", "root");
      assert.equal(app.metadata.namespace, "argocd");
      assert.equal(app.spec.project, "platform");
      assert.deepEqual(app.spec.source, {
        repoURL: REPO,
        targetRevision: prod ? "v0.1.0" : "main",
        path: `gitops/clusters/${stack}/argocd`,
      });
      assert.equal(
        app.spec.destination.server,
        `arn:aws:eks:eu-west-1:${accountOf(s)}:cluster/platform-${stack}`,
      );
      assert.deepEqual(app.metadata.finalizers, ["resources-finalizer.argocd.argoproj.io"]);
      if (prod) assert.equal(app.spec.syncPolicy.automated, undefined);
      else assert.deepEqual(app.spec.syncPolicy.automated, { prune: true, selfHeal: true });
    });

    it("registers the local cluster by ARN with the bridge metadata, in the platform project, without credentials", () => {
      const secret = find(docs, "Secret", "in-cluster");
      const arn = `arn:aws:eks:eu-west-1:${accountOf(s)}:cluster/platform-${stack}`;
      assert.deepEqual(secret.stringData, { name: "in-cluster", server: arn, project: "platform" });
      assert.equal(secret.metadata.namespace, "argocd");
      assert.equal(secret.metadata.labels["argocd.argoproj.io/secret-type"], "cluster");
      assert.equal(secret.metadata.labels.environment, stack);
      assert.equal(secret.metadata.labels.cluster_name, `platform-${stack}`);
      const bridge = secret.metadata.annotations;
      assert.deepEqual(Object.keys(bridge).sort(), s.outputs.bridgeMetadataKeys);
      assert.equal(bridge.gitops_repo_path, `gitops/clusters/${stack}/argocd`);
      assert.ok(
        fs.existsSync(path.join(ROOT, bridge.gitops_repo_path)),
        "the default path exists in gitops/",
      );
      assert.match(
        bridge.aws_load_balancer_controller_iam_role_arn,
        new RegExp(`:role/platform-${stack}-aws-lb-controller$`),
      );
    });

    it("gives the role no permission for a public repository, and the key no statement for it", () => {
      const role = s.outputs.argocdCapabilityRoleArn as string;
      assert.equal(
        s.ofType("aws:iam/rolePolicy:RolePolicy").filter((p) => p.name.startsWith("eks-argocd")).length,
        0,
      );
      assert.doesNotMatch(
        JSON.stringify(s.one("aws:kms/key:Key").inputs.policy),
        new RegExp(role.split("/")[1]),
      );
    });

    it("passes the policy pack", () => {
      const violations = runPolicies(
        s.resources.map((r) => ({ type: r.type, name: r.name, props: r.inputs })),
      );
      assert.deepEqual(violations, []);
    });

    it(
      prod
        ? "alerts through the managed notifications controller: its opt-in label, the engine's triggers, the capability's URL"
        : "without a destination writes no notifications configuration and subscribes nothing",
      () => {
        const maps = docs.filter(
          (d) => d.kind === "ConfigMap" && d.metadata.name === NOTIFICATIONS_CONFIG_MAP,
        );
        const project = find(docs, "AppProject", "platform");
        if (!prod) {
          assert.deepEqual(maps, []);
          assert.deepEqual(Object.keys(project.metadata.annotations ?? {}), []);
          return;
        }
        assert.equal(maps.length, 1);
        const cm = maps[0];
        assert.equal(cm.metadata.namespace, "argocd");
        assert.equal(cm.metadata.labels["notifications.example.com/opt-in"], "true", "the stack's label");
        // The same configuration the self-managed engine's chart writes, linking to the capability's UI.
        const expected = notificationsValues({
          environment: "prod",
          clusterName: "platform-prod",
          destinations: [{ name: "platform-oncall", type: "slack", channel: "platform-alerts" }],
          argocdUrl: s.outputs.argocdServerUrl as string,
        }) as Obj;
        assert.match(String(s.outputs.argocdServerUrl), /^https:\/\//);
        assert.deepEqual(
          Object.keys(cm.data).sort(),
          [
            "context",
            ...Object.keys(expected.notifiers),
            ...Object.keys(expected.triggers),
            ...Object.keys(expected.templates),
          ].sort(),
        );
        for (const part of ["notifiers", "triggers", "templates"])
          for (const [k, v] of Object.entries(expected[part] as Obj)) assert.equal(cm.data[k], v, k);
        assert.deepEqual(parse(cm.data.context), {
          argocdUrl: s.outputs.argocdServerUrl,
          environment: "prod",
          cluster: "platform-prod",
        });
        assert.match(cm.data["template.app-sync-failed"], /\{\{\.context\.argocdUrl\}\}\/applications\//);
        // Credentials reach the managed controller as argocd-notifications-secret, from Secrets Manager.
        const es = find(docs, "ExternalSecret", NOTIFICATIONS_SECRET);
        assert.equal(es.metadata.namespace, "argocd");
        assert.deepEqual(
          es.spec.data.map((d: Obj) => [d.secretKey, d.remoteRef.key]),
          [["alert-platform-oncall", "platform/prod/alerts/platform-oncall"]],
        );
        assert.ok(!JSON.stringify(docs).includes("xoxb-"), "no credential in the release");
        // Prod is gated: every trigger, drift included, is subscribed on the project.
        assert.deepEqual(Object.keys(project.metadata.annotations).sort(), [
          "notifications.argoproj.io/subscribe.on-health-degraded.platform-oncall",
          "notifications.argoproj.io/subscribe.on-out-of-sync.platform-oncall",
          "notifications.argoproj.io/subscribe.on-sync-failed.platform-oncall",
        ]);
      },
    );
  });
}

describe("eks-argocd engine: the gitops/ template works unchanged", () => {
  for (const env of ["dev", "staging", "prod"]) {
    it(`${env}: every ApplicationSet lives in the capability's namespace, in the platform project, targeting the generated cluster`, () => {
      const sets = kubectlKustomize(path.join(ROOT, "gitops", "clusters", env, "argocd")) as Obj[];
      assert.ok(sets.length >= 3, `only ${sets.length} objects rendered`);
      for (const set of sets) {
        const where = `${set.kind} ${set.metadata.name}`;
        assert.equal(set.kind, "ApplicationSet", where);
        assert.equal(set.metadata.namespace, "argocd", `${where}: the project's only source namespace`);
        assert.equal(set.spec.template.spec.project, "platform", where);
        assert.ok(
          set.spec.generators.every((g: Obj) => g.clusters),
          `${where}: clusters generator`,
        );
        // The generated server is the cluster Secret's: the cluster ARN with the managed engine.
        assert.equal(set.spec.template.spec.destination.server, "{{ .server }}", where);
      }
      assert.doesNotMatch(JSON.stringify(sets), /kubernetes\.default\.svc|in-cluster/);
    });
  }
});

describe("eks-argocd engine: a private repository's credentials, read by the capability from Secrets Manager", () => {
  let s: Stack;
  let account: string;
  let role: string;
  let keyArn: string;
  let identity: object;
  let trust: object;
  before(async () => {
    s = await buildStack("dev", managed({ private: true }));
    account = accountOf(s);
    role = s.outputs.argocdCapabilityRoleArn as string;
    keyArn = s.outputs.kmsKeyArn as string;
    identity = json(s.one("aws:iam/rolePolicy:RolePolicy", "eks-argocd-capability").inputs.policy);
    trust = json(
      s.ofType("aws:iam/role:Role").find((r) => r.inputs.name === "platform-dev-argocd-capability")?.inputs
        .assumeRolePolicy,
    );
  });
  const secret = (name: string, suffix = "AbCdEf") =>
    `arn:aws:secretsmanager:eu-west-1:${account}:secret:${name}-${suffix}`;

  it("references the seeded Secrets Manager entry by ARN: no ExternalSecret, no credential in the cluster or state", () => {
    const docs = rendered(s);
    const repo = find(docs, "Secret", "gitops-repository");
    const seeded = s
      .ofType("aws:secretsmanager/secret:Secret")
      .find((x) => x.inputs.name === "platform/dev/gitops/repository");
    assert.ok(seeded, "the stack creates the entry, empty, for a person to fill");
    assert.match(
      repo.stringData.secretArn,
      /^arn:aws:secretsmanager:eu-west-1:\d{12}:secret:platform\/dev\/gitops\/repository-[A-Za-z0-9]{6}$/,
    );
    assert.deepEqual(Object.keys(repo.stringData).sort(), ["project", "secretArn", "type", "url"]);
    assert.equal(repo.stringData.url, REPO);
    assert.equal(repo.metadata.labels["argocd.argoproj.io/secret-type"], "repository");
    assert.equal(docs.filter((d) => d.kind === "ExternalSecret").length, 0);
    assert.equal(s.ofType("aws:secretsmanager/secretVersion:SecretVersion").length, 0);
    assert.deepEqual(
      runPolicies(s.resources.map((r) => ({ type: r.type, name: r.name, props: r.inputs }))),
      [],
    );
  });

  it("adopts an existing entry by name when the stack does not create it", async () => {
    const adopted = await buildStack("dev", {
      ...managed({ private: true }),
      "gitops-platform:externalSecrets": { adoptSeedSecrets: true },
    });
    assert.equal(adopted.ofType("aws:secretsmanager/secret:Secret").length, 0);
    const repo = find(rendered(adopted), "Secret", "gitops-repository");
    assert.match(repo.stringData.secretArn, /:secret:platform\/dev\/gitops\/repository-[A-Za-z0-9]{6}$/);
  });

  describe("trust, evaluated by the IAM simulator", () => {
    const assume = (principal: string, context: Record<string, string> = {}, action = "sts:AssumeRole") =>
      simulateResourcePolicy(trust, { principal, action, resource: role, context });
    const capabilityArn = (cluster: string, type = "ARGOCD", capability = "argocd") =>
      `arn:aws:eks:eu-west-1:${account}:capability/${cluster}/${type}/${capability}/0a1b2c3d`;

    it("the EKS capabilities service may assume the role and tag its session for this account and cluster", async () => {
      const here = { "aws:SourceAccount": account, "aws:SourceArn": capabilityArn("platform-dev") };
      assert.equal(await assume("capabilities.eks.amazonaws.com", here), "Allowed");
      assert.equal(await assume("capabilities.eks.amazonaws.com", here, "sts:TagSession"), "Allowed");
    });
    it("not on behalf of another account or another cluster's capability", async () => {
      assert.equal(
        await assume("capabilities.eks.amazonaws.com", { "aws:SourceAccount": "999988887777" }),
        "ImplicitlyDenied",
      );
      assert.equal(
        await assume("capabilities.eks.amazonaws.com", {
          "aws:SourceAccount": account,
          "aws:SourceArn": capabilityArn("platform-prod"),
        }),
        "ImplicitlyDenied",
      );
    });
    it("not for another capability of the same cluster (ACK acts on AWS with its own role)", async () => {
      assert.equal(
        await assume("capabilities.eks.amazonaws.com", {
          "aws:SourceAccount": account,
          "aws:SourceArn": capabilityArn("platform-dev", "ACK", "ack"),
        }),
        "ImplicitlyDenied",
      );
    });
    it("no other service or principal may assume it", async () => {
      assert.equal(await assume("eks.amazonaws.com"), "ImplicitlyDenied");
      assert.equal(await assume("pods.eks.amazonaws.com"), "ImplicitlyDenied");
      assert.equal(await assume(`arn:aws:iam::${account}:role/platform-admin`), "ImplicitlyDenied");
    });
  });

  describe("permissions, evaluated by the IAM simulator", () => {
    const read = (resource: string) =>
      simulateIdentity([identity], { principal: role, action: "secretsmanager:GetSecretValue", resource });

    it("reads the repository's entry under this environment's prefix", async () => {
      assert.equal(await read(secret("platform/dev/gitops/repository")), "Allowed");
      assert.equal(
        await simulateIdentity([identity], {
          principal: role,
          action: "secretsmanager:DescribeSecret",
          resource: secret("platform/dev/gitops/repository"),
        }),
        "Allowed",
      );
    });
    it("reads nothing else: no app secret, no other environment, no look-alike name", async () => {
      assert.equal(await read(secret("platform/dev/apps/podinfo")), "ImplicitlyDenied");
      assert.equal(await read(secret("platform/prod/gitops/repository")), "ImplicitlyDenied");
      assert.equal(await read(secret("platform/dev/gitops/repository-admin")), "ImplicitlyDenied");
      assert.equal(
        await simulateIdentity([identity], {
          principal: role,
          action: "secretsmanager:PutSecretValue",
          resource: secret("platform/dev/gitops/repository"),
        }),
        "ImplicitlyDenied",
      );
    });
    const decrypt = (context: Record<string, string>) =>
      simulateResourcePolicy(
        json(s.one("aws:kms/key:Key").inputs.policy),
        {
          principal: role,
          action: "kms:Decrypt",
          resource: keyArn,
          context: { "aws:PrincipalArn": role, ...context },
        },
        [identity],
      );
    it("decrypts with the platform key through Secrets Manager, and the key policy admits it", async () => {
      assert.equal(await decrypt({ "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" }), "Allowed");
    });
    it("cannot decrypt directly, through another service, or encrypt", async () => {
      assert.equal(await decrypt({}), "ImplicitlyDenied");
      assert.equal(await decrypt({ "kms:ViaService": "ssm.eu-west-1.amazonaws.com" }), "ImplicitlyDenied");
      assert.equal(
        await simulateResourcePolicy(
          json(s.one("aws:kms/key:Key").inputs.policy),
          {
            principal: role,
            action: "kms:Encrypt",
            resource: keyArn,
            context: { "aws:PrincipalArn": role, "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" },
          },
          [identity],
        ),
        "ImplicitlyDenied",
      );
    });
  });
});

describe("eks-argocd engine: prod gates and teardown", () => {
  it("needs the notifications opt-in label in prod, whose alerts are required, and reads it only with a destination", () => {
    const raw = stackRaw("prod") as Obj;
    const withEngine = (eksArgocd: Obj, extra: Obj = {}) =>
      configProblems({
        ...raw,
        gitops: { ...(raw.gitops as Obj), engine: "eks-argocd", eksArgocd },
        ...extra,
      });
    assert.match(
      withEngine(EKS_ARGOCD),
      /gitops-platform:gitops.eksArgocd.notificationsLabel = \(unset\): is required with alerts.destinations and gitops.engine eks-argocd: the opt-in label/,
    );
    const cfg = resolveConfig(
      {
        ...raw,
        gitops: {
          ...(raw.gitops as Obj),
          engine: "eks-argocd",
          eksArgocd: { ...EKS_ARGOCD, notificationsLabel: OPT_IN },
        },
      },
      "eu-west-1",
    );
    assert.equal(cfg.gitops.eksArgocd?.notificationsLabel, OPT_IN);
    for (const bad of [
      "opt-in",
      "=true",
      "a/b/c=true",
      "Example.COM/x=true",
      `x=${"v".repeat(64)}`,
      "x=-bad",
    ])
      assert.match(
        withEngine({ ...EKS_ARGOCD, notificationsLabel: bad }),
        new RegExp(
          `gitops.eksArgocd.notificationsLabel = ${JSON.stringify(bad).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: must be a Kubernetes label as key=value`,
        ),
        bad,
      );
    const dev = stackRaw("dev") as Obj;
    assert.match(
      configProblems({
        ...dev,
        gitops: {
          ...(dev.gitops as Obj),
          engine: "eks-argocd",
          eksArgocd: { ...EKS_ARGOCD, notificationsLabel: OPT_IN },
        },
      }),
      /gitops.eksArgocd.notificationsLabel = "notifications.example.com\/opt-in=true": is only read with alerts.destinations/,
    );
  });

  it("on destroy removes the root objects before the access and the capability, then the association before the capability", async () => {
    const s = await buildStack("dev", managed());
    const root = s.one(RELEASE, "eks-argocd-root");
    const association = s.one(
      "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
      "eks-argocd-local-cluster",
    );
    assert.ok(s.dependsOn(root, association));
    assert.ok(s.dependsOn(association, s.one(CAPABILITY)));
    assert.ok(s.dependsOn(root, s.one("aws:iam/role:Role", "eks-argocd-capability")));
    for (const r of s.ofType("aws:ec2/natGateway:NatGateway")) assert.ok(s.dependsOn(root, r), r.name);
    assert.notEqual(root.inputs.skipAwait, true);
  });
});

describe("eks-argocd engine: with Auto Mode and Pod Identity", () => {
  it("builds policy-clean, the root after the capability, its access and the cluster's compute", async () => {
    const s = await buildStack("dev", {
      ...managed(),
      "gitops-platform:cluster": { compute: "autoMode" },
      "gitops-platform:nodeGroups": undefined,
      "gitops-platform:identity": "podIdentity",
    });
    assert.equal(s.outputs.computeMode, "autoMode");
    const root = s.one(RELEASE, "eks-argocd-root");
    assert.ok(s.dependsOn(root, s.one(CAPABILITY)));
    assert.ok(s.dependsOn(root, s.one("aws:eks/cluster:Cluster")));
    assert.equal(s.ofType("aws:eks/nodeGroup:NodeGroup").length, 0);
    assert.deepEqual(
      runPolicies(s.resources.map((r) => ({ type: r.type, name: r.name, props: r.inputs }))),
      [],
    );
  });
});

describe("eks-argocd engine: config refuses what the managed Argo CD cannot honour", () => {
  const problems = (stack: "dev" | "prod", gitops: Obj, extra: Obj = {}) => {
    const raw = stackRaw(stack) as Obj;
    return configProblems({
      ...raw,
      ...extra,
      gitops: { ...raw.gitops, engine: "eks-argocd", eksArgocd: EKS_ARGOCD, ...gitops },
    });
  };
  const idc = (identityCenter: Obj) => ({
    eksArgocd: { ...EKS_ARGOCD, identityCenter: { ...EKS_ARGOCD.identityCenter, ...identityCenter } },
  });
  const rbac = (list: unknown) => ({ eksArgocd: { ...EKS_ARGOCD, rbac: list } });

  it("accepts the dev stack with the managed engine", () => {
    for (const stack of ["dev"] as const) {
      const raw = stackRaw(stack) as Obj;
      const cfg = resolveConfig(
        { ...raw, gitops: { ...raw.gitops, engine: "eks-argocd", eksArgocd: EKS_ARGOCD } },
        "eu-west-1",
      );
      assert.deepEqual(cfg.gitops.eksArgocd, {
        identityCenter: EKS_ARGOCD.identityCenter,
        rbac: [
          { role: "ADMIN", groups: [ADMINS], users: [ONCALL_USER] },
          { role: "VIEWER", groups: [VIEWERS], users: [] },
        ],
      });
      assert.equal(
        cfg.gitops.path,
        `gitops/clusters/${stack}/argocd`,
        "the same template as the self-managed engine",
      );
    }
  });
  it("refuses OIDC SSO, admin groups, HA and a chart version, naming the key", () => {
    const message = problems("dev", {
      argocd: {
        sso: { issuer: "https://login.example.com", clientId: "argocd" },
        adminGroups: ["platform-admins"],
        ha: true,
        chartVersion: "9.4.0",
      },
    });
    for (const expected of [
      'gitops-platform:gitops.argocd.sso = {"issuer":"https://login.example.com","clientId":"argocd"}: cannot be used with gitops.engine eks-argocd: the managed Argo CD signs in only through IAM Identity Center; set gitops.eksArgocd.identityCenter and gitops.eksArgocd.rbac instead',
      'gitops-platform:gitops.argocd.adminGroups = ["platform-admins"]: cannot be used with gitops.engine eks-argocd: map IAM Identity Center groups to ADMIN in gitops.eksArgocd.rbac instead',
      "gitops-platform:gitops.argocd.ha = true: cannot be used with gitops.engine eks-argocd: AWS runs and scales the managed Argo CD, there are no replicas to set",
      'gitops-platform:gitops.argocd.chartVersion = "9.4.0": cannot be used with gitops.engine eks-argocd: AWS chooses and upgrades the managed Argo CD\'s version',
    ]) {
      assert.ok(message.includes(expected), `missing:\n${expected}\nin:\n${message}`);
    }
    assert.doesNotMatch(message, /need gitops.argocd.sso/, "one problem per key");
  });
  it("requires gitops.eksArgocd with the engine, and refuses it with another engine", () => {
    const raw = stackRaw("dev") as Obj;
    assert.match(
      configProblems({ ...raw, gitops: { ...raw.gitops, engine: "eks-argocd" } }),
      /gitops.eksArgocd = \(unset\): is required with gitops.engine eks-argocd: its IAM Identity Center and role mappings/,
    );
    assert.match(
      configProblems({ ...raw, gitops: { ...raw.gitops, engine: "argocd", eksArgocd: EKS_ARGOCD } }),
      /gitops-platform:gitops.eksArgocd = .*: is only read with gitops.engine eks-argocd, not argocd/,
    );
  });
  it("refuses an Identity Center instance of another partition or a malformed one", () => {
    assert.match(
      problems("dev", idc({ instanceArn: "arn:aws-cn:sso:::instance/ssoins-72230a1b2c3d4e5f" })),
      /gitops.eksArgocd.identityCenter.instanceArn = "arn:aws-cn:sso:::instance\/ssoins-72230a1b2c3d4e5f": must be in partition aws, the partition of aws:region eu-west-1/,
    );
    assert.match(
      problems("dev", idc({ instanceArn: "arn:aws:sso:::instance/my-idc" })),
      /gitops.eksArgocd.identityCenter.instanceArn = "arn:aws:sso:::instance\/my-idc": must be an IAM Identity Center instance ARN/,
    );
    assert.match(
      problems("dev", idc({ region: "cn-north-1" })),
      /gitops.eksArgocd.identityCenter.region = "cn-north-1": must be a region of partition aws/,
    );
  });
  it("refuses a role outside ADMIN, EDITOR, VIEWER, a display name, an empty mapping, a role twice", () => {
    const message = problems(
      "dev",
      rbac([
        { role: "ADMIN", groups: [ADMINS] },
        { role: "OWNER", groups: [ADMINS] },
        { role: "VIEWER", groups: ["Platform Viewers"] },
        { role: "EDITOR" },
        { role: "ADMIN", users: [ONCALL_USER] },
      ]),
    );
    for (const expected of [
      'gitops.eksArgocd.rbac[1].role = "OWNER": must be one of ADMIN, EDITOR, VIEWER',
      'gitops.eksArgocd.rbac[2].groups[0] = "Platform Viewers": must be an Identity Store id (aws identitystore list-groups / list-users), not a display name',
      'gitops.eksArgocd.rbac[3] = {"role":"EDITOR","groups":[],"users":[]}: must name at least one group or user',
      'gitops.eksArgocd.rbac[4].role = "ADMIN": is mapped twice: list each role once',
    ]) {
      assert.ok(message.includes(expected), `missing:\n${expected}\nin:\n${message}`);
    }
  });
  it("refuses role mappings without an ADMIN: the managed Argo CD has no local admin", () =>
    assert.match(
      problems("dev", rbac([{ role: "VIEWER", groups: [VIEWERS] }])),
      /gitops-platform:gitops.eksArgocd.rbac = .*: must map at least one Identity Center group or user to ADMIN: the managed Argo CD has no local admin/,
    ));
  it("gates prod like the self-managed Argo CD: no automated sync without an allow window", () =>
    assert.match(
      problems("prod", { sync: { automated: true } }),
      /gitops.sync.automated = true: needs gitops.sync.windows with an allow window in prod/,
    ));
  it("takes the managed engine on a fleet hub, and refuses it on a spoke, which names its hub's engine instead", () => {
    const hub = stackRaw("hub") as Obj;
    const cfg = resolveConfig({ ...hub, gitops: { ...hub.gitops, ...MANAGED_HUB } }, "eu-west-1");
    assert.equal(cfg.gitops.engine, "eks-argocd");
    assert.equal(cfg.fleet?.role, "hub");
    const spoke = stackRaw("spoke-dev") as Obj;
    assert.match(
      configProblems({ ...spoke, gitops: { ...spoke.gitops, engine: "eks-argocd", eksArgocd: EKS_ARGOCD } }),
      /gitops-platform:gitops.engine = "eks-argocd": must be argocd with fleet.role spoke: a spoke runs no Argo CD; fleet.hubEngine names its hub's/,
    );
    assert.match(
      configProblems({ ...spoke, fleet: { ...spoke.fleet, hubEngine: "flux" } }),
      /gitops-platform:fleet.hubEngine = "flux": must be one of argocd, eks-argocd/,
    );
  });
  it("needs External Secrets for a private repository: it creates the entry the capability reads", () =>
    assert.match(
      problems("dev", { private: true }, { externalSecrets: { enabled: false } }),
      /externalSecrets.enabled = false: must be true with gitops.private: the External Secrets component creates \(and replicates\) the Secrets Manager entry the capability reads/,
    ));
});

describe("eks-argocd engine: the offline plan script", function () {
  this.timeout(120_000);
  it("plans a stack file with the managed engine, with the capability and its root objects", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-eks-argocd-"));
    try {
      const file = path.join(dir, "Pulumi.dev-managed.yaml");
      const doc = parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"));
      doc.config["gitops-platform:gitops"].eksArgocd = EKS_ARGOCD;
      fs.writeFileSync(file, JSON.stringify(doc));
      const out = path.join(dir, "out");
      const res = spawnSync(
        process.execPath,
        [
          path.join(ROOT, "node_modules/ts-node/dist/bin.js"),
          "--transpile-only",
          path.join(ROOT, "scripts/plan.ts"),
          "--stack-file",
          file,
          "--engine",
          "eks-argocd",
          "--out",
          out,
        ],
        { cwd: ROOT, encoding: "utf8", timeout: 100_000 },
      );
      assert.equal(res.status, 0, res.stderr);
      assert.match(res.stdout, /gitops engine: eks-argocd/);
      assert.match(res.stdout, /aws:eks\/capability:Capability "eks-argocd"/);
      const files = fs.readdirSync(path.join(out, "k8s", "argocd"));
      assert.ok(
        files.includes("application-root.yaml") && files.includes("appproject-platform.yaml"),
        files.join(", "),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("eks-argocd engine: as the fleet hub", function () {
  this.timeout(120_000);
  let hub: Stack;
  let spokes: Stack[];
  let docs: Obj[];
  const hubOut = () => hub.outputs.fleetHub as FleetHubOutputs;
  const arnOf = (s: Stack) => {
    const [, , , region, account] = (s.outputs.kmsKeyArn as string).split(":");
    return `arn:aws:eks:${region}:${account}:cluster/${s.outputs.clusterName}`;
  };
  before(async () => {
    const fleet = await buildFleet("hub", ["spoke-dev", "spoke-prod"], {
      hubOverrides: { "gitops-platform:gitops": MANAGED_HUB },
      spokeOverrides: { "gitops-platform:fleet": { hubEngine: "eks-argocd" } },
    });
    hub = fleet.hub;
    spokes = fleet.spokes;
    docs = rendered(hub);
  });

  it("every engine config admits as a hub says how a spoke registers with it; Flux, which has no hub, does not", () => {
    for (const engine of ENGINES)
      assert.equal(
        ENGINE_DEFINITIONS[engine].hub !== undefined,
        (HUB_ENGINES as readonly string[]).includes(engine),
        engine,
      );
  });

  it("gives spokes the capability's role to admit, and runs no Argo CD of its own", () => {
    const h = hubOut();
    assert.equal(h.engine, "eks-argocd");
    assert.equal(h.argocdRoleArn, hub.outputs.argocdCapabilityRoleArn);
    assert.match(h.argocdRoleArn, /^arn:aws:iam::777788889999:role\/platform-hub-argocd-capability$/);
    assert.equal(h.argocdNamespace, "argocd");
    assert.equal(hub.outputs.gitopsNamespace, "argocd");
    assert.ok(!hub.ofType(RELEASE).some((r) => r.inputs.chart === "argo-cd"));
    // No role for in-cluster controllers: the self-managed hub's platform-hub-argocd does not exist.
    assert.deepEqual(
      hub.ofType("aws:iam/role:Role").filter((r) => r.inputs.name === "platform-hub-argocd"),
      [],
    );
    assert.deepEqual(
      hub
        .ofType("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        .filter((a) => a.inputs.namespace === "argocd"),
      [],
    );
  });

  it("trusts the capabilities service only for the hub's own Argo CD capability (IAM simulator)", async () => {
    const roleArn = hubOut().argocdRoleArn;
    const role = hub
      .ofType("aws:iam/role:Role")
      .find((r) => r.inputs.name === "platform-hub-argocd-capability");
    assert.ok(role, "the capability role");
    const trust = json(role.inputs.assumeRolePolicy);
    const capability = (cluster: string) =>
      `arn:aws:eks:eu-west-1:777788889999:capability/${cluster}/ARGOCD/argocd/0a1b2c3d`;
    const assume = (sourceArn: string) =>
      simulateResourcePolicy(trust, {
        principal: "capabilities.eks.amazonaws.com",
        action: "sts:AssumeRole",
        resource: roleArn,
        context: { "aws:SourceAccount": "777788889999", "aws:SourceArn": sourceArn },
      });
    assert.equal(await assume(capability("platform-hub")), "Allowed");
    assert.equal(await assume(capability("platform-spoke-dev")), "ImplicitlyDenied");
  });

  it("registers the hub itself without the labels an ApplicationSet selects workloads by, and limits its own project to argocd", () => {
    const self = find(docs, "Secret", "in-cluster");
    assert.equal(self.stringData.server, arnOf(hub));
    assert.equal(self.metadata.labels.cluster_name, "platform-hub");
    assert.equal(
      self.metadata.labels.environment,
      undefined,
      "no environment: no ApplicationSet matches the hub",
    );
    const own = find(docs, "AppProject", "platform");
    assert.deepEqual(own.spec.destinations, [
      { name: "in-cluster", server: arnOf(hub), namespace: "argocd" },
    ]);
    assert.deepEqual(own.spec.clusterResourceWhitelist, []);
    assert.deepEqual(own.spec.sourceNamespaces, ["argocd"]);
  });

  it("bootstraps one project per environment admitting exactly its spokes, reading Applications from argocd, prod by hand", () => {
    for (const env of ["dev", "staging", "prod"]) {
      const p = find(docs, "AppProject", env);
      assert.deepEqual(p.spec.sourceNamespaces, ["argocd"], env);
      const admitted = Object.entries(hubOut().spokes)
        .filter(([, s]) => s.environment === env)
        .map(([name]) => ({ name, namespace: "*" }));
      assert.deepEqual(p.spec.destinations, admitted, env);
    }
    const prodProject = find(docs, "AppProject", "prod");
    assert.deepEqual(prodProject.spec.syncWindows[0], { ...MANUAL_ONLY_WINDOW, applications: ["*"] });
    assert.ok(
      Object.keys(prodProject.metadata.annotations).includes(
        "notifications.argoproj.io/subscribe.on-out-of-sync.platform-oncall",
      ),
      "the spokes' prod drift reaches a person",
    );
    const cm = find(docs, "ConfigMap", NOTIFICATIONS_CONFIG_MAP);
    assert.equal(cm.metadata.labels["notifications.example.com/opt-in"], "true");
  });

  itNeeds(["upstream"], "renders its root objects valid against the pinned Argo CD CRDs", function () {
    const custom = docs.filter((d) => d.apiVersion.startsWith("argoproj.io/"));
    assert.equal(custom.length, 5, "platform, dev, staging, prod projects and the root app");
    for (const d of custom) assertValidCustomResource(d);
  });

  it("lets each spoke's deployer write only its own cluster Secret, once the root objects' release brings the namespace", () => {
    const root = hub.one(RELEASE, "eks-argocd-root");
    const roles = hub
      .ofType("kubernetes:rbac.authorization.k8s.io/v1:Role")
      .filter((r) => r.parent?.includes("FleetHub"));
    assert.deepEqual(
      roles.flatMap((r) => (r.inputs.rules as Obj[]).flatMap((rule) => rule.resourceNames ?? [])),
      ["cluster-platform-spoke-dev", "cluster-platform-spoke-prod"],
    );
    for (const r of roles) assert.ok(hub.dependsOn(r, root), r.name);
  });

  for (const i of [0, 1]) {
    describe(`spoke ${i === 0 ? "dev" : "prod"}`, () => {
      const spoke = () => spokes[i];
      it("admits exactly the capability's role, as cluster admin, and opens no port to the hub's VPC", () => {
        const s = spoke();
        const role = hubOut().argocdRoleArn;
        const entry = s.one(ACCESS_ENTRY, "fleet-hub-argocd");
        assert.equal(entry.inputs.principalArn, role);
        assert.equal(entry.inputs.type, "STANDARD");
        const association = s.one(ASSOCIATION, "fleet-hub-argocd");
        assert.equal(association.inputs.principalArn, role);
        assert.equal(
          association.inputs.policyArn,
          "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        );
        assert.deepEqual(
          s
            .ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
            .filter((r) => r.name.includes("hub")),
          [],
          "AWS's network reaches the spoke's API: the hub's VPC is not in the path",
        );
      });

      it("registers by cluster ARN in its environment's project, with no awsAuthConfig and no credential", () => {
        const s = spoke();
        const secret = s.one(SECRET, "fleet-cluster");
        assert.deepEqual(secret.inputs.stringData, {
          name: s.outputs.clusterName,
          server: arnOf(s),
          project: s.outputs.environment,
        });
        assert.equal((secret.inputs.metadata as Obj).namespace, "argocd");
        assert.doesNotMatch(
          JSON.stringify(secret.inputs),
          /awsAuthConfig|bearerToken|password|caData|execProvider/,
        );
        assert.ok(
          s.dependsOn(secret, s.one(ASSOCIATION, "fleet-hub-argocd")),
          "the capability can reach it first",
        );
      });
    });
  }

  itNeeds(
    ["tools"],
    "generates each spoke its Applications in its environment's project, which admits it (Go templates, missingkey=error)",
    function () {
      const secrets = [
        find(docs, "Secret", "in-cluster") as Parameters<typeof generateApplications>[1][number],
        ...spokes.map((s) =>
          asServer(s.one(SECRET, "fleet-cluster"), s.one(SECRET_PATCH, "fleet-selection")),
        ),
      ];
      const appsets = kubectlKustomize(path.join(ROOT, "gitops", "clusters", "hub", "argocd")) as Obj[];
      const applications = appsets.flatMap((a) => generateApplications(a as never, secrets)) as Obj[];
      assert.equal(applications.length, 12, "six per spoke, none for the hub");
      // Generated Applications live in their ApplicationSet's namespace: the projects' only source namespace.
      assert.deepEqual([...new Set(appsets.map((a) => a.metadata.namespace))], ["argocd"]);
      for (const a of applications) {
        const spoke = spokes.find((s) => s.outputs.clusterName === a.spec.destination.name);
        assert.ok(spoke, `${a.metadata.name}: a registered spoke`);
        assert.equal(a.spec.project, spoke.outputs.environment);
        const project = find(docs, "AppProject", a.spec.project);
        assert.ok(project.spec.destinations.some((d: Obj) => d.name === a.spec.destination.name));
      }
    },
  );

  it("passes the policy pack: hub and spokes", () => {
    for (const s of [hub, ...spokes])
      assert.deepEqual(
        runPolicies(s.resources.map((r) => ({ type: r.type, name: r.name, props: r.inputs }))),
        [],
        s.stack,
      );
  });

  it("a spoke registering in the other Argo CD's form is refused, naming fleet.hubEngine", async () => {
    const refused = async (overrides: Obj | undefined, hubRun: Stack) => {
      try {
        await buildStack("spoke-dev", overrides, { "example-org/gitops-platform/hub": hubRun });
      } catch (err) {
        return String(err instanceof Error ? err.message : err);
      }
      return assert.fail("the spoke was accepted");
    };
    assert.match(
      await refused(undefined, hub),
      /gitops-platform:fleet\.hubEngine = "argocd": must be eks-argocd: hub example-org\/gitops-platform\/hub runs eks-argocd/,
    );
    const selfManaged = await buildStack("hub");
    assert.match(
      await refused({ "gitops-platform:fleet": { hubEngine: "eks-argocd" } }, selfManaged),
      /gitops-platform:fleet\.hubEngine = "eks-argocd": must be argocd/,
    );
  });
});

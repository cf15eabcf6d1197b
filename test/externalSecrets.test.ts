import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { resolveConfig } from "../config";
import { configProblems, stackRaw } from "./lib/config";
import { CHARTS } from "../core/pins";
import { assertValidCustomResource } from "./lib/crd";
import { buildStack, type Stack } from "./lib/harness";
import { simulateIdentity, simulateResourcePolicy } from "./lib/iam";
import { chartDataDir, itNeeds } from "./lib/prerequisites";
import { renderBootstrap } from "../scripts/lib/render";

const json = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v) as object;

for (const stackName of ["dev", "prod"] as const) {
  describe(`External Secrets: ${stackName} stack`, () => {
    let s: Stack;
    let account: string;
    const prod = stackName === "prod";
    const prefix = `platform/${stackName}`;
    const other = prod ? "platform/dev" : "platform/prod";
    before(async () => {
      s = await buildStack(stackName, {
        "gitops-platform:externalSecrets": { seedSecrets: ["apps/podinfo"] },
      });
      account = (s.outputs.kmsKeyArn as string).split(":")[4];
    });
    const esoRelease = () => {
      const found = s
        .ofType("kubernetes:helm.sh/v3:Release")
        .filter((r) => r.inputs.chart === "external-secrets");
      assert.equal(found.length, 1);
      return found[0];
    };
    const storesRelease = () => s.one("kubernetes:helm.sh/v3:Release", "external-secrets-stores");

    it("installs the pinned chart, with its CRDs, into its own namespace", () => {
      const r = esoRelease();
      assert.equal(r.inputs.version, "2.9.0");
      assert.equal(r.inputs.namespace, "external-secrets");
      assert.equal((r.inputs.values as Record<string, unknown>).installCRDs, true);
      assert.ok(Number(r.inputs.timeout) > 0);
    });

    itNeeds(["upstream"], "passes Helm values that the chart's own values.schema.json accepts", function () {
      const schema = JSON.parse(
        fs.readFileSync(path.join(chartDataDir(CHARTS.externalSecrets), "values.schema.json"), "utf8"),
      );
      const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
      const ok = validate(esoRelease().inputs.values);
      assert.ok(ok, JSON.stringify(validate.errors, null, 1));
      const broken = { ...(esoRelease().inputs.values as object), replicaCount: "two" };
      assert.equal(validate(broken), false, "the schema check must be able to fail");
    });

    it(`hardens the install: no cluster-wide token creation, requests set, ${prod ? "HA with PDBs" : "one replica"}`, () => {
      const v = esoRelease().inputs.values as Record<string, any>;
      assert.equal(v.rbac.serviceAccountTokenCreate, false);
      assert.equal(v.rbac.aggregateToEdit, false);
      for (const pod of [v, v.webhook, v.certController]) {
        assert.ok(pod.resources.requests.cpu && pod.resources.requests.memory);
        assert.equal(pod.replicaCount, prod ? 2 : 1);
        assert.equal(pod.podDisruptionBudget.enabled, prod);
      }
      const role = s.one("kubernetes:rbac.authorization.k8s.io/v1:Role", "own-token");
      assert.deepEqual((role.inputs.rules as unknown[])[0], {
        apiGroups: [""],
        resources: ["serviceaccounts/token"],
        verbs: ["create"],
        resourceNames: ["external-secrets"],
      });
    });

    it("spreads replicas over zones with constraints that select the chart's pods", () => {
      const v = esoRelease().inputs.values as Record<string, any>;
      for (const [part, pod] of [
        ["controller", v],
        ["webhook", v.webhook],
        ["certController", v.certController],
      ]) {
        const constraints = pod.topologySpreadConstraints as any[];
        assert.equal(constraints.length, prod ? 1 : 0, part);
        for (const c of constraints)
          assert.ok(c.labelSelector?.matchLabels?.["app.kubernetes.io/name"], `${part}: no selector`);
      }
    });

    itNeeds(
      ["tools", "upstream"],
      "renders two ClusterSecretStores (real helm template) that validate strictly against the ESO CRDs",
      function () {
        const docs = renderBootstrap(storesRelease());
        assert.deepEqual(
          docs.map((d) => `${d.kind}/${(d.metadata as { name: string }).name}`),
          ["ClusterSecretStore/aws-secrets-manager", "ClusterSecretStore/aws-parameter-store"],
        );
        for (const doc of docs) {
          assertValidCustomResource(doc);
          const spec = doc.spec as Record<string, any>;
          assert.deepEqual(spec.provider.aws.auth, {
            jwt: { serviceAccountRef: { name: "external-secrets", namespace: "external-secrets" } },
          });
          // The stack files let the example app (podinfo) use the stores too.
          assert.deepEqual(spec.conditions, [
            { namespaces: ["argocd", "flux-system", "external-secrets", "podinfo"] },
          ]);
        }
        const misspelt = structuredClone(docs[0]) as Record<string, any>;
        misspelt.spec.conditionz = misspelt.spec.conditions;
        assert.throws(() => assertValidCustomResource(misspelt), /conditionz/);
      },
    );

    it("orders stores after the operator, and the operator after the nodes", () => {
      assert.ok(s.dependsOn(storesRelease(), esoRelease()));
      assert.ok(s.dependsOn(esoRelease(), s.one("aws:eks/nodeGroup:NodeGroup")));
    });

    it("creates seed secrets encrypted by the platform key, never with a value", () => {
      const secret = s.one("aws:secretsmanager/secret:Secret", "apps-podinfo");
      assert.equal(secret.inputs.name, `${prefix}/apps/podinfo`);
      assert.equal(secret.inputs.kmsKeyId, s.outputs.kmsKeyArn);
      assert.equal(secret.inputs.recoveryWindowInDays, prod ? 30 : 7);
      assert.equal(secret.retainOnDelete, prod);
      assert.equal(s.ofType("aws:secretsmanager/secretVersion:SecretVersion").length, 0);
    });

    describe("the ESO role, evaluated by the IAM simulator", () => {
      let policy: object;
      const secretArn = (p: string) =>
        `arn:aws:secretsmanager:eu-west-1:${account}:secret:${p}/gitops/repository-AbCdEf`;
      const paramArn = (p: string) => `arn:aws:ssm:eu-west-1:${account}:parameter/${p}/db/host`;
      const esoArn = () => `arn:aws:iam::${account}:role/platform-${stackName}-external-secrets`;
      const ask = (action: string, resource: string, context: Record<string, string> = {}) =>
        simulateIdentity([policy], { principal: esoArn(), action, resource, context });
      before(() => {
        policy = json(s.one("aws:iam/rolePolicy:RolePolicy", "external-secrets").inputs.policy);
      });

      it("reads secrets and parameters under this environment's prefix", async () => {
        assert.equal(await ask("secretsmanager:GetSecretValue", secretArn(prefix)), "Allowed");
        assert.equal(await ask("secretsmanager:DescribeSecret", secretArn(prefix)), "Allowed");
        assert.equal(await ask("ssm:GetParameter", paramArn(prefix)), "Allowed");
      });
      it("cannot read another environment's prefix", async () => {
        assert.equal(await ask("secretsmanager:GetSecretValue", secretArn(other)), "ImplicitlyDenied");
        assert.equal(await ask("ssm:GetParameter", paramArn(other)), "ImplicitlyDenied");
      });
      it("cannot write or delete", async () => {
        assert.equal(await ask("secretsmanager:PutSecretValue", secretArn(prefix)), "ImplicitlyDenied");
        assert.equal(await ask("secretsmanager:DeleteSecret", secretArn(prefix)), "ImplicitlyDenied");
        assert.equal(await ask("ssm:PutParameter", paramArn(prefix)), "ImplicitlyDenied");
      });
      it("decrypts with the platform key only, and only through Secrets Manager or SSM", async () => {
        // KMS needs the key policy to allow too; a key policy that delegates everything to the account isolates
        // what the role's own policy allows.
        const delegating = {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: `arn:aws:iam::${account}:root` },
              Action: "kms:*",
              Resource: "*",
            },
          ],
        };
        const decrypt = (key: string, context: Record<string, string> = {}) =>
          simulateResourcePolicy(
            delegating,
            { principal: esoArn(), action: "kms:Decrypt", resource: key, context },
            [policy],
          );
        const key = s.outputs.kmsKeyArn as string;
        const via = { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" };
        assert.equal(await decrypt(key, via), "Allowed");
        assert.equal(await decrypt(key, { "kms:ViaService": "ssm.eu-west-1.amazonaws.com" }), "Allowed");
        assert.equal(await decrypt(key), "ImplicitlyDenied");
        assert.equal(
          await decrypt(key, { "kms:ViaService": "s3.eu-west-1.amazonaws.com" }),
          "ImplicitlyDenied",
        );
        const otherKey = `arn:aws:kms:eu-west-1:${account}:key/00000000-0000-0000-0000-000000000000`;
        assert.equal(await decrypt(otherKey, via), "ImplicitlyDenied");
      });
      it("is granted exactly that by the key policy, too", async () => {
        const keyPolicy = json(s.one("aws:kms/key:Key").inputs.policy);
        const key = s.outputs.kmsKeyArn as string;
        const ctx = (service: string) => ({
          "aws:PrincipalArn": esoArn(),
          "kms:ViaService": `${service}.eu-west-1.amazonaws.com`,
        });
        const decide = (action: string, context: Record<string, string>) =>
          simulateResourcePolicy(keyPolicy, { principal: esoArn(), action, resource: key, context }, [
            policy,
          ]);
        assert.equal(await decide("kms:Decrypt", ctx("secretsmanager")), "Allowed");
        assert.equal(await decide("kms:Decrypt", ctx("s3")), "ImplicitlyDenied");
        assert.equal(await decide("kms:Encrypt", ctx("secretsmanager")), "ImplicitlyDenied");
      });
      it("trusts only system:serviceaccount:external-secrets:external-secrets with the STS audience", async () => {
        const trust = json(
          s
            .ofType("aws:iam/role:Role")
            .find((r) => r.inputs.name === `platform-${stackName}-external-secrets`)?.inputs.assumeRolePolicy,
        );
        const issuer = s.outputs.oidcIssuer as string;
        const assume = (sub: string, aud = "sts.amazonaws.com") =>
          simulateResourcePolicy(trust, {
            principal: s.outputs.oidcProviderArn as string,
            action: "sts:AssumeRoleWithWebIdentity",
            resource: esoArn(),
            context: { [`${issuer}:sub`]: sub, [`${issuer}:aud`]: aud },
          });
        assert.equal(await assume("system:serviceaccount:external-secrets:external-secrets"), "Allowed");
        assert.equal(await assume("system:serviceaccount:podinfo:external-secrets"), "ImplicitlyDenied");
        assert.equal(
          await assume("system:serviceaccount:external-secrets:external-secrets", "argo"),
          "ImplicitlyDenied",
        );
      });
    });
  });
}

describe("External Secrets: config", () => {
  const raw = (es: Record<string, unknown>) => ({
    ...stackRaw("dev"),
    externalSecrets: es,
  });
  const problems = (es: Record<string, unknown>) => configProblems(raw(es));
  it("rejects an empty prefix, saying why", () =>
    assert.match(problems({ prefix: "" }), /externalSecrets.prefix = "": must not be empty/));
  it("rejects a prefix with a wildcard, saying why", () =>
    assert.match(
      problems({ prefix: "platform/*" }),
      /externalSecrets.prefix = "platform\/\*": must not contain '\*'/,
    ));
  it("rejects a prefix with a leading slash", () =>
    assert.match(
      problems({ prefix: "/platform/dev" }),
      /externalSecrets.prefix = "\/platform\/dev": must be a path/,
    ));
  it("rejects a floating chart version", () =>
    assert.match(
      problems({ chartVersion: "^2.9.0" }),
      /externalSecrets.chartVersion = "\^2.9.0": must be an exact chart version/,
    ));
  it("rejects a single replica in prod", () => {
    const prodRaw = { ...stackRaw("prod"), externalSecrets: { replicas: 1 } };
    assert.throws(
      () => resolveConfig(prodRaw, "eu-west-1"),
      /externalSecrets.replicas = 1: must be at least 2 in prod/,
    );
  });
  it("creates nothing of ESO when disabled", async () => {
    const s = await buildStack("dev", { "gitops-platform:externalSecrets": { enabled: false } });
    assert.equal(s.ofType("gitops-platform:index:ExternalSecrets").length, 0);
    const keyPolicy = JSON.parse(s.one("aws:kms/key:Key").inputs.policy as string);
    assert.ok(!JSON.stringify(keyPolicy).includes("external-secrets"));
  });
});

import * as assert from "node:assert/strict";
import { configProblems, stackRaw } from "./lib/config";
import { buildStack, type CapturedResource, type Stack } from "./lib/harness";
import { simulateResourcePolicy } from "./lib/iam";

// What a rebuild adopts instead of creating: the key (and its alias, replica and the replica's provider) and
// the seed secrets. Everything else must come back exactly as it was.
const ADOPTED = /^(aws:kms\/|aws:secretsmanager\/secret:|pulumi:providers:aws$)/;

/** A resource graph with the environment's name taken out, so two environments can be compared. */
function shape(s: Stack, name: string, region: string): string[] {
  const label = (r: CapturedResource) =>
    `${r.type}::${r.name.split(name).join("<env>").split(region).join("<region>")}`;
  const byUrn = new Map(s.resources.map((r) => [r.urn, r]));
  return s.resources
    .filter((r) => !ADOPTED.test(r.type))
    .map((r) => {
      const deps = r.dependencies
        .map((d) => byUrn.get(d))
        .filter((d): d is CapturedResource => d !== undefined && !ADOPTED.test(d.type))
        .map(label)
        .sort();
      const parent = r.parent ? label(byUrn.get(r.parent) as CapturedResource) : "-";
      return `${label(r)} <- ${parent} [${deps.join(", ")}]`;
    })
    .sort();
}

describe("disaster recovery", () => {
  let prod: Stack;
  let dr: Stack;
  before(async () => {
    prod = await buildStack("prod");
    dr = await buildStack("dr");
  });

  it("prod replicates its multi-Region key to the standby region, protected and retained", () => {
    const key = prod.one("aws:kms/key:Key");
    assert.equal(key.inputs.multiRegion, true);
    const replica = prod.one("aws:kms/replicaKey:ReplicaKey");
    assert.equal(replica.inputs.primaryKeyArn, prod.outputs.kmsKeyArn);
    assert.equal(replica.protect, true);
    assert.equal(replica.retainOnDelete, true);
    assert.match(prod.outputs.kmsReplicaKeyArn as string, /^arn:aws:kms:eu-central-1:444455556666:key\/mrk-/);
  });

  it("prod replicates its seed secrets to the standby region, encrypted there by the replica", () => {
    const secrets = prod.ofType("aws:secretsmanager/secret:Secret");
    assert.ok(secrets.length >= 2, "the app secret and the alert destination's credential");
    for (const secret of secrets) {
      assert.deepEqual(secret.inputs.replicas, [
        { region: "eu-central-1", kmsKeyId: prod.outputs.kmsReplicaKeyArn },
      ]);
      assert.equal(secret.retainOnDelete, true);
    }
  });

  it("the replica's key policy serves the standby environment's own roles and regional services", async () => {
    const policy = JSON.parse(prod.one("aws:kms/replicaKey:ReplicaKey").inputs.policy as string);
    const eso = "arn:aws:iam::444455556666:role/platform-prod-dr-external-secrets";
    const decrypt = (principal: string, via: string) =>
      simulateResourcePolicy(
        policy,
        {
          principal,
          action: "kms:Decrypt",
          resource: prod.outputs.kmsReplicaKeyArn as string,
          context: { "aws:PrincipalArn": principal, "kms:ViaService": `secretsmanager.${via}.amazonaws.com` },
        },
        [{ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "kms:Decrypt", Resource: "*" }] }],
      );
    assert.equal(await decrypt(eso, "eu-central-1"), "Allowed");
    assert.equal(await decrypt(eso, "eu-west-1"), "ImplicitlyDenied");
    assert.equal(
      await decrypt("arn:aws:iam::444455556666:role/platform-prod-external-secrets", "eu-central-1"),
      "ImplicitlyDenied",
    );
  });

  it("the rebuild adopts the key and the secrets instead of creating them", () => {
    for (const type of [
      "aws:kms/key:Key",
      "aws:kms/alias:Alias",
      "aws:kms/replicaKey:ReplicaKey",
      "aws:secretsmanager/secret:Secret",
    ]) {
      assert.equal(dr.ofType(type).length, 0, `the rebuild must not create ${type}`);
    }
    const adopted = "arn:aws:kms:eu-central-1:444455556666:key/mrk-1234567890abcdef1234567890abcdef";
    assert.equal(dr.outputs.kmsKeyArn, adopted);
    assert.deepEqual(
      (dr.one("aws:eks/cluster:Cluster").inputs.encryptionConfig as any).provider.keyArn,
      adopted,
    );
    assert.equal(dr.outputs.secretsPrefix, "platform/prod", "the rebuild reads the very secrets prod wrote");
  });

  it("the rebuild produces the same resource graph as the original environment", () => {
    const original = shape(prod, "platform-prod", "eu-west-1");
    const rebuilt = shape(dr, "platform-prod-dr", "eu-central-1");
    assert.ok(original.length > 50, "the comparison must cover the whole graph");
    assert.deepEqual(rebuilt, original);
  });

  it("the rebuild points the root app at the same revision of the same repository", () => {
    const root = (s: Stack) =>
      (s.one("kubernetes:helm.sh/v3:Release", "argocd-root").inputs.values as any).resources.find(
        (o: any) => o.kind === "Application",
      );
    assert.deepEqual(root(dr).spec.source, root(prod).spec.source);
  });

  describe("config", () => {
    const problems = (stack: string, extra: Record<string, unknown>) =>
      configProblems({ ...stackRaw(stack), ...extra }, stack === "dr" ? "eu-central-1" : "eu-west-1");
    it("refuses a standby without a multi-Region key", () =>
      assert.match(
        problems("prod", { kms: { deletionWindowDays: 30, multiRegion: false } }),
        /kms.multiRegion = false: must be true with dr/,
      ));
    it("refuses a standby in the same region, or with the same name", () => {
      const message = problems("prod", { dr: { standbyRegion: "eu-west-1", standbyName: "platform-prod" } });
      assert.match(message, /dr.standbyRegion = "eu-west-1": must differ from aws:region/);
      assert.match(
        message,
        /dr.standbyName = "platform-prod": must differ from gitops-platform:name: IAM role names are global/,
      );
    });
    it("refuses an adopted key from another region", () =>
      assert.match(
        problems("dr", {
          kms: {
            deletionWindowDays: 30,
            existingKeyArn: "arn:aws:kms:eu-west-1:444455556666:key/mrk-1234567890abcdef1234567890abcdef",
          },
        }),
        /kms.existingKeyArn = "arn:aws:kms:eu-west-1:.*": must be a key in eu-central-1/,
      ));
  });
});

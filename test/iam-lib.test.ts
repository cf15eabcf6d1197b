// Tests of the IAM simulator wrapper itself, with small hand-written documents, so that a test elsewhere that
// says "Allowed" or "ImplicitlyDenied" can be trusted.
import * as assert from "node:assert/strict";
import { assertValidActions, DEFAULT_ACCOUNT, simulateIdentity, simulateResourcePolicy } from "./lib/iam";

const ACCOUNT = DEFAULT_ACCOUNT;
const REGION = "eu-west-1";
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/external-secrets`;
const BUCKET = "arn:aws:s3:::platform-artifacts";

const doc = (...Statement: object[]) => ({ Version: "2012-10-17", Statement });

describe("test/lib/iam (iam-simulate wrapper)", () => {
  describe("simulateIdentity", () => {
    const policy = doc(
      { Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: `${BUCKET}/*` },
      { Effect: "Deny", Action: "s3:PutObject", Resource: `${BUCKET}/locked/*` },
      { Effect: "Allow", Action: "ec2:Describe*", Resource: "*" },
    );

    it("allows what a statement allows", async () => {
      assert.equal(
        await simulateIdentity([policy], { action: "s3:GetObject", resource: `${BUCKET}/a.txt` }),
        "Allowed",
      );
      assert.equal(
        await simulateIdentity([policy], { action: "ec2:DescribeInstances", resource: "*" }),
        "Allowed",
      );
    });

    it("implicitly denies what no statement allows", async () => {
      assert.equal(
        await simulateIdentity([policy], { action: "s3:DeleteObject", resource: `${BUCKET}/a.txt` }),
        "ImplicitlyDenied",
      );
      assert.equal(
        await simulateIdentity([policy], {
          action: "s3:GetObject",
          resource: "arn:aws:s3:::other-bucket/a.txt",
        }),
        "ImplicitlyDenied",
      );
      assert.equal(
        await simulateIdentity([], { action: "ec2:DescribeVpcs", resource: "*" }),
        "ImplicitlyDenied",
      );
    });

    it("an explicit Deny wins over an Allow", async () => {
      assert.equal(
        await simulateIdentity([policy], { action: "s3:PutObject", resource: `${BUCKET}/locked/x` }),
        "ExplicitlyDenied",
      );
    });

    it("rejects a request whose action does not exist instead of answering 'denied'", async () => {
      await assert.rejects(
        simulateIdentity([policy], { action: "ec2:DescribeInstancez", resource: "*" }),
        /invalid\.action/,
      );
    });

    it("rejects a context key that does not apply to the action (misspelt key) instead of ignoring it", async () => {
      await assert.rejects(
        simulateIdentity([policy], {
          action: "s3:GetObject",
          resource: `${BUCKET}/a.txt`,
          context: { "kms:ViaServce": "s3.eu-west-1.amazonaws.com" },
        }),
        /kms:ViaServce/,
      );
    });
  });

  describe("simulateResourcePolicy: KMS key policy with kms:ViaService", () => {
    const via = `secretsmanager.${REGION}.amazonaws.com`;
    const keyPolicy = doc(
      {
        Sid: "Administration",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: ["kms:Describe*", "kms:Get*", "kms:List*"],
        Resource: "*",
      },
      {
        Sid: "DecryptThroughSecretsManagerOnly",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: "kms:Decrypt",
        Resource: "*",
        Condition: { StringEquals: { "kms:ViaService": via }, ArnEquals: { "aws:PrincipalArn": ROLE } },
      },
    );
    const req = { action: "kms:Decrypt", resource: KEY_ARN, principal: ROLE };
    // The key policy names the account root, i.e. it delegates to IAM: the role also needs an identity grant.
    const roleIdentity = [doc({ Effect: "Allow", Action: "kms:Decrypt", Resource: KEY_ARN })];

    it("allows the named role through the named service", async () => {
      const d = await simulateResourcePolicy(
        keyPolicy,
        { ...req, context: { "kms:ViaService": via, "aws:PrincipalArn": ROLE } },
        roleIdentity,
      );
      assert.equal(d, "Allowed");
    });

    it("a root-principal key statement alone grants nothing: the role's identity policy must allow too", async () => {
      const d = await simulateResourcePolicy(keyPolicy, {
        ...req,
        context: { "kms:ViaService": via, "aws:PrincipalArn": ROLE },
      });
      assert.equal(d, "ImplicitlyDenied");
    });

    it("denies the same role calling KMS directly or through another service", async () => {
      assert.equal(
        await simulateResourcePolicy(
          keyPolicy,
          { ...req, context: { "aws:PrincipalArn": ROLE } },
          roleIdentity,
        ),
        "ImplicitlyDenied",
      );
      assert.equal(
        await simulateResourcePolicy(
          keyPolicy,
          { ...req, context: { "kms:ViaService": `s3.${REGION}.amazonaws.com`, "aws:PrincipalArn": ROLE } },
          roleIdentity,
        ),
        "ImplicitlyDenied",
      );
    });

    it("denies another role of the same account", async () => {
      const other = `arn:aws:iam::${ACCOUNT}:role/other`;
      const d = await simulateResourcePolicy(
        keyPolicy,
        { ...req, principal: other, context: { "kms:ViaService": via, "aws:PrincipalArn": other } },
        roleIdentity,
      );
      assert.equal(d, "ImplicitlyDenied");
    });

    it("models KMS trust: an identity policy alone does not grant use of a key whose policy does not delegate", async () => {
      const identity = doc({ Effect: "Allow", Action: "kms:Decrypt", Resource: KEY_ARN });
      const noDelegation = doc({
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/admin` },
        Action: "kms:*",
        Resource: "*",
      });
      assert.equal(await simulateResourcePolicy(noDelegation, req, [identity]), "ImplicitlyDenied");
      const delegates = doc({
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: "kms:*",
        Resource: "*",
      });
      assert.equal(await simulateResourcePolicy(delegates, req, [identity]), "Allowed");
    });
  });

  describe("simulateResourcePolicy: IRSA trust policy (sts:AssumeRoleWithWebIdentity)", () => {
    const issuer = `oidc.eks.${REGION}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`;
    const provider = `arn:aws:iam::${ACCOUNT}:oidc-provider/${issuer}`;
    const trust = doc({
      Effect: "Allow",
      Principal: { Federated: provider },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: {
          [`${issuer}:sub`]: "system:serviceaccount:external-secrets:external-secrets",
          [`${issuer}:aud`]: "sts.amazonaws.com",
        },
      },
    });
    const assume = (principal: string, sub: string, aud?: string) =>
      simulateResourcePolicy(trust, {
        action: "sts:AssumeRoleWithWebIdentity",
        resource: ROLE,
        principal,
        context: { [`${issuer}:sub`]: sub, ...(aud ? { [`${issuer}:aud`]: aud } : {}) },
      });

    it("allows the right service account with the STS audience", async () => {
      assert.equal(
        await assume(
          provider,
          "system:serviceaccount:external-secrets:external-secrets",
          "sts.amazonaws.com",
        ),
        "Allowed",
      );
    });

    it("denies another service account of the same cluster", async () => {
      assert.equal(
        await assume(provider, "system:serviceaccount:default:default", "sts.amazonaws.com"),
        "ImplicitlyDenied",
      );
      assert.equal(
        await assume(provider, "system:serviceaccount:argocd:external-secrets", "sts.amazonaws.com"),
        "ImplicitlyDenied",
      );
    });

    it("denies a token with the wrong or no audience", async () => {
      assert.equal(
        await assume(provider, "system:serviceaccount:external-secrets:external-secrets", "argocd"),
        "ImplicitlyDenied",
      );
      assert.equal(
        await assume(provider, "system:serviceaccount:external-secrets:external-secrets"),
        "ImplicitlyDenied",
      );
    });

    it("denies a token from another cluster's OIDC provider", async () => {
      const otherProvider = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.${REGION}.amazonaws.com/id/OTHER`;
      assert.equal(
        await assume(
          otherProvider,
          "system:serviceaccount:external-secrets:external-secrets",
          "sts.amazonaws.com",
        ),
        "ImplicitlyDenied",
      );
    });

    it("shows why StringLike with a wildcard sub is dangerous: any service account gets in", async () => {
      const loose = doc({
        Effect: "Allow",
        Principal: { Federated: provider },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringLike: { [`${issuer}:sub`]: "system:serviceaccount:*:*" },
          StringEquals: { [`${issuer}:aud`]: "sts.amazonaws.com" },
        },
      });
      const d = await simulateResourcePolicy(loose, {
        action: "sts:AssumeRoleWithWebIdentity",
        resource: ROLE,
        principal: provider,
        context: {
          [`${issuer}:sub`]: "system:serviceaccount:default:default",
          [`${issuer}:aud`]: "sts.amazonaws.com",
        },
      });
      assert.equal(d, "Allowed");
    });
  });

  describe("assertValidActions", () => {
    it("accepts real actions, wildcards that match and a bare '*'", async () => {
      await assertValidActions(
        doc(
          { Effect: "Allow", Action: ["kms:Decrypt", "secretsmanager:GetSecretValue"], Resource: "*" },
          { Effect: "Allow", Action: "ec2:Describe*", Resource: "*" },
          { Effect: "Deny", NotAction: "*", Resource: "*" },
        ),
      );
    });

    it("rejects a misspelt action", async () => {
      await assert.rejects(
        assertValidActions(doc({ Effect: "Allow", Action: ["kms:Decrypt", "kms:Decyrpt"], Resource: "*" })),
        /kms:Decyrpt/,
      );
    });

    it("rejects an unknown service, a malformed action and a wildcard that matches nothing", async () => {
      await assert.rejects(
        assertValidActions(doc({ Effect: "Allow", Action: "kmss:Decrypt", Resource: "*" })),
        /kmss/,
      );
      await assert.rejects(
        assertValidActions(doc({ Effect: "Allow", Action: "Decrypt", Resource: "*" })),
        /Decrypt/,
      );
      await assert.rejects(
        assertValidActions(doc({ Effect: "Allow", Action: "ec2:Descrbe*", Resource: "*" })),
        /matches no IAM action/,
      );
    });

    it("checks NotAction and JSON-string documents too", async () => {
      await assert.rejects(
        assertValidActions(
          JSON.stringify(doc({ Effect: "Deny", NotAction: "iam:PassRoles", Resource: "*" })),
        ),
        /iam:PassRoles/,
      );
    });
  });
});

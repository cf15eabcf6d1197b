import * as assert from "node:assert/strict";
import * as path from "node:path";
import { CONTROL_PLANE_LOG_TYPES } from "../components/cluster";
import { buildStack, type Stack } from "./lib/harness";
import { assertValidActions, simulateResourcePolicy } from "./lib/iam";

interface Stmt {
  Sid?: string;
  Principal?: { AWS?: unknown; Service?: string } | "*";
  Condition: Record<string, Record<string, unknown>>;
}
const json = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v) as { Statement: Stmt[] };

for (const stackName of ["dev", "prod"] as const) {
  describe(`foundation: ${stackName} stack`, () => {
    let s: Stack;
    const prod = stackName === "prod";
    before(async () => {
      s = await buildStack(stackName);
    });

    describe("KMS", () => {
      it("creates a rotating key with the environment's deletion window, protected and retained only in prod", () => {
        const key = s.one("aws:kms/key:Key");
        assert.equal(key.inputs.enableKeyRotation, true);
        assert.equal(key.inputs.deletionWindowInDays, prod ? 30 : 7);
        assert.equal(key.protect, prod);
        assert.equal(key.retainOnDelete, prod);
        assert.equal(s.one("aws:kms/alias:Alias").inputs.name, `alias/platform-${stackName}`);
      });

      it("has a key policy with no wildcard principal and only real KMS actions", async () => {
        const policy = json(s.one("aws:kms/key:Key").inputs.policy);
        for (const st of policy.Statement) {
          assert.notEqual(st.Principal, "*", `${st.Sid} has a wildcard principal`);
          assert.notDeepEqual(
            st.Principal !== "*" && st.Principal?.AWS,
            "*",
            `${st.Sid} has a wildcard principal`,
          );
        }
        await assertValidActions(policy);
      });
    });

    describe("key policy, evaluated by the IAM simulator", () => {
      let policy: object;
      let keyArn: string;
      let account: string;
      before(() => {
        policy = json(s.one("aws:kms/key:Key").inputs.policy);
        keyArn = s.outputs.kmsKeyArn as string;
        account = keyArn.split(":")[4];
      });
      const decide = (
        principal: string,
        action: string,
        context: Record<string, string> = {},
        identity: object[] = [],
      ) => simulateResourcePolicy(policy, { principal, action, resource: keyArn, context }, identity);
      const allowAllKms = [
        { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "kms:*", Resource: "*" }] },
      ];

      it("lets the named admin role administer the key but not use it, grant it or read secrets with it", async () => {
        const admin = `arn:aws:iam::${account}:role/platform-admin`;
        assert.equal(await decide(admin, "kms:ScheduleKeyDeletion"), "Allowed");
        assert.equal(await decide(admin, "kms:PutKeyPolicy"), "Allowed");
        assert.equal(await decide(admin, "kms:Decrypt"), "ImplicitlyDenied");
        assert.equal(
          await decide(admin, "kms:CreateGrant", { "kms:GrantIsForAWSResource": "false" }),
          "ImplicitlyDenied",
        );
        const viaSecretsManager = {
          "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com",
          "kms:CallerAccount": account,
        };
        assert.equal(await decide(admin, "kms:Decrypt", viaSecretsManager), "ImplicitlyDenied");
      });

      it("does not let any other role of the account use or grant the key, even with kms:* in its own policy", async () => {
        const other = `arn:aws:iam::${account}:role/some-app`;
        assert.equal(await decide(other, "kms:Decrypt", {}, allowAllKms), "ImplicitlyDenied");
        assert.equal(
          await decide(other, "kms:CreateGrant", { "kms:GrantIsForAWSResource": "false" }, allowAllKms),
          "ImplicitlyDenied",
        );
      });

      it("lets secret writers (admins) encrypt through Secrets Manager or SSM only, and never decrypt", async () => {
        const admin = `arn:aws:iam::${account}:role/platform-admin`;
        const via = (service: string) => ({
          "kms:ViaService": `${service}.eu-west-1.amazonaws.com`,
          "kms:CallerAccount": account,
        });
        assert.equal(await decide(admin, "kms:GenerateDataKey", via("secretsmanager")), "Allowed");
        assert.equal(await decide(admin, "kms:Encrypt", via("ssm")), "Allowed");
        assert.equal(
          await decide(admin, "kms:GenerateDataKey", { "kms:CallerAccount": account }),
          "ImplicitlyDenied",
        );
        assert.equal(await decide(admin, "kms:Decrypt", via("ssm")), "ImplicitlyDenied");
      });

      it("lets the deploy role create grants for AWS services (EKS) but neither write nor read secrets", async () => {
        const deployer = `arn:aws:iam::${account}:role/gitops-platform-deploy-${stackName}`;
        assert.equal(
          await decide(deployer, "kms:CreateGrant", { "kms:GrantIsForAWSResource": "true" }),
          "Allowed",
        );
        assert.equal(
          await decide(deployer, "kms:CreateGrant", { "kms:GrantIsForAWSResource": "false" }),
          "ImplicitlyDenied",
        );
        const via = {
          "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com",
          "kms:CallerAccount": account,
        };
        assert.equal(await decide(deployer, "kms:GenerateDataKey", via), "ImplicitlyDenied");
        assert.equal(await decide(deployer, "kms:Decrypt", via), "ImplicitlyDenied");
      });

      it("lets the Auto Scaling service-linked role encrypt node volumes, named directly (it has no IAM policy for the key)", async () => {
        const asg = `arn:aws:iam::${account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`;
        assert.equal(await decide(asg, "kms:GenerateDataKeyWithoutPlaintext"), "Allowed");
        assert.equal(await decide(asg, "kms:Decrypt"), "Allowed");
        assert.equal(
          await decide(asg, "kms:CreateGrant", { "kms:GrantIsForAWSResource": "true" }),
          "Allowed",
        );
        assert.equal(
          await decide(asg, "kms:CreateGrant", { "kms:GrantIsForAWSResource": "false" }),
          "ImplicitlyDenied",
        );
      });

      it("lets the EKS cluster role encrypt Kubernetes secrets (with its own identity policy)", async () => {
        const clusterRole = `arn:aws:iam::${account}:role/platform-${stackName}-cluster`;
        const identity = json(s.one("aws:iam/rolePolicy:RolePolicy", "cluster-kms").inputs.policy);
        const context = { "aws:PrincipalArn": clusterRole };
        assert.equal(await decide(clusterRole, "kms:Encrypt", context, [identity]), "Allowed");
        assert.equal(await decide(clusterRole, "kms:Encrypt", context, []), "ImplicitlyDenied");
      });

      // iam-simulate does not accept context keys with a colon in the tag part
      // (kms:EncryptionContext:aws:logs:arn), so this statement is checked by shape rather than simulated.
      it("lets CloudWatch Logs encrypt exactly the platform's two log groups", () => {
        const st = json(policy).Statement.find(
          (x) => x.Principal !== "*" && x.Principal?.Service === "logs.eu-west-1.amazonaws.com",
        );
        assert.ok(st);
        assert.deepEqual(st.Condition, {
          ArnEquals: {
            "kms:EncryptionContext:aws:logs:arn": [
              `arn:aws:logs:eu-west-1:${account}:log-group:/aws/eks/platform-${stackName}/cluster`,
              `arn:aws:logs:eu-west-1:${account}:log-group:/aws/vpc/platform-${stackName}/flow-logs`,
            ],
          },
        });
      });
    });

    describe("network", () => {
      it(`spreads private and public subnets over the zones with ${prod ? "a NAT gateway per zone" : "one NAT gateway"}`, () => {
        const zones = prod ? 3 : 2;
        const subnets = s.ofType("aws:ec2/subnet:Subnet");
        assert.equal(subnets.length, zones * 2);
        assert.equal(s.ofType("aws:ec2/natGateway:NatGateway").length, prod ? 3 : 1);
        for (const subnet of subnets) assert.equal(subnet.inputs.mapPublicIpOnLaunch, false);
        const tags = (role: string) =>
          subnets.filter((x) => (x.inputs.tags as Record<string, string>)[role] === "1");
        assert.equal(tags("kubernetes.io/role/elb").length, zones);
        assert.equal(tags("kubernetes.io/role/internal-elb").length, zones);
      });

      it("logs all VPC traffic to a KMS-encrypted log group", () => {
        const flow = s.one("aws:ec2/flowLog:FlowLog");
        assert.equal(flow.inputs.trafficType, "ALL");
        const group = s.one("aws:cloudwatch/logGroup:LogGroup", "flow-logs");
        assert.equal(group.inputs.kmsKeyId, s.outputs.kmsKeyArn);
        assert.equal(
          flow.inputs.logDestination,
          `arn:aws:logs:eu-west-1:${(s.outputs.kmsKeyArn as string).split(":")[4]}:log-group:${group.inputs.name}`,
        );
      });

      it("strips every rule from the default security group", () => {
        const sg = s.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup");
        assert.equal(sg.inputs.ingress, undefined);
        assert.equal(sg.inputs.egress, undefined);
      });
    });

    describe("EKS", () => {
      it("encrypts secrets with the platform key and sends all five control-plane logs to an encrypted group", () => {
        const cluster = s.one("aws:eks/cluster:Cluster");
        assert.deepEqual(cluster.inputs.encryptionConfig, {
          resources: ["secrets"],
          provider: { keyArn: s.outputs.kmsKeyArn },
        });
        assert.deepEqual(cluster.inputs.enabledClusterLogTypes, CONTROL_PLANE_LOG_TYPES);
        assert.equal(CONTROL_PLANE_LOG_TYPES.length, 5);
        const group = s.one("aws:cloudwatch/logGroup:LogGroup", "control-plane");
        assert.equal(group.inputs.name, `/aws/eks/platform-${stackName}/cluster`);
        assert.equal(group.inputs.kmsKeyId, s.outputs.kmsKeyArn);
        assert.equal(group.inputs.retentionInDays, prod ? 365 : 30);
        assert.ok(
          s.dependsOn(cluster, group),
          "the cluster must wait for its log group, or EKS creates an unencrypted one",
        );
      });

      it(
        prod
          ? "has a private endpoint only"
          : "has a private endpoint and a public one limited to listed CIDRs",
        () => {
          const vpc = s.one("aws:eks/cluster:Cluster").inputs.vpcConfig as Record<string, unknown>;
          assert.equal(vpc.endpointPrivateAccess, true);
          assert.equal(vpc.endpointPublicAccess, !prod);
          assert.deepEqual(vpc.publicAccessCidrs, prod ? undefined : ["203.0.113.0/24"]);
          assert.deepEqual(vpc.subnetIds, s.outputs.privateSubnetIds);
        },
      );

      it("authenticates through the access-entry API with explicit entries only", () => {
        const cluster = s.one("aws:eks/cluster:Cluster");
        assert.deepEqual(cluster.inputs.accessConfig, {
          authenticationMode: "API",
          bootstrapClusterCreatorAdminPermissions: false,
        });
        const policies = s
          .ofType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
          .map((a) => [
            (a.inputs.principalArn as string).split("/").pop(),
            (a.inputs.policyArn as string).split("/").pop(),
          ]);
        assert.deepEqual(policies.sort(), [
          ["developer-readonly", "AmazonEKSViewPolicy"],
          [`gitops-platform-deploy-${stackName}`, "AmazonEKSClusterAdminPolicy"],
          ["platform-admin", "AmazonEKSClusterAdminPolicy"],
        ]);
        assert.equal(s.ofType("aws:eks/accessEntry:AccessEntry").length, 3);
      });

      it("registers an OIDC provider for IRSA with the STS audience", () => {
        const oidc = s.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider");
        assert.deepEqual(oidc.inputs.clientIdLists, ["sts.amazonaws.com"]);
        assert.match(oidc.inputs.url as string, /^https:\/\/oidc\.eks\.eu-west-1\.amazonaws\.com\/id\//);
      });

      it("runs nodes in private subnets from an IMDSv2-only launch template without SSH", () => {
        const lt = s.one("aws:ec2/launchTemplate:LaunchTemplate");
        assert.deepEqual(lt.inputs.metadataOptions, {
          httpEndpoint: "enabled",
          httpTokens: "required",
          httpPutResponseHopLimit: 1,
          instanceMetadataTags: "disabled",
        });
        assert.equal(lt.inputs.keyName, undefined);
        const ebs = (lt.inputs.blockDeviceMappings as Array<{ ebs: Record<string, unknown> }>)[0].ebs;
        assert.equal(ebs.encrypted, "true");
        assert.equal(ebs.kmsKeyId, s.outputs.kmsKeyArn);
        const group = s.one("aws:eks/nodeGroup:NodeGroup");
        assert.equal(group.inputs.remoteAccess, undefined);
        assert.deepEqual(group.inputs.subnetIds, s.outputs.privateSubnetIds);
        assert.ok(
          group.dependencies.includes(lt.urn),
          "the node group is launched from this launch template",
        );
        const template = group.inputs.launchTemplate as { id: string; version: string };
        assert.match(template.id, new RegExp(`^${lt.name}-`), "the id of this launch template");
        assert.equal(
          template.version,
          "1",
          "pinned to the template's latest version, so a change rolls the nodes",
        );
        assert.equal((group.inputs.scalingConfig as Record<string, number>).minSize, prod ? 3 : 2);
        assert.equal(group.inputs.capacityType, prod ? "ON_DEMAND" : "SPOT");
      });

      it("gives the node role only the worker and ECR read-only policies", () => {
        const nodeRole = s
          .ofType("aws:iam/role:Role")
          .find((r) => r.inputs.name === `platform-${stackName}-node`);
        assert.ok(nodeRole);
        const attached = s
          .ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
          .filter((a) => a.inputs.role === nodeRole.inputs.name)
          .map((a) => (a.inputs.policyArn as string).split("/").pop())
          .sort();
        assert.deepEqual(attached, ["AmazonEC2ContainerRegistryReadOnly", "AmazonEKSWorkerNodePolicy"]);
        assert.equal(
          s.ofType("aws:iam/rolePolicy:RolePolicy").filter((p) => p.inputs.role === nodeRole.inputs.name)
            .length,
          0,
        );
      });

      // Changed on purpose (issue 13): the node DaemonSets are created beside the node groups instead of before
      // them, and nothing but the add-ons after the nodes waits for CoreDNS.
      it("pins the core add-ons, gives the CNI its own IRSA role, and orders add-ons around the nodes", () => {
        const addons = s.ofType("aws:eks/addon:Addon");
        assert.deepEqual(addons.map((a) => a.inputs.addonName).sort(), ["coredns", "kube-proxy", "vpc-cni"]);
        for (const a of addons)
          assert.match(a.inputs.addonVersion as string, /^v\d+\.\d+\.\d+-eksbuild\.\d+$/);
        const named = (n: string) => addons.find((a) => a.inputs.addonName === n)!;
        const cni = named("vpc-cni");
        const coredns = named("coredns");
        assert.match(cni.inputs.serviceAccountRoleArn as string, /role\/platform-\w+-vpc-cni$/);
        const nodes = s.one("aws:eks/nodeGroup:NodeGroup");
        assert.ok(!s.dependsOn(nodes, cni), "the CNI installs while the instances boot, not before");
        assert.ok(s.dependsOn(coredns, nodes), "CoreDNS needs nodes to schedule on");
        const releases = s.ofType("kubernetes:helm.sh/v3:Release").filter((r) => r.inputs.repositoryOpts);
        assert.ok(releases.length >= 2);
        for (const release of releases) {
          assert.ok(s.dependsOn(release, nodes), `${release.name} waits for the nodes`);
          assert.ok(s.dependsOn(release, cni), `${release.name} waits for the CNI its pods need`);
          assert.ok(!s.dependsOn(release, coredns), `${release.name} does not wait for CoreDNS`);
        }
        assert.equal(coredns.inputs.preserve, true, "CoreDNS keeps running through a destroy");
        assert.equal(cni.inputs.preserve, undefined);
      });

      it("builds a Kubernetes provider with exec auth and exports the kubeconfig as a secret", () => {
        assert.ok(s.secretOutputs.includes("kubeconfig"));
        const kubeconfig = JSON.parse(s.outputs.kubeconfig as string);
        assert.deepEqual(kubeconfig.users[0].user.exec.args.slice(0, 4), [
          "eks",
          "get-token",
          "--cluster-name",
          `platform-${stackName}`,
        ]);
        assert.equal(kubeconfig.users[0].user.token, undefined);
        assert.equal(s.ofType("pulumi:providers:kubernetes").length, 1);
      });
    });

    it("keeps every path of this machine out of the inputs, so the state is the same from any checkout", () => {
      const root = path.resolve(__dirname, "..");
      const leaks = s.resources.filter((r) => JSON.stringify(r.inputs).includes(root)).map((r) => r.name);
      assert.deepEqual(leaks, []);
    });

    describe("IRSA trust, evaluated by the IAM simulator", () => {
      const cniTrust = () =>
        json(
          s.ofType("aws:iam/role:Role").find((r) => r.inputs.name === `platform-${stackName}-vpc-cni`)?.inputs
            .assumeRolePolicy,
        );
      const provider = () => s.outputs.oidcProviderArn as string;
      const issuer = () => s.outputs.oidcIssuer as string;
      const assume = (sub: string, aud: string, principal = provider()) =>
        simulateResourcePolicy(cniTrust(), {
          principal,
          action: "sts:AssumeRoleWithWebIdentity",
          resource: `arn:aws:iam::${provider().split(":")[4]}:role/platform-${stackName}-vpc-cni`,
          context: { [`${issuer()}:sub`]: sub, [`${issuer()}:aud`]: aud },
        });

      it("admits exactly system:serviceaccount:kube-system:aws-node with the STS audience", async () => {
        assert.equal(
          await assume("system:serviceaccount:kube-system:aws-node", "sts.amazonaws.com"),
          "Allowed",
        );
      });
      it("denies another service account, another audience and another cluster's provider", async () => {
        assert.equal(
          await assume("system:serviceaccount:kube-system:default", "sts.amazonaws.com"),
          "ImplicitlyDenied",
        );
        assert.equal(await assume("system:serviceaccount:kube-system:aws-node", "other"), "ImplicitlyDenied");
        const other = provider().replace(/id\/\w+$/, "id/0000000000000000000000000000AAAA");
        assert.equal(
          await assume("system:serviceaccount:kube-system:aws-node", "sts.amazonaws.com", other),
          "ImplicitlyDenied",
        );
      });
      it("uses StringEquals, never StringLike, on both claims", () => {
        const cond = cniTrust().Statement[0].Condition;
        assert.deepEqual(Object.keys(cond), ["StringEquals"]);
        assert.deepEqual(
          Object.keys(cond.StringEquals).map((k: string) => k.split(":").pop()),
          ["sub", "aud"],
        );
      });
    });
  });
}

// The compute axis (node groups, Auto Mode) and the identity axis (IRSA, Pod Identity): every stack plans in
// every mode the config allows, Auto Mode gets what it needs and nothing it runs itself, and every Pod Identity
// trust and permission is proven with the IAM simulator, session tags included.
import * as assert from "node:assert/strict";
import { runPolicies } from "../policy/harness";
import { buildPlan } from "../scripts/lib/plan/build";
import { modeOverrides, type ModeOverrides } from "../scripts/plan";
import { configProblems, stackRaw } from "./lib/config";
import { buildStack, type CapturedResource, type Stack } from "./lib/harness";
import { simulateIdentity, simulateResourcePolicy } from "./lib/iam";
import { validateBuiltinObject } from "./lib/k8s-schema";
import { itNeeds } from "./lib/prerequisites";
import { renderBootstrap } from "../scripts/lib/render";

type Any = any;
const json = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v) as Any;
const RELEASE = "kubernetes:helm.sh/v3:Release";
const build = (stack: string, m: ModeOverrides) => buildStack(stack, modeOverrides(m));
const role = (s: Stack, name: string) =>
  s.ofType("aws:iam/role:Role").find((r) => r.inputs.name === name) as CapturedResource;
const attached = (s: Stack, roleName: string) =>
  s
    .ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    .filter((a) => a.inputs.role === roleName)
    .map((a) => String(a.inputs.policyArn).split("/").pop())
    .sort();

describe("compute and identity: every stack in every mode the config allows", function () {
  this.timeout(300_000);
  for (const stack of ["dev", "prod", "dr"]) {
    for (const compute of ["nodeGroups", "autoMode"] as const) {
      for (const identity of ["podIdentity", "irsa"] as const) {
        for (const engine of ["argocd", "flux"] as const) {
          it(`${stack} / ${compute} / ${identity} / ${engine}: plans within 1.05 x its physical chain, policy-clean`, async () => {
            const run = await build(stack, { compute, identity, engine });
            assert.equal(run.outputs.computeMode, compute);
            assert.equal(run.outputs.identityMode, identity);
            const plan = buildPlan(run, { render: "values" });
            const { seconds, physicalChain, ratio } = plan.summary.estimate;
            assert.ok(ratio <= 1.05, `${seconds}s against a physical chain of ${physicalChain.seconds}s`);
            if (stack === "dev" && compute === "autoMode") assert.ok(seconds <= 14 * 60, `${seconds}s`);
            const violations = runPolicies(
              run.resources.map((r) => ({ type: r.type, name: r.name, props: r.inputs })),
            );
            assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));
          });
        }
      }
    }
  }
});

for (const stack of ["dev", "prod"] as const) {
  describe(`Auto Mode: ${stack}`, function () {
    this.timeout(60_000);
    let s: Stack;
    let account: string;
    before(async () => {
      s = await build(stack, { compute: "autoMode", identity: "podIdentity" });
      account = (s.outputs.kmsKeyArn as string).split(":")[4];
    });

    it("enables compute (system, general-purpose), block storage and load balancing together, no self-managed add-ons", () => {
      const cluster = s.one("aws:eks/cluster:Cluster");
      const nodeRole = role(s, `platform-${stack}-node`);
      assert.deepEqual(cluster.inputs.computeConfig, {
        enabled: true,
        nodePools: ["system", "general-purpose"],
        nodeRoleArn: `arn:aws:iam::${account}:role/platform-${stack}-node`,
      });
      assert.ok(s.dependsOn(cluster, nodeRole));
      assert.deepEqual(cluster.inputs.kubernetesNetworkConfig, { elasticLoadBalancing: { enabled: true } });
      assert.deepEqual(cluster.inputs.storageConfig, { blockStorage: { enabled: true } });
      assert.equal(cluster.inputs.bootstrapSelfManagedAddons, false);
      assert.equal((cluster.inputs.vpcConfig as Any).endpointPublicAccess, stack !== "prod");
    });

    it("gives the cluster role the Auto Mode policies and sts:TagSession, the node role only the minimal two", () => {
      const cluster = role(s, `platform-${stack}-cluster`);
      assert.deepEqual(attached(s, String(cluster.inputs.name)), [
        "AmazonEKSBlockStoragePolicy",
        "AmazonEKSClusterPolicy",
        "AmazonEKSComputePolicy",
        "AmazonEKSLoadBalancingPolicy",
        "AmazonEKSNetworkingPolicy",
      ]);
      const trust = json(cluster.inputs.assumeRolePolicy).Statement[0];
      assert.deepEqual(trust.Action, ["sts:AssumeRole", "sts:TagSession"]);
      assert.deepEqual(trust.Principal, { Service: "eks.amazonaws.com" });
      assert.deepEqual(attached(s, `platform-${stack}-node`), [
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKSWorkerNodeMinimalPolicy",
      ]);
    });

    it("installs no node group, launch template, core add-on, OIDC provider or load balancer controller role", () => {
      for (const t of [
        "aws:eks/nodeGroup:NodeGroup",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:eks/addon:Addon",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
      ])
        assert.equal(s.ofType(t).length, 0, t);
      assert.equal(role(s, `platform-${stack}-aws-lb-controller`), undefined);
      assert.equal(s.outputs.loadBalancerControllerRoleArn, undefined);
      const bridge = (s.one("kubernetes:core/v1:Secret", "in-cluster").inputs.metadata as Any).annotations;
      assert.equal(bridge.enable_aws_load_balancer_controller, "false");
      assert.ok(!Object.keys(bridge).some((k) => k.startsWith("aws_load_balancer_controller_")));
      const labels = (s.one("kubernetes:core/v1:Secret", "in-cluster").inputs.metadata as Any).labels;
      assert.equal(labels.enable_aws_load_balancer_controller, "false");
    });

    itNeeds(
      ["tools"],
      "adds what Auto Mode does not create: an encrypted default gp3 StorageClass, an ALB IngressClass, and spot only in dev",
      function () {
        const release = s.one(RELEASE, "auto-mode");
        const objects = renderBootstrap(release) as Any[];
        const byKind = (k: string) => objects.filter((o) => o.kind === k);
        const [sc] = byKind("StorageClass");
        assert.equal(sc.provisioner, "ebs.csi.eks.amazonaws.com");
        assert.deepEqual(sc.parameters, { type: "gp3", encrypted: "true", kmsKeyId: s.outputs.kmsKeyArn });
        assert.equal(sc.metadata.annotations["storageclass.kubernetes.io/is-default-class"], "true");
        const [ic] = byKind("IngressClass");
        assert.equal(ic.spec.controller, "eks.amazonaws.com/alb");
        const [params] = byKind("IngressClassParams");
        assert.equal(params.apiVersion, "eks.amazonaws.com/v1");
        assert.deepEqual(ic.spec.parameters, {
          apiGroup: "eks.amazonaws.com",
          kind: "IngressClassParams",
          name: params.metadata.name,
        });
        for (const o of [sc, ic]) assert.deepEqual(validateBuiltinObject(o).errors, [], o.kind);
        const pools = byKind("NodePool");
        if (stack === "dev") {
          assert.equal(pools.length, 1);
          assert.equal(pools[0].apiVersion, "karpenter.sh/v1");
          assert.deepEqual(pools[0].spec.template.spec.nodeClassRef, {
            group: "eks.amazonaws.com",
            kind: "NodeClass",
            name: "default",
          });
          const capacity = pools[0].spec.template.spec.requirements.find(
            (r: Any) => r.key === "karpenter.sh/capacity-type",
          );
          assert.deepEqual(capacity.values, ["spot", "on-demand"]);
        } else {
          assert.equal(pools.length, 0, "prod admits no spot capacity");
        }
      },
    );

    it("lets the cluster role (which creates Auto Mode's volumes) use the key through EC2 only, proven on key and role policy", async () => {
      const keyPolicy = json(s.one("aws:kms/key:Key").inputs.policy);
      const ask = clusterKeyUse(s, stack);
      const ec2 = { "kms:ViaService": "ec2.eu-west-1.amazonaws.com" };
      assert.equal(await ask("kms:GenerateDataKeyWithoutPlaintext", ec2), "Allowed");
      assert.equal(await ask("kms:ReEncryptFrom", ec2), "Allowed");
      assert.equal(await ask("kms:CreateGrant", { ...ec2, "kms:GrantIsForAWSResource": "true" }), "Allowed");
      assert.equal(
        await ask("kms:CreateGrant", { ...ec2, "kms:GrantIsForAWSResource": "false" }),
        "ImplicitlyDenied",
      );
      assert.equal(
        await ask("kms:GenerateDataKeyWithoutPlaintext", { "kms:ViaService": "s3.eu-west-1.amazonaws.com" }),
        "ImplicitlyDenied",
      );
      // The Auto Scaling role launches nothing here: the key policy no longer names it.
      assert.ok(!JSON.stringify(keyPolicy).includes("AWSServiceRoleForAutoScaling"));
    });
  });
}

/** The IAM simulator's answer to the cluster role using the platform key, key policy and role policy together. */
function clusterKeyUse(s: Stack, stack: string) {
  const account = (s.outputs.kmsKeyArn as string).split(":")[4];
  const clusterRole = `arn:aws:iam::${account}:role/platform-${stack}-cluster`;
  const keyPolicy = json(s.one("aws:kms/key:Key").inputs.policy);
  const identity = json(s.one("aws:iam/rolePolicy:RolePolicy", "cluster-kms").inputs.policy);
  return (action: string, context: Record<string, string>) =>
    simulateResourcePolicy(
      keyPolicy,
      {
        principal: clusterRole,
        action,
        resource: s.outputs.kmsKeyArn as string,
        context: { "aws:PrincipalArn": clusterRole, ...context },
      },
      [identity],
    );
}

describe("node groups: the key policy gives EBS volume use to Auto Scaling, not to the cluster role", () => {
  it("denies the cluster role grants and data keys through EC2", async () => {
    const ask = clusterKeyUse(await buildStack("dev"), "dev");
    const ec2 = { "kms:ViaService": "ec2.eu-west-1.amazonaws.com" };
    assert.equal(await ask("kms:GenerateDataKeyWithoutPlaintext", ec2), "ImplicitlyDenied");
    assert.equal(
      await ask("kms:CreateGrant", { ...ec2, "kms:GrantIsForAWSResource": "true" }),
      "ImplicitlyDenied",
    );
  });
});

for (const compute of ["nodeGroups", "autoMode"] as const) {
  describe(`Pod Identity (${compute}), evaluated by the IAM simulator`, function () {
    this.timeout(60_000);
    let s: Stack;
    let account: string;
    let clusterArn: string;
    before(async () => {
      s = await build("dev", { compute, identity: "podIdentity" });
      account = (s.outputs.kmsKeyArn as string).split(":")[4];
      clusterArn = `arn:aws:eks:eu-west-1:${account}:cluster/platform-dev`;
    });
    const esoRole = () => `arn:aws:iam::${account}:role/platform-dev-external-secrets`;
    const tags = (ns: string, sa: string, cluster = clusterArn) => ({
      "eks-cluster-arn": cluster,
      "kubernetes-namespace": ns,
      "kubernetes-service-account": sa,
    });
    const assume = (
      action: "sts:AssumeRole" | "sts:TagSession",
      t: Record<string, string>,
      source = { account, arn: clusterArn },
    ) =>
      simulateResourcePolicy(json(role(s, "platform-dev-external-secrets").inputs.assumeRolePolicy), {
        principal: "pods.eks.amazonaws.com",
        action,
        resource: esoRole(),
        context: {
          "aws:SourceAccount": source.account,
          "aws:SourceArn": source.arn,
          ...Object.fromEntries(Object.entries(t).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
        },
      });

    it("associates External Secrets' service account with its role, and the LB controller's only with node groups", () => {
      const assoc = s.ofType("aws:eks/podIdentityAssociation:PodIdentityAssociation");
      const eso = assoc.find((a) => a.inputs.serviceAccount === "external-secrets");
      assert.equal(eso?.inputs.namespace, "external-secrets");
      assert.equal(eso?.inputs.roleArn, esoRole());
      assert.equal(eso?.inputs.clusterName, "platform-dev");
      const lbc = assoc.filter((a) => a.inputs.serviceAccount === "aws-load-balancer-controller");
      assert.equal(lbc.length, compute === "nodeGroups" ? 1 : 0);
      const agents = s
        .ofType("aws:eks/addon:Addon")
        .filter((a) => a.inputs.addonName === "eks-pod-identity-agent");
      assert.equal(
        agents.length,
        compute === "nodeGroups" ? 1 : 0,
        "the agent where Auto Mode does not run it",
      );
      const release = s
        .ofType(RELEASE)
        .find((r) => r.inputs.chart === "external-secrets") as CapturedResource;
      assert.ok(s.dependsOn(release, eso as CapturedResource), "pods start once the association exists");
      if (compute === "nodeGroups") assert.ok(s.dependsOn(release, agents[0]));
    });

    it("hands the GitOps repository an annotation key IRSA's webhook ignores, so the SDK uses the association", () => {
      const bridge = (s.one("kubernetes:core/v1:Secret", "in-cluster").inputs.metadata as Any).annotations;
      assert.equal(bridge.external_secrets_role_annotation, "gitops-platform/pod-identity-role-arn");
      if (compute === "nodeGroups") {
        assert.equal(bridge.enable_aws_load_balancer_controller, "true");
        assert.equal(
          bridge.aws_load_balancer_controller_role_annotation,
          "gitops-platform/pod-identity-role-arn",
        );
      }
    });

    it("trusts the Pod Identity service for the right service account of the right cluster, with session tags", async () => {
      const right = tags("external-secrets", "external-secrets");
      assert.equal(await assume("sts:AssumeRole", right), "Allowed");
      assert.equal(await assume("sts:TagSession", right), "Allowed");
    });

    it("denies another namespace, service account, cluster or account", async () => {
      assert.equal(await assume("sts:AssumeRole", tags("podinfo", "external-secrets")), "ImplicitlyDenied");
      assert.equal(await assume("sts:AssumeRole", tags("external-secrets", "default")), "ImplicitlyDenied");
      const other = clusterArn.replace("platform-dev", "platform-prod");
      const right = tags("external-secrets", "external-secrets");
      assert.equal(
        await assume("sts:AssumeRole", right, { account, arn: other }),
        "ImplicitlyDenied",
        "another cluster's association",
      );
      assert.equal(
        await assume("sts:AssumeRole", tags("external-secrets", "external-secrets", other)),
        "ImplicitlyDenied",
      );
      assert.equal(
        await assume("sts:AssumeRole", right, { account: "999988887777", arn: clusterArn }),
        "ImplicitlyDenied",
        "another account",
      );
    });

    if (compute === "nodeGroups") {
      it("trusts the LB controller's role for kube-system:aws-load-balancer-controller only, and narrows its permissions", async () => {
        const lbc = `arn:aws:iam::${account}:role/platform-dev-aws-lb-controller`;
        const trust = json(role(s, "platform-dev-aws-lb-controller").inputs.assumeRolePolicy);
        const ask = (t: Record<string, string>) =>
          simulateResourcePolicy(trust, {
            principal: "pods.eks.amazonaws.com",
            action: "sts:AssumeRole",
            resource: lbc,
            context: {
              "aws:SourceAccount": account,
              "aws:SourceArn": clusterArn,
              ...Object.fromEntries(Object.entries(t).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
            },
          });
        assert.equal(await ask(tags("kube-system", "aws-load-balancer-controller")), "Allowed");
        assert.equal(await ask(tags("external-secrets", "external-secrets")), "ImplicitlyDenied");
        const policy = json(
          s.one("aws:iam/rolePolicy:RolePolicy", "aws-load-balancer-controller").inputs.policy,
        );
        const describe = (t: Record<string, string>) =>
          simulateIdentity([policy], {
            principal: lbc,
            action: "elasticloadbalancing:DescribeLoadBalancers",
            resource: "*",
            context: Object.fromEntries(Object.entries(t).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
          });
        assert.equal(await describe(tags("kube-system", "aws-load-balancer-controller")), "Allowed");
        assert.equal(await describe(tags("kube-system", "default")), "ImplicitlyDenied");
      });
    }

    it("grants its permissions only to sessions tagged for this service account of this cluster", async () => {
      const policy = json(s.one("aws:iam/rolePolicy:RolePolicy", "external-secrets").inputs.policy);
      const secret = `arn:aws:secretsmanager:eu-west-1:${account}:secret:platform/dev/apps/podinfo-AbCdEf`;
      const ask = (t: Record<string, string>) =>
        simulateIdentity([policy], {
          principal: esoRole(),
          action: "secretsmanager:GetSecretValue",
          resource: secret,
          context: Object.fromEntries(Object.entries(t).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
        });
      assert.equal(await ask(tags("external-secrets", "external-secrets")), "Allowed");
      assert.equal(await ask(tags("podinfo", "external-secrets")), "ImplicitlyDenied");
      assert.equal(await ask(tags("external-secrets", "other")), "ImplicitlyDenied");
      assert.equal(
        await ask(tags("external-secrets", "external-secrets", clusterArn.replace("dev", "prod"))),
        "ImplicitlyDenied",
      );
    });

    it("is still let decrypt by the key policy, which names the role by aws:PrincipalArn", async () => {
      const identity = json(s.one("aws:iam/rolePolicy:RolePolicy", "external-secrets").inputs.policy);
      const decide = (ns: string) =>
        simulateResourcePolicy(
          json(s.one("aws:kms/key:Key").inputs.policy),
          {
            principal: esoRole(),
            action: "kms:Decrypt",
            resource: s.outputs.kmsKeyArn as string,
            context: {
              "aws:PrincipalArn": esoRole(),
              "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com",
              ...Object.fromEntries(
                Object.entries(tags(ns, "external-secrets")).map(([k, v]) => [`aws:PrincipalTag/${k}`, v]),
              ),
            },
          },
          [identity],
        );
      assert.equal(await decide("external-secrets"), "Allowed");
      assert.equal(await decide("podinfo"), "ImplicitlyDenied");
    });

    itNeeds(
      ["tools"],
      "ESO uses the controller's own identity: stores without auth, no service-account annotation, no token Role",
      function () {
        const stores = renderBootstrap(s.one(RELEASE, "external-secrets-stores")) as Any[];
        assert.equal(stores.length, 2);
        for (const st of stores) assert.equal(st.spec.provider.aws.auth, undefined, st.metadata.name);
        assert.equal(s.ofType("kubernetes:rbac.authorization.k8s.io/v1:Role").length, 0);
        const eso = s.ofType(RELEASE).find((r) => r.inputs.chart === "external-secrets") as CapturedResource;
        assert.deepEqual((eso.inputs.values as Any).serviceAccount.annotations, {});
      },
    );
  });
}

describe("identity irsa and Flux SOPS", function () {
  this.timeout(60_000);
  itNeeds(
    ["tools"],
    "IRSA keeps JWT auth and the token Role; with Pod Identity, Flux's SOPS role stays on IRSA",
    async function () {
      const irsa = await buildStack("dev");
      const stores = renderBootstrap(irsa.one(RELEASE, "external-secrets-stores")) as Any[];
      for (const st of stores) assert.ok(st.spec.provider.aws.auth.jwt, st.metadata.name);
      const bridge = (irsa.one("kubernetes:core/v1:Secret", "in-cluster").inputs.metadata as Any).annotations;
      assert.equal(bridge.aws_load_balancer_controller_role_annotation, "eks.amazonaws.com/role-arn");
      assert.equal(irsa.ofType("kubernetes:rbac.authorization.k8s.io/v1:Role").length, 1);

      const flux = await build("dev", { compute: "autoMode", identity: "podIdentity", engine: "flux" });
      const sops = role(flux, "platform-dev-flux-sops");
      const trust = json(sops.inputs.assumeRolePolicy).Statement[0];
      assert.equal(trust.Action, "sts:AssumeRoleWithWebIdentity");
      assert.equal(flux.ofType("aws:iam/openIdConnectProvider:OpenIdConnectProvider").length, 1);
      const eso = json(role(flux, "platform-dev-external-secrets").inputs.assumeRolePolicy).Statement[0];
      assert.deepEqual(eso.Principal, { Service: "pods.eks.amazonaws.com" });
    },
  );
});

describe("compute and identity: config", () => {
  const raw = () => stackRaw("dev");
  it("refuses node groups with Auto Mode", () => {
    const r = raw();
    (r.cluster as Any).compute = "autoMode";
    assert.match(
      configProblems(r),
      /gitops-platform:nodeGroups = \{.*: must not be set with cluster.compute autoMode/,
    );
  });
  it("refuses spot capacity in prod in Auto Mode, as it does for node groups", () => {
    const r = stackRaw("prod");
    (r.cluster as Any).compute = "autoMode";
    (r.cluster as Any).autoMode = { capacityTypes: ["spot", "on-demand"] };
    delete r.nodeGroups;
    assert.match(
      configProblems(r),
      /gitops-platform:cluster.autoMode.capacityTypes = \["spot","on-demand"\]: must be \["on-demand"\] in prod/,
    );
  });
  it("refuses add-ons Auto Mode runs itself, and an unknown mode", () => {
    const r = raw();
    (r.cluster as Any).compute = "autoMode";
    (r.cluster as Any).addons = { "vpc-cni": "v1.20.4-eksbuild.1" };
    delete r.nodeGroups;
    r.identity = "kiam";
    const msg = configProblems(r);
    assert.match(msg, /cluster.addons = .*: must not include vpc-cni with cluster.compute autoMode/);
    assert.match(msg, /gitops-platform:identity = "kiam": must be one of podIdentity, irsa/);
  });
  it("requires the Pod Identity agent with node groups and Pod Identity", () => {
    const r = raw();
    r.identity = "podIdentity";
    (r.cluster as Any).addons = {
      "vpc-cni": "v1.20.4-eksbuild.1",
      coredns: "v1.12.3-eksbuild.1",
      "kube-proxy": "v1.34.0-eksbuild.2",
    };
    assert.match(configProblems(r), /must include .*eks-pod-identity-agent \(identity podIdentity needs/);
  });
  it("refuses Auto Mode settings with node groups", () => {
    const r = raw();
    (r.cluster as Any).autoMode = { capacityTypes: ["on-demand"] };
    assert.match(configProblems(r), /cluster.autoMode = .*: applies only with cluster.compute autoMode/);
  });
  it("states compute and identity in every stack file, so a default change never moves a stack", () => {
    for (const stack of ["dev", "prod", "dr"]) {
      const r = stackRaw(stack);
      assert.equal((r.cluster as Any).compute, "nodeGroups", stack);
      assert.equal(r.identity, "irsa", stack);
    }
  });
});

import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildStack as buildRun, type StackRun } from "../scripts/engine";
import { asServer, discoverFleets, fleetPlanFiles, planFleet } from "../scripts/lib/plan/fleet";
import { GOLDEN_CASES, GOLDEN_FILE, graphOf } from "../scripts/graph-record";
import { writeFiles } from "../scripts/lib/plan/files";
import { parseArgs } from "../scripts/plan";
import { resolveConfig } from "../config";
import { APPLICATION_CLUSTER_LABEL, type FleetHubOutputs } from "../topology/fleet-hub";
import { runPolicies } from "../policy/harness";
import { MANUAL_ONLY_WINDOW } from "../engines/argo/projects";
import { generateApplications, renderTemplate } from "../scripts/lib/appset";
import { configProblems, stackRaw } from "./lib/config";
import { assertValidCustomResource } from "./lib/crd";
import { buildFleet, buildStack, type CapturedResource, type Stack } from "./lib/harness";
import { simulateResourcePolicy } from "./lib/iam";
import { kubectlKustomize } from "../scripts/lib/kustomize";
import { chartDataDir, describeNeeds, itNeeds } from "./lib/prerequisites";
import { CHARTS } from "../core/pins";
import { renderBootstrap } from "../scripts/lib/render";

type Any = any;

const SECRET = "kubernetes:core/v1:Secret";
const SECRET_PATCH = "kubernetes:core/v1:SecretPatch";
const ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry";
const ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const ENVIRONMENTS = ["dev", "staging", "prod"] as const;

const hubOutputs = (hub: Stack | StackRun) => hub.outputs.fleetHub as FleetHubOutputs;
const meta = (r: CapturedResource) => r.inputs.metadata as Any;

describe("fleet: single-cluster stacks are unchanged", () => {
  // Recorded by `npm run golden` (scripts/graph-record.ts); a deliberate change to single-cluster stacks
  // re-records it and the diff is reviewed.
  const golden = JSON.parse(fs.readFileSync(GOLDEN_FILE, "utf8"));
  for (const [label, stack, overrides] of GOLDEN_CASES) {
    it(`${label} builds exactly the graph it built before fleets`, async () => {
      const graph = graphOf(await buildRun(stack, overrides));
      assert.deepEqual(graph.outputs, golden[label].outputs);
      assert.deepEqual(
        graph.resources.map((r) => r.urn),
        golden[label].resources.map((r: Any) => r.urn),
      );
      assert.deepEqual(graph.resources, golden[label].resources);
    });
  }
});

describe("fleet: hub and spokes offline", function () {
  this.timeout(120_000);
  let hub: Stack;
  let dev: Stack;
  let prod: Stack;
  before(async () => {
    const fleet = await buildFleet("hub", ["spoke-dev", "spoke-prod"]);
    hub = fleet.hub;
    [dev, prod] = fleet.spokes;
  });

  describe("the hub", () => {
    it("exports its Argo CD role, API endpoint and CA, account, partition, region and cluster name", () => {
      const h = hubOutputs(hub);
      const cluster = hub.one("aws:eks/cluster:Cluster");
      assert.equal(h.clusterName, "platform-hub");
      assert.equal(h.endpoint, hub.outputs.clusterEndpoint);
      assert.equal(h.accountId, "777788889999");
      assert.equal(h.partition, "aws");
      assert.equal(h.region, "eu-west-1");
      assert.equal(h.argocdRoleArn, "arn:aws:iam::777788889999:role/platform-hub-argocd");
      assert.ok(h.certificateAuthority.length > 0);
      assert.equal(cluster.inputs.name, "platform-hub");
      assert.ok(!hub.secretOutputs.includes("fleetHub"), "spokes read it; it holds no secret");
    });

    it("runs Argo CD in HA with SSO and no local admin", () => {
      const release = hub.ofType(RELEASE).find((r) => r.inputs.chart === "argo-cd") as CapturedResource;
      const v = release.inputs.values as Any;
      assert.equal(v["redis-ha"].enabled, true);
      assert.ok(v.server.replicas >= 2 && v.repoServer.replicas >= 2);
      assert.equal(v.configs.cm["admin.enabled"], false);
      assert.match(v.configs.cm["oidc.config"], /clientSecret: \$argocd-oidc:clientSecret/);
    });

    itNeeds(
      ["upstream"],
      "gives exactly the controller and server the Argo CD role through Pod Identity (IAM simulator)",
      async function () {
        const roleArn = hubOutputs(hub).argocdRoleArn;
        const associations = hub
          .ofType("aws:eks/podIdentityAssociation:PodIdentityAssociation")
          .filter((a) => a.inputs.roleArn === roleArn);
        assert.deepEqual(associations.map((a) => [a.inputs.namespace, a.inputs.serviceAccount]).sort(), [
          ["argocd", "argocd-application-controller"],
          ["argocd", "argocd-server"],
        ]);
        const release = hub.ofType(RELEASE).find((r) => r.inputs.chart === "argo-cd") as CapturedResource;
        for (const a of associations)
          assert.ok(hub.dependsOn(release, a), "pods start once they get the role");
        // The chart's own names (values.yaml), which the associations and the trust policy name.
        const chart = fs.readFileSync(path.join(chartDataDir(CHARTS.argoCd), "values.yaml"), "utf8");
        assert.match(chart, /name: argocd-application-controller\n/);
        assert.match(chart, /name: argocd-server\n/);
        const role = hub
          .ofType("aws:iam/role:Role")
          .find((r) => r.inputs.name === "platform-hub-argocd") as Any;
        const assume = (namespace: string, serviceAccount: string) =>
          simulateResourcePolicy(JSON.parse(role.inputs.assumeRolePolicy), {
            principal: "pods.eks.amazonaws.com",
            action: "sts:AssumeRole",
            resource: roleArn,
            context: {
              "aws:SourceAccount": "777788889999",
              "aws:SourceArn": "arn:aws:eks:eu-west-1:777788889999:cluster/platform-hub",
              "aws:RequestTag/eks-cluster-arn": "arn:aws:eks:eu-west-1:777788889999:cluster/platform-hub",
              "aws:RequestTag/kubernetes-namespace": namespace,
              "aws:RequestTag/kubernetes-service-account": serviceAccount,
            },
          });
        assert.equal(await assume("argocd", "argocd-application-controller"), "Allowed");
        assert.equal(await assume("argocd", "argocd-server"), "Allowed");
        assert.equal(await assume("argocd", "argocd-repo-server"), "ImplicitlyDenied");
        assert.equal(await assume("podinfo", "argocd-server"), "ImplicitlyDenied");
        const clusterRole = hub
          .ofType("gitops-platform:index:PodIdentityRole")
          .find((r) => r.name === "argocd-clusters");
        assert.ok(clusterRole);
        assert.equal(
          hub.resources.filter((r) => r.parent === clusterRole.urn && r.type.startsWith("aws:iam/rolePolicy"))
            .length,
          0,
          "no permissions: a token for a spoke is a presigned GetCallerIdentity",
        );
      },
    );

    it("with identity irsa: annotates the controller and server, whose tokens alone may assume the role", async () => {
      const irsa = await buildStack("hub", { "gitops-platform:identity": "irsa" });
      const roleArn = hubOutputs(irsa).argocdRoleArn;
      const v = (irsa.ofType(RELEASE).find((r) => r.inputs.chart === "argo-cd") as CapturedResource).inputs
        .values as Any;
      const annotation = { "eks.amazonaws.com/role-arn": roleArn };
      assert.deepEqual(v.controller.serviceAccount, { annotations: annotation });
      assert.deepEqual(v.server.serviceAccount, { annotations: annotation });
      const role = irsa
        .ofType("aws:iam/role:Role")
        .find((r) => r.inputs.name === "platform-hub-argocd") as Any;
      const issuer = irsa.outputs.oidcIssuer as string;
      const assume = (sa: string) =>
        simulateResourcePolicy(JSON.parse(role.inputs.assumeRolePolicy), {
          principal: irsa.outputs.oidcProviderArn as string,
          action: "sts:AssumeRoleWithWebIdentity",
          resource: roleArn,
          context: {
            [`${issuer}:sub`]: `system:serviceaccount:${sa}`,
            [`${issuer}:aud`]: "sts.amazonaws.com",
          },
        });
      assert.equal(await assume("argocd:argocd-application-controller"), "Allowed");
      assert.equal(await assume("argocd:argocd-server"), "Allowed");
      assert.equal(await assume("argocd:argocd-repo-server"), "ImplicitlyDenied");
      assert.equal(await assume("podinfo:argocd-server"), "ImplicitlyDenied");
    });

    itNeeds(
      ["tools"],
      "is no deploy target: its in-cluster Secret lacks the workload labels, its own project only holds ApplicationSets",
      function () {
        const inCluster = hub.one(SECRET, "argocd-in-cluster");
        const labels = meta(inCluster).labels;
        assert.equal(labels["argocd.argoproj.io/secret-type"], "cluster");
        assert.equal(labels.environment, undefined);
        assert.equal(labels.fleet_role, undefined);
        const objects = renderBootstrap(hub.one(RELEASE, "argocd-root")) as Any[];
        const platform = objects.find((o) => o.kind === "AppProject" && o.metadata.name === "platform");
        assert.deepEqual(platform.spec.destinations, [
          { name: "in-cluster", server: "https://kubernetes.default.svc", namespace: "argocd" },
        ]);
        assert.deepEqual(platform.spec.clusterResourceWhitelist, []);
        const root = objects.find((o) => o.kind === "Application");
        assert.equal(root.spec.source.path, "gitops/clusters/hub/argocd");
        assert.equal(root.spec.source.targetRevision, "v0.1.0");
      },
    );

    itNeeds(
      ["tools", "upstream"],
      "has one valid AppProject per environment whose destinations are exactly that environment's spokes",
      function () {
        const objects = renderBootstrap(hub.one(RELEASE, "argocd-root")) as Any[];
        const project = (env: string) =>
          objects.find((o) => o.kind === "AppProject" && o.metadata.name === env);
        for (const env of ENVIRONMENTS) assertValidCustomResource(project(env));
        assert.deepEqual(project("prod").spec.destinations, [
          { name: "platform-spoke-prod", namespace: "*" },
        ]);
        assert.deepEqual(project("dev").spec.destinations, [{ name: "platform-spoke-dev", namespace: "*" }]);
        assert.deepEqual(
          project("staging").spec.destinations,
          [],
          "no staging spoke admitted: nowhere to deploy",
        );
        // Prod refuses automated syncs at the project, whatever an ApplicationSet says; a person may sync.
        assert.deepEqual(project("prod").spec.syncWindows, [{ ...MANUAL_ONLY_WINDOW, applications: ["*"] }]);
        assert.deepEqual(project("dev").spec.syncWindows, []);
      },
    );

    it("grants each spoke's deployer only its own cluster Secret (and reading Applications), through a group", () => {
      const fleetOnly = (r: CapturedResource) => r.parent?.includes("FleetHub") === true;
      const roles = hub.ofType("kubernetes:rbac.authorization.k8s.io/v1:Role").filter(fleetOnly);
      const bindings = hub.ofType("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding").filter(fleetOnly);
      assert.equal(roles.length, 2);
      for (const spoke of ["platform-spoke-dev", "platform-spoke-prod"]) {
        const role = roles.find((r) => meta(r).name === `fleet-spoke-${spoke}`) as Any;
        assert.equal(meta(role).namespace, "argocd");
        const secretRules = role.inputs.rules.filter((r: Any) => r.resources.includes("secrets"));
        assert.deepEqual(secretRules, [
          {
            apiGroups: [""],
            resources: ["secrets"],
            resourceNames: [`cluster-${spoke}`],
            verbs: ["get", "watch", "patch", "delete"],
          },
        ]);
        for (const rule of role.inputs.rules) {
          assert.ok(!rule.verbs.includes("*") && !rule.resources.includes("*"), JSON.stringify(rule));
          if (rule.apiGroups.includes("argoproj.io")) assert.deepEqual(rule.verbs, ["get", "list", "watch"]);
        }
        const binding = bindings.find((b) => meta(b).name === `fleet-spoke-${spoke}`) as Any;
        assert.deepEqual(binding.inputs.subjects, [
          {
            apiGroup: "rbac.authorization.k8s.io",
            kind: "Group",
            name: `gitops-platform:fleet-spoke:${spoke}`,
          },
        ]);
        const deployer = hubOutputs(hub).spokes[spoke].deployerRoleArn;
        const entry = hub.ofType(ACCESS_ENTRY).find((e) => e.inputs.principalArn === deployer) as Any;
        assert.deepEqual(entry.inputs.kubernetesGroups, [`gitops-platform:fleet-spoke:${spoke}`]);
        assert.equal(
          hub.ofType(ASSOCIATION).filter((a) => a.inputs.principalArn === deployer).length,
          0,
          "no EKS access policy: Kubernetes RBAC alone decides",
        );
      }
    });
  });

  for (const [label, spoke] of [
    ["dev", () => dev],
    ["prod", () => prod],
  ] as const) {
    describe(`spoke ${label}`, () => {
      it("reads the hub through a StackReference", () => {
        assert.deepEqual(spoke().references, ["example-org/gitops-platform/hub"]);
        assert.equal((spoke().outputs.fleetSpoke as Any).hubArgoCdRoleArn, hubOutputs(hub).argocdRoleArn);
      });

      it("admits exactly the hub's Argo CD role, cross-account, as cluster admin and nothing else new", () => {
        const role = hubOutputs(hub).argocdRoleArn;
        const entries = spoke()
          .ofType(ACCESS_ENTRY)
          .filter((e) => e.parent?.includes("SpokeRegistration"));
        assert.deepEqual(
          entries.map((e) => [e.inputs.principalArn, e.inputs.type]),
          [[role, "STANDARD"]],
        );
        assert.notEqual(role.split(":")[4], String(spoke().outputs.kmsKeyArn).split(":")[4], "cross-account");
        const association = spoke()
          .ofType(ASSOCIATION)
          .filter((a) => a.inputs.principalArn === role);
        assert.equal(association.length, 1);
        assert.equal(
          association[0].inputs.policyArn,
          "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        );
        assert.deepEqual(association[0].inputs.accessScope, { type: "cluster" });
        // One entry per principal: a replacement (after the hub's role is recreated) must delete the old one first.
        assert.ok(entries[0].deleteBeforeReplace && association[0].deleteBeforeReplace);
      });

      it("opens its cluster security group to the hub's VPC on 443 only", () => {
        const rules = spoke().ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
        assert.equal(rules.length, 1);
        assert.equal(rules[0].inputs.cidrIpv4, hub.one("aws:ec2/vpc:Vpc").inputs.cidrBlock);
        assert.deepEqual(
          [rules[0].inputs.ipProtocol, rules[0].inputs.fromPort, rules[0].inputs.toPort],
          ["tcp", 443, 443],
        );
        assert.match(String(rules[0].inputs.securityGroupId), /^sg-/);
      });

      it("registers a valid Argo CD cluster Secret on the hub that holds no credential", () => {
        const s = spoke();
        const secret = s.one(SECRET, "fleet-cluster");
        const m = meta(secret);
        assert.equal(m.namespace, "argocd");
        assert.equal(m.name, `cluster-${s.outputs.clusterName}`);
        assert.equal(m.labels["argocd.argoproj.io/secret-type"], "cluster");
        const data = secret.inputs.stringData as Record<string, string>;
        assert.deepEqual(Object.keys(data).sort(), ["config", "name", "server"]);
        assert.equal(data.name, s.outputs.clusterName);
        assert.equal(data.server, s.outputs.clusterEndpoint);
        const config = JSON.parse(data.config);
        assert.deepEqual(Object.keys(config).sort(), ["awsAuthConfig", "tlsClientConfig"]);
        assert.deepEqual(config.awsAuthConfig, { clusterName: s.outputs.clusterName });
        assert.equal(
          config.tlsClientConfig.caData,
          Buffer.from(`mock-ca-${s.outputs.clusterName}`).toString("base64"),
        );
        assert.equal(config.tlsClientConfig.insecure, false);
        const text = JSON.stringify(secret.inputs);
        for (const credential of [
          "bearerToken",
          "password",
          "username",
          "keyData",
          "certData",
          "execProviderConfig",
        ]) {
          assert.ok(!text.includes(credential), `${credential} in the cluster Secret`);
        }
        // The bridge metadata, as on a single cluster's in-cluster Secret.
        assert.equal(m.annotations.cluster_name, s.outputs.clusterName);
        assert.equal(
          m.annotations.aws_load_balancer_controller_iam_role_arn,
          s.outputs.loadBalancerControllerRoleArn,
        );
        // The name the hub's Role lets this spoke's deployer write.
        assert.deepEqual(
          hub
            .ofType("kubernetes:rbac.authorization.k8s.io/v1:Role")
            .filter((r) => r.parent?.includes("FleetHub"))
            .flatMap((r) => (r.inputs.rules as Any[]).flatMap((rule) => rule.resourceNames ?? [])),
          ["cluster-platform-spoke-dev", "cluster-platform-spoke-prod"],
        );
      });

      it("writes on the hub through a provider built from the hub's outputs, with exec auth and no token", () => {
        const s = spoke();
        const secret = s.one(SECRET, "fleet-cluster");
        const provider =
          s.resources.find(
            (r) => secret.dependencies.includes(r.urn) && r.type === "pulumi:providers:kubernetes",
          ) ?? s.one("pulumi:providers:kubernetes", "fleet-hub");
        const kubeconfig = JSON.parse(String(provider.inputs.kubeconfig));
        assert.equal(kubeconfig.clusters[0].cluster.server, hubOutputs(hub).endpoint);
        assert.equal(
          kubeconfig.clusters[0].cluster["certificate-authority-data"],
          hubOutputs(hub).certificateAuthority,
        );
        assert.deepEqual(kubeconfig.users[0].user.exec.args.slice(0, 4), [
          "eks",
          "get-token",
          "--cluster-name",
          "platform-hub",
        ]);
        assert.ok(!JSON.stringify(kubeconfig).includes("token:"));
      });

      it("leaves in order: selection labels, drain of the hub's Applications, cluster Secret, access entry, cluster", () => {
        const s = spoke();
        const selection = s.one(SECRET_PATCH, "fleet-selection");
        const drain = s.one("command:local:Command", "fleet-drain");
        const secret = s.one(SECRET, "fleet-cluster");
        const access = s.one(ASSOCIATION, "fleet-hub-argocd");
        // Destroy runs in reverse: whatever waits for X is deleted before X.
        assert.ok(s.dependsOn(selection, drain));
        assert.ok(s.dependsOn(drain, secret));
        assert.ok(s.dependsOn(secret, access));
        assert.ok(s.dependsOn(access, s.one("aws:eks/cluster:Cluster")));
        for (const needed of [
          s.one("aws:eks/nodeGroup:NodeGroup"),
          s.one(RELEASE, "external-secrets-stores"),
          s
            .ofType("aws:iam/role:Role")
            .find((r) => String(r.inputs.name).endsWith("-aws-lb-controller")) as CapturedResource,
          ...s.ofType("aws:ec2/natGateway:NatGateway"),
          ...s.ofType("aws:ec2/routeTableAssociation:RouteTableAssociation"),
        ]) {
          assert.ok(s.dependsOn(secret, needed), `the cluster Secret must go before ${needed.name}`);
        }
        // Without the selection labels no ApplicationSet selects the spoke; the drain waits on the label the
        // ApplicationSets put on every Application they generate.
        assert.equal(meta(selection).labels.fleet_role, "spoke");
        assert.equal(meta(selection).labels.environment, label);
        assert.equal(meta(secret).labels.fleet_role, undefined);
        assert.equal(meta(secret).labels.environment, undefined);
        const env = drain.inputs.environment as Any;
        assert.equal(env.LABEL, APPLICATION_CLUSTER_LABEL);
        assert.equal(env.CLUSTER, s.outputs.clusterName);
        assert.match(String(drain.inputs.delete), /get applications\.argoproj\.io -l "\$LABEL=\$CLUSTER"/);
        const user = JSON.parse(env.HUB_KUBECONFIG).users[0].user;
        assert.deepEqual(
          Object.keys(user),
          ["exec"],
          "the drain authenticates as the deployer, with no stored token",
        );
      });

      it("runs no GitOps engine of its own", () => {
        assert.equal(
          spoke()
            .ofType(RELEASE)
            .filter((r) => r.inputs.chart === "argo-cd" || r.inputs.chart === "flux2").length,
          0,
        );
      });
    });
  }

  it("passes the policy pack: hub and both spokes", () => {
    for (const s of [hub, dev, prod]) {
      const violations = runPolicies(
        s.resources.map((r) => ({ type: r.type, name: r.name, props: r.inputs })),
      );
      assert.deepEqual(violations, [], s.stack);
    }
  });

  describeNeeds(
    ["tools", "upstream"],
    "the hub's ApplicationSets against the registered cluster Secrets (Go templates, missingkey=error)",
    () => {
      let applications: Any[];
      let projects: Any[];
      before(() => {
        const asApiServer = asServer;
        const secrets = [
          asApiServer(hub.one(SECRET, "argocd-in-cluster")),
          ...[dev, prod].map((s) =>
            asApiServer(s.one(SECRET, "fleet-cluster"), s.one(SECRET_PATCH, "fleet-selection")),
          ),
        ];
        const appsets = kubectlKustomize("gitops/clusters/hub/argocd") as Any[];
        assert.equal(appsets.length, 18, "six ApplicationSets per environment");
        applications = appsets.flatMap((a) => generateApplications(a, secrets));
        projects = (renderBootstrap(hub.one(RELEASE, "argocd-root")) as Any[]).filter(
          (o) => o.kind === "AppProject",
        );
      });

      it("yields each spoke its add-ons and apps, and the hub nothing", () => {
        const names = applications.map((a) => a.metadata.name).sort();
        const expected = (c: string) =>
          [
            "argo-rollouts",
            "aws-load-balancer-controller",
            "metrics-server",
            "platform-configs",
            "podinfo",
            "prometheus",
          ].map((app) => `${c}-${app}`);
        assert.deepEqual(names, [...expected("platform-spoke-dev"), ...expected("platform-spoke-prod")]);
        assert.ok(!JSON.stringify(applications).includes("platform-hub"));
        assert.ok(applications.every((a) => a.spec.destination.server === undefined));
      });

      it("templates each spoke's values from its own bridge annotations", () => {
        for (const s of [dev, prod]) {
          const name = String(s.outputs.clusterName);
          const mine = applications.filter((a) => a.metadata.labels[APPLICATION_CLUSTER_LABEL] === name);
          assert.equal(mine.length, 6);
          // The metrics backend of the spoke's canaries is sized by the spoke's environment.
          const prometheus = mine.find((a) => a.metadata.name.endsWith("-prometheus"));
          assert.ok(
            prometheus.spec.sources[0].helm.valueFiles.includes(
              `$values/gitops/platform/monitoring/values-${s.outputs.environment}.yaml`,
            ),
          );
          const lbc = mine.find((a) => a.metadata.name.endsWith("aws-load-balancer-controller"));
          assert.equal(lbc.spec.source.helm.valuesObject.clusterName, name);
          assert.equal(lbc.spec.source.helm.valuesObject.vpcId, s.outputs.vpcId);
          const annotationKey = (meta(s.one(SECRET, "fleet-cluster")).annotations as Any)
            .aws_load_balancer_controller_role_annotation;
          assert.equal(
            lbc.spec.source.helm.valuesObject.serviceAccount.annotations[annotationKey],
            s.outputs.loadBalancerControllerRoleArn,
          );
          const podinfo = mine.find((a) => a.metadata.name.endsWith("-podinfo"));
          assert.equal(
            podinfo.spec.source.path,
            `gitops/apps/podinfo/deploy/argocd/${s.outputs.environment}`,
          );
          assert.equal(podinfo.spec.source.targetRevision, (s.outputs.gitopsRoot as Any).targetRevision);
          for (const a of mine) {
            assert.equal(a.spec.destination.name, name);
            assert.equal(a.spec.project, s.outputs.environment);
            assertValidCustomResource(a);
          }
        }
      });

      it("prod's project admits only prod spokes; prod Applications do not auto-sync", () => {
        const prodProject = projects.find((p) => p.metadata.name === "prod");
        const admitted = (project: Any, a: Any) =>
          project.spec.destinations.some((d: Any) => d.name === a.spec.destination.name);
        for (const a of applications) {
          const project = projects.find((p) => p.metadata.name === a.spec.project);
          assert.ok(admitted(project, a), `${a.metadata.name} is admitted by its project ${a.spec.project}`);
          assert.equal(admitted(prodProject, a), a.spec.project === "prod", a.metadata.name);
          if (a.spec.project === "prod")
            assert.equal(a.spec.syncPolicy.automated, undefined, a.metadata.name);
        }
      });

      it("the evaluator fails on a missing key, as missingkey=error does", () => {
        assert.throws(
          () => renderTemplate("{{ .metadata.annotations.nope }}", { metadata: { annotations: {} } }),
          /no entry for key "nope"/,
        );
        assert.throws(() => renderTemplate("{{ .name | upper }}", { name: "x" }), /unsupported/);
        assert.equal(renderTemplate("{{ .a.b }}-x", { a: { b: "y" } }), "y-x");
      });
    },
  );
});

describe("fleet: bad input", function () {
  this.timeout(120_000);
  const failure = async (run: Promise<unknown>): Promise<string> => {
    try {
      await run;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    return assert.fail("the stack was accepted");
  };

  it("a spoke naming a hub stack that does not exist", async () => {
    const message = await failure(
      buildStack("spoke-dev", { "gitops-platform:fleet": { hubStack: "example-org/gitops-platform/nope" } }),
    );
    assert.match(
      message,
      /gitops-platform:fleet\.hubStack = "example-org\/gitops-platform\/nope": has no fleetHub output/,
    );
  });

  describe("against a hub's outputs", () => {
    let hubRun: StackRun;
    before(async () => {
      hubRun = await buildRun("hub");
    });
    const withHub = (change: (h: FleetHubOutputs) => void) => {
      const outputs = JSON.parse(JSON.stringify(hubRun.outputs));
      change(outputs.fleetHub);
      return { "example-org/gitops-platform/hub": { ...hubRun, outputs } };
    };

    it("a hub in another partition", async () => {
      const message = await failure(
        buildStack(
          "spoke-dev",
          undefined,
          withHub((h) => (h.partition = "aws-cn")),
        ),
      );
      assert.match(
        message,
        /gitops-platform:fleet\.hubStack = "example-org\/gitops-platform\/hub": is a hub in partition aws-cn/,
      );
    });

    it("a spoke registered twice under the same name (another account claims an admitted name)", async () => {
      const message = await failure(
        buildStack("spoke-dev", {
          "gitops-platform:access": {
            adminRoleArns: ["arn:aws:iam::999988887777:role/platform-admin"],
            deployerRoleArns: ["arn:aws:iam::999988887777:role/deploy"],
            viewerRoleArns: [],
          },
        }),
      );
      assert.match(
        message,
        /gitops-platform:name = "platform-spoke-dev": is registered on hub .* for a deployer of account 111122223333/,
      );
    });

    it("two spoke stacks under one name in one fleet", async () => {
      const copy = path.join(__dirname, "..", "Pulumi.spoke-dev-copy.yaml");
      fs.copyFileSync(path.join(__dirname, "..", "Pulumi.spoke-dev.yaml"), copy);
      try {
        const { buildFleet: fleet } = await import("../scripts/engine");
        const message = await failure(fleet("hub", ["spoke-dev", copy]));
        assert.match(
          message,
          /gitops-platform:name = "platform-spoke-dev": stacks spoke-dev and spoke-dev-copy both register it/,
        );
      } finally {
        fs.rmSync(copy);
      }
    });

    it("a spoke the hub does not admit, or admits for another environment", async () => {
      const notAdmitted = await failure(
        buildStack("spoke-dev", { "gitops-platform:name": "platform-spoke-qa" }),
      );
      assert.match(notAdmitted, /gitops-platform:name = "platform-spoke-qa": is not admitted by hub/);
      const otherEnv = await failure(
        buildStack(
          "spoke-dev",
          undefined,
          withHub((h) => (h.spokes["platform-spoke-dev"].environment = "staging")),
        ),
      );
      assert.match(otherEnv, /gitops-platform:environment = "dev": must be staging/);
    });

    it("a prod spoke on a hub whose prod project would auto-sync it", async () => {
      const message = await failure(
        buildStack(
          "spoke-prod",
          undefined,
          withHub((h) => (h.projects.prod = { automated: true, windows: [] })),
        ),
      );
      assert.match(
        message,
        /gitops-platform:fleet\.hubStack = .*prod project would auto-sync this prod spoke/,
      );
    });
  });

  describe("config", () => {
    it("a hub whose prod project auto-syncs without an allow window", () => {
      const raw = stackRaw("hub") as Any;
      raw.fleet.projects.prod.automated = true;
      assert.match(
        configProblems(raw),
        /gitops-platform:fleet\.projects\.prod\.automated = true: needs fleet\.projects\.prod\.windows with an allow window/,
      );
      raw.fleet.projects.prod.windows = [{ kind: "allow", schedule: "0 9 * * 1-4", duration: "2h" }];
      assert.doesNotThrow(() => resolveConfig(raw, "eu-west-1"));
    });

    it("a hub admitting a deployer of another partition, or itself as a spoke", () => {
      const raw = stackRaw("hub") as Any;
      raw.fleet.spokes["platform-spoke-cn"] = {
        environment: "dev",
        deployerRoleArn: "arn:aws-cn:iam::111122223333:role/deploy",
      };
      raw.fleet.spokes["platform-hub"] = {
        environment: "dev",
        deployerRoleArn: "arn:aws:iam::111122223333:role/x",
      };
      const message = configProblems(raw);
      assert.match(
        message,
        /gitops-platform:fleet\.spokes\.platform-spoke-cn\.deployerRoleArn = .*must be in the hub's partition aws/,
      );
      assert.match(
        message,
        /gitops-platform:fleet\.spokes\.platform-hub = "platform-hub": is the hub itself/,
      );
    });

    it("a Flux hub or spoke, a spoke with SSO or private repository, an unknown role", () => {
      const spoke = stackRaw("spoke-dev") as Any;
      assert.match(
        configProblems({ ...spoke, gitops: { ...spoke.gitops, engine: "flux" } }),
        /gitops-platform:gitops\.engine = "flux": must be argocd with fleet\.role spoke/,
      );
      assert.match(
        configProblems({ ...spoke, fleet: { role: "hub-ish" } }),
        /gitops-platform:fleet\.role = "hub-ish": must be one of hub, spoke/,
      );
      assert.match(
        configProblems({ ...spoke, fleet: { role: "spoke", hubStack: "a/b/c/d" } }),
        /gitops-platform:fleet\.hubStack = "a\/b\/c\/d": must be the hub's stack name/,
      );
      assert.match(
        configProblems({ ...spoke, gitops: { ...spoke.gitops, private: true } }),
        /gitops-platform:gitops\.private = true: must be false on a spoke/,
      );
    });
  });
});

describe("fleet: offline plan (npm run plan -- --fleet)", function () {
  this.timeout(180_000);
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const tmp = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-plan-"));
    dirs.push(d);
    return d;
  };
  const files = (dir: string): string[] =>
    fs
      .readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
      .sort();

  it("prints hub and spokes with the cross-stack edges, byte-identical between runs (CLI and in-process)", async () => {
    const [a, b] = [tmp(), tmp()];
    const cli = spawnSync(
      process.execPath,
      [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "scripts/plan.ts", "--fleet", "--out", a],
      { cwd: path.resolve(__dirname, ".."), encoding: "utf8", timeout: 120_000 },
    );
    assert.equal(cli.status, 0, cli.stderr);
    const fleets = discoverFleets();
    assert.deepEqual(
      fleets.map((f) => [path.basename(f.hub), f.spokes.map((s) => path.basename(s))]),
      [["Pulumi.hub.yaml", ["Pulumi.spoke-dev.yaml", "Pulumi.spoke-prod.yaml"]]],
    );
    writeFiles(fleetPlanFiles([await planFleet(fleets[0])]), b, "fleet.txt");
    assert.deepEqual(files(a), files(b));
    for (const f of files(a))
      assert.ok(fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f))), f);
    for (const stack of ["hub", "spoke-dev", "spoke-prod"])
      assert.ok(files(a).includes(`${stack}/plan.json`), stack);

    const text = fs.readFileSync(path.join(a, "fleet.txt"), "utf8");
    assert.equal(cli.stdout.split("\nwrote ")[0], text);
    for (const line of [
      "spoke-dev -> hub: reads output fleetHub of example-org/gitops-platform/hub",
      "spoke-prod -> hub: Secret argocd/cluster-platform-spoke-prod",
      "hub -> spoke-prod: Argo CD role arn:aws:iam::777788889999:role/platform-hub-argocd admitted by access entry (AmazonEKSClusterAdminPolicy, cluster scope)",
      "platform-spoke-prod-podinfo: project prod -> platform-spoke-prod/podinfo, manual",
      "platform-spoke-dev-podinfo: project dev -> platform-spoke-dev/podinfo, automated",
      "(none for the hub platform-hub)",
    ]) {
      assert.ok(text.includes(line), `fleet.txt lacks: ${line}`);
    }
  });

  it("refuses --fleet with a single stack", () => {
    assert.throws(() => parseArgs(["--fleet", "--stack", "dev"]), /--fleet plans every fleet stack/);
  });
});

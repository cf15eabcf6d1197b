import * as assert from "node:assert/strict";
import { buildStack, type CapturedResource, type Stack } from "./lib/harness";

// `pulumi destroy` deletes in reverse dependency order. These edges are what make it finish: the root objects go
// first, while the GitOps controller, the nodes it runs on, the IRSA roles and the NAT routes the controllers
// need to delete their load balancers still exist; a namespace goes only after everything in it.
for (const engine of ["argocd", "flux"] as const) {
  describe(`teardown order (${engine})`, () => {
    let s: Stack;
    before(async () => {
      s = await buildStack("dev", { "gitops-platform:gitops": { engine } });
    });
    const root = () => s.one("kubernetes:helm.sh/v3:Release", `${engine}-root`);
    const chart = (name: string) =>
      s.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.chart === name) as CapturedResource;
    const engineChart = () => chart(engine === "argocd" ? "argo-cd" : "flux2");

    it("removes the root objects before the engine that processes their finalizers", () => {
      assert.ok(s.dependsOn(root(), engineChart()));
    });

    it("removes the root objects before the nodes, NAT routes and internet gateway the controllers need", () => {
      assert.ok(s.dependsOn(root(), s.one("aws:eks/nodeGroup:NodeGroup")));
      for (const r of s.ofType("aws:ec2/natGateway:NatGateway")) assert.ok(s.dependsOn(root(), r), r.name);
      for (const r of s.ofType("aws:ec2/routeTableAssociation:RouteTableAssociation"))
        assert.ok(s.dependsOn(root(), r), r.name);
      assert.ok(s.dependsOn(root(), s.one("aws:ec2/internetGateway:InternetGateway")));
    });

    it("removes the root objects before the load balancer controller's IAM role, so it can still delete its load balancers", () => {
      const lbcRole = s
        .ofType("aws:iam/role:Role")
        .find((r) => r.inputs.name === "platform-dev-aws-lb-controller") as CapturedResource;
      assert.ok(s.dependsOn(root(), lbcRole));
    });

    // Changed on purpose (issue 13): the root waits for the stores only when its own objects read from them.
    it("removes the root objects before the External Secrets operator, which clears their ExternalSecrets' finalizers", () => {
      assert.ok(s.dependsOn(root(), chart("external-secrets")));
      assert.ok(
        s.dependsOn(
          s.one("kubernetes:helm.sh/v3:Release", "external-secrets-stores"),
          chart("external-secrets"),
        ),
      );
    });

    it("waits for the secret stores only when the root's own objects read from them (a private repository)", async () => {
      const stores = () => s.one("kubernetes:helm.sh/v3:Release", "external-secrets-stores");
      assert.ok(!s.dependsOn(root(), stores()), "a public repository's root does not wait for the stores");
      const priv = await buildStack("dev", { "gitops-platform:gitops": { engine, private: true } });
      assert.ok(
        priv.dependsOn(
          priv.one("kubernetes:helm.sh/v3:Release", `${engine}-root`),
          priv.one("kubernetes:helm.sh/v3:Release", "external-secrets-stores"),
        ),
      );
    });

    it("removes every Helm release before its namespace, so no namespace waits on a finalizer", () => {
      for (const release of s.ofType("kubernetes:helm.sh/v3:Release")) {
        const ns = s
          .ofType("kubernetes:core/v1:Namespace")
          .find((n) => (n.inputs.metadata as any).name === release.inputs.namespace);
        assert.ok(ns, `release ${release.name} installs into a namespace the program creates`);
        assert.ok(
          s.dependsOn(release, ns),
          `${release.name} must go before namespace ${release.inputs.namespace}`,
        );
      }
    });

    it("waits for the root's deletion: resources finalizer (Argo CD) or WaitForTermination (Flux)", () => {
      const objects = (root().inputs.values as any).resources as any[];
      if (engine === "argocd") {
        const app = objects.find((o) => o.kind === "Application");
        assert.deepEqual(app.metadata.finalizers, ["resources-finalizer.argocd.argoproj.io"]);
      } else {
        const k = objects.find((o) => o.kind === "Kustomization");
        assert.equal(k.spec.deletionPolicy, "WaitForTermination");
        assert.equal(k.spec.prune, true);
      }
      assert.notEqual(
        root().inputs.skipAwait,
        true,
        "the release's delete must wait for its objects to be gone",
      );
    });
  });
}

describe("teardown: what remains by design", () => {
  it("prod keeps its key (and replica) and its seed secrets; dev keeps nothing", async () => {
    const prod = await buildStack("prod");
    const dev = await buildStack("dev");
    const retained = (s: Stack) =>
      s.resources
        .filter((r) => r.retainOnDelete)
        .map((r) => (r.type === "aws:secretsmanager/secret:Secret" ? `${r.type} ${r.inputs.name}` : r.type))
        .sort();
    assert.deepEqual(retained(prod), [
      "aws:kms/key:Key",
      "aws:kms/replicaKey:ReplicaKey",
      "aws:secretsmanager/secret:Secret platform/prod/alerts/platform-oncall",
      "aws:secretsmanager/secret:Secret platform/prod/apps/podinfo",
    ]);
    assert.deepEqual(retained(dev), []);
  });
});

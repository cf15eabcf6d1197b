// Upgrades: a stack deployed with a released program plans with today's without losing anything. Each recorded
// release (releases/<tag>/, its shipped stack files and the graph its own code built) is planned with today's
// program and held to README "Upgrading"'s rules; the rules themselves are shown to fail where they should.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { newerDefaultsNotice, resolveStackConfig } from "../config";
import { DEFAULTS_RELEASES, FIRST_DEFAULTS, LATEST_DEFAULTS } from "../config/releases";
import { loadStackConfig, ROOT, withOverrides } from "../scripts/engine";
import { planStack } from "../scripts/plan";
import { upgradeDiff, upgradeProblems, type Step } from "../scripts/lib/upgrade/diff";
import { AWS_FORCE_NEW, FORCE_NEW, STATEFUL_TYPES } from "../scripts/lib/upgrade/force-new";
import { recordGraph, type ReleaseResource } from "../scripts/lib/upgrade/graph";
import { loadRelease, releaseTags } from "../scripts/lib/upgrade/releases";
import { buildStack } from "./lib/harness";

const NS = "gitops-platform";
const V010 = loadRelease("v0.1.0");
const stackConfig = (file: string, extra: Record<string, unknown> = {}) =>
  withOverrides(loadStackConfig(file).config, extra);
const resolved = (file: string, extra?: Record<string, unknown>) =>
  resolveStackConfig(stackConfig(file, extra));
const ofKind = (steps: Step[], kind: Step["kind"]) => steps.filter((s) => s.kind === kind);

/** Today's program on a release's stack file, after what its "Upgrading" notes ask, plus `extra`. */
async function upgrade(tag: string, stack: string, extra: Record<string, unknown> = {}) {
  const release = loadRelease(tag);
  const run = await buildStack(release.stackFile(stack), { ...release.steps[stack], ...extra });
  const steps = upgradeDiff(release.stacks[stack].resources, run);
  return { run, steps, problems: upgradeProblems(steps) };
}

describe("upgrade: defaults belong to a release (gitops-platform:defaults)", () => {
  it("a file without the key gets the first release's defaults: node groups and IRSA, in dev too", () => {
    const cfg = resolved(V010.stackFile("dev"));
    assert.equal(cfg.defaults, FIRST_DEFAULTS);
    assert.equal(cfg.cluster.compute, "nodeGroups");
    assert.equal(cfg.identity, "irsa");
  });

  it("the newest defaults run Auto Mode in dev, node groups in prod, Pod Identity everywhere", () => {
    const dev = resolved(path.join(ROOT, "Pulumi.dev.yaml"), {
      [`${NS}:defaults`]: LATEST_DEFAULTS,
      [`${NS}:cluster`]: { compute: undefined },
      [`${NS}:nodeGroups`]: undefined,
      [`${NS}:identity`]: undefined,
    });
    assert.deepEqual([dev.cluster.compute, dev.identity], ["autoMode", "podIdentity"]);
    const prod = resolved(path.join(ROOT, "Pulumi.prod.yaml"), {
      [`${NS}:cluster`]: { compute: undefined },
      [`${NS}:identity`]: undefined,
    });
    assert.deepEqual(
      [prod.defaults, prod.cluster.compute, prod.identity],
      [LATEST_DEFAULTS, "nodeGroups", "podIdentity"],
    );
  });

  it("every shipped stack file states the newest defaults", () => {
    const files = fs.readdirSync(ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f));
    assert.ok(files.length >= 6);
    for (const f of files) assert.equal(resolved(path.join(ROOT, f)).defaults, LATEST_DEFAULTS, f);
  });

  it("an unknown release is refused, naming the key, the value and the releases", () => {
    for (const bad of ["2027-01", "latest", "2026"]) {
      assert.throws(
        () => resolved(path.join(ROOT, "Pulumi.dev.yaml"), { [`${NS}:defaults`]: bad }),
        (err: Error) =>
          err.message.includes(`${NS}:defaults = ${JSON.stringify(bad)}`) &&
          DEFAULTS_RELEASES.every((r) => err.message.includes(r)),
      );
    }
  });

  it("a file on older defaults gets one line naming what the newest would change and how to opt in", () => {
    // v0.1.0's prod states node groups: the identity default differs, and the add-ons that follow it.
    const prod = stackConfig(V010.stackFile("prod"), V010.steps.prod);
    const notice = newerDefaultsNotice(prod, resolveStackConfig(prod)) ?? "";
    assert.match(notice, /^gitops-platform:defaults is unset: planned with the 2026-11 defaults\./);
    assert.match(notice, /would change cluster\.addons, identity \(irsa → podIdentity\)/);
    assert.match(notice, /opt in with gitops-platform:defaults: "2026-12"/);
    assert.doesNotMatch(notice, /\n/);
    // v0.1.0's dev sets node groups, which the newest defaults' Auto Mode refuses: the line says so.
    const dev = stackConfig(V010.stackFile("dev"));
    assert.match(
      newerDefaultsNotice(dev, resolveStackConfig(dev)) ?? "",
      /2026-12 defaults would refuse this file as it stands: gitops-platform:nodeGroups .*must not be set with cluster\.compute autoMode/,
    );
  });

  it("no line for a file on the newest defaults; the offline plan carries it for the others", async () => {
    const all = stackConfig(path.join(ROOT, "Pulumi.prod.yaml"));
    assert.equal(newerDefaultsNotice(all, resolveStackConfig(all)), undefined);
    const plan = await planStack(V010.stackFile("dev"), { render: "values" });
    assert.match(plan.notice ?? "", /gitops-platform:defaults is unset/);
    assert.equal(
      (await planStack(path.join(ROOT, "Pulumi.dev.yaml"), { render: "values" })).notice,
      undefined,
    );
  });
});

describe("upgrade: every recorded release plans with today's program, losing nothing", function () {
  this.timeout(120_000);
  it("the recorded releases include v0.1.0's dev, prod and dr", () => {
    assert.ok(releaseTags().includes("v0.1.0"));
    assert.deepEqual(Object.keys(V010.stacks).sort(), ["dev", "dr", "prod"]);
    assert.match(V010.commit, /^3661f0d[0-9a-f]{33}$/);
  });

  for (const tag of releaseTags()) {
    for (const stack of Object.keys(loadRelease(tag).stacks)) {
      it(`${tag} ${stack}: no stateful delete or replace, every moved URN aliased, no name held twice`, async () => {
        const { steps, problems } = await upgrade(tag, stack);
        assert.deepEqual(problems, []);
        assert.deepEqual(ofKind(steps, "delete"), []);
        assert.deepEqual(ofKind(steps, "replace"), []);
      });
    }
  }

  it("v0.1.0 prod's only creation is the alert destination's secret its upgrade notes add", async () => {
    const { steps } = await upgrade("v0.1.0", "prod");
    assert.deepEqual(
      ofKind(steps, "create").map((s) => s.physicalName),
      ["secretsmanager/secret:platform/prod/alerts/platform-oncall"],
    );
  });

  it("the identity switch on a v0.1.0 stack updates the same roles in place, through the role aliases", async () => {
    const { steps, problems } = await upgrade("v0.1.0", "dev", { [`${NS}:identity`]: "podIdentity" });
    assert.deepEqual(problems, []);
    const roles = steps.filter((s) => s.type === "aws:iam/role:Role");
    assert.deepEqual(roles.map((s) => [s.kind, s.physicalName, s.inputs.join()]).sort(), [
      ["update", "iam/role:platform-dev-aws-lb-controller", "assumeRolePolicy"],
      ["update", "iam/role:platform-dev-external-secrets", "assumeRolePolicy"],
    ]);
    for (const r of roles)
      assert.match(r.from ?? "", /::gitops-platform:index:IrsaRole\$aws:iam\/role:Role::/);
  });

  it("fails without those aliases: the roles are created beside the ones that hold their names", async () => {
    const { run } = await upgrade("v0.1.0", "dev", { [`${NS}:identity`]: "podIdentity" });
    const unaliased = recordGraph(run).map(({ aliases: _, ...r }) => r);
    const problems = upgradeProblems(upgradeDiff(V010.stacks.dev.resources, unaliased));
    for (const name of ["platform-dev-external-secrets", "platform-dev-aws-lb-controller"])
      assert.ok(
        problems.some((p) => p.endsWith(`still holds iam/role:${name}: an alias is missing`)),
        `${name}:\n${problems.join("\n")}`,
      );
  });

  it("fails on a flipped default that moves a running stack: the newest defaults' Auto Mode on v0.1.0 dev", async () => {
    const { problems } = await upgrade("v0.1.0", "dev", {
      [`${NS}:defaults`]: LATEST_DEFAULTS,
      [`${NS}:nodeGroups`]: undefined,
    });
    assert.ok(
      problems.some((p) => /^deletes stateful .*aws:eks\/nodeGroup:NodeGroup::platform-dev-system$/.test(p)),
      problems.join("\n"),
    );
  });
});

describe("upgrade: the rules of the diff", () => {
  const urn = (q: string, name: string) => `urn:pulumi:dev::gitops-platform::${q}::${name}`;
  const res = (q: string, name: string, r: Partial<ReleaseResource> = {}): ReleaseResource => ({
    urn: urn(q, name),
    type: q.split("$").pop()!,
    custom: !q.startsWith("my:"),
    inputs: {},
    ...r,
  });
  const parent = urn("my:index:Old", "c");
  const before = [
    res("my:index:Old", "c", { custom: false }),
    res("my:index:Old$aws:iam/role:Role", "r", { parent, physicalName: "iam/role:x", inputs: { name: "1" } }),
  ];
  const renamed = (aliases?: ReleaseResource["aliases"]) => [
    res("my:index:New", "c", { custom: false, aliases }),
    res("my:index:New$aws:iam/role:Role", "r", {
      parent: urn("my:index:New", "c"),
      physicalName: "iam/role:x",
      inputs: { name: "1" },
    }),
  ];

  it("a component renamed with an alias carries its children over (they inherit it)", () => {
    const steps = upgradeDiff(before, renamed([{ type: "my:index:Old" }]));
    assert.deepEqual(
      steps.map((s) => [s.kind, s.from]),
      [
        ["update", parent],
        ["update", urn("my:index:Old$aws:iam/role:Role", "r")],
      ],
    );
    assert.deepEqual(upgradeProblems(steps), []);
  });

  it("the same rename without an alias is a create and a delete of one physical name", () => {
    const problems = upgradeProblems(upgradeDiff(before, renamed()));
    assert.equal(problems.length, 1);
    assert.match(
      problems[0],
      /creates .*my:index:New\$aws:iam\/role:Role::r while .* still holds iam\/role:x/,
    );
  });

  it("an input the provider replaces on, or a new physical name, is a replace; a stateful one is refused", () => {
    const vpc = (cidr: string, name = "n") =>
      res("aws:ec2/vpc:Vpc", "vpc", {
        physicalName: name === "n" ? undefined : name,
        inputs: { cidrBlock: cidr, tags: "t" },
      });
    assert.deepEqual(upgradeDiff([vpc("a")], [vpc("a")]), []);
    const replaced = upgradeDiff([vpc("a")], [vpc("b")]);
    assert.deepEqual(
      replaced.map((s) => [s.kind, s.inputs]),
      [["replace", ["cidrBlock"]]],
    );
    assert.match(upgradeProblems(replaced)[0], /^replaces stateful .*Vpc::vpc \(cidrBlock\)$/);
    const role = (name: string, policy: string) =>
      res("aws:iam/role:Role", "r", {
        physicalName: `iam/role:${name}`,
        inputs: { name, assumeRolePolicy: policy },
      });
    assert.deepEqual(
      upgradeDiff([role("x", "p")], [role("x", "q")]).map((s) => s.kind),
      ["update"],
    );
    const renamedRole = upgradeDiff([role("x", "p")], [role("y", "p")]);
    assert.deepEqual(
      renamedRole.map((s) => [s.kind, s.inputs]),
      [["replace", ["name", "(physical name)"]]],
    );
  });
});

describe("upgrade: which inputs force a replacement", () => {
  it("every AWS type the shipped stacks build is recorded from the Terraform provider or named unread", async () => {
    const types = new Set<string>();
    for (const stack of ["dev", "prod", "dr", "hub", "spoke-dev", "spoke-prod"])
      for (const r of (await buildStack(stack)).resources)
        if (r.type.startsWith("aws:") && r.custom) types.add(r.type);
    const missing = [...types].filter(
      (t) => !(t in AWS_FORCE_NEW.types) && !AWS_FORCE_NEW.unread.includes(t),
    );
    for (const t of [
      "aws:eks/cluster:Cluster",
      "aws:eks/nodeGroup:NodeGroup",
      "aws:ec2/vpc:Vpc",
      "aws:kms/key:Key",
    ])
      assert.ok(t in AWS_FORCE_NEW.types, `${t}: a stateful type must be read, not left unread`);
    assert.deepEqual(
      missing,
      [],
      "add them to scripts/lib/upgrade/force-new.aws.json from the provider's schema",
    );
    for (const [type, t] of Object.entries(AWS_FORCE_NEW.types)) {
      assert.match(t.commit, /^[0-9a-f]{40}$/, type);
      assert.match(t.file, /^internal\/service\/[a-z0-9]+\/[a-z0-9_]+\.go$/, type);
    }
  });

  it("every argument @pulumi/aws's own docs say forces a new resource is among them", () => {
    const missing: string[] = [];
    for (const type of Object.keys(AWS_FORCE_NEW.types)) {
      const [, module] = type.split(":");
      const file = path.join(ROOT, "node_modules", "@pulumi", "aws", `${module}.d.ts`);
      const text = fs.readFileSync(file, "utf8");
      const args = /^export interface \w+Args \{([\s\S]*?)^\}/m.exec(text)?.[1] ?? "";
      assert.ok(args, `${type}: no Args interface in ${file}`);
      for (const m of args.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*(\w+)\??:/g)) {
        if (
          /forces? (a )?new resource|forces? replacement|will force a new|changing this (value )?forces/i.test(
            m[1],
          )
        )
          if (!FORCE_NEW[type].includes(m[2])) missing.push(`${type} ${m[2]}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it("names every stateful type the issue lists, and replaces a command without `update` on any change", async () => {
    for (const t of [
      "aws:eks/cluster:Cluster",
      "aws:eks/nodeGroup:NodeGroup",
      "aws:kms/key:Key",
      "aws:ec2/vpc:Vpc",
    ])
      assert.ok(STATEFUL_TYPES.has(t), t);
    const cmd = (create: string) => ({
      urn: "urn:pulumi:dev::p::command:local:Command::c",
      type: "command:local:Command",
      custom: true,
      inputs: { create },
    });
    assert.deepEqual(
      upgradeDiff([cmd("a")], [cmd("b")]).map((s) => [s.kind, s.inputs]),
      [["replace", ["create"]]],
    );
  });
});

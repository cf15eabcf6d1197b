import * as assert from "node:assert/strict";
import { resolveConfig, rawNamespace } from "../config";
import { buildStack } from "./lib/harness";
import { loadStackConfig } from "../scripts/engine";
import { configProblems } from "./lib/config";

/** The dev stack file's namespace, as the program sees it. */
function devRaw(): Record<string, unknown> {
  return rawNamespace(loadStackConfig("dev").config);
}

const problemsOf = configProblems;

function withKey(path: string, value: unknown, raw = devRaw()): Record<string, unknown> {
  const keys = path.split(".");
  let obj = raw as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) {
    obj[k] = { ...((obj[k] as object) ?? {}) };
    obj = obj[k] as Record<string, unknown>;
  }
  obj[keys[keys.length - 1]] = value;
  return raw;
}

const prodRaw = () => rawNamespace(loadStackConfig("prod").config);

describe("config: the stack files", () => {
  it("dev and prod stack files are valid and resolve to different, environment-appropriate settings", () => {
    const dev = resolveConfig(devRaw(), "eu-west-1");
    const prod = resolveConfig(prodRaw(), "eu-west-1");
    assert.equal(dev.network.natGateways, "single");
    assert.equal(prod.network.natGateways, "perAz");
    assert.equal(prod.cluster.endpointPublicAccess, false);
    assert.equal(prod.kms.deletionWindowDays, 30);
    assert.deepEqual(prod.network.privateSubnetCidrs, ["10.30.0.0/18", "10.30.64.0/18", "10.30.128.0/18"]);
    assert.deepEqual(prod.network.publicSubnetCidrs, ["10.30.192.0/20", "10.30.208.0/20", "10.30.224.0/20"]);
    assert.equal(dev.gitops.path, "gitops/clusters/dev/argocd");
  });

  it("defaults the GitOps path from environment and engine, so switching engine switches entry point", () => {
    const raw = withKey("gitops.engine", "flux");
    assert.equal(resolveConfig(raw, "eu-west-1").gitops.path, "gitops/clusters/dev/flux");
  });
});

describe("config: bad values fail with the key, the value and what is allowed", () => {
  const cases: Array<[string, () => Record<string, unknown>, RegExp]> = [
    [
      "unknown environment",
      () => withKey("environment", "qa"),
      /gitops-platform:environment = "qa": must be one of dev, staging, prod/,
    ],
    [
      "unknown engine",
      () => withKey("gitops.engine", "spinnaker"),
      /gitops-platform:gitops.engine = "spinnaker": must be one of argocd, flux/,
    ],
    [
      "http repo URL",
      () => withKey("gitops.repoUrl", "http://github.com/org/repo.git"),
      /gitops.repoUrl = "http:\/\/github.com\/org\/repo.git": must be an https:\/\/ or ssh/,
    ],
    [
      "repo URL with credentials (redacted in the message)",
      () => withKey("gitops.repoUrl", "https://bob:hunter2@github.com/org/repo.git"),
      /gitops.repoUrl = "https:\/\/\*\*\*@github.com\/org\/repo.git": must not carry credentials/,
    ],
    [
      "repo URL with a token",
      () => withKey("gitops.repoUrl", "https://ghp_abc@github.com/org/repo.git"),
      /must not carry credentials/,
    ],
    [
      "public VPC CIDR",
      () => withKey("network.vpcCidr", "8.8.0.0/16"),
      /network.vpcCidr = "8.8.0.0\/16": must be a private \(RFC 1918\) range/,
    ],
    [
      "VPC CIDR too large",
      () => withKey("network.vpcCidr", "10.0.0.0/8"),
      /network.vpcCidr = "10.0.0.0\/8": must have a prefix between \/16 and \/24/,
    ],
    [
      "VPC CIDR too small",
      () => withKey("network.vpcCidr", "10.0.0.0/25"),
      /must have a prefix between \/16 and \/24/,
    ],
    [
      "malformed VPC CIDR",
      () => withKey("network.vpcCidr", "10.0.0.1/16"),
      /network.vpcCidr = "10.0.0.1\/16": must be an IPv4 network CIDR/,
    ],
    [
      "overlapping subnets",
      () =>
        withKey(
          "network.publicSubnetCidrs",
          ["10.10.0.0/20", "10.10.208.0/20"],
          withKey("network.privateSubnetCidrs", ["10.10.0.0/18", "10.10.64.0/18"]),
        ),
      /network.publicSubnetCidrs\[0\] = "10.10.0.0\/20": must not overlap network.privateSubnetCidrs\[0\] \(10.10.0.0\/18\)/,
    ],
    [
      "subnet outside the VPC",
      () => withKey("network.privateSubnetCidrs", ["10.10.0.0/18", "10.99.0.0/18"]),
      /network.privateSubnetCidrs\[1\] = "10.99.0.0\/18": must lie inside network.vpcCidr 10.10.0.0\/16/,
    ],
    [
      "one subnet per zone",
      () => withKey("network.privateSubnetCidrs", ["10.10.0.0/18"]),
      /must list one CIDR per availability zone \(2\)/,
    ],
    [
      "fewer than 2 AZs",
      () => withKey("network.availabilityZones", ["eu-west-1a"]),
      /network.availabilityZones = \["eu-west-1a"\]: must list at least 2 availability zones/,
    ],
    [
      "AZ of another region",
      () => withKey("network.availabilityZones", ["eu-west-1a", "us-east-1b"]),
      /availabilityZones\[1\] = "us-east-1b": must be a zone of region eu-west-1/,
    ],
    [
      "KMS deletion window below 7",
      () => withKey("kms.deletionWindowDays", 3),
      /kms.deletionWindowDays = 3: must be a whole number from 7 to 30/,
    ],
    [
      "KMS deletion window above 30",
      () => withKey("kms.deletionWindowDays", 45),
      /kms.deletionWindowDays = 45: must be a whole number from 7 to 30/,
    ],
    [
      "public endpoint open to the world",
      () => withKey("cluster.publicAccessCidrs", ["0.0.0.0/0"]),
      /cluster.publicAccessCidrs\[0\] = "0.0.0.0\/0": must not open the API endpoint to the world/,
    ],
    [
      "public endpoint without CIDRs",
      () => withKey("cluster.publicAccessCidrs", []),
      /cluster.publicAccessCidrs = \[\]: must list the CIDRs allowed/,
    ],
    [
      "unknown top-level key",
      () => withKey("gitopz", {}),
      /gitops-platform:gitopz = \{\}: is not a known key; allowed: defaults, environment, name/,
    ],
    [
      "unknown nested key",
      () => withKey("network.vpcCIDR", "10.0.0.0/16"),
      /network.vpcCIDR = "10.0.0.0\/16": is not a known key; allowed: vpcCidr/,
    ],
    [
      "node group sizes out of order",
      () => withKey("nodeGroups.system.minSize", 5),
      /nodeGroups.system = \{"minSize":5,"desiredSize":2,"maxSize":4\}: needs minSize <= desiredSize <= maxSize/,
    ],
    [
      "admin role that is not a role ARN",
      () => withKey("access.adminRoleArns", ["arn:aws:iam::111122223333:user/bob"]),
      /access.adminRoleArns\[0\] = "arn:aws:iam::111122223333:user\/bob": must be an IAM role ARN/,
    ],
    [
      "no deployer role",
      () => withKey("access.deployerRoleArns", []),
      /access.deployerRoleArns = \[\]: must name the role\(s\) that run `pulumi up`/,
    ],
    [
      "adopted key that is not a KMS ARN",
      () => withKey("kms.existingKeyArn", "alias/platform"),
      /kms.existingKeyArn = "alias\/platform": must be a KMS key ARN/,
    ],
    [
      "path escaping the repository",
      () => withKey("gitops.path", "../other"),
      /gitops.path = "..\/other": must be a relative path inside the repository/,
    ],
  ];
  for (const [what, raw, expected] of cases) {
    it(what, () => assert.match(problemsOf(raw()), expected));
  }

  it("a missing region is named", () =>
    assert.throws(
      () => resolveConfig(devRaw(), undefined),
      /aws:region = \(unset\): must be set to an AWS region/,
    ));

  it("reports every problem at once", () => {
    const message = problemsOf(
      withKey("kms.deletionWindowDays", 1, withKey("network.vpcCidr", "8.8.0.0/16")),
    );
    assert.match(message, /\(2 problems\)/);
  });

  describe("prod is held to more", () => {
    const prodCases: Array<[string, () => Record<string, unknown>, RegExp]> = [
      [
        "fewer than 3 AZs",
        () => withKey("network.availabilityZones", ["eu-west-1a", "eu-west-1b"], prodRaw()),
        /must list at least 3 availability zones in prod/,
      ],
      [
        "fewer than 3 nodes",
        () => withKey("nodeGroups.system.minSize", 2, withKey("nodeGroups.system.desiredSize", 2, prodRaw())),
        /nodeGroups.\*.minSize = 2: must add up to at least 3 nodes in prod/,
      ],
      [
        "a public endpoint",
        () =>
          withKey(
            "cluster.publicAccessCidrs",
            ["203.0.113.0/24"],
            withKey("cluster.endpointPublicAccess", true, prodRaw()),
          ),
        /cluster.endpointPublicAccess = true: must be false in prod/,
      ],
      [
        "a single NAT gateway",
        () => withKey("network.natGateways", "single", prodRaw()),
        /network.natGateways = "single": must be perAz in prod/,
      ],
      [
        "a short deletion window",
        () => withKey("kms.deletionWindowDays", 7, prodRaw()),
        /kms.deletionWindowDays = 7: must be 30 in prod/,
      ],
      [
        "spot capacity",
        () => withKey("nodeGroups.system.capacityType", "SPOT", prodRaw()),
        /capacityType = "SPOT": must be ON_DEMAND in prod/,
      ],
      [
        "a moving branch",
        () => withKey("gitops.targetRevision", "main", prodRaw()),
        /gitops.targetRevision = "main": must be pinned in prod: a release tag/,
      ],
      [
        "HEAD",
        () => withKey("gitops.targetRevision", "HEAD", prodRaw()),
        /gitops.targetRevision = "HEAD": must be pinned in prod/,
      ],
    ];
    for (const [what, raw, expected] of prodCases) {
      it(`rejects ${what}`, () => assert.match(problemsOf(raw()), expected));
    }
    it("accepts a full commit SHA as a pinned revision", () => {
      const raw = withKey("gitops.targetRevision", "0123456789abcdef0123456789abcdef01234567", prodRaw());
      assert.equal(
        resolveConfig(raw, "eu-west-1").gitops.targetRevision,
        "0123456789abcdef0123456789abcdef01234567",
      );
    });
  });

  it("the program fails on a bad stack config before any resource is registered", async () => {
    await assert.rejects(
      buildStack("dev", { "gitops-platform:gitops": { engine: "spinnaker" } }),
      (err: Error & { resourcesRegistered?: number }) => {
        assert.match(err.message, /gitops.engine = "spinnaker": must be one of argocd, flux/);
        assert.equal(err.resourcesRegistered, 0);
        return true;
      },
    );
  });
});

describe("config: every object rejects keys it does not know", () => {
  for (const key of ["kms.rotation", "cluster.endpointPublic", "access.admins", "nodeGroups.system.ami"]) {
    it(key, () =>
      assert.match(
        problemsOf(withKey(key, true)),
        new RegExp(`${key.replace(/\./g, "\\.")} = true: is not a known key`),
      ),
    );
  }
});

describe("config: values that would only fail at deploy time fail now", () => {
  const dev = () => devRaw();
  const cases: Array<[string, () => Record<string, unknown>, RegExp]> = [
    [
      "a role in two access lists (EKS allows one access entry per principal)",
      () => withKey("access.viewerRoleArns", ["arn:aws:iam::111122223333:role/platform-admin"]),
      /gitops-platform:access = "arn:aws:iam::111122223333:role\/platform-admin": must list a role in only one of/,
    ],
    [
      "Arm and x86 instance types in one node group",
      () => withKey("nodeGroups.system.instanceTypes", ["m7g.large", "m6i.large"]),
      /nodeGroups.system.instanceTypes = \["m7g.large","m6i.large"\]: must all be Graviton \(arm64\) or all x86_64/,
    ],
    [
      "another Kubernetes version with the 1.34 add-on pins",
      () => withKey("cluster.version", "1.33"),
      /cluster.addons = .*: must be set explicitly for cluster.version 1.33: the default pins are built for 1.34/,
    ],
    [
      "an unknown add-on name",
      () =>
        withKey("cluster.addons", {
          vpc_cni: "v1.20.4-eksbuild.1",
          coredns: "v1.12.3-eksbuild.1",
          "kube-proxy": "v1.34.0-eksbuild.2",
        }),
      /cluster.addons.vpc_cni = .*: is not an EKS add-on name/,
    ],
    [
      "a VPC CNI too old to enforce network policies",
      () =>
        withKey("cluster.addons", {
          "vpc-cni": "v1.13.4-eksbuild.1",
          coredns: "v1.12.3-eksbuild.1",
          "kube-proxy": "v1.34.0-eksbuild.2",
        }),
      /cluster.addons.vpc-cni = "v1.13.4-eksbuild.1": must be v1.14.0 or later/,
    ],
    [
      "add-ons without a core one",
      () => withKey("cluster.addons", { coredns: "v1.12.3-eksbuild.1", "kube-proxy": "v1.34.0-eksbuild.2" }),
      /cluster.addons = .*: must include vpc-cni, coredns and kube-proxy/,
    ],
    [
      "a secrets prefix that would cover other environments",
      () => withKey("externalSecrets.prefix", "platform"),
      /externalSecrets.prefix = "platform": must end with \/dev/,
    ],
    [
      "External Secrets in an engine's namespace",
      () => withKey("externalSecrets.namespace", "argocd"),
      /externalSecrets.namespace = "argocd": must not be argocd or flux-system/,
    ],
    [
      "a standby region for a non-prod environment",
      () => withKey("dr", { standbyRegion: "eu-central-1", standbyName: "platform-dev-dr" }),
      /gitops-platform:dr = .*: is for prod only/,
    ],
    [
      "a tag the program sets itself",
      () => withKey("tags", { Environment: "qa" }),
      /tags.Environment = "qa": is set by the program/,
    ],
    [
      "a reserved aws: tag key",
      () => withKey("tags", { "aws:owner": "me" }),
      /tags.aws:owner = "me": must not start with aws:/,
    ],
  ];
  for (const [what, raw, expected] of cases) {
    it(what, () => assert.match(problemsOf(raw()), expected));
  }

  it("names aws:region as it is, without the project namespace, and reports nothing about zones then", () => {
    const message = (() => {
      try {
        resolveConfig(dev(), undefined);
      } catch (err) {
        return (err as Error).message;
      }
      return "";
    })();
    assert.match(message, /^ {2}- aws:region = \(unset\): must be set to an AWS region such as eu-west-1$/m);
    assert.match(message, /\(1 problem\)/);
  });

  it("derives the AMI type from the instance types (Graviton gets the arm64 AMI)", () => {
    const cfg = resolveConfig(
      withKey("nodeGroups.system.instanceTypes", ["m7g.large", "c7g.large"]),
      "eu-west-1",
    );
    assert.equal(cfg.nodeGroups.system.architecture, "arm64");
    assert.equal(resolveConfig(dev(), "eu-west-1").nodeGroups.system.architecture, "x86_64");
  });

  it("replaces the default add-ons when the stack lists its own", () => {
    const addons = {
      "vpc-cni": "v1.19.0-eksbuild.1",
      coredns: "v1.11.4-eksbuild.2",
      "kube-proxy": "v1.33.0-eksbuild.2",
    };
    const cfg = resolveConfig(
      withKey("cluster.addons", addons, withKey("cluster.version", "1.33")),
      "eu-west-1",
    );
    assert.deepEqual(cfg.cluster.addons, addons);
  });

  it("lets prod use Flux with sync.automated set: Flux always reconciles and the pinned revision is the gate", () => {
    const cfg = resolveConfig(
      withKey("gitops.sync", { automated: true }, withKey("gitops.engine", "flux", prodRaw())),
      "eu-west-1",
    );
    assert.equal(cfg.gitops.engine, "flux");
  });

  it("does not echo the value of an unknown key that looks like a secret", () => {
    const message = problemsOf(withKey("gitops.argocd.clientSecret", "s3cr3t-value"));
    assert.match(message, /gitops.argocd.clientSecret = "\(redacted\)": is not a known key/);
    assert.doesNotMatch(message, /s3cr3t-value/);
  });
});

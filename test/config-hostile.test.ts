// One test per class of hostile stack config (issue 11): each is refused with the key, the value (redacted when
// it may be a secret, cut when long) and what is allowed, before any resource is registered.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { DEFAULT_NODE_GROUP, resolveStackConfig } from "../config";
import { readStackFile } from "../config/stackFile";
import { loadStackConfig, withOverrides } from "../scripts/engine";
import { stackProblems } from "./lib/config";

const DEPLOYER = "arn:aws:iam::111122223333:role/gitops-platform-deploy-dev";
/** A valid node group: dev's default. */
const group = DEFAULT_NODE_GROUP.dev;
const window = (w: Record<string, unknown>) => ({
  "gitops-platform:gitops": { sync: { automated: true, windows: [w] } },
});
const repo = (repoUrl: string) => ({ "gitops-platform:gitops": { repoUrl } });
const revision = (targetRevision: unknown) => ({ "gitops-platform:gitops": { targetRevision } });

describe("hostile config: keys", () => {
  it("a misspelt namespace, naming the key it meant", () =>
    assert.match(
      stackProblems("dev", { "gitops-platfrom:cluster": { endpointPublicAccess: true } }),
      /gitops-platfrom:cluster = .*: is not a known namespace: did you mean gitops-platform:cluster\?/,
    ));
  it("a bare key", () =>
    assert.match(
      stackProblems("dev", { environment: "dev" }),
      /^ {2}- environment = "dev": is not namespaced: write gitops-platform:environment/m,
    ));
  it("an unknown provider key, listing the allowed ones", () =>
    assert.match(
      stackProblems("dev", { "aws:skipMetadataApiCheck": "true" }),
      /aws:skipMetadataApiCheck = "true": is not a known key; allowed: gitops-platform:\*, aws:region, aws:profile/,
    ));
  it("plaintext credentials, redacted, pointing at OIDC and profiles", () => {
    const message = stackProblems("dev", {
      "aws:accessKey": "AKIAIOSFODNN7EXAMPLE",
      "aws:secretKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      "aws:token": "FwoGZXIvYXdzEJr//////////wEaDExampleSessionToken",
    });
    for (const key of ["aws:accessKey", "aws:secretKey", "aws:token"])
      assert.match(
        message,
        new RegExp(
          `${key} = "\\(redacted\\)": must not be in a stack file: a plaintext credential. CI assumes its role with OIDC; locally use aws:profile`,
        ),
      );
    assert.doesNotMatch(message, /AKIAIOSFODNN7EXAMPLE|wJalrXUtnFEMI|FwoGZXIv/);
  });
  for (const key of ["__proto__", "constructor", "prototype"]) {
    it(`${key} at any depth, never reaching Object.prototype`, () => {
      const groups = JSON.parse(
        `{"system": ${JSON.stringify(group)}, "${key}": {"evil": ${JSON.stringify(group)}}}`,
      );
      const message = stackProblems("dev", {
        "gitops-platform:nodeGroups": groups,
        [`gitops-platform:${key}`]: "x",
      });
      assert.match(
        message,
        new RegExp(
          `gitops-platform:nodeGroups.${key} = "\\(not shown\\)": is not allowed: __proto__, constructor and prototype are refused`,
        ),
      );
      assert.match(message, new RegExp(`gitops-platform:${key} = "\\(not shown\\)": is not allowed`));
      assert.equal(({} as Record<string, unknown>).evil, undefined);
    });
  }
  it("a valid aws:profile, allowed account ids and default tags are accepted and counted", () => {
    const all = withOverrides(loadStackConfig("dev").config, {
      "aws:profile": "platform-dev",
      "aws:allowedAccountIds": ["111122223333"],
      "aws:defaultTags": { tags: { Team: "platform" } },
    });
    assert.equal(resolveStackConfig(all).environment, "dev");
    assert.match(
      stackProblems("dev", {
        "aws:allowedAccountIds": ["1234"],
        "aws:defaultTags": { tags: { "aws:x": "y" } },
      }),
      /aws:allowedAccountIds\[0\] = "1234": must be a 12-digit AWS account id[\s\S]*aws:defaultTags.tags.aws:x = "y": must not start with aws:/,
    );
  });
});

describe("hostile config: strings", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["a zero-width space", "ma\u200bin", /found U\+200B/],
    ["a bidi override", "ma\u202ein", /found U\+202E/],
    ["a newline", "ma\nin", /found U\+000A/],
    ["a NUL", "ma\u0000in", /found U\+0000/],
  ];
  for (const [what, value, found] of cases)
    it(`${what}: refused, not echoed`, () => {
      const message = stackProblems("dev", revision(value));
      assert.match(
        message,
        /gitops.targetRevision = "\(not shown\)": must not contain control, bidi or zero-width characters/,
      );
      assert.match(message, found);
    });
  it("a 100 kB value: refused and cut to 80 characters in the message", () => {
    const message = stackProblems("dev", { "gitops-platform:tags": { Owner: "v".repeat(100_000) } });
    assert.match(message, /tags.Owner = "v{78}…\(100002 characters\): must be at most 4096 characters/);
    assert.ok(message.length < 400);
  });
  it("a field's own length limit", () =>
    assert.match(
      stackProblems("dev", { "gitops-platform:gitops": { path: "a/".repeat(200) } }),
      /gitops.path = .*: must be a relative path inside the repository, without '..', at most 256 characters/,
    ));
  it("a homograph host (Cyrillic і): ASCII only, punycode for international names", () =>
    assert.match(
      stackProblems("dev", repo("https://gіthub.com/org/repo.git")),
      /gitops.repoUrl = .*: must be an https:\/\/ or ssh .* URL, in ASCII: write an international host name in punycode/,
    ));
  for (const url of ["ssh://git@-oProxyCommand=x/org/repo", "git@-oProxyCommand=x:org/repo"])
    it(`an ssh host starting with '-' (${url.slice(0, 6)}...)`, () =>
      assert.match(
        stackProblems("dev", repo(url)),
        /gitops.repoUrl = .*: must not have a host starting with '-'/,
      ));
  it("schemes in any case: HTTPS:// is https", () => {
    const all = withOverrides(
      loadStackConfig("dev").config,
      repo("HTTPS://github.com/example-org/gitops-platform.git"),
    );
    assert.equal(
      resolveStackConfig(all).gitops.repoUrl,
      "HTTPS://github.com/example-org/gitops-platform.git",
    );
  });
});

describe("hostile config: secrets are redacted in every message", () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      "userinfo, upper-case scheme",
      "HTTPS://x-access-token:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/o/r.git",
      /"HTTPS:\/\/\*\*\*@github.com\/o\/r.git": must not carry credentials/,
    ],
    [
      "a token query parameter",
      "https://github.com/o/r.git?access_token=supersecretvalue123",
      /"https:\/\/github.com\/o\/r.git\?access_token=\*\*\*": must not carry a query/,
    ],
    [
      "ssh userinfo",
      "ssh://deploy:hunter2pass@github.com/o/r.git",
      /"ssh:\/\/\*\*\*@github.com\/o\/r.git": must not carry credentials/,
    ],
    ["scp-form userinfo", "deploy:hunter2pass@github.com:o/r.git", /"\*\*\*@github.com:o\/r.git"/],
  ];
  for (const [what, url, expected] of cases)
    it(what, () => {
      const message = stackProblems("dev", repo(url));
      assert.match(message, expected);
      assert.doesNotMatch(message, /ghp_|supersecret|hunter2/);
    });
  it("values of secret-looking keys and token-shaped values anywhere", () => {
    const message = stackProblems("dev", {
      "gitops-platform:gitops": { password: "hunter2" },
      "gitops-platform:network": { note: "ghp_abcdefghijklmnopqrstuvwxyz0123456789" },
    });
    assert.match(message, /gitops.password = "\(redacted\)": is not a known key/);
    assert.match(message, /network.note = "\(redacted\)": is not a known key/);
    assert.doesNotMatch(message, /hunter2|ghp_/);
  });
});

describe("hostile config: AWS meaning", () => {
  it("a region the provider does not know", () =>
    assert.match(
      stackProblems("dev", { "aws:region": "eu-fake-1" }),
      /aws:region = "eu-fake-1": must be set to an AWS region/,
    ));
  it("a region with regular-expression characters does not crash", () =>
    assert.match(
      stackProblems("dev", { "aws:region": "eu-(west-1" }),
      /aws:region = "eu-\(west-1": must be set to an AWS region/,
    ));
  it("a zone the region does not have (from the zone table)", () =>
    assert.match(
      stackProblems("dev", {
        "gitops-platform:network": { availabilityZones: ["eu-west-1a", "eu-west-1d"] },
      }),
      /network.availabilityZones\[1\] = "eu-west-1d": must be a zone of region eu-west-1 \(eu-west-1a, eu-west-1b, eu-west-1c\)/,
    ));
  it("role ARNs of another partition than the region's", () =>
    assert.match(
      stackProblems("dev", {
        "aws:region": "cn-north-1",
        "gitops-platform:network": { availabilityZones: ["cn-north-1a", "cn-north-1b"] },
      }),
      /access.adminRoleArns\[0\] = "arn:aws:iam::111122223333:role\/platform-admin": must be a role of partition aws-cn \(the partition of cn-north-1\)/,
    ));
  it("a KMS key ARN of another partition, and malformed key ids", () => {
    assert.match(
      stackProblems("dev", {
        "gitops-platform:kms": {
          existingKeyArn:
            "arn:aws-us-gov:kms:eu-west-1:111122223333:key/mrk-1234567890abcdef1234567890abcdef",
        },
      }),
      /kms.existingKeyArn = .*: must be a key of partition aws \(the partition of eu-west-1\)/,
    );
    assert.match(
      stackProblems("dev", {
        "gitops-platform:kms": { existingKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/not-a-key-id" },
      }),
      /kms.existingKeyArn = .*: must be a KMS key ARN/,
    );
  });
  it("tags AWS refuses: empty key, 300-character key, newline, aws: prefix", () => {
    const message = stackProblems("dev", {
      "gitops-platform:tags": { "": "x", ["k".repeat(300)]: "v", nl: "a\nb", "aws:cost": "x" },
    });
    assert.match(message, /tags\[""\] = "x": must be a tag key of 1-128/);
    assert.match(
      message,
      /tags.kkkkkkkkkkkkkkkkkkkk... = "\(not shown\)": must be a key of at most 128 characters/,
    );
    assert.match(message, /tags.nl = "\(not shown\)": must not contain control/);
    assert.match(message, /tags.aws:cost = "x": must not start with aws:/);
  });
  it("more tags than AWS allows, counting the program's own", () =>
    assert.match(
      stackProblems("dev", {
        "gitops-platform:tags": Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`t${i}`, "v"])),
      }),
      /tags = "\(47 tags\)": must have at most 44 tags: AWS allows 50 per resource and the program sets 6/,
    ));
  it("an empty instance type list", () =>
    assert.match(
      stackProblems("dev", { "gitops-platform:nodeGroups": { system: { ...group, instanceTypes: [] } } }),
      /nodeGroups.system.instanceTypes = \[\]: must list at least one EC2 instance type/,
    ));
  it("a seed secret name beyond Secrets Manager's 512 characters", () =>
    assert.match(
      stackProblems("dev", {
        "gitops-platform:externalSecrets": {
          prefix: `${"p/".repeat(125)}dev`,
          seedSecrets: [`${"s/".repeat(150)}x`],
        },
      }),
      /externalSecrets.seedSecrets\[0\] = .*: must make a Secrets Manager name \(<prefix>\/<name>\) of at most 512 characters/,
    ));
});

describe("hostile config: git revisions", () => {
  const cases: Array<[unknown, RegExp]> = [
    ["--upload-pack=touch /tmp/pwned", /never starting with '-'/],
    ["main..x", /no '\.\.'/],
    ["refs/heads/x.lock", /ending with \.lock/],
    ["a@{1}", /no '@\{'/],
    ["abc1234", /must be a full commit SHA \(40 or 64 lowercase hex characters\)/],
  ];
  for (const [value, expected] of cases)
    it(JSON.stringify(value), () => assert.match(stackProblems("dev", revision(value)), expected));
  it("an all-digit SHA YAML read as a number, with a hint to quote it", () =>
    assert.match(
      // What YAML makes of an unquoted 40-digit SHA.
      stackProblems("prod", revision(parse("sha: 1234567890123456789012345678901234567890").sha)),
      /gitops.targetRevision = 1.2345678901234568e\+39: must be a Git ref \(YAML read an unquoted value as a number.*quote it\)/,
    ));
  it("prod takes a 64-hex (SHA-256) commit", () => {
    const all = withOverrides(loadStackConfig("prod").config, revision("a".repeat(64)));
    assert.equal(resolveStackConfig(all).gitops.targetRevision, "a".repeat(64));
  });
});

describe("hostile config: sync windows", () => {
  const gate = (w: Record<string, unknown>) =>
    stackProblems("prod", window({ kind: "allow", duration: "1h", ...w }));
  it("a cron that is not one", () =>
    assert.match(
      gate({ schedule: "a b c d e" }),
      /windows\[0\].schedule = "a b c d e": must be a five-field cron schedule .*: its minute field "a" is not 0-59/,
    ));
  it("fields out of range", () => {
    assert.match(gate({ schedule: "0 24 * * *" }), /its hour field "24" is not 0-23/);
    assert.match(gate({ schedule: "0 9 0 * *" }), /its day of month field "0" is not 1-31/);
    assert.match(gate({ schedule: "0 9 * 13 *" }), /its month field "13" is not 1-12 or a name/);
    assert.match(gate({ schedule: "0 9 * * 8" }), /its day of week field "8" is not 0-7 or a name/);
  });
  it("an unknown time zone", () =>
    assert.match(
      gate({ schedule: "0 9 * * 1-5", timeZone: "Mars/Olympus" }),
      /windows\[0\].timeZone = "Mars\/Olympus": must be an IANA time zone/,
    ));
  it("time zones of the tz database that Node's list leaves out are accepted; a wrong case is not", () => {
    for (const timeZone of ["UTC", "Etc/UTC", "Asia/Kolkata", "Europe/Kyiv"]) {
      const all = withOverrides(
        loadStackConfig("prod").config,
        window({ kind: "allow", schedule: "0 9 * * 1-4", duration: "1h", timeZone }),
      );
      assert.equal(resolveStackConfig(all).gitops.sync.windows[0].timeZone, timeZone);
    }
    assert.match(
      gate({ schedule: "0 9 * * 1-4", timeZone: "europe/paris" }),
      /timeZone = "europe\/paris": must be an IANA time zone, written as the tz database does \(Europe\/Paris\)/,
    );
  });
  it("names, lists, ranges and steps are cron", () => {
    const all = withOverrides(
      loadStackConfig("prod").config,
      window({
        kind: "allow",
        schedule: "*/30 9-17 * jan-mar,oct MON-FRI",
        duration: "10m",
        timeZone: "Europe/Paris",
      }),
    );
    assert.equal(resolveStackConfig(all).gitops.sync.windows[0].timeZone, "Europe/Paris");
  });
  it("in prod, an allow window that never closes", () => {
    assert.match(
      gate({ schedule: "* * * * *", duration: "1m" }),
      /windows\[0\] = .*: must close in prod: its duration covers the time between its starts/,
    );
    assert.match(gate({ schedule: "0 0 * * *", duration: "24h" }), /must close in prod/);
    assert.doesNotMatch(
      stackProblems("prod", {
        "gitops-platform:kms": { deletionWindowDays: 7 },
        ...window({ kind: "allow", schedule: "0 0 * * *", duration: "23h" }),
      }),
      /must close/,
    );
  });
});

describe("hostile config: across fields", () => {
  it("a secrets prefix under another environment's", () =>
    assert.match(
      stackProblems("prod", { "gitops-platform:externalSecrets": { prefix: "platform/dev/prod" } }),
      /externalSecrets.prefix = "platform\/dev\/prod": must not lie under another environment's prefix \(platform\/dev\)/,
    ));
  it("two seed secrets that would be one resource", () =>
    assert.match(
      stackProblems("dev", {
        "gitops-platform:externalSecrets": { seedSecrets: ["apps/podinfo", "apps-podinfo"] },
      }),
      /externalSecrets.seedSecrets\[1\] = "apps-podinfo": must not map to the same resource as seedSecrets\[0\] \(apps\/podinfo\)/,
    ));
  it("a seed secret that would be the resource of the program's own repository secret", () =>
    assert.match(
      stackProblems("dev", {
        "gitops-platform:gitops": { private: true },
        "gitops-platform:externalSecrets": { seedSecrets: ["gitops-repository"] },
      }),
      /externalSecrets.seedSecrets\[0\] = "gitops-repository": must not map to the same resource as gitops\/repository/,
    ));
  for (const [what, second] of [
    ["another path that maps to the same name", "arn:aws:iam::111122223333:role/a-b"],
    ["the same name in another account", "arn:aws:iam::444455556666:role/a/b"],
  ])
    it(`two role ARNs that would be one access entry: ${what}`, () =>
      assert.match(
        stackProblems("dev", {
          "gitops-platform:access": {
            adminRoleArns: ["arn:aws:iam::111122223333:role/a/b", second],
            deployerRoleArns: [DEPLOYER],
          },
        }),
        /access.adminRoleArns\[1\] = .*: must not have the same role path and name as adminRoleArns\[0\]: both would be access entry a-b/,
      ));
});

describe("hostile config: messages", () => {
  it("an unknown environment hides nothing else, and causes no follow-on", () => {
    const message = stackProblems("dev", {
      "gitops-platform:environment": "qa",
      "gitops-platform:kms": { deletionWindowDays: 1 },
    });
    assert.match(message, /\(2 problems\)/);
    assert.match(message, /environment = "qa": must be one of dev, staging, prod/);
    assert.match(message, /kms.deletionWindowDays = 1: must be a whole number from 7 to 30/);
  });
  it("no follow-on errors about derived subnets when the VPC is wrong", () => {
    const message = stackProblems("dev", { "gitops-platform:network": { vpcCidr: "8.8.0.0/16" } });
    assert.match(message, /\(1 problem\)/);
    assert.doesNotMatch(message, /SubnetCidrs/);
  });
  it("1.30 read by YAML as 1.3, with a hint to quote it", () =>
    assert.match(
      stackProblems("dev", { "gitops-platform:cluster": { version: 1.3 } }),
      /cluster.version = 1.3: must be a Kubernetes minor version 1.30-1.39 \(YAML read an unquoted value as a number, e.g. 1.30 as 1.3/,
    ));
  it("null, with a hint", () =>
    assert.match(
      stackProblems("dev", revision(null)),
      /gitops.targetRevision = null: must be a Git ref \(YAML reads an empty value, ~ or null as null/,
    ));
  it("yes for a boolean, with a hint", () =>
    assert.match(
      stackProblems("dev", { "gitops-platform:kms": { multiRegion: "yes" } }),
      /kms.multiRegion = "yes": must be true or false \(write true or false, unquoted\)/,
    ));
});

describe("hostile config: file structure (readStackFile)", () => {
  const read = (text: string) => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "stackfile-")), "Pulumi.x.yaml");
    fs.writeFileSync(file, text);
    try {
      return readStackFile(file);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  };
  it("!!str is one way to quote; other explicit tags are refused with line and column", () => {
    assert.equal(read("config:\n  gitops-platform:name: !!str 123\n")["gitops-platform:name"], "123");
    assert.throws(
      () => read("config:\n  a: !!set {x}\n"),
      /Pulumi.x.yaml:2:\d+: explicit YAML tag tag:yaml.org,2002:set/,
    );
  });
  it("a key never reaches Object.prototype", () => {
    const config = read("config:\n  __proto__: x\n");
    assert.equal(Object.keys(config).join(), "__proto__");
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });
});

describe("hostile config: Argo CD admin groups", () => {
  it("no wildcard group", () =>
    assert.match(
      stackProblems("dev", {
        "gitops-platform:gitops": {
          argocd: { sso: { issuer: "https://sso.example.com", clientId: "argocd" }, adminGroups: ["*"] },
        },
      }),
      /gitops.argocd.adminGroups\[0\] = "\*": must be an SSO group name, without spaces, ',' or wildcards/,
    ));
});

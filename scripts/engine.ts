// Runs the real program (index.ts) with Pulumi's mock engine: no cloud, no Pulumi CLI. The unit tests and the
// offline plan both use it, so what the tests assert is exactly what `npm run plan` shows a reviewer.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";

export const ROOT = path.resolve(__dirname, "..");
const PROJECT = "gitops-platform";

export interface CapturedResource {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  parent?: string;
  inputs: Record<string, unknown>;
  /** Every resource this one waits for: explicit dependsOn and the resources behind its input values. */
  dependencies: string[];
  protect: boolean;
  retainOnDelete: boolean;
  deletedWith?: string;
}

export interface StackRun {
  stack: string;
  resources: CapturedResource[];
  outputs: Record<string, unknown>;
  /** Stack outputs Pulumi will store encrypted. */
  secretOutputs: string[];
}

/** A stack file's `config:` block as the Pulumi engine hands it to a program: structured values as JSON. */
export function loadStackConfig(stackOrFile: string): { stack: string; config: Record<string, string> } {
  const file = stackOrFile.endsWith(".yaml")
    ? path.resolve(stackOrFile)
    : path.join(ROOT, `Pulumi.${stackOrFile}.yaml`);
  if (!fs.existsSync(file)) throw new Error(`stack file not found: ${file}`);
  const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const stack = path
    .basename(file)
    .replace(/^Pulumi\./, "")
    .replace(/\.yaml$/, "");
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    if (value !== null && typeof value === "object" && "secure" in (value as object)) {
      throw new Error(
        `${file}: ${key} is a secure value; secrets belong in AWS Secrets Manager, not stack files`,
      );
    }
    config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return { stack, config };
}

/** Merges `overrides` (`{"gitops-platform:gitops": {...}}`) into a stack config, objects merged one level deep. */
export function withOverrides(config: Record<string, string>, overrides: Record<string, unknown> = {}) {
  const out = { ...config };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) {
      delete out[key];
    } else if (
      value !== null &&
      typeof value === "object" &&
      !Array.isArray(value) &&
      out[key]?.startsWith("{")
    ) {
      out[key] = JSON.stringify({ ...JSON.parse(out[key]), ...(value as object) });
    } else {
      out[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return out;
}

function hex(seed: string, length: number): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

/** What AWS would compute for a resource, so that outputs (ARNs, endpoints, issuers) are realistic and stable. */
function computedState(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  account: string,
  region: string,
) {
  const id = `${name}-${hex(type + name, 8)}`;
  const physical = String(inputs.name ?? name);
  const base = {
    ...inputs,
    id,
    arn: `arn:aws:${type.split(":")[1].split("/")[0]}:${region}:${account}:${physical}`,
  };
  switch (type) {
    case "aws:eks/cluster:Cluster":
      return {
        ...base,
        arn: `arn:aws:eks:${region}:${account}:cluster/${physical}`,
        endpoint: `https://${hex(name, 32).toUpperCase()}.gr7.${region}.eks.amazonaws.com`,
        certificateAuthority: { data: Buffer.from(`mock-ca-${name}`).toString("base64") },
        identities: [
          {
            oidcs: [{ issuer: `https://oidc.eks.${region}.amazonaws.com/id/${hex(name, 32).toUpperCase()}` }],
          },
        ],
      };
    case "aws:kms/key:Key": {
      const keyId = inputs.multiRegion
        ? `mrk-${hex(name, 32)}`
        : `${hex(name, 8)}-${hex(name + 1, 4)}-${hex(name + 2, 4)}-${hex(name + 3, 4)}-${hex(name + 4, 12)}`;
      return { ...base, keyId, arn: `arn:aws:kms:${region}:${account}:key/${keyId}` };
    }
    case "aws:kms/replicaKey:ReplicaKey": {
      // Same key id as the primary, in the replica's region.
      const keyId = String(inputs.primaryKeyArn).split("/").pop();
      return { ...base, keyId, arn: `arn:aws:kms:${region}:${account}:key/${keyId}` };
    }
    case "aws:iam/role:Role":
      return { ...base, name: physical, arn: `arn:aws:iam::${account}:role/${physical}` };
    case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
      return {
        ...base,
        arn: `arn:aws:iam::${account}:oidc-provider/${String(inputs.url).replace(/^https:\/\//, "")}`,
      };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { ...base, arn: `arn:aws:logs:${region}:${account}:log-group:${physical}` };
    case "aws:secretsmanager/secret:Secret":
      return {
        ...base,
        arn: `arn:aws:secretsmanager:${region}:${account}:secret:${physical}-${hex(name, 6)}`,
      };
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { ...base, latestVersion: 1 };
    default:
      return base;
  }
}

/** The account the stack's own role ARNs name, so prod's outputs carry prod's account. */
function accountOf(config: Record<string, string>): string {
  const match = /arn:aws[\w-]*:iam::(\d{12}):/.exec(config[`${PROJECT}:access`] ?? "");
  return match ? match[1] : "111122223333";
}

const INVOKES: Record<string, (region: string, account: string) => Record<string, unknown>> = {
  "aws:index/getCallerIdentity:getCallerIdentity": (_r, account) => ({
    accountId: account,
    arn: `arn:aws:sts::${account}:assumed-role/deployer/session`,
    userId: "AROAEXAMPLE:session",
  }),
  "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com" }),
  "aws:index/getRegion:getRegion": (region) => ({ name: region, region }),
};

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Secret inputs arrive wrapped in Pulumi's secret envelope; tests and the plan read the plain value. */
function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value === null || typeof value !== "object") return value;
  const obj = value as Record<string, unknown>;
  if (obj[SIG_KEY] === SECRET_SIG) return unwrapSecrets(obj.value);
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, unwrapSecrets(v)]));
}

/** The parts of the engine's RegisterResource messages the capture reads. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getParent(): string;
  getObject(): unknown;
  getDependenciesList(): string[];
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getDeletedwith(): string;
}
interface RegisterResponse {
  getUrn(): string;
}

let running = false;

/** Runs index.ts once under mocks for the given config and returns every registered resource. */
export async function runProgram(stack: string, config: Record<string, string>): Promise<StackRun> {
  if (running) throw new Error("runProgram is not re-entrant: await one run before starting the next");
  running = true;
  try {
    return await runOnce(stack, config);
  } finally {
    running = false;
  }
}

async function runOnce(stack: string, config: Record<string, string>): Promise<StackRun> {
  const region = config["aws:region"] ?? "eu-west-1";
  const account = accountOf(config);
  // Resources created through an explicit AWS provider (a standby region) live in that provider's region.
  const providerRegions = new Map<string, string>();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        if (args.type === "pulumi:providers:aws") providerRegions.set(args.name, String(args.inputs.region));
        const providerName = args.provider?.split("::")[3];
        const where = (providerName && providerRegions.get(providerName)) ?? region;
        return {
          id: args.custom ? `${args.name}-${hex(args.type + args.name, 8)}` : undefined,
          state: args.custom ? computedState(args.type, args.name, args.inputs, account, where) : {},
        };
      },
      call: (args) => {
        const answer = INVOKES[args.token];
        // Failing here, rather than returning nothing, turns a missing mock into an error instead of a hang.
        if (!answer) throw new Error(`no mock for invoke ${args.token}: add it to scripts/engine.ts`);
        return answer(region, account);
      },
    },
    PROJECT,
    stack,
    false,
  );
  pulumi.runtime.setAllConfig(config);

  /* eslint-disable @typescript-eslint/no-require-imports */
  const settings = require("@pulumi/pulumi/runtime/settings");
  const rpc = require("@pulumi/pulumi/runtime/rpc");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const resources: CapturedResource[] = [];
  const failures: unknown[] = [];
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (
    req: RegisterRequest,
    callback: (err: unknown, resp: RegisterResponse) => void,
  ) =>
    register(req, (err: unknown, resp: RegisterResponse) => {
      if (err) failures.push(err);
      else if (resources.some((r) => r.urn === resp.getUrn()))
        // The real engine refuses a second resource with the same URN; the mock monitor does not.
        failures.push(new Error(`duplicate resource URN ${resp.getUrn()}`));
      else
        resources.push({
          urn: resp.getUrn(),
          type: req.getType(),
          name: req.getName(),
          custom: req.getCustom(),
          parent: req.getParent() || undefined,
          inputs: unwrapSecrets(rpc.deserializeProperties(req.getObject())) as Record<string, unknown>,
          dependencies: [...new Set<string>(req.getDependenciesList())].sort(),
          protect: req.getProtect() === true,
          retainOnDelete: req.getRetainondelete() === true,
          deletedWith: req.getDeletedwith() || undefined,
        });
      callback(err, resp);
    });

  const onRejection = (reason: unknown) => failures.push(reason);
  process.on("unhandledRejection", onRejection);
  try {
    const entry = require.resolve(path.join(ROOT, "index.ts"));
    delete require.cache[entry];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require(entry) as Record<string, unknown>;
    await settings.waitForRPCs();
    const outputs: Record<string, unknown> = {};
    const secretOutputs: string[] = [];
    for (const [key, value] of Object.entries(program)) {
      const output = pulumi.output(value) as pulumi.Output<unknown>;
      outputs[key] = await new Promise((resolve) => output.apply(resolve));
      if (await pulumi.isSecret(output)) secretOutputs.push(key);
    }
    await settings.waitForRPCs();
    if (failures.length > 0) throw failures[0];
    return { stack, resources, outputs, secretOutputs };
  } catch (err) {
    // Lets callers prove that a bad config failed before anything was registered.
    if (err instanceof Error) Object.assign(err, { resourcesRegistered: resources.length });
    throw err;
  } finally {
    process.off("unhandledRejection", onRejection);
  }
}

/** Runs a stack file (by stack name or path), optionally with config overrides. */
export async function buildStack(
  stackOrFile: string,
  overrides?: Record<string, unknown>,
): Promise<StackRun> {
  const { stack, config } = loadStackConfig(stackOrFile);
  return runProgram(stack, withOverrides(config, overrides));
}

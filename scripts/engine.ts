// Runs the real program (index.ts) with Pulumi's mock engine: no cloud, no Pulumi CLI. The unit tests and the
// offline plan both use it, so what the tests assert is exactly what `npm run plan` shows a reviewer.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { readStackFile } from "../config/stackFile";

export const ROOT = path.resolve(__dirname, "..");
import { PROJECT } from "../core/project";

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
  /** The explicit provider (`<urn>::<id>`), if any: a spoke writes to its hub through one. */
  provider?: string;
  deleteBeforeReplace: boolean;
  /** The earlier identities this resource takes over (Pulumi `aliases`), when it has any. */
  aliases?: AliasSpec[];
}

/** One alias as the SDK sends it: the fields that differ from the resource's own (type, name, parent). */
export interface AliasSpec {
  type?: string;
  name?: string;
  parentUrn?: string;
  noParent?: boolean;
  urn?: string;
}

export interface StackRun {
  stack: string;
  resources: CapturedResource[];
  outputs: Record<string, unknown>;
  /** Stack outputs Pulumi will store encrypted. */
  secretOutputs: string[];
  /** The stacks this one reads through `pulumi.StackReference` (by the name it gives them). */
  references: string[];
}

/** The aliases of a registration, or undefined when it has none (what most resources have). */
function aliasesOf(req: RegisterRequest): AliasSpec[] | undefined {
  const list = req.getAliasesList();
  if (list.length === 0) return undefined;
  return list.map((a) => {
    if (!a.hasSpec()) return { urn: a.getUrn() };
    const spec = a.getSpec()!;
    const out: AliasSpec = {};
    if (spec.getType()) out.type = spec.getType();
    if (spec.getName()) out.name = spec.getName();
    if (spec.getParenturn()) out.parentUrn = spec.getParenturn();
    if (spec.getNoparent()) out.noParent = true;
    return out;
  });
}

/** StackReferences resolve to these runs, by the referenced stack's name (e.g. org/gitops-platform/hub). */
export type StackRuns = Record<string, StackRun>;

/** A stack file's `config:` block as the Pulumi engine hands it to a program: structured values as JSON. */
export function loadStackConfig(stackOrFile: string): { stack: string; config: Record<string, string> } {
  const file = /\.ya?ml$/.test(stackOrFile)
    ? path.resolve(stackOrFile)
    : path.join(ROOT, `Pulumi.${stackOrFile}.yaml`);
  if (!fs.existsSync(file)) throw new Error(`stack file not found: ${file}`);
  const stack = path
    .basename(file)
    .replace(/^Pulumi\./, "")
    .replace(/\.ya?ml$/, "");
  return { stack, config: readStackFile(file) };
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
        vpcConfig: { ...(inputs.vpcConfig as object), clusterSecurityGroupId: `sg-${hex(name, 17)}` },
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
    case "aws:eks/capability:Capability": {
      const configuration = (inputs.configuration ?? {}) as { argoCd?: object };
      return {
        ...base,
        arn: `arn:aws:eks:${region}:${account}:capability/${inputs.clusterName}/${inputs.type}/${inputs.capabilityName}/${hex(name, 8)}`,
        // EKS adds the Argo CD's URL to the configuration; the mock's is in .invalid, which never resolves.
        configuration: {
          ...configuration,
          argoCd: { ...configuration.argoCd, serverUrl: `https://${hex(name, 12)}.argocd.invalid` },
        },
      };
    }
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
/** Invokes whose answer depends on their arguments. */
const INVOKES_WITH_ARGS: Record<
  string,
  (region: string, account: string, inputs: Record<string, unknown>) => Record<string, unknown>
> = {
  "aws:secretsmanager/getSecret:getSecret": (region, account, inputs) => ({
    name: inputs.name,
    arn: `arn:aws:secretsmanager:${region}:${account}:secret:${String(inputs.name)}-${hex(String(inputs.name), 6)}`,
  }),
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
  getProvider(): string;
  getDeletebeforereplace(): boolean;
  getAliasesList(): Array<{
    hasSpec(): boolean;
    getUrn(): string;
    getSpec():
      { getName(): string; getType(): string; getParenturn(): string; getNoparent(): boolean } | undefined;
  }>;
}
interface RegisterResponse {
  getUrn(): string;
}

let running = false;

/**
 * While the program runs, @pulumi/pulumi captures stack traces for itself that this mock engine never reads: one
 * per promise in `debuggablePromise` (kept for its leak report) and, per resource, an unlimited-depth trace in
 * `Resource.callsites` that a real engine records as the resource's source position. Capturing and formatting
 * them (through ts-node's source-map lookup of every frame) was most of a stack build's time, so during a run the
 * first captures no frames and the second reports no position. Everything else, errors' stacks included, is as
 * before; the functions are put back when the run ends.
 */
function withoutPulumiTraces<T>(run: () => Promise<T>): Promise<T> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const debuggable = require("@pulumi/pulumi/runtime/debuggable") as {
    debuggablePromise: (...args: unknown[]) => unknown;
  };
  const resource = require("@pulumi/pulumi/resource").Resource as { callsites: () => unknown[] };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const { debuggablePromise } = debuggable;
  const { callsites } = resource;
  if (typeof debuggablePromise !== "function" || typeof callsites !== "function")
    throw new Error(
      "@pulumi/pulumi no longer has debuggablePromise and Resource.callsites: update scripts/engine.ts",
    );
  debuggable.debuggablePromise = (...args) => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return debuggablePromise(...args);
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
  resource.callsites = () => [];
  return run().finally(() => {
    debuggable.debuggablePromise = debuggablePromise;
    resource.callsites = callsites;
  });
}

/** Runs index.ts once under mocks for the given config and returns every registered resource. */
export async function runProgram(
  stack: string,
  config: Record<string, string>,
  referenced: StackRuns = {},
): Promise<StackRun> {
  if (running) throw new Error("runProgram is not re-entrant: await one run before starting the next");
  running = true;
  try {
    return await withoutPulumiTraces(() => runOnce(stack, config, referenced));
  } finally {
    running = false;
  }
}

const STACK_REFERENCE = "pulumi:pulumi:StackReference";

/**
 * What the engine answers a StackReference with: the referenced run's outputs and which of them are secret, as
 * @pulumi/pulumi's StackReference reads them. A stack that was not run has no outputs, as a stack that does
 * not exist: the program must say what is missing.
 */
function stackReferenceState(name: string, run: StackRun | undefined) {
  const outputs = Object.fromEntries(Object.entries(run?.outputs ?? {}).filter(([, v]) => v !== undefined));
  return { name, outputs, secretOutputNames: run?.secretOutputs ?? [] };
}

async function runOnce(
  stack: string,
  config: Record<string, string>,
  referenced: StackRuns,
): Promise<StackRun> {
  const region = config["aws:region"] ?? "eu-west-1";
  const account = accountOf(config);
  const references: string[] = [];
  // Resources created through an explicit AWS provider (a standby region) live in that provider's region.
  const providerRegions = new Map<string, string>();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        if (args.type === STACK_REFERENCE) {
          const name = String(args.inputs.name);
          references.push(name);
          return { id: name, state: stackReferenceState(name, referenced[name]) };
        }
        if (args.type === "pulumi:providers:aws") providerRegions.set(args.name, String(args.inputs.region));
        const providerName = args.provider?.split("::")[3];
        const where = (providerName && providerRegions.get(providerName)) ?? region;
        return {
          id: args.custom ? `${args.name}-${hex(args.type + args.name, 8)}` : undefined,
          state: args.custom ? computedState(args.type, args.name, args.inputs, account, where) : {},
        };
      },
      call: (args) => {
        const withArgs = INVOKES_WITH_ARGS[args.token];
        if (withArgs) return withArgs(region, account, args.inputs);
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
          provider: req.getProvider() || undefined,
          deleteBeforeReplace: req.getDeletebeforereplace() === true,
          aliases: aliasesOf(req),
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
      const output = pulumi.output(value) as pulumi.Output<unknown> & { promise(): Promise<unknown> };
      // promise() rejects where apply() would never call back: an output that failed ends the run with its error.
      try {
        outputs[key] = await output.promise();
      } catch (err) {
        failures.unshift(err);
        continue;
      }
      if (await pulumi.isSecret(output)) secretOutputs.push(key);
    }
    await settings.waitForRPCs().catch((err: unknown) => failures.push(err));
    if (failures.length > 0) throw failures[0];
    return { stack, resources, outputs, secretOutputs, references: [...new Set(references)].sort() };
  } catch (err) {
    // Lets callers prove that a bad config failed before anything was registered.
    if (err instanceof Error) Object.assign(err, { resourcesRegistered: resources.length });
    throw err;
  } finally {
    process.off("unhandledRejection", onRejection);
  }
}

/** The stack a spoke's config references (`fleet.hubStack`), if any. */
export function hubStackOf(config: Record<string, string>): string | undefined {
  try {
    const fleet = JSON.parse(config[`${PROJECT}:fleet`] ?? "{}") as { role?: unknown; hubStack?: unknown };
    return fleet.role === "spoke" && typeof fleet.hubStack === "string" ? fleet.hubStack : undefined;
  } catch {
    return undefined;
  }
}

/** The local stack file a referenced stack name stands for: its last segment (org/project/<stack>). */
export function referencedStackFile(name: string): string | undefined {
  const file = path.join(ROOT, `Pulumi.${name.split("/").pop()}.yaml`);
  return fs.existsSync(file) ? file : undefined;
}

// A referenced stack's run depends only on its file: one run per file and process (callers never mutate it).
const referencedRuns = new Map<string, { text: string; run: StackRun }>();

async function referencedRun(file: string): Promise<StackRun> {
  const text = fs.readFileSync(file, "utf8");
  const cached = referencedRuns.get(file);
  if (cached?.text === text) return cached.run;
  const run = await buildStack(file);
  referencedRuns.set(file, { text, run });
  return run;
}

/**
 * Runs a stack file (by stack name or path), optionally with config overrides. A spoke's hub is run first, from
 * its stack file here, unless `referenced` already holds a run under the name the spoke gives it.
 */
export async function buildStack(
  stackOrFile: string,
  overrides?: Record<string, unknown>,
  referenced: StackRuns = {},
): Promise<StackRun> {
  const { stack, config } = loadStackConfig(stackOrFile);
  const merged = withOverrides(config, overrides);
  const hubStack = hubStackOf(merged);
  const runs = { ...referenced };
  if (hubStack && !(hubStack in runs)) {
    const file = referencedStackFile(hubStack);
    if (file) runs[hubStack] = await referencedRun(file);
  }
  return runProgram(stack, merged, runs);
}

export interface FleetRun {
  hub: StackRun;
  spokes: StackRun[];
}

/**
 * A hub and its spokes, as a real fleet is deployed: the hub first, then each spoke reading the hub's outputs.
 * Two spokes under one name would fight over one cluster Secret on the hub: refused, naming the key.
 */
export async function buildFleet(
  hubStackOrFile: string,
  spokeStacksOrFiles: string[],
  opts: { hubOverrides?: Record<string, unknown>; spokeOverrides?: Record<string, unknown> } = {},
): Promise<FleetRun> {
  const hub = await buildStack(hubStackOrFile, opts.hubOverrides);
  const spokes: StackRun[] = [];
  const names = new Map<string, string>();
  for (const file of spokeStacksOrFiles) {
    const { config } = loadStackConfig(file);
    const hubStack = hubStackOf(withOverrides(config, opts.spokeOverrides));
    if (!hubStack) throw new Error(`${file}: not a spoke (gitops-platform:fleet.role is not spoke)`);
    const run = await buildStack(file, opts.spokeOverrides, { [hubStack]: hub });
    const name = String(run.outputs.clusterName);
    const first = names.get(name);
    if (first) {
      throw new Error(
        `${PROJECT}:name = ${JSON.stringify(name)}: stacks ${first} and ${run.stack} both register it on the hub; a spoke name is registered once`,
      );
    }
    names.set(name, run.stack);
    spokes.push(run);
  }
  return { hub, spokes };
}

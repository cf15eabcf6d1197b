// Validates one stack's config, the schema filling in the defaults of what it leaves out: every problem at once,
// before any resource is created.
import { isRegion, partitionOf } from "./aws";
import { PROJECT, type Environment } from "../core/project";
import type { Ctx } from "./context";
import { checkAcrossSections } from "./cross-section";
import { addIssues } from "./issues";
import { checkProviderValues, checkStackKeys, sanitize } from "./keys";
import { ConfigError, isObject, Problems } from "./problems";
import { FIRST_DEFAULTS } from "./releases";
import {
  defaults as defaultsSchema,
  environment as environmentSchema,
  name as nameSchema,
  SECTIONS,
  sectionSchema,
  TOP_KEYS,
  type PlatformConfig,
  type SectionInput,
  type SectionName,
} from "./schema";
import { defaultCompute } from "./sections/cluster";
import { identity as identitySchema } from "./sections/identity";

/** Validates one stack's raw `gitops-platform:*` config, with the defaults of what it leaves out. */
export function resolveConfig(raw: Record<string, unknown>, region: string | undefined): PlatformConfig {
  const problems = new Problems();
  const cfg = resolveInto(raw, region, problems, 0);
  if (problems.list.length > 0 || !cfg) throw new ConfigError(problems.list);
  return cfg;
}

/** The whole stack config as the program receives it (`pulumi.runtime.allConfig()`): every key checked. */
export function resolveStackConfig(all: Record<string, string>): PlatformConfig {
  const problems = new Problems();
  checkStackKeys(all, problems, TOP_KEYS);
  const providerTags = checkProviderValues(all, problems, parseValue);
  const cfg = resolveInto(rawNamespace(all), all["aws:region"], problems, providerTags);
  if (problems.list.length > 0 || !cfg) throw new ConfigError(problems.list);
  return cfg;
}

function resolveInto(
  input: Record<string, unknown>,
  region: unknown,
  problems: Problems,
  providerTags: number,
): PlatformConfig | undefined {
  const raw = (sanitize(input, "", problems) ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(raw))
    if (!TOP_KEYS.includes(key))
      problems.add(key, raw[key], `is not a known key; allowed: ${TOP_KEYS.join(", ")}`);

  const env = environmentSchema.safeParse(raw.environment);
  if (!env.success) addIssues(env.error.issues, raw.environment, ["environment"], problems);
  const environment: Environment | undefined = env.success ? env.data : undefined;

  if (region === undefined)
    problems.add("aws:region", undefined, "must be set to an AWS region such as eu-west-1");
  else if (!isRegion(region))
    problems.add(
      "aws:region",
      region,
      "must be set to an AWS region such as eu-west-1 (one of the provider's regions)",
    );
  const validRegion = isRegion(region) ? region : undefined;
  const release = defaultsSchema.safeParse(raw.defaults);
  if (!release.success) addIssues(release.error.issues, raw.defaults, ["defaults"], problems);
  const ctx: Ctx = {
    defaults: release.success ? release.data : FIRST_DEFAULTS,
    env: environment,
    region: validRegion,
    partition: validRegion && partitionOf(validRegion),
    prod: environment === "prod",
  };

  const nameResult = nameSchema(ctx).safeParse(raw.name);
  if (!nameResult.success) addIssues(nameResult.error.issues, raw.name, ["name"], problems);
  const out: Partial<Record<SectionName, unknown>> = {};
  const sectionInput = sectionFacts(raw, ctx, nameResult.data, providerTags);
  for (const key of Object.keys(SECTIONS) as SectionName[]) {
    const r = sectionSchema(key, sectionInput).safeParse(raw[key]);
    if (r.success) out[key] = r.data;
    else addIssues(r.error.issues, raw[key], [key], problems);
  }
  if (!env.success || !nameResult.success) return undefined;
  const cfg = {
    defaults: ctx.defaults,
    environment: env.data,
    name: nameResult.data,
    region: String(region),
    ...out,
  } as PlatformConfig;
  checkAcrossSections(cfg, raw, ctx, problems);
  return problems.list.length === 0 ? cfg : undefined;
}

/** What the sections read of the others, from what the stack wrote (or its defaults). */
function sectionFacts(
  raw: Record<string, unknown>,
  ctx: Ctx,
  name: string | undefined,
  providerTags: number,
): SectionInput {
  const clusterRaw = raw.cluster;
  const identity = identitySchema(ctx).safeParse(raw.identity);
  // The add-ons and node groups a stack gets by default depend on its compute and identity.
  const compute =
    clusterRaw === undefined
      ? defaultCompute(ctx)
      : isObject(clusterRaw)
        ? (clusterRaw.compute ?? defaultCompute(ctx))
        : undefined;
  return {
    ctx,
    name,
    cluster: {
      addonsWritten: isObject(clusterRaw) && clusterRaw.addons !== undefined,
      autoModeWritten: isObject(clusterRaw) && clusterRaw.autoMode !== undefined,
      identity: identity.success ? identity.data : undefined,
    },
    autoMode: compute === "autoMode",
    fleetRole: isObject(raw.fleet) ? raw.fleet.role : undefined,
    providerTags,
  };
}

/** Structured values arrive from Pulumi as JSON text; anything else is the string itself. */
function parseValue(text: string): unknown {
  if (typeof text === "string" && /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * Reads the raw namespace from Pulumi's config map (`{"gitops-platform:network": "{...}"}`), parsing the JSON
 * that structured values arrive as. The result has no prototype: no key can reach Object.prototype.
 */
export function rawNamespace(all: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, text] of Object.entries(all)) {
    if (!k.startsWith(`${PROJECT}:`)) continue;
    out[k.slice(PROJECT.length + 1)] = parseValue(text);
  }
  return out;
}

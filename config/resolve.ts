// Validates one stack's config and merges it over the environment's defaults: every problem at once, before any
// resource is created.
import { isRegion, partitionOf } from "./aws";
import { ENGINE_FACTS, HUB_ENGINES, type Engine } from "../core/engines";
import { PROJECT, type Environment } from "../core/project";
import { GITOPS_SECRETS, seedResourceName } from "../core/secrets";
import type { Ctx } from "./context";
import { DEFAULTS, withDefaults } from "./defaults";
import { addIssues } from "./issues";
import { checkProviderValues, checkStackKeys, sanitize } from "./keys";
import { ConfigError, Problems } from "./problems";
import {
  environment as environmentSchema,
  name as nameSchema,
  SECTIONS,
  sectionSchema,
  TOP_KEYS,
  type PlatformConfig,
  type SectionName,
} from "./schema";
import { defaultAddons } from "./sections/cluster";
import { IDENTITY_MODES, type IdentityMode } from "./sections/identity";
import { refusedArgoCdSettings } from "./sections/gitops";

/** Validates one stack's raw `gitops-platform:*` config and merges it over the environment's defaults. */
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
  const ctx: Ctx = {
    env: environment,
    region: validRegion,
    partition: validRegion && partitionOf(validRegion),
    prod: environment === "prod",
  };

  // An unknown environment still gets every other value checked: the strictest (prod's) defaults, which pass
  // every rule that does not depend on the environment, and none of the env-specific rules.
  const defaults = DEFAULTS[environment ?? "prod"];
  const merged: Record<string, unknown> = {
    name: raw.name ?? (environment ? `platform-${environment}` : "platform-dev"),
    tags: raw.tags ?? {},
    access: raw.access ?? {},
    ...(withDefaults(defaults, raw) as Record<string, unknown>),
  };
  delete merged.environment;
  const externalSecretsRaw = merged.externalSecrets;
  if (isObject(externalSecretsRaw) && externalSecretsRaw.prefix === undefined)
    merged.externalSecrets = { ...externalSecretsRaw, prefix: `platform/${environment ?? "dev"}` };
  const gitopsRaw = merged.gitops;
  if (isObject(gitopsRaw) && gitopsRaw.path === undefined) {
    const engine = typeof gitopsRaw.engine === "string" ? gitopsRaw.engine : "argocd";
    // A fleet hub's root is the hub's tree, whatever its environment.
    const hub = isObject(raw.fleet) && raw.fleet.role === "hub";
    merged.gitops = {
      ...gitopsRaw,
      path: hub
        ? "gitops/clusters/hub/argocd"
        : `gitops/clusters/${environment ?? "dev"}/${ENGINE_FACTS[engine as Engine]?.templateDir ?? engine}`,
    };
  }

  // The add-ons and node groups a stack gets by default depend on its compute and identity.
  const clusterMerged = merged.cluster;
  const autoMode = isObject(clusterMerged) && clusterMerged.compute === "autoMode";
  if (isObject(clusterMerged) && clusterMerged.addons === undefined)
    merged.cluster = { ...clusterMerged, addons: defaultAddons(clusterMerged.compute, merged.identity) };
  if (autoMode && raw.nodeGroups === undefined) delete merged.nodeGroups;

  const nameResult = nameSchema.safeParse(merged.name);
  if (!nameResult.success) addIssues(nameResult.error.issues, merged.name, ["name"], problems);
  const clusterRaw = raw.cluster;
  const sectionInput = {
    ctx,
    name: nameResult.data,
    cluster: {
      addonsWritten: isObject(clusterRaw) && clusterRaw.addons !== undefined,
      autoModeWritten: isObject(clusterRaw) && clusterRaw.autoMode !== undefined,
      identity: (IDENTITY_MODES as readonly unknown[]).includes(merged.identity)
        ? (merged.identity as IdentityMode)
        : undefined,
    },
    autoMode,
    fleetRole: isObject(raw.fleet) ? raw.fleet.role : undefined,
    providerTags,
  };
  const out: Partial<Record<SectionName, unknown>> = {};
  for (const key of Object.keys(SECTIONS) as SectionName[]) {
    const r = sectionSchema(key, sectionInput).safeParse(merged[key]);
    if (r.success) out[key] = r.data;
    else addIssues(r.error.issues, merged[key], [key], problems);
  }
  if (!env.success || !nameResult.success) return undefined;
  const cfg = {
    environment: env.data,
    name: nameResult.data,
    region: String(region),
    ...out,
  } as PlatformConfig;
  acrossSections(cfg, raw, ctx, problems);
  return problems.list.length === 0 ? cfg : undefined;
}

/** Rules that read more than one section; each runs only when the sections it reads are valid. */
function acrossSections(cfg: PlatformConfig, raw: Record<string, unknown>, ctx: Ctx, problems: Problems) {
  const ok = (...keys: string[]) => keys.every((k) => !problems.touched(k));
  if (raw.dr !== undefined && !ctx.prod && ok("dr"))
    problems.add("dr", raw.dr, "is for prod only: other environments are rebuilt from scratch");
  if (raw.dr !== undefined && ctx.prod && ok("kms")) {
    if (!cfg.kms.multiRegion)
      problems.add(
        "kms.multiRegion",
        false,
        "must be true with dr: the standby region decrypts with a replica of this key",
      );
    if (cfg.kms.existingKeyArn)
      problems.add(
        "dr",
        raw.dr,
        "cannot be combined with kms.existingKeyArn: the stack that creates the key replicates it",
      );
  }
  if (!ctx.prod && cfg.dr) delete cfg.dr;
  if (cfg.fleet && ok("fleet", "gitops", "access")) {
    const role = cfg.fleet.role;
    // A fleet is Argo CD's: Flux has no hub, each Flux cluster reconciles itself (README, "Flux in a fleet"). A
    // spoke runs no engine: it reads the argocd entry point, and fleet.hubEngine says which Argo CD its hub runs.
    const allowed: readonly Engine[] = role === "hub" ? HUB_ENGINES : ["argocd"];
    if (!allowed.includes(cfg.gitops.engine))
      problems.add(
        "gitops.engine",
        cfg.gitops.engine,
        cfg.gitops.engine === "flux"
          ? `must be ${allowed.join(" or ")} with fleet.role ${role}: a Flux cluster runs its own Flux and needs no fleet key`
          : `must be argocd with fleet.role spoke: a spoke runs no Argo CD; fleet.hubEngine names its hub's`,
      );
    if (cfg.fleet.role === "spoke") {
      // What a spoke's own Argo CD would need is the hub's: its repository credentials and its SSO.
      if (cfg.gitops.private)
        problems.add(
          "gitops.private",
          true,
          "must be false on a spoke: the hub's Argo CD holds the repository credentials",
        );
      if (cfg.gitops.argocd.sso)
        problems.add(
          "gitops.argocd.sso",
          cfg.gitops.argocd.sso,
          "is set on the hub: a spoke runs no Argo CD",
        );
    } else {
      const entries = new Set([
        ...cfg.access.adminRoleArns,
        ...cfg.access.deployerRoleArns,
        ...cfg.access.viewerRoleArns,
      ]);
      for (const [name, s] of Object.entries(cfg.fleet.spokes))
        if (entries.has(s.deployerRoleArn))
          problems.add(
            `fleet.spokes.${name}.deployerRoleArn`,
            s.deployerRoleArn,
            "must not also be in access.*: EKS allows one access entry per role",
          );
    }
  }
  if (ok("gitops", "alerts") && cfg.gitops.engine === "eks-argocd") {
    const gitopsRaw = isObject(raw.gitops) ? raw.gitops : {};
    for (const [key, value, why] of refusedArgoCdSettings(
      cfg.gitops.engine,
      isObject(gitopsRaw.argocd) ? gitopsRaw.argocd : {},
    ))
      problems.add(key, value, why);
    // The managed notifications controller reads the program's argocd-notifications-cm only with its opt-in label.
    const label = cfg.gitops.eksArgocd?.notificationsLabel;
    if (cfg.alerts.destinations.length > 0 && label === undefined)
      problems.add(
        "gitops.eksArgocd.notificationsLabel",
        undefined,
        "is required with alerts.destinations and gitops.engine eks-argocd: the opt-in label (key=value) the EKS user guide gives for argocd-notifications-cm (Send notifications for Argo CD Applications); without it the managed controller ignores the alerts",
      );
    else if (cfg.alerts.destinations.length === 0 && label !== undefined)
      problems.add(
        "gitops.eksArgocd.notificationsLabel",
        label,
        "is only read with alerts.destinations: nothing is sent without a destination",
      );
  }
  if (ok("gitops", "externalSecrets", "alerts")) {
    const needsSecrets = [
      cfg.gitops.private && "gitops.private",
      cfg.gitops.argocd.sso && "gitops.argocd.sso",
      cfg.alerts.destinations.length > 0 && "alerts.destinations",
    ].filter(Boolean);
    if (needsSecrets.length > 0) {
      if (!cfg.externalSecrets.enabled)
        problems.add(
          "externalSecrets.enabled",
          false,
          cfg.gitops.engine === "eks-argocd"
            ? `must be true with ${needsSecrets.join(" and ")}: the External Secrets component creates (and replicates) the Secrets Manager entry the capability reads`
            : `must be true with ${needsSecrets.join(" and ")}: those credentials come from Secrets Manager through External Secrets`,
        );
      const ns = ENGINE_FACTS[cfg.gitops.engine].namespace;
      if (!cfg.externalSecrets.allowedNamespaces.includes(ns))
        problems.add(
          "externalSecrets.allowedNamespaces",
          cfg.externalSecrets.allowedNamespaces,
          `must include ${ns}: the ${cfg.gitops.engine} credentials are read there`,
        );
      // index.ts adds these entries unless listed; one written differently ('-' for '/') would be the same resource.
      const extra = [
        cfg.gitops.private && GITOPS_SECRETS.repository,
        cfg.gitops.argocd.sso && GITOPS_SECRETS.argocdOidc,
      ];
      cfg.externalSecrets.seedSecrets.forEach((s, i) => {
        const clash = extra.find((e) => e && e !== s && seedResourceName(e) === seedResourceName(s));
        if (clash)
          problems.add(
            `externalSecrets.seedSecrets[${i}]`,
            s,
            `must not map to the same resource as ${clash}, which the program seeds: '/' becomes '-'`,
          );
      });
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
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

// The rules that read more than one section, each once and named. A rule runs only when every section it
// reads is valid, so one mistake is reported once and nothing follows on from it.
import { ENGINE_FACTS, HUB_ENGINES, type Engine } from "../core/engines";
import { programSeedSecrets, seedResourceName } from "../core/secrets";
import type { Ctx } from "./context";
import { isObject, related, type Problems } from "./problems";
import type { PlatformConfig, SectionName } from "./schema";
import { refusedArgoCdSettings } from "./sections/gitops";

export interface CrossSectionRule {
  name: string;
  /** The sections it reads: it is skipped while any of them has a problem. */
  reads: readonly SectionName[];
  /** `raw` is what the stack wrote (before defaults), for rules about keys it set. */
  check(cfg: PlatformConfig, raw: Record<string, unknown>, ctx: Ctx, problems: Problems): void;
}

export const CROSS_SECTION_RULES: readonly CrossSectionRule[] = [
  {
    name: "dr is for prod only",
    reads: ["dr"],
    check(_cfg, raw, ctx, problems) {
      if (raw.dr !== undefined && !ctx.prod)
        problems.add("dr", raw.dr, "is for prod only: other environments are rebuilt from scratch");
    },
  },
  {
    name: "dr replicates the key this stack creates",
    reads: ["kms"],
    check(cfg, raw, ctx, problems) {
      if (raw.dr === undefined || !ctx.prod) return;
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
    },
  },
  {
    name: "a fleet runs Argo CD on its hub and no engine on a spoke",
    reads: ["fleet", "gitops", "access"],
    check(cfg, _raw, _ctx, problems) {
      if (!cfg.fleet) return;
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
    },
  },
  {
    name: "a spoke's repository credentials and sign-in are its hub's",
    reads: ["fleet", "gitops", "access"],
    check(cfg, _raw, _ctx, problems) {
      if (cfg.fleet?.role !== "spoke") return;
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
    },
  },
  {
    name: "a spoke's deployer has no other access entry on the hub",
    reads: ["fleet", "gitops", "access"],
    check(cfg, _raw, _ctx, problems) {
      if (cfg.fleet?.role !== "hub") return;
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
    },
  },
  {
    name: "the engine honours every gitops.argocd setting the stack wrote",
    reads: ["gitops", "alerts"],
    check(cfg, raw, _ctx, problems) {
      const gitopsRaw = isObject(raw.gitops) ? raw.gitops : {};
      for (const [key, value, why] of refusedArgoCdSettings(
        cfg.gitops.engine,
        isObject(gitopsRaw.argocd) ? gitopsRaw.argocd : {},
      ))
        problems.add(key, value, why);
    },
  },
  {
    name: "the managed Argo CD's notifications are opted in exactly when there is a destination",
    reads: ["gitops", "alerts"],
    check(cfg, _raw, _ctx, problems) {
      if (cfg.gitops.engine !== "eks-argocd") return;
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
    },
  },
  {
    name: "credentials from Secrets Manager need External Secrets, readable in the engine's namespace",
    reads: ["gitops", "externalSecrets", "alerts"],
    check(cfg, _raw, _ctx, problems) {
      const needsSecrets = [
        cfg.gitops.private && "gitops.private",
        cfg.gitops.argocd.sso && "gitops.argocd.sso",
        cfg.alerts.destinations.length > 0 && "alerts.destinations",
      ].filter(Boolean);
      if (needsSecrets.length === 0) return;
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
    },
  },
  {
    name: "no listed seed secret is the resource of one the program seeds",
    reads: ["gitops", "externalSecrets", "alerts"],
    check(cfg, _raw, _ctx, problems) {
      // index.ts adds these entries unless listed; one written differently ('-' for '/') would be the same resource.
      const seeded = programSeedSecrets({
        privateRepository: cfg.gitops.private,
        sso: cfg.gitops.argocd.sso !== undefined,
        alertDestinations: cfg.alerts.destinations.map((d) => d.name),
      });
      cfg.externalSecrets.seedSecrets.forEach((s, i) => {
        const clash = seeded.find((e) => e !== s && seedResourceName(e) === seedResourceName(s));
        if (clash)
          problems.add(
            `externalSecrets.seedSecrets[${i}]`,
            s,
            `must not map to the same resource as ${clash}, which the program seeds: '/' becomes '-'`,
          );
      });
    },
  },
];

/** Runs every rule whose sections parsed without a problem; the rules' own findings gate nothing. */
export function checkAcrossSections(
  cfg: PlatformConfig,
  raw: Record<string, unknown>,
  ctx: Ctx,
  problems: Problems,
): void {
  const valid = (key: SectionName) => !related(problems.bad, key);
  const runs = CROSS_SECTION_RULES.filter((rule) => rule.reads.every(valid));
  for (const rule of runs) rule.check(cfg, raw, ctx, problems);
}

import { z } from "zod";
import { ENGINE_FACTS, ENGINES, type Engine } from "../../core/engines";
import { ARGOCD_TEMPLATE_CHART_REPOS, CHARTS } from "../../core/pins";
import type { Environment } from "../../core/project";
import { isRegion, partitionOf } from "../aws";
import type { Ctx } from "../context";
import { longestGapMinutes, parseCron } from "../cron";
import { perEnvironment } from "../defaults";
import {
  bool,
  defaulted,
  DURATION_RE,
  durationMinutes,
  fail,
  gitRefProblem,
  httpsUrlProblem,
  int,
  list,
  oneOf,
  repoUrlProblem,
  section,
  text,
  timeZoneProblem,
} from "../rules";

/** The managed Argo CD's built-in roles (EKS CreateCapability rbacRoleMappings[].role). */
export const EKS_ARGOCD_ROLES = ["ADMIN", "EDITOR", "VIEWER"] as const;
// sso-admin's InstanceArn pattern, and identitystore's UserId/GroupId.
const IDC_INSTANCE_ARN_RE = /^arn:(aws[a-z-]*):sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/;
const IDENTITY_STORE_ID_RE =
  /^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/;
/** A Kubernetes label as `key=value`: an optional DNS-subdomain prefix, a name, and a value (may be empty). */
const LABEL_RE =
  /^(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)*\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?=(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
/** EKS: at most 1,000 Identity Center users and groups per Argo CD capability. */
const EKS_ARGOCD_MAX_IDENTITIES = 1000;
const identityIds = list(
  text(
    "an Identity Store id (aws identitystore list-groups / list-users), not a display name",
    IDENTITY_STORE_ID_RE,
    64,
  ),
);

/** The EKS Argo CD capability: sign-in through IAM Identity Center only, RBAC by role mapping. */
function eksArgocd(c: Ctx) {
  return section({
    identityCenter: section({
      instanceArn: text(
        "an IAM Identity Center instance ARN (arn:aws:sso:::instance/ssoins-...; aws sso-admin list-instances)",
        IDC_INSTANCE_ARN_RE,
        128,
      ).superRefine(
        check((arn: string) => {
          const partition = IDC_INSTANCE_ARN_RE.exec(arn)?.[1];
          return c.partition && partition !== c.partition
            ? `must be in partition ${c.partition}, the partition of aws:region ${c.region}`
            : undefined;
        }),
      ),
      region: text(
        "the AWS region the Identity Center instance lives in, such as eu-west-1",
        /^[a-z0-9-]+$/,
        32,
      ).superRefine(
        check((r: string) => {
          if (!isRegion(r))
            return "must be the AWS region the Identity Center instance lives in (one @pulumi/aws knows)";
          return c.partition && partitionOf(r) !== c.partition
            ? `must be a region of partition ${c.partition}, the partition of aws:region ${c.region}`
            : undefined;
        }),
      ),
    }),
    rbac: list(
      section({
        role: oneOf(EKS_ARGOCD_ROLES),
        groups: identityIds.default([]),
        users: identityIds.default([]),
      }).superRefine((m, ctx) => {
        if (m.groups.length + m.users.length === 0) fail(ctx, [], "must name at least one group or user", m);
      }),
      `a list of {role, groups, users} with role one of ${EKS_ARGOCD_ROLES.join(", ")}`,
    ).superRefine(
      (rbac, ctx) => {
        // Also beside other mistakes in the entries: each of these is its own.
        const roles = rbac.map((m) => m?.role);
        roles.forEach((role, i) => {
          if (typeof role === "string" && roles.indexOf(role) !== i)
            fail(ctx, [i, "role"], "is mapped twice: list each role once", role);
        });
        if (!roles.includes("ADMIN"))
          fail(
            ctx,
            [],
            "must map at least one Identity Center group or user to ADMIN: the managed Argo CD has no local admin",
            rbac,
          );
        const count = (l: unknown) => (Array.isArray(l) ? l.length : 0);
        const identities = rbac.reduce((n, m) => n + count(m?.groups) + count(m?.users), 0);
        if (identities > EKS_ARGOCD_MAX_IDENTITIES)
          fail(
            ctx,
            [],
            `must name at most ${EKS_ARGOCD_MAX_IDENTITIES} identities (an EKS limit)`,
            identities,
          );
      },
      { when: (payload) => Array.isArray(payload.value) },
    ),
    // The managed notifications controller ignores an argocd-notifications-cm without its opt-in label. The EKS
    // user guide names the label; it is taken from config because it could not be read from the guide offline,
    // and a wrong constant would silence prod's alerts without an error anywhere (README, "Alerts").
    notificationsLabel: text(
      "a Kubernetes label as key=value: the opt-in label the EKS user guide gives for argocd-notifications-cm (Send notifications for Argo CD Applications)",
      LABEL_RE,
      317,
    ).optional(),
  })
    .optional()
    .meta({
      description: "engine eks-argocd only: IAM Identity Center and role mappings of the capability.",
    });
}
/** A tag (v1.2.3, 1.2.3, v1.2.3-rc.1) or a full commit SHA: the only revisions prod accepts. */
export const PINNED_REVISION_RE = /^(v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?|[0-9a-f]{40}|[0-9a-f]{64})$/;
const EXACT_VERSION_RE = /^\d{1,4}\.\d{1,4}\.\d{1,4}$/;
const chartVersion = (version: string) =>
  defaulted(text("an exact chart version (X.Y.Z)", EXACT_VERSION_RE, 16), version);
const duration = (example: string) => text(`a duration such as ${example}`, DURATION_RE, 16);
const PRINTABLE = /^[^\s]+$/;
// A DNS name (no IP literal: a certificate and an IdP's redirect registration name a host), an optional port, and
// nothing after it: Argo CD served under a path needs server.rootpath, which the platform does not set.
const ARGOCD_URL_RE =
  /^https:\/\/(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9](:\d{1,5})?\/?$/i;
const ARGOCD_URL =
  "an https:// URL of a host (DNS name, optional port) without path, query, fragment or credentials, such as https://argocd.example.com";

/** Argo CD's external URL: where SSO sends every login back to. */
function argoCdUrlProblem(url: string): string | undefined {
  if (/^[a-z+]+:\/\/[^/]*@/i.test(url)) return "must not carry credentials";
  const port = Number(ARGOCD_URL_RE.exec(url)?.[1]?.slice(1) ?? 443);
  if (!ARGOCD_URL_RE.test(url) || port < 1 || port > 65535) return `must be ${ARGOCD_URL}`;
  return undefined;
}

/** A check written as a function returning the problem (or nothing), as a zod refinement. */
function check<T>(problemOf: (v: T) => string | undefined) {
  return (v: T, ctx: z.RefinementCtx) => {
    const p = problemOf(v);
    if (p) fail(ctx, [], p);
  };
}

export const window = section({
  kind: oneOf(["allow", "deny"]),
  schedule: text("a five-field cron schedule such as '0 9 * * 1-4'", /^[\x20-\x7e]+$/, 128).superRefine(
    check((s: string) => {
      const c = parseCron(s);
      return typeof c === "string" ? c : undefined;
    }),
  ),
  duration: duration("2h"),
  timeZone: text("an IANA time zone such as Europe/Paris or UTC", /^[A-Za-z0-9_+/-]+$/, 64)
    .superRefine(check(timeZoneProblem))
    .default("UTC"),
  manualSync: bool().default(true),
});
export type SyncWindow = z.output<typeof window>;

/** In prod, an allow window that never closes is automated sync without a gate: refused. */
export function refuseOpenWindows(
  windows: SyncWindow[],
  at: Array<string | number>,
  ctx: z.RefinementCtx,
): void {
  windows.forEach((w, i) => {
    const cron = parseCron(w.schedule);
    if (w.kind !== "allow" || typeof cron === "string") return;
    if (durationMinutes(w.duration) >= longestGapMinutes(cron))
      fail(
        ctx,
        [...at, i],
        "must close in prod: its duration covers the time between its starts, so it is automated sync without a gate",
        w,
      );
  });
}

/** Whether Applications sync on their own by default: prod is gated (manual sync, or only inside allow windows). */
export const AUTOMATED_SYNC: Readonly<Record<Environment, boolean>> = {
  dev: true,
  staging: true,
  prod: false,
};

/** `fleetRole`: a fleet's hub reads the hub's own tree, whatever its environment. */
export function gitops(c: Ctx, fleetRole: unknown) {
  const sync = section({
    automated: defaulted(
      bool(),
      perEnvironment(c, AUTOMATED_SYNC),
      "Argo CD automated sync; in prod only with an allow window.",
    ),
    prune: defaulted(bool(), true),
    selfHeal: defaulted(bool(), true),
    windows: defaulted(list(window, "a list of {kind, schedule, duration, timeZone, manualSync}"), []),
    retryLimit: defaulted(int(1, 10), perEnvironment(c, { dev: 5, staging: 5, prod: 3 })),
    interval: defaulted(duration("1m or 10m"), perEnvironment(c, { dev: "1m", staging: "1m", prod: "10m" })),
  }).superRefine((s, ctx) => {
    if (c.prod) refuseOpenWindows(s.windows, ["windows"], ctx);
  });
  const argocd = section({
    chartVersion: chartVersion(CHARTS.argoCd.version),
    ha: defaulted(bool(), perEnvironment(c, { dev: false, staging: false, prod: true }), "prod: true."),
    sso: section({
      issuer: text("an https:// OIDC issuer URL", /^[\x21-\x7e]+$/, 512).superRefine(
        check((u: string) => httpsUrlProblem(u, "an https:// OIDC issuer URL")),
      ),
      clientId: text("the OIDC client id", PRINTABLE, 256),
    })
      .optional()
      .meta({ description: "OIDC single sign-on; the client secret comes from Secrets Manager." }),
    url: text(ARGOCD_URL, /^[\x21-\x7e]+$/, 256)
      .superRefine(check(argoCdUrlProblem))
      .optional()
      .meta({
        description:
          "Argo CD's external https:// URL (argocd-cm url); required with sso. The IdP must allow <url>/auth/callback.",
      }),
    // No wildcard: an RBAC group binding is matched as a pattern, and `*` would make every user an admin.
    adminGroups: defaulted(
      list(text("an SSO group name, without spaces, ',' or wildcards", /^[^\s,*?]+$/, 256)),
      [],
    ),
    extraSourceRepos: defaulted(
      list(
        text(
          "an exact https:// or oci:// repository URL, without wildcards or credentials",
          PRINTABLE,
          512,
        ).superRefine(
          check((u: string) =>
            httpsUrlProblem(
              u,
              "an exact https:// or oci:// repository URL, without wildcards or credentials",
              ["https:", "oci:"],
            ),
          ),
        ),
      ),
      [...ARGOCD_TEMPLATE_CHART_REPOS],
    ),
  });
  return section({
    engine: defaulted(oneOf(ENGINES), "argocd"),
    repoUrl: text("a Git repository URL", /^[^\s]+$/, 512).superRefine(
      check((u: string) => {
        const r = repoUrlProblem(u);
        return typeof r === "string" ? r : undefined;
      }),
    ),
    // No regex check before the refinement: the refinement says which git rule a revision breaks.
    targetRevision: z
      .string({ error: "must be a Git ref" })
      .max(255, { error: "must be a Git ref of at most 255 characters", abort: true })
      .superRefine(check(gitRefProblem))
      .meta({
        pattern: "^(?!-)[^\\s~^:?*[\\\\]+$",
        description: "A branch, tag or full commit SHA; prod: a tag or SHA.",
      }),
    // Defaulted below, from the engine: the entry point of the gitops/ template it reads.
    path: text(
      "a relative path inside the repository, without '..'",
      /^(?![/-])(?!.*(^|\/)\.\.(\/|$))[\w./-]+$/,
      256,
    )
      .optional()
      .meta({ defaulted: true, description: "Default gitops/clusters/<environment>/<engine>." }),
    private: defaulted(bool(), false, "Credentials from Secrets Manager <prefix>/gitops/repository."),
    sync: defaulted(sync, {}),
    argocd: defaulted(argocd, {}),
    flux: defaulted(section({ chartVersion: chartVersion(CHARTS.flux.version) }), {}),
    eksArgocd: eksArgocd(c),
  })
    .transform((g) => ({
      ...g,
      path:
        g.path ??
        (fleetRole === "hub"
          ? "gitops/clusters/hub/argocd"
          : `gitops/clusters/${c.env ?? "dev"}/${ENGINE_FACTS[g.engine].templateDir}`),
    }))
    .superRefine((g, ctx) => {
      if (g.engine === "eks-argocd") {
        if (g.eksArgocd === undefined)
          fail(
            ctx,
            ["eksArgocd"],
            "is required with gitops.engine eks-argocd: its IAM Identity Center and role mappings",
          );
      } else if (g.eksArgocd !== undefined)
        fail(ctx, ["eksArgocd"], `is only read with gitops.engine eks-argocd, not ${g.engine}`, g.eksArgocd);
      const repo = repoUrlProblem(g.repoUrl);
      if (g.private && typeof repo !== "string" && repo.kind === "ssh")
        fail(ctx, ["repoUrl"], "must be https:// for a private repository (credentials are a token)");
      if (c.prod && !PINNED_REVISION_RE.test(g.targetRevision))
        fail(
          ctx,
          ["targetRevision"],
          "must be pinned in prod: a release tag (v1.4.2) or a full commit SHA, not a moving branch or HEAD",
        );
      // Flux always reconciles: for it, prod's gate is the pinned revision, and `automated` does not apply.
      const engine = ENGINE_FACTS[g.engine];
      const honours = (setting: string) => !Object.hasOwn(engine.refusedArgoCdSettings, setting);
      if (engine.argoCd && c.prod && g.sync.automated && !g.sync.windows.some((w) => w.kind === "allow"))
        fail(
          ctx,
          ["sync", "automated"],
          "needs gitops.sync.windows with an allow window in prod: automated sync in prod must be gated",
        );
      if (!engine.argoCd && g.sync.windows.length > 0)
        fail(
          ctx,
          ["sync", "windows"],
          "are an ArgoCD feature; with Flux, prod is gated by a pinned targetRevision",
        );
      if (c.prod && engine.argoCd && honours("ha") && !g.argocd.ha)
        fail(
          ctx,
          ["argocd", "ha"],
          "must be true in prod: the GitOps controller is what keeps prod converged",
        );
      if (honours("sso") && g.argocd.sso && g.argocd.url === undefined)
        fail(
          ctx,
          ["argocd", "url"],
          "is required with gitops.argocd.sso: Argo CD's external https:// URL, where the identity provider sends users back (<url>/auth/callback); without it every login goes to the chart's https://argocd.example.com",
        );
      if (g.argocd.adminGroups.length > 0 && !g.argocd.sso)
        fail(ctx, ["argocd", "adminGroups"], "need gitops.argocd.sso: groups come from the SSO token");
    });
}
export type GitOpsConfig = z.output<ReturnType<typeof gitops>>;
export type SyncConfig = GitOpsConfig["sync"];
export type ArgoCdConfig = GitOpsConfig["argocd"];
export type FluxConfig = GitOpsConfig["flux"];
export type EksArgoCdConfig = NonNullable<GitOpsConfig["eksArgocd"]>;

/** The `gitops.argocd` settings a stack wrote (before defaults) that its engine cannot honour. */
export function refusedArgoCdSettings(
  engine: Engine,
  argocdRaw: Record<string, unknown>,
): Array<[string, unknown, string]> {
  return Object.entries(ENGINE_FACTS[engine].refusedArgoCdSettings as Record<string, string>)
    .filter(([key]) => argocdRaw[key] !== undefined)
    .map(([key, why]) => [`gitops.argocd.${key}`, argocdRaw[key], why]);
}

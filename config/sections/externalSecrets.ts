import { z } from "zod";
import { MAX_SECRET_NAME, SECRET_NAME_RE } from "../aws";
import { ENGINE_FACTS } from "../../core/engines";
import { CHARTS } from "../../core/pins";
import { ENVIRONMENTS } from "../../core/project";
import { seedResourceName } from "../../core/secrets";
import type { Ctx } from "../context";
import { perEnvironment } from "../defaults";
import { bool, defaulted, fail, int, list, section, text } from "../rules";

/** The engines' namespaces, which no other component may take. */
const ENGINE_NAMESPACES = [...new Set<string>(Object.values(ENGINE_FACTS).map((e) => e.namespace))];
const NAMESPACE = "external-secrets";

const K8S_NAME_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SECRET_PATH_RE = /^[A-Za-z0-9_+=.@-]+(\/[A-Za-z0-9_+=.@-]+)*$/;
const namespace = (what = "a namespace name") => text(what, K8S_NAME_RE, 63);

export function externalSecrets(c: Ctx) {
  return section({
    enabled: defaulted(bool(), true),
    chartVersion: defaulted(
      text("an exact chart version (X.Y.Z)", /^\d{1,4}\.\d{1,4}\.\d{1,4}$/, 16),
      CHARTS.externalSecrets.version,
    ),
    namespace: defaulted(
      namespace().refine((n) => !ENGINE_NAMESPACES.includes(n), {
        error: "must not be argocd or flux-system: the engines own those",
      }),
      NAMESPACE,
    ),
    prefix: defaulted(
      z
        .string({ error: "must be a path like platform/dev (no leading or trailing '/')" })
        .max(256, { error: "must be at most 256 characters", abort: true })
        .superRefine((prefix, ctx) => {
          if (prefix === "")
            return fail(
              ctx,
              [],
              "must not be empty: an empty prefix would let the cluster read every secret",
            );
          if (prefix.includes("*"))
            return fail(ctx, [], "must not contain '*': the prefix is matched as a path, wildcards widen it");
          if (!SECRET_PATH_RE.test(prefix))
            return fail(ctx, [], "must be a path like platform/dev (no leading or trailing '/')");
          if (c.env && !prefix.endsWith(`/${c.env}`))
            return fail(
              ctx,
              [],
              `must end with /${c.env}, so that no environment's prefix contains another's (the grant is <prefix>/*)`,
            );
          const segments = prefix.split("/");
          const other = segments
            .slice(0, -1)
            .findIndex((s) => (ENVIRONMENTS as readonly string[]).includes(s));
          if (other >= 0)
            fail(
              ctx,
              [],
              `must not lie under another environment's prefix (${segments.slice(0, other + 1).join("/")}): that environment's grant <prefix>/* would cover it`,
            );
        }),
      `platform/${c.env ?? "dev"}`,
      "Secrets Manager names and Parameter Store paths this environment may read; default platform/<environment>.",
    ),
    allowedNamespaces: defaulted(list(namespace()), [...ENGINE_NAMESPACES, NAMESPACE]),
    replicas: defaulted(int(1, 5), perEnvironment(c, { dev: 1, staging: 2, prod: 2 })),
    seedSecrets: defaulted(list(text("a name relative to the prefix", SECRET_PATH_RE, MAX_SECRET_NAME)), []),
    adoptSeedSecrets: defaulted(bool(), false),
  }).superRefine((e, ctx) => {
    if (e.allowedNamespaces.length === 0)
      fail(ctx, ["allowedNamespaces"], "must list at least one namespace");
    if (c.prod && e.replicas < 2)
      fail(ctx, ["replicas"], "must be at least 2 in prod, so a node drain never stops secret sync");
    const seen = new Map<string, number>();
    e.seedSecrets.forEach((s, i) => {
      if (e.prefix.length + 1 + s.length > MAX_SECRET_NAME || !SECRET_NAME_RE.test(`${e.prefix}/${s}`))
        fail(
          ctx,
          ["seedSecrets", i],
          `must make a Secrets Manager name (<prefix>/<name>) of at most ${MAX_SECRET_NAME} characters`,
        );
      const id = seedResourceName(s);
      const first = seen.get(id);
      if (first !== undefined)
        fail(
          ctx,
          ["seedSecrets", i],
          `must not map to the same resource as seedSecrets[${first}] (${e.seedSecrets[first]}): '/' becomes '-'`,
        );
      else seen.set(id, i);
    });
  });
}
export type ExternalSecretsConfig = z.output<ReturnType<typeof externalSecrets>>;

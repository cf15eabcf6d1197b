import { z } from "zod";
import type { Ctx } from "../context";
import { defaulted, fail, list, oneOf, section, text } from "../rules";

export const ALERT_TYPES = ["slack", "webhook", "msteams"] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

const K8S_NAME_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
// Slack channel names: lowercase letters, digits, '-', '_', at most 80 characters.
const SLACK_CHANNEL_RE = /^#?[a-z0-9][a-z0-9_-]{0,79}$/;

/** Where alerts go. The credential (Slack token, webhook URL) is never here: it is in `<prefix>/alerts/<name>`. */
const destination = section({
  name: text("a Kubernetes name (lowercase letters, digits, '-')", K8S_NAME_RE, 63),
  type: oneOf(ALERT_TYPES),
  channel: text(
    "a Slack channel such as #platform-alerts (lowercase letters, digits, '-', '_')",
    SLACK_CHANNEL_RE,
    81,
  )
    // Both engines name the channel without its '#'.
    .transform((c) => c.replace(/^#/, ""))
    .optional(),
}).superRefine((d, ctx) => {
  if (d.type === "slack" && d.channel === undefined)
    fail(ctx, ["channel"], "is required for a slack destination: the channel the bot posts to");
  if (d.type !== "slack" && d.channel !== undefined)
    fail(ctx, ["channel"], `is for slack only; a ${d.type} destination is its URL`, d.channel);
});

function repeatedNames(list: Array<{ name?: unknown }>, ctx: z.RefinementCtx): void {
  const names = list.map((d) => d?.name).filter((n) => typeof n === "string");
  for (const dup of new Set(names.filter((n, i) => names.indexOf(n) !== i)))
    fail(ctx, [], "must not repeat a name: each names its own secret", dup);
}

/** `fleetRole`: a spoke runs no engine; its hub's Argo CD reports on its apps, naming it. */
export function alerts(c: Ctx, fleetRole: unknown) {
  const spoke = fleetRole === "spoke";
  return defaulted(
    section({
      destinations: defaulted(
        list(destination, "a list of {name, type, channel}").superRefine(repeatedNames, {
          // Also when an entry is wrong otherwise: a repeated name is its own mistake, not a follow-on.
          when: (payload) => Array.isArray(payload.value),
        }),
        [],
        "Every destination gets every alert; the credential is in Secrets Manager <prefix>/alerts/<name>.",
      ),
    }).superRefine((a, ctx) => {
      if (spoke && a.destinations.length > 0)
        fail(ctx, ["destinations"], "are set on the hub stack: a spoke's alerts come from its hub");
      if (c.prod && !spoke && a.destinations.length === 0)
        fail(
          ctx,
          ["destinations"],
          "must list at least one destination in prod: failed syncs, degraded apps and drift must reach a person",
        );
    }),
    {},
    "Failed syncs, degraded apps and drift (prod) reach these destinations; required in prod.",
  );
}
export type AlertsConfig = z.output<ReturnType<typeof alerts>>;
export type AlertDestination = AlertsConfig["destinations"][number];

import { z } from "zod";
import { ROLE_ARN_RE } from "../aws";
import type { Ctx } from "../context";
import { fail, list, section, text } from "../rules";

export const ACCESS_KINDS = [
  "adminRoleArns",
  "deployerRoleArns",
  "viewerRoleArns",
  "secretWriterRoleArns",
] as const;
/** The lists that become EKS access entries; components/cluster.ts names each `<name>-<kind>-<path-name>`. */
const ENTRY_KINDS = ["adminRoleArns", "deployerRoleArns", "viewerRoleArns"] as const;

/** The resource name components/cluster.ts gives a role's access entry: its path and name, '/' as '-'. */
export function accessEntryName(arn: string): string {
  return (arn.split(":role/")[1] ?? "").replace(/\//g, "-");
}

export function access(c: Ctx) {
  const roles = (description: string) =>
    list(text("an IAM role ARN", ROLE_ARN_RE, 2048), "a list of IAM role ARNs").meta({ description });
  return section({
    adminRoleArns: roles("EKS cluster admins and KMS key administrators (at least one).").default([]),
    deployerRoleArns: roles("The roles that run `pulumi up` (at least one).").default([]),
    viewerRoleArns: roles("Read-only cluster access.").default([]),
    secretWriterRoleArns: roles("May write secret values; no cluster access.").default([]),
  }).superRefine((a, ctx) => {
    if (a.adminRoleArns.length === 0)
      fail(
        ctx,
        ["adminRoleArns"],
        "must name at least one role: the KMS key and cluster need an administrator",
        [],
      );
    if (a.deployerRoleArns.length === 0)
      fail(
        ctx,
        ["deployerRoleArns"],
        "must name the role(s) that run `pulumi up`: no one else gets implicit access",
        [],
      );
    for (const kind of ACCESS_KINDS)
      a[kind].forEach((arn, i) => {
        const partition = ROLE_ARN_RE.exec(arn)?.[1];
        if (c.partition && partition !== c.partition)
          fail(
            ctx,
            [kind, i],
            `must be a role of partition ${c.partition} (the partition of ${c.region}): arn:${c.partition}:iam::...`,
          );
      });
    // Each role gets one EKS access entry; EKS refuses a second one for the same principal.
    const entries = ENTRY_KINDS.flatMap((k) => a[k]);
    for (const arn of new Set(entries.filter((x, i) => entries.indexOf(x) !== i)))
      fail(ctx, [], "must list a role in only one of adminRoleArns, deployerRoleArns, viewerRoleArns", arn);
    // Two different ARNs with the same path and name (another account or partition) would be one resource name.
    for (const kind of ENTRY_KINDS) {
      const seen = new Map<string, number>();
      a[kind].forEach((arn, i) => {
        const id = accessEntryName(arn);
        const first = seen.get(id);
        if (first !== undefined && a[kind][first] !== arn)
          fail(
            ctx,
            [kind, i],
            `must not have the same role path and name as ${kind}[${first}]: both would be access entry ${id}`,
          );
        if (first === undefined) seen.set(id, i);
      });
    }
  });
}
export type AccessConfig = z.output<ReturnType<typeof access>>;

import { z } from "zod";
import { isRegion, partitionOf } from "../aws";
import type { Ctx } from "../context";
import { fail, section, text } from "../rules";
import { NAME_RE } from "./tags";

/** A standby region a prod environment can be rebuilt in (see docs/disaster-recovery.md). */
export function dr(c: Ctx, name: string | undefined) {
  return section({
    standbyRegion: text("an AWS region such as eu-central-1", /^[a-z0-9-]+$/, 32).superRefine((r, ctx) => {
      if (!isRegion(r)) fail(ctx, [], "must be an AWS region such as eu-central-1 (one @pulumi/aws knows)");
      else if (r === c.region) fail(ctx, [], "must differ from aws:region");
      else if (c.partition && partitionOf(r) !== c.partition)
        fail(
          ctx,
          [],
          `must be a region of partition ${c.partition}, like aws:region: a key cannot replicate across partitions`,
        );
    }),
    /** The name the rebuilt environment takes there; IAM is global, so it cannot reuse this one's role names. */
    standbyName: text("3-32 lowercase letters, digits, '-'", NAME_RE, 32).refine((n) => n !== name, {
      error: "must differ from gitops-platform:name: IAM role names are global",
    }),
  })
    .optional()
    .meta({ description: "prod only: where prod can be rebuilt (docs/disaster-recovery.md)." });
}
export type DrConfig = NonNullable<z.output<ReturnType<typeof dr>>>;

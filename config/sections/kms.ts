import { z } from "zod";
import { KMS_ARN_RE } from "../aws";
import type { Ctx } from "../context";
import { perEnvironment } from "../defaults";
import { bool, defaulted, fail, int, section, text } from "../rules";

export function kms(c: Ctx) {
  return section({
    deletionWindowDays: defaulted(
      int(7, 30),
      perEnvironment(c, { dev: 7, staging: 14, prod: 30 }),
      "7-30 days; prod: 30.",
    ),
    multiRegion: defaulted(bool(), false, "Required for dr: the standby region decrypts with a replica."),
    existingKeyArn: text("a KMS key ARN", KMS_ARN_RE, 2048)
      .optional()
      .meta({ description: "Adopt this key (a rebuild) instead of creating one; a key of aws:region." }),
  }).superRefine((k, ctx) => {
    if (c.prod && k.deletionWindowDays !== 30)
      fail(
        ctx,
        ["deletionWindowDays"],
        "must be 30 in prod: the longest window to undo a scheduled deletion",
      );
    const m = k.existingKeyArn ? KMS_ARN_RE.exec(k.existingKeyArn) : null;
    if (!m || !c.region) return;
    if (m[1] !== c.partition)
      fail(
        ctx,
        ["existingKeyArn"],
        `must be a key of partition ${c.partition} (the partition of ${c.region})`,
      );
    else if (m[2] !== c.region)
      fail(
        ctx,
        ["existingKeyArn"],
        `must be a key in ${c.region}: EKS and Secrets Manager use keys of their own region (for a standby region, the multi-Region replica there)`,
      );
  });
}
export type KmsConfig = z.output<ReturnType<typeof kms>>;

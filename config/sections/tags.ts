import { z } from "zod";
import { MAX_TAGS, TAG_CHARS_RE } from "../aws";
import { fail, text } from "../rules";

export const NAME_RE = /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/;
// The tags the program sets itself (components/common.ts baseTags, components/network.ts): the policy pack reads
// Environment; subnets add Name and the two load balancer discovery tags.
export const RESERVED_TAGS = ["Environment", "ManagedBy", "Project", "Name"];
export const PROGRAM_TAG_COUNT = RESERVED_TAGS.length + 2;

const TAG_RULE = "letters, digits, spaces and _ . : / = + - @";

/** AWS tag rules: key 1-128, value 0-256, allowed characters, no aws: prefix, the program's own keys left alone. */
export function tagMap(what: string, providerTags = 0) {
  return z
    .record(
      text(`a tag key of 1-128 ${TAG_RULE}`, TAG_CHARS_RE, 128)
        .min(1, { error: `must be a tag key of 1-128 ${TAG_RULE}` })
        .refine((k) => !k.toLowerCase().startsWith("aws:"), {
          error: "must not start with aws: (reserved by AWS)",
        })
        .refine((k) => !RESERVED_TAGS.includes(k), {
          error: `is set by the program (${RESERVED_TAGS.join(", ")})`,
        }),
      text(`a tag value of 0-256 ${TAG_RULE}`, TAG_CHARS_RE, 256),
      { error: "must be an object" },
    )
    .superRefine((tags, ctx) => {
      const max = MAX_TAGS - PROGRAM_TAG_COUNT - providerTags;
      const n = Object.keys(tags).length;
      if (n > max)
        fail(
          ctx,
          [],
          `must have at most ${max} tags: AWS allows ${MAX_TAGS} per resource and the program sets ${PROGRAM_TAG_COUNT}${providerTags ? ` and aws:defaultTags ${providerTags}` : ""}`,
          `(${n} tags)`,
        );
    })
    .meta({ defaulted: true, description: what });
}

// The stack configuration, one section per file under sections/: the types, the defaults (beside each field),
// the rules and their messages, and the JSON Schema editors check Pulumi.<stack>.yaml with, all come from these
// declarations. To add a section: write sections/<name>.ts (a function of the context returning a zod schema),
// list it in SECTIONS, put a rule that reads other sections in cross-section.ts, and document its keys in
// README.md (test/config-schema.test.ts checks).
import { z } from "zod";
import { REGIONS } from "./aws";
import { ENVIRONMENTS, type Environment } from "../core/project";
import type { Ctx } from "./context";
import { PROVIDER_KEYS } from "./keys";
import { DEFAULTS_RELEASES, FIRST_DEFAULTS, LATEST_DEFAULTS, type DefaultsRelease } from "./releases";
import { defaulted, omittable, oneOf, text } from "./rules";
import { access } from "./sections/access";
import { alerts } from "./sections/alerts";
import { cluster, type ClusterFacts } from "./sections/cluster";
import { dr, type DrConfig } from "./sections/dr";
import { anyFleet, fleet, type FleetConfig } from "./sections/fleet";
import { externalSecrets } from "./sections/externalSecrets";
import { gitops } from "./sections/gitops";
import { identity } from "./sections/identity";
import { kms } from "./sections/kms";
import { network } from "./sections/network";
import { nodeGroups } from "./sections/nodeGroups";
import { NAME_RE, tagMap } from "./sections/tags";

export const environment = oneOf(ENVIRONMENTS).meta({
  description: "Selects the defaults and the prod rules.",
});
export const defaults = defaulted(oneOf(DEFAULTS_RELEASES), FIRST_DEFAULTS).meta({
  description: `The release whose defaults this file was written against; new files state ${LATEST_DEFAULTS}. Unset: ${FIRST_DEFAULTS}, the first release's.`,
});
export const name = (c: Ctx) =>
  defaulted(
    text("3-32 lowercase letters, digits, '-'", NAME_RE, 32),
    `platform-${c.env ?? "dev"}`,
    "Prefix of every physical name; also the EKS cluster name. Default platform-<environment>.",
  );

/** Facts of the stack the sections read besides their own values. */
export interface SectionInput {
  ctx: Ctx;
  /** Whether the stack wrote cluster.addons and cluster.autoMode, and its identity (see ClusterFacts). */
  cluster: ClusterFacts;
  /** cluster.compute is autoMode: the program defines no node groups. */
  autoMode: boolean;
  /** The stack's (valid) name, which the standby's must differ from. */
  name?: string;
  /** The fleet.role the stack wrote: the fleet schema follows it. */
  fleetRole?: unknown;
  /** How many tags aws:defaultTags adds to every resource. */
  providerTags: number;
}

/**
 * Every section of the `gitops-platform` namespace besides environment and name, in the order problems are
 * reported. A section the stack leaves out gets its defaults (dr and fleet: none).
 */
export const SECTIONS = {
  tags: (s: SectionInput) => omittable(tagMap("Added to every AWS resource.", s.providerTags)),
  network: (s: SectionInput) => omittable(network(s.ctx)),
  kms: (s: SectionInput) => omittable(kms(s.ctx)),
  cluster: (s: SectionInput) => omittable(cluster(s.ctx, s.cluster)),
  nodeGroups: (s: SectionInput) => nodeGroups(s.ctx, s.autoMode),
  identity: (s: SectionInput) => identity(s.ctx),
  access: (s: SectionInput) => omittable(access(s.ctx)),
  gitops: (s: SectionInput) => omittable(gitops(s.ctx, s.fleetRole)),
  externalSecrets: (s: SectionInput) => omittable(externalSecrets(s.ctx)),
  alerts: (s: SectionInput) => alerts(s.ctx, s.fleetRole),
  dr: (s: SectionInput) => dr(s.ctx, s.name),
  fleet: (s: SectionInput) => fleet(s.ctx, s.fleetRole, s.name),
};
export type SectionName = keyof typeof SECTIONS;

const built = new Map<string, z.ZodType>();
/** The section's schema for these facts, built once per distinct facts (building one costs milliseconds). */
export function sectionSchema(key: SectionName, input: SectionInput): z.ZodType {
  const id = `${key} ${JSON.stringify(input)}`;
  let schema = built.get(id);
  if (!schema) {
    if (built.size > 500) built.clear();
    schema = SECTIONS[key](input);
    built.set(id, schema);
  }
  return schema;
}
type Out<K extends SectionName> = z.output<ReturnType<(typeof SECTIONS)[K]>>;

export type PlatformConfig = {
  defaults: DefaultsRelease;
  environment: Environment;
  name: string;
  region: string;
} & {
  [K in Exclude<SectionName, "dr" | "fleet">]: Out<K>;
} & {
  dr?: DrConfig;
  /** Absent: a single cluster running its own engine. */
  fleet?: FleetConfig;
};

/** Keys of the namespace, in the order the stack files and the README list them. */
export const TOP_KEYS = ["defaults", "environment", "name", ...Object.keys(SECTIONS)] as string[];

const GENERIC: SectionInput = {
  ctx: { prod: false, defaults: LATEST_DEFAULTS },
  cluster: { addonsWritten: true, autoModeWritten: false },
  autoMode: false,
  providerTags: 0,
};

/** A stack file's JSON Schema: fields the defaults fill are optional; unknown keys are errors. */
export function stackFileJsonSchema(): Record<string, unknown> {
  const json = (schema: z.ZodType) =>
    z.toJSONSchema(schema, {
      io: "input",
      unrepresentable: "any",
      override: ({ zodSchema, jsonSchema }) => {
        delete (jsonSchema as Record<string, unknown>).defaulted;
        // Defaults differ per environment (and depend on other keys): the description says what they are.
        delete (jsonSchema as Record<string, unknown>).default;
        const shape = (zodSchema as unknown as { _zod: { def: { shape?: Record<string, z.ZodType> } } })._zod
          .def.shape;
        if (!shape || !Array.isArray(jsonSchema.required)) return;
        jsonSchema.required = jsonSchema.required.filter((k) => !z.globalRegistry.get(shape[k])?.defaulted);
        if (jsonSchema.required.length === 0) delete jsonSchema.required;
      },
    });
  const strip = (s: Record<string, unknown>) => {
    delete s.$schema;
    return s;
  };
  const properties: Record<string, unknown> = {
    "aws:region": { type: "string", enum: REGIONS, description: "The AWS region (the provider's list)." },
  };
  for (const [key, p] of Object.entries(PROVIDER_KEYS))
    if (key !== "aws:region") properties[key] = strip(json(p.schema));
  properties["gitops-platform:defaults"] = strip(json(defaults));
  properties["gitops-platform:environment"] = strip(json(environment));
  properties["gitops-platform:name"] = strip(json(name(GENERIC.ctx)));
  for (const [key, make] of Object.entries(SECTIONS))
    properties[`gitops-platform:${key}`] = strip(
      json(key === "fleet" ? anyFleet(GENERIC.ctx) : make(GENERIC)),
    );
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $comment:
      "Generated from config/schema.ts by `npm run config-schema`; test/config-schema.test.ts fails when it is stale.",
    title: "gitops-platform stack file (Pulumi.<stack>.yaml)",
    type: "object",
    required: ["config"],
    additionalProperties: false,
    properties: {
      config: {
        type: "object",
        required: ["aws:region", "gitops-platform:environment"],
        additionalProperties: false,
        properties,
      },
      secretsprovider: { type: "string" },
      encryptedkey: { type: "string" },
      encryptionsalt: { type: "string" },
    },
  };
}

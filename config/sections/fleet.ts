import { z } from "zod";
import { ROLE_ARN_RE } from "../aws";
import { HUB_ENGINES } from "../../core/engines";
import { ENVIRONMENTS, type Environment } from "../../core/project";
import type { Ctx } from "../context";
import { bool, fail, list, oneOf, section, text } from "../rules";
import { AUTOMATED_SYNC, refuseOpenWindows, window } from "./gitops";
import { NAME_RE } from "./tags";

export const FLEET_ROLES = ["hub", "spoke"] as const;
/** `org/project/stack`, `project/stack` or `stack`: what `pulumi.StackReference` accepts. */
const STACK_REF_RE = /^([A-Za-z0-9][\w.-]*\/){0,2}[A-Za-z0-9][\w.-]*$/;

/** The Argo CD project a hub gives one environment's spokes (topology/hub.ts). */
function project(env: Environment, automated: boolean) {
  return section({
    automated: bool().default(automated),
    windows: list(window, "a list of {kind, schedule, duration, timeZone, manualSync}").default([]),
  })
    .superRefine((p, ctx) => {
      if (env !== "prod") return;
      if (p.automated && !p.windows.some((w) => w.kind === "allow"))
        fail(
          ctx,
          ["automated"],
          `needs fleet.projects.${env}.windows with an allow window: automated sync in prod must be gated`,
        );
      refuseOpenWindows(p.windows, ["windows"], ctx);
    })
    .prefault({});
}

function spokeFleet() {
  return section({
    role: z.literal("spoke"),
    hubStack: text("the hub's stack name, e.g. org/gitops-platform/hub", STACK_REF_RE, 256),
    // The spoke registers itself in the form its hub's Argo CD reads (engines/: `hub` of each definition); the
    // spoke checks it against the hub's outputs.
    hubEngine: oneOf(HUB_ENGINES).default("argocd"),
  });
}

function hubFleet(c: Ctx, hubName: string | undefined) {
  const spoke = section({
    environment: oneOf(ENVIRONMENTS),
    deployerRoleArn: text("an IAM role ARN", ROLE_ARN_RE, 2048),
  });
  const projects = {
    dev: project("dev", AUTOMATED_SYNC.dev),
    staging: project("staging", AUTOMATED_SYNC.staging),
    prod: project("prod", AUTOMATED_SYNC.prod),
  };
  return section({
    role: z.literal("hub"),
    spokes: z
      .record(
        text(
          "a spoke name: spoke names are their gitops-platform:name: 3-32 lowercase letters, digits, '-'",
          NAME_RE,
          32,
        ),
        spoke,
        { error: "must be an object" },
      )
      .default({})
      .superRefine((spokes, ctx) => {
        const seen = new Map<string, string>();
        for (const [name, s] of Object.entries(spokes)) {
          if (name === hubName) fail(ctx, [name], "is the hub itself: the hub is not a deploy target", name);
          const partition = ROLE_ARN_RE.exec(s.deployerRoleArn)?.[1];
          if (c.partition && partition !== c.partition)
            fail(
              ctx,
              [name, "deployerRoleArn"],
              `must be in the hub's partition ${c.partition}: EKS access entries do not cross partitions`,
            );
          const other = seen.get(s.deployerRoleArn);
          if (other)
            fail(
              ctx,
              [name, "deployerRoleArn"],
              `must not be spoke ${other}'s too: EKS allows one access entry per role`,
            );
          else seen.set(s.deployerRoleArn, name);
        }
      }),
    projects: section(projects).prefault({}),
  });
}

type Hub = z.output<ReturnType<typeof hubFleet>>;
/** A fleet of clusters: one hub Argo CD deploys to spokes that register themselves (README, "Fleet"). */
export type FleetConfig = Hub | z.output<ReturnType<typeof spokeFleet>>;
export type FleetProject = Hub["projects"][Environment];
export type FleetSpoke = Hub["spokes"][string];

/** The fleet schema follows the role the stack wrote; an unknown role is reported, nothing else of the fleet. */
export function fleet(
  c: Ctx,
  role: unknown,
  hubName: string | undefined,
): z.ZodType<FleetConfig | undefined> {
  if (role === "spoke") return spokeFleet().optional();
  if (role === "hub") return hubFleet(c, hubName).optional();
  return section({ role: oneOf(FLEET_ROLES) }).optional() as unknown as z.ZodType<FleetConfig | undefined>;
}

/** Both shapes, for the JSON Schema: an editor cannot know the role before it is written. */
export function anyFleet(c: Ctx) {
  return z.union([hubFleet(c, undefined), spokeFleet()]).optional();
}

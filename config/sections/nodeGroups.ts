import { z } from "zod";
import type { Environment } from "../../core/project";
import type { Ctx } from "../context";
import { perEnvironment } from "../defaults";
import { fail, int, list, oneOf, section, text } from "../rules";

const INSTANCE_TYPE_RE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
// A Graviton family has a "g" after its generation digit: m7g, c7gn, t4g, im4gn, g5g (not g5, an x86 GPU).
const GRAVITON_RE = /^[a-z]+\d+[a-z]*g[a-z]*\./;

export function nodeGroup(c: Ctx) {
  return section({
    instanceTypes: list(text("an EC2 instance type", INSTANCE_TYPE_RE, 32)),
    capacityType: oneOf(["ON_DEMAND", "SPOT"]),
    minSize: int(1, 100),
    desiredSize: int(1, 100),
    maxSize: int(1, 100),
    diskSizeGiB: int(20, 1000),
  })
    .superRefine((g, ctx) => {
      if (g.instanceTypes.length === 0)
        fail(ctx, ["instanceTypes"], "must list at least one EC2 instance type");
      if (c.prod && g.capacityType === "SPOT") fail(ctx, ["capacityType"], "must be ON_DEMAND in prod");
      if (!(g.minSize <= g.desiredSize && g.desiredSize <= g.maxSize))
        fail(ctx, [], "needs minSize <= desiredSize <= maxSize", {
          minSize: g.minSize,
          desiredSize: g.desiredSize,
          maxSize: g.maxSize,
        });
      const arm = g.instanceTypes.map((t) => GRAVITON_RE.test(t));
      if (arm.some(Boolean) && !arm.every(Boolean))
        fail(ctx, ["instanceTypes"], "must all be Graviton (arm64) or all x86_64: one AMI per group");
    })
    .transform((g) => ({
      ...g,
      /** Derived from the instance types: Graviton families (m7g, c7gn, t4g, ...) run the arm64 AMI. */
      architecture: (GRAVITON_RE.test(g.instanceTypes[0]) ? "arm64" : "x86_64") as "arm64" | "x86_64",
    }));
}

/** The one group a stack gets unless it lists its own: spot in dev, bigger and on-demand towards prod. */
export const DEFAULT_NODE_GROUP: Readonly<Record<Environment, z.input<ReturnType<typeof nodeGroup>>>> = {
  dev: {
    instanceTypes: ["t3.large"],
    capacityType: "SPOT",
    minSize: 2,
    desiredSize: 2,
    maxSize: 4,
    diskSizeGiB: 40,
  },
  staging: {
    instanceTypes: ["m6i.large"],
    capacityType: "ON_DEMAND",
    minSize: 2,
    desiredSize: 3,
    maxSize: 6,
    diskSizeGiB: 50,
  },
  prod: {
    instanceTypes: ["m6i.xlarge"],
    capacityType: "ON_DEMAND",
    minSize: 3,
    desiredSize: 3,
    maxSize: 9,
    diskSizeGiB: 80,
  },
};

export function nodeGroups(c: Ctx, autoMode = false) {
  // Auto Mode runs the nodes: the program defines none, and a stack that lists some is told so.
  if (autoMode)
    return z
      .undefined({
        error:
          "must not be set with cluster.compute autoMode: Auto Mode runs the nodes (pools system and general-purpose)",
      })
      .transform((): Record<string, NodeGroupConfig> => ({}));
  return z
    .record(
      text(
        "a node group name: group names are 1-21 lowercase letters, digits, '-'",
        /^[a-z][a-z0-9-]{0,20}$/,
        21,
      ),
      nodeGroup(c),
      {
        error: "must be an object",
      },
    )
    .superRefine((groups, ctx) => {
      const all = Object.values(groups);
      if (all.length === 0) fail(ctx, [], "must define at least one node group");
      if (all.length > 10) fail(ctx, [], "must define at most 10 node groups");
      const totalMin = all.reduce((n, g) => n + g.minSize, 0);
      if (c.prod && all.length > 0 && totalMin < 3)
        fail(ctx, ["*", "minSize"], "must add up to at least 3 nodes in prod (one per zone)", totalMin);
    })
    .prefault({ system: perEnvironment(c, DEFAULT_NODE_GROUP) })
    .meta({ defaulted: true, description: "Replaces the default group: name -> group." });
}
export type NodeGroupConfig = z.output<ReturnType<typeof nodeGroup>>;

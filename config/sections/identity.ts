import { z } from "zod";
import type { Ctx } from "../context";
import { byDefaults } from "../defaults";
import { defaulted, oneOf } from "../rules";

/** How a workload's pods get their AWS role (identity/). */
export const IDENTITY_MODES = ["podIdentity", "irsa"] as const;
export type IdentityMode = (typeof IDENTITY_MODES)[number];

// Pod Identity since the 2026-12 defaults; IRSA before (a switch on a running stack: README, "Upgrading").
export const identity = (c: Ctx) =>
  defaulted(
    oneOf(IDENTITY_MODES),
    byDefaults<IdentityMode>(c, { "2026-11": "irsa", "2026-12": "podIdentity" }),
    "How workloads get their AWS roles (identity/). Default podIdentity (defaults 2026-12), irsa before.",
  );
export type IdentityConfig = z.output<ReturnType<typeof identity>>;

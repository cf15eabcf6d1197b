import { z } from "zod";
import { defaulted, oneOf } from "../rules";

/** How a workload's pods get their AWS role (identity/). */
export const IDENTITY_MODES = ["podIdentity", "irsa"] as const;
export type IdentityMode = (typeof IDENTITY_MODES)[number];

export const identity = defaulted(
  oneOf(IDENTITY_MODES),
  "podIdentity",
  "How workloads get their AWS roles (identity/).",
);
export type IdentityConfig = z.output<typeof identity>;

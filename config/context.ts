// What the env- and region-dependent rules read. Unknown (invalid) environment or region: those rules are skipped,
// so one wrong value hides nothing else and causes no follow-on errors.
import type { Environment } from "../core/project";
import type { DefaultsRelease } from "./releases";

export interface Ctx {
  env?: Environment;
  /** A region of the provider's list, or undefined when aws:region is missing or wrong. */
  region?: string;
  /** The region's partition (aws, aws-cn, aws-us-gov, ...). */
  partition?: string;
  prod: boolean;
  /** The release whose defaults the stack file was written against (gitops-platform:defaults). */
  defaults: DefaultsRelease;
}

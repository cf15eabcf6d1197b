// Chooses the identity once, from `identity`. Adding a choice: one file here and one line below.
import type * as pulumi from "@pulumi/pulumi";
import type { IdentityMode } from "../config";
import type { AwsContext } from "../core/iam";
import type { WorkloadIdentity } from "./contract";
import { IrsaIdentity, type ClusterOidc } from "./irsa";
import { PodIdentity } from "./podIdentity";

export type { WorkloadIdentity, WorkloadRole, WorkloadRoleRequest } from "./contract";

export interface IdentityFacts {
  ctx: AwsContext;
  clusterName: pulumi.Input<string>;
  clusterArn: pulumi.Input<string>;
  oidc: ClusterOidc;
}

export function chooseIdentity(mode: IdentityMode, f: IdentityFacts): WorkloadIdentity {
  const choices: Record<IdentityMode, () => WorkloadIdentity> = {
    irsa: () => new IrsaIdentity(f.oidc),
    podIdentity: () => new PodIdentity(f, new IrsaIdentity(f.oidc)),
  };
  return choices[mode]();
}

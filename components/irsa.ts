import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyDocument, policyJson, type PolicyDocument } from "./common";

/** The identity of the cluster's OIDC provider, as IRSA trust policies need it. */
export interface OidcIdentity {
  providerArn: pulumi.Input<string>;
  /** Issuer URL without the scheme, e.g. oidc.eks.eu-west-1.amazonaws.com/id/ABC. */
  issuerHost: pulumi.Input<string>;
}

export interface IrsaRoleArgs {
  oidc: OidcIdentity;
  /** Physical role name (deterministic: the KMS key policy names it before it exists). */
  roleName: string;
  namespace: string;
  serviceAccount: string;
  /** Inline permissions; omit for a role that only carries managed policies. */
  policy?: pulumi.Input<PolicyDocument>;
  managedPolicyArns?: pulumi.Input<string>[];
  tags: Record<string, string>;
}

/**
 * Trust for exactly one Kubernetes service account of exactly one cluster: web identity from this cluster's
 * provider, StringEquals (never StringLike) on the token's subject and audience.
 */
export function irsaTrustPolicy(
  providerArn: string,
  issuerHost: string,
  namespace: string,
  serviceAccount: string,
) {
  return policyDocument([
    {
      Effect: "Allow",
      Principal: { Federated: providerArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: {
          [`${issuerHost}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
          [`${issuerHost}:aud`]: "sts.amazonaws.com",
        },
      },
    },
  ]);
}

/** An IAM role that one Kubernetes service account assumes through IRSA. */
export class IrsaRole extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly arn: pulumi.Output<string>;
  /** The annotation the service account needs. */
  readonly serviceAccountAnnotations: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: IrsaRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gitops-platform:index:IrsaRole", name, {}, opts);
    for (const [what, value] of [
      ["namespace", args.namespace],
      ["serviceAccount", args.serviceAccount],
    ]) {
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value)) {
        throw new Error(
          `IrsaRole ${name}: ${what} ${JSON.stringify(value)} must be a Kubernetes name, no wildcard`,
        );
      }
    }
    const trust = pulumi
      .all([args.oidc.providerArn, args.oidc.issuerHost])
      .apply(([arn, host]) => irsaTrustPolicy(arn, host, args.namespace, args.serviceAccount));
    this.role = new aws.iam.Role(
      name,
      { name: args.roleName, assumeRolePolicy: policyJson(trust), maxSessionDuration: 3600, tags: args.tags },
      { parent: this },
    );
    if (args.policy) {
      new aws.iam.RolePolicy(name, { role: this.role.id, policy: policyJson(args.policy) }, { parent: this });
    }
    (args.managedPolicyArns ?? []).forEach(
      (policyArn, i) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-${i}`,
          { role: this.role.name, policyArn },
          { parent: this },
        ),
    );
    this.arn = this.role.arn;
    this.serviceAccountAnnotations = this.arn.apply((arn): Record<string, string> => ({
      "eks.amazonaws.com/role-arn": arn,
    }));
    this.registerOutputs({ arn: this.arn });
  }
}

// IRSA: the cluster's OIDC provider federates its service-account tokens; each role trusts one subject.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyDocument, policyJson } from "../core/iam";
import {
  assertWorkloadNames,
  asWorkloadRole,
  type WorkloadIdentity,
  type WorkloadRole,
  type WorkloadRoleRequest,
  WORKLOAD_ROLE_TYPES,
} from "./contract";

const IRSA_ROLE = WORKLOAD_ROLE_TYPES.irsa;

export const IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn";

/** The identity of the cluster's OIDC provider, as IRSA trust policies need it. */
export interface OidcIdentity {
  providerArn: pulumi.Input<string>;
  /** Issuer URL without the scheme, e.g. oidc.eks.eu-west-1.amazonaws.com/id/ABC. */
  issuerHost: pulumi.Input<string>;
}

/**
 * Trust for exactly one Kubernetes service account of exactly one cluster: web identity from this cluster's
 * provider, StringEquals (never StringLike) on the token's subject and audience.
 */
export function irsaTrustPolicy(
  providerArn: string,
  issuerHost: string,
  namespace: string,
  serviceAccount: string | string[],
) {
  const subject = (sa: string) => `system:serviceaccount:${namespace}:${sa}`;
  return policyDocument([
    {
      Effect: "Allow",
      Principal: { Federated: providerArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: {
          [`${issuerHost}:sub`]: Array.isArray(serviceAccount)
            ? serviceAccount.map(subject)
            : subject(serviceAccount),
          [`${issuerHost}:aud`]: "sts.amazonaws.com",
        },
      },
    },
  ]);
}

export interface IrsaRoleArgs extends WorkloadRoleRequest {
  oidc: OidcIdentity;
}

/** An IAM role that one Kubernetes service account assumes through IRSA. */
export class IrsaRole extends pulumi.ComponentResource implements WorkloadRole {
  readonly role: aws.iam.Role;
  readonly arn: pulumi.Output<string>;
  readonly serviceAccountAnnotations: pulumi.Output<Record<string, string>>;
  readonly webIdentity = true;
  readonly roleAnnotation = IRSA_ROLE_ANNOTATION;
  readonly ready: pulumi.Resource[] = [this];

  constructor(name: string, args: IrsaRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super(IRSA_ROLE, name, {}, asWorkloadRole(IRSA_ROLE, opts));
    assertWorkloadNames(`IrsaRole ${name}`, args);
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
      [IRSA_ROLE_ANNOTATION]: arn,
    }));
    this.registerOutputs({ arn: this.arn });
  }
}

/**
 * The cluster's OIDC provider, created the first time a role needs it: with Pod Identity and Auto Mode and
 * Argo CD nothing does, and the cluster then has no IAM identity provider at all.
 */
export class ClusterOidc {
  private provider?: OidcIdentity;

  constructor(
    private readonly name: string,
    private readonly args: {
      issuerUrl: pulumi.Output<string>;
      tags: Record<string, string>;
      parent: pulumi.Resource;
    },
  ) {}

  get(): OidcIdentity {
    if (!this.provider) {
      const provider = new aws.iam.OpenIdConnectProvider(
        this.name,
        { url: this.args.issuerUrl, clientIdLists: ["sts.amazonaws.com"], tags: this.args.tags },
        { parent: this.args.parent },
      );
      this.provider = {
        providerArn: provider.arn,
        issuerHost: this.args.issuerUrl.apply((u) => u.replace(/^https:\/\//, "")),
      };
    }
    return this.provider;
  }

  /** The provider if some role asked for it. */
  get created(): OidcIdentity | undefined {
    return this.provider;
  }
}

export class IrsaIdentity implements WorkloadIdentity {
  constructor(private readonly oidc: ClusterOidc) {}

  role(name: string, request: WorkloadRoleRequest, opts: { parent: pulumi.Resource }): WorkloadRole {
    return new IrsaRole(name, { ...request, oidc: this.oidc.get() }, opts);
  }
}

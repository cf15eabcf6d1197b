// EKS Pod Identity: the EKS Auth service assumes the role for the pod and tags the session with the pod's
// cluster, namespace and service account. No OIDC provider; the trust names the service, not the cluster.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  policyDocument,
  policyJson,
  type AwsContext,
  type PolicyDocument,
  type Statement,
} from "../core/iam";
import {
  assertWorkloadNames,
  asWorkloadRole,
  type WorkloadIdentity,
  type WorkloadRole,
  type WorkloadRoleRequest,
  WORKLOAD_ROLE_TYPES,
} from "./contract";

const POD_IDENTITY_ROLE = WORKLOAD_ROLE_TYPES.podIdentity;

export const POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com";

/** The session tags EKS Pod Identity sets on every session it creates. */
export const SESSION_TAGS = {
  clusterArn: "eks-cluster-arn",
  namespace: "kubernetes-namespace",
  serviceAccount: "kubernetes-service-account",
} as const;

export interface PodIdentitySubject {
  accountId: string;
  clusterArn: string;
  namespace: string;
  /** Several: any one of them (StringEquals on a list). */
  serviceAccount: string | string[];
}

const tagValues = (s: PodIdentitySubject) => ({
  [SESSION_TAGS.clusterArn]: s.clusterArn,
  [SESSION_TAGS.namespace]: s.namespace,
  [SESSION_TAGS.serviceAccount]: s.serviceAccount,
});

/**
 * Trust for the EKS Pod Identity service acting for this cluster of this account (the confused-deputy keys), and
 * only for sessions tagged with this namespace and service account: an association made for another service
 * account (by anyone allowed to create associations) cannot assume the role.
 */
export function podIdentityTrustPolicy(s: PodIdentitySubject): PolicyDocument {
  const requestTags = Object.fromEntries(
    Object.entries(tagValues(s)).map(([k, v]) => [`aws:RequestTag/${k}`, v]),
  );
  return policyDocument([
    {
      Sid: "EksPodIdentityForOneServiceAccount",
      Effect: "Allow",
      Principal: { Service: POD_IDENTITY_SERVICE },
      Action: ["sts:AssumeRole", "sts:TagSession"],
      Condition: {
        StringEquals: { "aws:SourceAccount": s.accountId, ...requestTags },
        ArnEquals: { "aws:SourceArn": s.clusterArn },
      },
    },
  ]);
}

/**
 * The workload's permissions, each Allow narrowed to sessions of this cluster's service account (the session
 * tags), so the role grants nothing to a session that reached it any other way.
 */
export function narrowToSession(policy: PolicyDocument, s: PodIdentitySubject): PolicyDocument {
  const principalTags = Object.fromEntries(
    Object.entries(tagValues(s)).map(([k, v]) => [`aws:PrincipalTag/${k}`, v]),
  );
  return policyDocument(
    policy.Statement.map((st): Statement => {
      if (st.Effect !== "Allow") return st;
      const condition = st.Condition ?? {};
      return {
        ...st,
        Condition: { ...condition, StringEquals: { ...(condition.StringEquals ?? {}), ...principalTags } },
      };
    }),
  );
}

export interface PodIdentityRoleArgs extends WorkloadRoleRequest {
  ctx: AwsContext;
  clusterName: pulumi.Input<string>;
  clusterArn: pulumi.Input<string>;
}

/** An IAM role that one service account of this cluster gets through an EKS Pod Identity association. */
export class PodIdentityRole extends pulumi.ComponentResource implements WorkloadRole {
  readonly role: aws.iam.Role;
  readonly arn: pulumi.Output<string>;
  /** One per service account. */
  readonly associations: aws.eks.PodIdentityAssociation[];
  readonly serviceAccountAnnotations = pulumi.output({} as Record<string, string>);
  readonly webIdentity = false;
  readonly roleAnnotation = "gitops-platform/pod-identity-role-arn";
  readonly ready: pulumi.Resource[] = [this];

  constructor(name: string, args: PodIdentityRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super(POD_IDENTITY_ROLE, name, {}, asWorkloadRole(POD_IDENTITY_ROLE, opts));
    assertWorkloadNames(`PodIdentityRole ${name}`, args);
    const subject = pulumi
      .all([args.ctx.accountId, args.clusterArn])
      .apply(([accountId, clusterArn]): PodIdentitySubject => ({
        accountId,
        clusterArn,
        namespace: args.namespace,
        serviceAccount: args.serviceAccount,
      }));
    this.role = new aws.iam.Role(
      name,
      {
        name: args.roleName,
        assumeRolePolicy: policyJson(subject.apply(podIdentityTrustPolicy)),
        maxSessionDuration: 3600,
        tags: args.tags,
      },
      { parent: this },
    );
    const policies: pulumi.Resource[] = [];
    if (args.policy) {
      const narrowed = pulumi.all([args.policy, subject]).apply(([p, s]) => narrowToSession(p, s));
      policies.push(
        new aws.iam.RolePolicy(name, { role: this.role.id, policy: policyJson(narrowed) }, { parent: this }),
      );
    }
    (args.managedPolicyArns ?? []).forEach((policyArn, i) =>
      policies.push(
        new aws.iam.RolePolicyAttachment(
          `${name}-${i}`,
          { role: this.role.name, policyArn },
          { parent: this },
        ),
      ),
    );
    const serviceAccounts = [args.serviceAccount].flat();
    this.associations = serviceAccounts.map(
      (serviceAccount) =>
        new aws.eks.PodIdentityAssociation(
          Array.isArray(args.serviceAccount) ? `${name}-${serviceAccount}` : name,
          {
            clusterName: args.clusterName,
            namespace: args.namespace,
            serviceAccount,
            roleArn: this.role.arn,
            tags: args.tags,
          },
          { parent: this, dependsOn: policies },
        ),
    );
    this.arn = this.role.arn;
    this.registerOutputs({ arn: this.arn });
  }
}

export class PodIdentity implements WorkloadIdentity {
  constructor(
    private readonly facts: {
      ctx: AwsContext;
      clusterName: pulumi.Input<string>;
      clusterArn: pulumi.Input<string>;
    },
    /** Roles whose pods must exchange a token (WorkloadRoleRequest.webIdentity). */
    private readonly webIdentity: WorkloadIdentity,
  ) {}

  role(name: string, request: WorkloadRoleRequest, opts: { parent: pulumi.Resource }): WorkloadRole {
    if (request.webIdentity) return this.webIdentity.role(name, request, opts);
    return new PodIdentityRole(name, { ...request, ...this.facts }, opts);
  }
}

import * as pulumi from "@pulumi/pulumi";
import type { Environment } from "../config";

/** Facts about the AWS account every component needs; read once in index.ts. */
export interface AwsContext {
  accountId: pulumi.Input<string>;
  partition: pulumi.Input<string>;
  region: string;
}

/** Tags every AWS resource carries. `Environment` is what the policy pack reads to tell prod from non-prod. */
export function baseTags(environment: Environment, extra: Record<string, string>): Record<string, string> {
  return { ...extra, Environment: environment, ManagedBy: "pulumi", Project: "gitops-platform" };
}

/**
 * Role names are deterministic so that the KMS key policy can name a role before the role exists (KMS rejects
 * principals that do not exist yet, and the IRSA roles can only exist after the cluster that needs the key).
 */
export function roleName(platform: string, purpose: string): string {
  const name = `${platform}-${purpose}`;
  if (name.length > 64)
    throw new Error(`IAM role name ${name} exceeds 64 characters; shorten gitops-platform:name`);
  return name;
}

/** The purpose part of every role an environment creates: `<name>-<purpose>`. */
export const ROLES = {
  cluster: "cluster",
  node: "node",
  vpcCni: "vpc-cni",
  externalSecrets: "external-secrets",
  fluxSops: "flux-sops",
  argocdCapability: "argocd-capability",
  loadBalancerController: "aws-lb-controller",
} as const;

/** Auto Scaling launches managed node groups' instances; it is a service-linked role with a fixed path. */
export const AUTOSCALING_SERVICE_ROLE =
  "aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling";

export function roleArn(ctx: AwsContext, name: string): pulumi.Output<string> {
  return pulumi.interpolate`arn:${ctx.partition}:iam::${ctx.accountId}:role/${name}`;
}

export interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: Record<string, unknown> | "*";
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: Statement[];
}

export function policyDocument(statements: Statement[]): PolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

/** Serialises a policy whose values may still be outputs (ARNs of resources being created). */
export function policyJson(doc: pulumi.Input<PolicyDocument>): pulumi.Output<string> {
  return pulumi.output(doc).apply((d) => JSON.stringify(d));
}

/** Labels on every Kubernetes object the program creates; the policy pack reads the environment from them. */
export function k8sLabels(
  environment: Environment,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/part-of": "gitops-platform",
    "gitops-platform/environment": environment,
    ...extra,
  };
}

// IAM documents and ARNs as the components write them.
import * as pulumi from "@pulumi/pulumi";

/** Facts about the AWS account every component needs; read once in index.ts. */
export interface AwsContext {
  accountId: pulumi.Input<string>;
  partition: pulumi.Input<string>;
  region: string;
}

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

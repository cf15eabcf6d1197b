// How a part of the platform asks for the platform key: the key policy (components/kms.ts) is written from
// these, by role name, before any of the roles exists.
import type * as pulumi from "@pulumi/pulumi";

/** One use of the key by roles of this platform, granted by exact role ARN in the key policy. */
export interface KeyUse {
  sid: string;
  roleArns: pulumi.Input<string>[];
  actions: string[];
  /** Restrict the use to calls made through these AWS services (e.g. Secrets Manager), in this region. */
  viaServices?: string[];
  /**
   * Name the roles as principals, for service-linked roles: an IAM policy cannot give them the key, so a
   * statement that only delegates to the account does not either. The roles must exist when the key is created.
   */
  direct?: boolean;
  /** Only grants that an AWS service creates for its own resources (kms:GrantIsForAWSResource). */
  grantsForAwsResourcesOnly?: boolean;
}

export const DATA_ACTIONS = [
  "kms:Encrypt",
  "kms:Decrypt",
  "kms:ReEncrypt*",
  "kms:GenerateDataKey*",
  "kms:DescribeKey",
];

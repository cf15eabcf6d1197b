import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  policyDocument,
  policyJson,
  roleArn,
  roleName,
  type AwsContext,
  type PolicyDocument,
  type Statement,
} from "./common";
import { externalSecretsRoleName } from "./externalSecrets";
import { fluxDecryptRoleName } from "./flux";

/** One use of the key by roles of this platform, granted by exact role ARN in the key policy. */
export interface KeyUse {
  sid: string;
  roleArns: pulumi.Input<string>[];
  actions: string[];
  /** Restrict the use to calls made through these AWS services (e.g. Secrets Manager), in this region. */
  viaServices?: string[];
}

export interface PlatformKeyArgs {
  ctx: AwsContext;
  alias: string;
  deletionWindowDays: number;
  multiRegion: boolean;
  /** Adopt this key instead of creating one; its policy is then owned by the stack that created it. */
  existingKeyArn?: string;
  adminRoleArns: string[];
  /** Roles that write secrets through Secrets Manager / Parameter Store (people and CI, not workloads). */
  secretWriterRoleArns: string[];
  /** CloudWatch log groups (names) allowed to encrypt with the key. */
  logGroupNames: string[];
  uses: KeyUse[];
  /** prod: protect the key and keep it when the stack is destroyed. */
  retain: boolean;
  /**
   * A replica of this multi-Region key in a standby region, with the key policy the environment rebuilt there
   * needs (its own role names, log groups and regional services).
   */
  replica?: { region: string; logGroupNames: string[]; uses: KeyUse[] };
  tags: Record<string, string>;
}

const ADMIN_ACTIONS = [
  "kms:Create*",
  "kms:Describe*",
  "kms:Enable*",
  "kms:List*",
  "kms:Put*",
  "kms:Update*",
  "kms:Revoke*",
  "kms:Disable*",
  "kms:Get*",
  "kms:Delete*",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
  "kms:RotateKeyOnDemand",
  "kms:ReplicateKey",
];
const DATA_ACTIONS = [
  "kms:Encrypt",
  "kms:Decrypt",
  "kms:ReEncrypt*",
  "kms:GenerateDataKey*",
  "kms:DescribeKey",
];

export interface KeyPolicyInputs {
  accountId: string;
  partition: string;
  region: string;
  adminRoleArns: string[];
  secretWriterRoleArns: string[];
  logGroupNames: string[];
  uses: Array<Omit<KeyUse, "roleArns"> & { roleArns: string[] }>;
}

/**
 * The key policy. The account root administers (so the key can never be locked out) but is not granted use;
 * use is granted only to named roles and services. Workload roles are matched by `aws:PrincipalArn` under the
 * account principal, because KMS refuses a principal that does not exist yet and those roles are created after
 * the cluster that needs this key.
 */
export function keyPolicy(p: KeyPolicyInputs): PolicyDocument {
  const root = `arn:${p.partition}:iam::${p.accountId}:root`;
  const via = (services: string[]) => services.map((s) => `${s}.${p.region}.amazonaws.com`);
  const statements: Statement[] = [
    {
      Sid: "KeyAdministration",
      Effect: "Allow",
      Principal: { AWS: [root, ...p.adminRoleArns] },
      Action: ADMIN_ACTIONS,
      Resource: "*",
    },
    {
      Sid: "SecretWritersViaSecretsManagerAndSsm",
      Effect: "Allow",
      Principal: { AWS: [...p.adminRoleArns, ...p.secretWriterRoleArns] },
      Action: DATA_ACTIONS,
      Resource: "*",
      Condition: {
        StringEquals: { "kms:ViaService": via(["secretsmanager", "ssm"]), "kms:CallerAccount": p.accountId },
      },
    },
    {
      Sid: "CloudWatchLogsForPlatformLogGroups",
      Effect: "Allow",
      Principal: { Service: `logs.${p.region}.amazonaws.com` },
      Action: DATA_ACTIONS,
      Resource: "*",
      Condition: {
        ArnEquals: {
          "kms:EncryptionContext:aws:logs:arn": p.logGroupNames.map(
            (n) => `arn:${p.partition}:logs:${p.region}:${p.accountId}:log-group:${n}`,
          ),
        },
      },
    },
  ];
  for (const use of p.uses) {
    const condition: Record<string, Record<string, string | string[]>> = {
      ArnEquals: { "aws:PrincipalArn": use.roleArns },
    };
    if (use.viaServices) condition.StringEquals = { "kms:ViaService": via(use.viaServices) };
    statements.push({
      Sid: use.sid,
      Effect: "Allow",
      Principal: { AWS: root },
      Action: use.actions,
      Resource: "*",
      Condition: condition,
    });
  }
  return policyDocument(statements);
}

/** The log groups an environment encrypts with the key; named here so the key policy can name them first. */
export function platformLogGroups(name: string) {
  return { controlPlane: `/aws/eks/${name}/cluster`, flowLogs: `/aws/vpc/${name}/flow-logs` };
}

/**
 * Every role of an environment that may use the key, by the deterministic names its components give them:
 * the EKS cluster role, the Auto Scaling service-linked role (node volumes) and the workloads that decrypt.
 */
export function platformKeyUses(
  ctx: AwsContext,
  name: string,
  workloads: { externalSecrets: boolean; flux: boolean },
): KeyUse[] {
  const uses: KeyUse[] = [
    {
      sid: "EksClusterSecretsEncryption",
      roleArns: [roleArn(ctx, roleName(name, "cluster"))],
      actions: ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey", "kms:CreateGrant"],
    },
    {
      // Managed node groups launch through the Auto Scaling service-linked role, which encrypts root volumes.
      sid: "NodeVolumesViaEc2",
      roleArns: [roleArn(ctx, "aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling")],
      actions: [...DATA_ACTIONS, "kms:CreateGrant"],
      viaServices: ["ec2"],
    },
  ];
  if (workloads.externalSecrets) {
    uses.push({
      sid: "ExternalSecretsDecryptViaSecretsManagerAndSsm",
      roleArns: [roleArn(ctx, externalSecretsRoleName(name))],
      actions: ["kms:Decrypt"],
      viaServices: ["secretsmanager", "ssm"],
    });
  }
  if (workloads.flux) {
    // SOPS calls KMS directly, so there is no service to restrict the use to.
    uses.push({
      sid: "FluxSopsDecrypt",
      roleArns: [roleArn(ctx, fluxDecryptRoleName(name))],
      actions: ["kms:Decrypt"],
    });
  }
  return uses;
}

/** The platform's customer-managed KMS key: EKS secrets, log groups, node volumes and AWS secrets. */
export class PlatformKey extends pulumi.ComponentResource {
  readonly keyArn: pulumi.Output<string>;
  readonly key?: aws.kms.Key;
  readonly replicaKeyArn?: pulumi.Output<string>;

  constructor(name: string, args: PlatformKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gitops-platform:index:PlatformKey", name, {}, opts);
    const policyFor = (region: string, logGroupNames: string[], uses: KeyUse[]) =>
      pulumi
        .all([args.ctx.accountId, args.ctx.partition, pulumi.all(uses.map((u) => pulumi.all(u.roleArns)))])
        .apply(([accountId, partition, useArns]) =>
          keyPolicy({
            accountId,
            partition,
            region,
            adminRoleArns: args.adminRoleArns,
            secretWriterRoleArns: args.secretWriterRoleArns,
            logGroupNames,
            uses: uses.map((u, i) => ({ ...u, roleArns: useArns[i] })),
          }),
        );
    if (args.existingKeyArn) {
      this.keyArn = pulumi.output(args.existingKeyArn);
    } else {
      const policy = policyFor(args.ctx.region, args.logGroupNames, args.uses);
      this.key = new aws.kms.Key(
        name,
        {
          description: `gitops-platform ${args.alias}: EKS secrets, logs, node volumes and platform secrets`,
          enableKeyRotation: true,
          rotationPeriodInDays: 365,
          deletionWindowInDays: args.deletionWindowDays,
          multiRegion: args.multiRegion,
          policy: policyJson(policy),
          tags: args.tags,
        },
        { parent: this, protect: args.retain, retainOnDelete: args.retain },
      );
      new aws.kms.Alias(name, { name: `alias/${args.alias}`, targetKeyId: this.key.keyId }, { parent: this });
      this.keyArn = this.key.arn;
      if (args.replica) {
        const { region, logGroupNames, uses } = args.replica;
        const provider = new aws.Provider(
          `${name}-${region}`,
          { region: region as aws.Region },
          { parent: this },
        );
        this.replicaKeyArn = new aws.kms.ReplicaKey(
          `${name}-${region}`,
          {
            primaryKeyArn: this.key.arn,
            description: `Replica of ${args.alias} for a rebuild in ${region}`,
            deletionWindowInDays: args.deletionWindowDays,
            policy: policyJson(policyFor(region, logGroupNames, uses)),
            tags: args.tags,
          },
          { parent: this, provider, protect: args.retain, retainOnDelete: args.retain },
        ).arn;
      }
    }
    this.registerOutputs({ keyArn: this.keyArn });
  }
}

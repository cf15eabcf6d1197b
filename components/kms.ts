import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  policyDocument,
  policyJson,
  roleArn,
  type AwsContext,
  type PolicyDocument,
  type Statement,
} from "../core/iam";
import { DATA_ACTIONS, type KeyUse } from "../core/key-uses";
import { roleName, ROLES } from "../core/names";

export interface PlatformKeyArgs {
  ctx: AwsContext;
  alias: string;
  deletionWindowDays: number;
  multiRegion: boolean;
  /** Adopt this key instead of creating one; its policy is then owned by the stack that created it. */
  existingKeyArn?: string;
  adminRoleArns: string[];
  /** Roles that write secret values through Secrets Manager / Parameter Store: people, not CI, not workloads. */
  secretWriterRoleArns: string[];
  /** Roles that run `pulumi up`: they create the cluster, which makes EKS create a grant on the key. */
  deployerRoleArns: string[];
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

// Not kms:Create*: that includes CreateGrant, with which an administrator could hand itself the key's use.
const ADMIN_ACTIONS = [
  "kms:CreateAlias",
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

/** Writing a secret value: Secrets Manager asks for a data key, Parameter Store encrypts. Reading is not writing. */
const WRITE_ACTIONS = ["kms:GenerateDataKey", "kms:Encrypt", "kms:DescribeKey"];

export interface KeyPolicyInputs {
  accountId: string;
  partition: string;
  region: string;
  adminRoleArns: string[];
  secretWriterRoleArns: string[];
  deployerRoleArns: string[];
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
      Principal: { AWS: [...new Set([...p.adminRoleArns, ...p.secretWriterRoleArns])] },
      Action: WRITE_ACTIONS,
      Resource: "*",
      Condition: {
        StringEquals: { "kms:ViaService": via(["secretsmanager", "ssm"]), "kms:CallerAccount": p.accountId },
      },
    },
    {
      Sid: "DeployersDescribe",
      Effect: "Allow",
      Principal: { AWS: p.deployerRoleArns },
      Action: "kms:DescribeKey",
      Resource: "*",
    },
    {
      Sid: "DeployersGrantToAwsServicesOnly",
      Effect: "Allow",
      Principal: { AWS: p.deployerRoleArns },
      Action: "kms:CreateGrant",
      Resource: "*",
      Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
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
    const condition: Record<string, Record<string, string | string[]>> = use.direct
      ? {}
      : { ArnEquals: { "aws:PrincipalArn": use.roleArns } };
    if (use.viaServices) condition.StringEquals = { "kms:ViaService": via(use.viaServices) };
    if (use.grantsForAwsResourcesOnly) condition.Bool = { "kms:GrantIsForAWSResource": "true" };
    statements.push({
      Sid: use.sid,
      Effect: "Allow",
      Principal: { AWS: use.direct ? use.roleArns : root },
      Action: use.actions,
      Resource: "*",
      ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
    });
  }
  return policyDocument(statements);
}

/**
 * Every role of an environment that may use the key, by the deterministic names its components give them:
 * the EKS cluster role, whoever encrypts node and pod volumes (`computeUses`, compute/) and the workloads that
 * decrypt, the GitOps engine's among them (its definition in engines/ names them). Workload roles are named by
 * `aws:PrincipalArn`, which is the role's ARN for an IRSA session and for a Pod Identity session alike.
 */
export function platformKeyUses(
  ctx: AwsContext,
  name: string,
  workloads: { externalSecrets: boolean; engine: (ctx: AwsContext, name: string) => KeyUse[] },
  computeUses: KeyUse[],
): KeyUse[] {
  const uses: KeyUse[] = [
    {
      // Matches the cluster role's own IAM policy (components/cluster.ts); EKS's grant comes from the deployer.
      sid: "EksClusterSecretsEncryption",
      roleArns: [roleArn(ctx, roleName(name, ROLES.cluster))],
      actions: ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
    },
    ...computeUses,
  ];
  if (workloads.externalSecrets) {
    uses.push({
      sid: "ExternalSecretsDecryptViaSecretsManagerAndSsm",
      roleArns: [roleArn(ctx, roleName(name, ROLES.externalSecrets))],
      actions: ["kms:Decrypt"],
      viaServices: ["secretsmanager", "ssm"],
    });
  }
  return [...uses, ...workloads.engine(ctx, name)];
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
            deployerRoleArns: args.deployerRoleArns,
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

// AWS facts the schema checks against: the provider's region list, partitions, zones, ARNs, tags, names.
import { Region } from "@pulumi/aws/types/enums";

/** Every region @pulumi/aws knows (its `Region` enum), so a region the provider cannot target is refused. */
export const REGIONS: readonly string[] = Object.values(Region);

const PARTITIONS: Array<[RegExp, string]> = [
  [/^cn-/, "aws-cn"],
  [/^us-gov-/, "aws-us-gov"],
  [/^us-iso-/, "aws-iso"],
  [/^us-isob-/, "aws-iso-b"],
  [/^eu-isoe-/, "aws-iso-e"],
  [/^us-isof-/, "aws-iso-f"],
  [/^eusc-/, "aws-eusc"],
];

export function isRegion(region: unknown): region is string {
  return typeof region === "string" && REGIONS.includes(region);
}

/** The partition a region belongs to: ARNs of the stack must name it. */
export function partitionOf(region: string): string {
  return PARTITIONS.find(([re]) => re.test(region))?.[1] ?? "aws";
}

/**
 * Zone letters per region, transcribed from AWS's "Regions and Availability Zones" documentation
 * (docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html), not fetched here (this
 * machine has no AWS access): re-check a row with `aws ec2 describe-availability-zones --all-availability-zones
 * --region <region>`. The letters are those a region's zones go by in any account (accounts map letters to zone ids
 * differently, so a letter is valid if some account has it). A region of the provider's list missing here (the
 * isolated and sovereign partitions, new regions) accepts `<region>` followed by one letter: add its row.
 */
export const ZONE_LETTERS: Readonly<Record<string, string>> = {
  "us-east-1": "abcdef",
  "us-east-2": "abc",
  "us-west-1": "abc",
  "us-west-2": "abcd",
  "af-south-1": "abc",
  "ap-east-1": "abc",
  "ap-east-2": "abc",
  "ap-south-1": "abc",
  "ap-south-2": "abc",
  "ap-southeast-1": "abc",
  "ap-southeast-2": "abc",
  "ap-southeast-3": "abc",
  "ap-southeast-4": "abc",
  "ap-southeast-5": "abc",
  "ap-southeast-6": "abc",
  "ap-southeast-7": "abc",
  "ap-northeast-1": "abcd",
  "ap-northeast-2": "abcd",
  "ap-northeast-3": "abc",
  "ca-central-1": "abd",
  "ca-west-1": "abc",
  "eu-central-1": "abc",
  "eu-central-2": "abc",
  "eu-north-1": "abc",
  "eu-south-1": "abc",
  "eu-south-2": "abc",
  "eu-west-1": "abc",
  "eu-west-2": "abc",
  "eu-west-3": "abc",
  "il-central-1": "abc",
  "me-central-1": "abc",
  "me-south-1": "abc",
  "mx-central-1": "abc",
  "sa-east-1": "abc",
  "cn-north-1": "abd",
  "cn-northwest-1": "abc",
  "us-gov-east-1": "abc",
  "us-gov-west-1": "abc",
};

/** The zones a region has (undefined: not in the table, any single letter). */
export function zonesOf(region: string): string[] | undefined {
  const letters = ZONE_LETTERS[region];
  return letters === undefined ? undefined : [...letters].map((l) => `${region}${l}`);
}

export function isZoneOf(zone: string, region: string): boolean {
  const zones = zonesOf(region);
  return zones
    ? zones.includes(zone)
    : zone.length === region.length + 1 && zone.startsWith(region) && /[a-z]$/.test(zone);
}

export const ACCOUNT_RE = /^\d{12}$/;
// IAM ARNs carry no region: arn:<partition>:iam::<account>:role/<path/><name>; a name is 1-64 of [\w+=,.@-].
export const ROLE_ARN_RE =
  /^arn:(aws(?:-[a-z]+)*):iam::(\d{12}):role\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,64})$/;
const KEY_ID = "(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})";
export const KMS_ARN_RE = new RegExp(`^arn:(aws(?:-[a-z]+)*):kms:([a-z0-9-]+):(\\d{12}):key/${KEY_ID}$`);

// Tags by AWS rules (docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html): key 1-128, value 0-256,
// letters, spaces and numbers of any script plus _ . : / = + - @; at most 50 per resource; no aws: prefix.
export const TAG_CHARS_RE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
export const MAX_TAGS = 50;

// Secrets Manager names: 1-512 of A-Z a-z 0-9 / _ + = . @ - (docs: CreateSecret Name).
export const SECRET_NAME_RE = /^[A-Za-z0-9/_+=.@-]+$/;
export const MAX_SECRET_NAME = 512;

// The gitops-platform guardrails: the policies array the policy pack (index.ts) serves and the tests import.
// Importing this module has no side effects (no PolicyPack, no gRPC server).
//
// Policies match resources by Pulumi type token (`args.type === "aws:eks/cluster:Cluster"`), not by resource
// class, so the pack needs neither @pulumi/aws nor @pulumi/kubernetes and the same checks run unchanged on
// the resources captured by the unit-test mocks.
//
// ENVIRONMENT DETECTION (what "prod" means to a policy):
// - Kubernetes objects created by the program carry the label `gitops-platform/environment: <dev|staging|prod>`
//   in `metadata.labels`.
// - AWS resources carry the tag `Environment: <dev|staging|prod>` in `tags`.
// - A resource without the label/tag is treated as prod by the environment-dependent rules (fail closed), and
//   the `environment-label-required` policy reports the missing label/tag.
//
// ENFORCEMENT:
// - Universal security rules (encryption, control-plane logging, public endpoint, IMDSv2, IAM wildcards, IRSA
//   trust, plaintext secrets) are "mandatory" everywhere.
// - Environment-dependent and hygiene rules are "advisory" here; prod stacks are previewed/deployed with
//   `--policy-pack-config policy/config.prod.json` (`{"all": "mandatory"}`), which makes every rule blocking.
//   An enforcement level is per policy, not per resource, so the environment split is done by that config.
//
// Every violation message ends with "Fix: ..." (a remediation hint).
// The code stays within what TypeScript 3.8 accepts: the Pulumi CLI type-checks a policy pack that does not
// ship its own TypeScript with the compiler vendored in @pulumi/pulumi (3.8.3).
import type {
  EnforcementLevel,
  Policies,
  PolicyResource,
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";

/* ----------------------------------------------------------------------------------------------------------
 * Type tokens
 * -------------------------------------------------------------------------------------------------------- */
export const T = {
  eksCluster: "aws:eks/cluster:Cluster",
  eksCapability: "aws:eks/capability:Capability",
  kmsKey: "aws:kms/key:Key",
  kmsReplicaKey: "aws:kms/replicaKey:ReplicaKey",
  launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
  nodeGroup: "aws:eks/nodeGroup:NodeGroup",
  nodePool: "kubernetes:karpenter.sh/v1:NodePool",
  iamRole: "aws:iam/role:Role",
  iamRolePolicy: "aws:iam/rolePolicy:RolePolicy",
  iamPolicy: "aws:iam/policy:Policy",
  iamUserPolicy: "aws:iam/userPolicy:UserPolicy",
  iamGroupPolicy: "aws:iam/groupPolicy:GroupPolicy",
  secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
  argoApplication: "kubernetes:argoproj.io/v1alpha1:Application",
  argoAppProject: "kubernetes:argoproj.io/v1alpha1:AppProject",
  fluxKustomization: "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization",
  fluxGitRepository: "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository",
  helmRelease: "kubernetes:helm.sh/v3:Release",
  k8sSecret: "kubernetes:core/v1:Secret",
};

// Flux objects are matched on group and kind with any API version (v1, v1beta2, ...).
const FLUX_KUSTOMIZATION = /^kubernetes:kustomize\.toolkit\.fluxcd\.io\/v1[a-z0-9]*:Kustomization$/;
const FLUX_GIT_REPOSITORY = /^kubernetes:source\.toolkit\.fluxcd\.io\/v1[a-z0-9]*:GitRepository$/;

export const ENV_LABEL = "gitops-platform/environment";
export const ENV_TAG = "Environment";
export const ENVIRONMENTS = ["dev", "staging", "prod"];

/* ----------------------------------------------------------------------------------------------------------
 * Small helpers
 * -------------------------------------------------------------------------------------------------------- */
type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function obj(v: unknown): Props | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Props) : undefined;
}

function arr(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v : undefined;
}

/** The raw environment label of a Kubernetes object, or undefined. */
export function k8sEnvironment(props: Props): string | undefined {
  const labels = obj(obj(props.metadata)?.labels);
  return labels ? str(labels[ENV_LABEL]) : undefined;
}

/** The raw Environment tag of an AWS resource (tags, else tagsAll), or undefined. */
export function awsEnvironment(props: Props): string | undefined {
  return str(obj(props.tags)?.[ENV_TAG]) ?? str(obj(props.tagsAll)?.[ENV_TAG]);
}

/** Fail closed: a missing or unknown environment is prod. */
export function isProd(env: string | undefined): boolean {
  return env === undefined || !["dev", "staging"].includes(env);
}

/**
 * The Kubernetes objects a local-chart Helm release applies from `values.resources`, each with the type token a
 * CustomResource of its kind would have. The program hands its custom resources (ClusterSecretStores, the
 * AppProject and root Application, the Flux GitRepository and root Kustomization) to Helm through its
 * platform-bootstrap chart so previews work before the CRDs exist; the rules must see them all the same.
 */
export function embeddedObjects(type: string, props: Props): Array<{ type: string; props: Props }> {
  if (type !== T.helmRelease || !isLocalChart(props.chart)) return [];
  const found: Array<{ type: string; props: Props }> = [];
  for (const item of arr(obj(props.values)?.resources)) {
    const o = obj(item);
    if (o && str(o.apiVersion) && str(o.kind)) {
      // Core objects (a Secret) are typed as their Pulumi resource would be: kubernetes:core/v1:Secret.
      const group = String(o.apiVersion).includes("/") ? o.apiVersion : `core/${o.apiVersion}`;
      found.push({ type: `kubernetes:${group}:${o.kind}`, props: o });
    }
  }
  return found;
}

class SkipObject extends Error {}

/**
 * A validateResource function for the given type tokens (or a token pattern), applied to a resource of that
 * type and to every matching object embedded in a local-chart Helm release. Other resources are reported as
 * not applicable.
 */
function forTypes(
  types: string | string[] | RegExp,
  validate: (props: Props, args: ResourceValidationArgs, report: ReportViolation) => void,
): ResourceValidation {
  const matches = (t: string) =>
    types instanceof RegExp ? types.test(t) : Array.isArray(types) ? types.includes(t) : types === t;
  return (args, report) => {
    if (matches(args.type)) {
      validate(args.props, args, report);
      return;
    }
    const nested = embeddedObjects(args.type, args.props).filter((o) => matches(o.type));
    if (nested.length === 0) {
      args.notApplicable(`Policy only applies to resources of type ${String(types)}`);
      return;
    }
    for (const o of nested) {
      const where = `${o.props.kind} ${obj(o.props.metadata)?.name} (applied by Helm release ${args.name})`;
      const objectArgs = {
        ...args,
        type: o.type,
        props: o.props,
        notApplicable: (): never => {
          throw new SkipObject();
        },
      } as ResourceValidationArgs;
      try {
        validate(o.props, objectArgs, (message, urn) => report(`${where}: ${message}`, urn));
      } catch (e) {
        if (!(e instanceof SkipObject)) throw e;
      }
    }
  };
}

/** Every resource of a stack plus the objects embedded in its local-chart Helm releases (see embeddedObjects). */
function withEmbedded(
  resources: PolicyResource[],
): Array<{ type: string; name: string; urn: string; props: Props }> {
  const out: Array<{ type: string; name: string; urn: string; props: Props }> = [];
  for (const r of resources) {
    out.push({ type: r.type, name: r.name, urn: r.urn, props: r.props || {} });
    for (const o of embeddedObjects(r.type, r.props || {})) {
      out.push({ type: o.type, name: String(obj(o.props.metadata)?.name), urn: r.urn, props: o.props });
    }
  }
  return out;
}

const MANDATORY: EnforcementLevel = "mandatory";
const ADVISORY: EnforcementLevel = "advisory";

/* ----------------------------------------------------------------------------------------------------------
 * EKS
 * -------------------------------------------------------------------------------------------------------- */
export const EKS_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"];
const OPEN_CIDRS = ["0.0.0.0/0", "::/0"];

const eksSecretsEncryption: ResourceValidationPolicy = {
  name: "eks-secrets-encryption",
  description:
    "EKS clusters encrypt Kubernetes secrets with a customer-managed KMS key (envelope encryption).",
  enforcementLevel: MANDATORY,
  validateResource: forTypes(T.eksCluster, (props, _args, report) => {
    const configs = arr(props.encryptionConfig).map(obj);
    const ok = configs.some(
      (c) =>
        c !== undefined && arr(c.resources).includes("secrets") && str(obj(c.provider)?.keyArn) !== undefined,
    );
    if (!ok) {
      report(
        'EKS cluster does not encrypt secrets with a KMS key (encryptionConfig.resources must include "secrets" ' +
          "and encryptionConfig.provider.keyArn must be set). Fix: set encryptionConfig: { resources: " +
          '["secrets"], provider: { keyArn: <platform KMS key ARN> } }.',
      );
    }
  }),
};

const eksControlPlaneLogging: ResourceValidationPolicy = {
  name: "eks-control-plane-logging",
  description:
    "EKS clusters ship all control-plane log types (api, audit, authenticator, controllerManager, scheduler).",
  enforcementLevel: MANDATORY,
  validateResource: forTypes(T.eksCluster, (props, _args, report) => {
    const enabled = arr(props.enabledClusterLogTypes);
    const missing = EKS_LOG_TYPES.filter((t) => !enabled.includes(t));
    if (missing.length > 0) {
      report(
        `EKS cluster control-plane logging is missing log types: ${missing.join(", ")}. ` +
          `Fix: set enabledClusterLogTypes to ${JSON.stringify(EKS_LOG_TYPES)}.`,
      );
    }
  }),
};

const eksEndpointNotPublic: ResourceValidationPolicy = {
  name: "eks-endpoint-not-public",
  description:
    "The EKS API endpoint is private, or public only to an explicit CIDR allow-list without 0.0.0.0/0.",
  enforcementLevel: MANDATORY,
  validateResource: forTypes(T.eksCluster, (props, _args, report) => {
    const vpc = obj(props.vpcConfig) || {};
    // AWS defaults endpointPublicAccess to true and publicAccessCidrs to ["0.0.0.0/0"].
    if (vpc.endpointPublicAccess === false) return;
    const cidrs = arr(vpc.publicAccessCidrs);
    const open = cidrs.filter((c) => typeof c === "string" && OPEN_CIDRS.includes(c));
    if (cidrs.length === 0 || open.length > 0) {
      const why =
        cidrs.length === 0
          ? "publicAccessCidrs is not set (AWS defaults it to 0.0.0.0/0)"
          : `publicAccessCidrs contains ${open.join(", ")}`;
      report(
        `EKS API endpoint is open to the internet: endpointPublicAccess is ${
          vpc.endpointPublicAccess === undefined ? "unset (defaults to true)" : "true"
        } and ${why}. Fix: set vpcConfig.endpointPublicAccess: false (reach the API through the VPC), or list ` +
          "the office/VPN ranges in vpcConfig.publicAccessCidrs.",
      );
    }
  }),
};

const eksArgoCdCapabilityAccess: ResourceValidationPolicy = {
  name: "eks-argocd-capability-access",
  description:
    "An EKS Argo CD capability signs people in through IAM Identity Center and maps at least one identity to ADMIN.",
  enforcementLevel: MANDATORY,
  validateResource: forTypes(T.eksCapability, (props, args, report) => {
    if (props.type !== "ARGOCD") {
      args.notApplicable(`capability type ${JSON.stringify(props.type)} is not ARGOCD`);
      return;
    }
    const argo = obj(obj(props.configuration)?.argoCd) || {};
    const problems: string[] = [];
    if (str(obj(argo.awsIdc)?.idcInstanceArn) === undefined)
      problems.push("configuration.argoCd.awsIdc.idcInstanceArn is not set");
    const admins = arr(argo.rbacRoleMappings)
      .map(obj)
      .filter((m) => m?.role === "ADMIN")
      .flatMap((m) => arr(m?.identities));
    if (admins.length === 0) problems.push("no rbacRoleMappings entry maps an identity to ADMIN");
    if (problems.length > 0) {
      report(
        `EKS Argo CD capability cannot be administered: ${problems.join("; ")}. The managed Argo CD has no local ` +
          "admin. Fix: set configuration.argoCd.awsIdc.idcInstanceArn and map an Identity Center group to ADMIN " +
          "in configuration.argoCd.rbacRoleMappings (gitops-platform:gitops.eksArgocd).",
      );
    }
  }),
};

/* ----------------------------------------------------------------------------------------------------------
 * KMS
 * -------------------------------------------------------------------------------------------------------- */
const kmsKeyPolicyNoOpenPrincipal: ResourceValidationPolicy = {
  name: "kms-key-policy-no-open-principal",
  description: 'KMS key policies grant nothing to Principal "*" unless a Condition narrows who it is.',
  enforcementLevel: MANDATORY,
  validateResource: forTypes([T.kmsKey, T.kmsReplicaKey], (props, _args, report) => {
    let doc: Props | undefined;
    try {
      doc = typeof props.policy === "string" ? JSON.parse(props.policy) : obj(props.policy);
    } catch {
      report("KMS key policy is not valid JSON. Fix: pass a JSON policy document.");
      return;
    }
    if (!doc) return; // no policy: AWS's default, which delegates to the account's IAM policies
    statements(doc).forEach((st, i) => {
      const principal = st.Principal;
      const open = principal === "*" || strings(obj(principal)?.AWS).includes("*");
      const hasCondition = obj(st.Condition) !== undefined && Object.keys(st.Condition).length > 0;
      if (st.Effect === "Allow" && open && !hasCondition) {
        report(
          `KMS key policy Statement[${i}]${st.Sid ? ` (${st.Sid})` : ""} allows Principal "*" without a Condition: ` +
            "anyone with network access to KMS may use the key. Fix: name the roles, or add a Condition such as " +
            "aws:PrincipalArn or kms:CallerAccount.",
        );
      }
    });
  }),
};

const kmsKeyRotation: ResourceValidationPolicy = {
  name: "kms-key-rotation",
  description: "Symmetric customer-managed KMS keys have automatic key rotation enabled.",
  enforcementLevel: MANDATORY,
  validateResource: forTypes(T.kmsKey, (props, args, report) => {
    const spec = str(props.customerMasterKeySpec) ?? str(props.keySpec);
    if (spec !== undefined && spec !== "SYMMETRIC_DEFAULT") {
      args.notApplicable(`key spec ${spec} does not support automatic rotation`);
      return;
    }
    if (props.enableKeyRotation !== true) {
      report("KMS key does not have automatic rotation enabled. Fix: set enableKeyRotation: true.");
    }
  }),
};

const kmsDeletionWindow: ResourceValidationPolicy = {
  name: "kms-deletion-window",
  description: "KMS key deletion window is 7-30 days, and the full 30 days for prod keys.",
  enforcementLevel: ADVISORY,
  validateResource: forTypes(T.kmsKey, (props, _args, report) => {
    const days = props.deletionWindowInDays === undefined ? 30 : props.deletionWindowInDays; // AWS default 30
    const env = awsEnvironment(props);
    if (typeof days !== "number" || !Number.isInteger(days) || days < 7 || days > 30) {
      report(
        `KMS key deletionWindowInDays is ${JSON.stringify(days)}, outside 7..30. ` +
          "Fix: set deletionWindowInDays to an integer between 7 and 30 (30 for prod).",
      );
    } else if (isProd(env) && days !== 30) {
      report(
        `KMS key deletionWindowInDays is ${days} for a prod key (Environment tag: ${env ?? "missing"}). ` +
          "Fix: set deletionWindowInDays: 30 so a mistaken deletion can be cancelled for a month.",
      );
    }
  }),
};

/* ----------------------------------------------------------------------------------------------------------
 * EC2 launch templates (worker nodes)
 * -------------------------------------------------------------------------------------------------------- */
const launchTemplateImdsv2: ResourceValidationPolicy = {
  name: "ec2-launch-template-imdsv2",
  description:
    "Launch templates require IMDSv2 (httpTokens required) with a hop limit of 1 so pods cannot reach IMDS.",
  enforcementLevel: MANDATORY,
  validateResource: forTypes(T.launchTemplate, (props, _args, report) => {
    const md = obj(props.metadataOptions) || {};
    if (md.httpEndpoint === "disabled") return; // no metadata service at all is stricter still
    const problems: string[] = [];
    if (md.httpTokens !== "required")
      problems.push(`httpTokens is ${JSON.stringify(md.httpTokens)} (not "required")`);
    if (md.httpPutResponseHopLimit !== 1) {
      problems.push(`httpPutResponseHopLimit is ${JSON.stringify(md.httpPutResponseHopLimit)} (not 1)`);
    }
    if (problems.length > 0) {
      report(
        `Launch template metadata options allow IMDSv1 or pod access to node credentials: ${problems.join("; ")}. ` +
          'Fix: set metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 } ' +
          "(pods use IRSA, not the node role).",
      );
    }
  }),
};

/* ----------------------------------------------------------------------------------------------------------
 * Compute: node groups and EKS Auto Mode
 * -------------------------------------------------------------------------------------------------------- */
const AUTO_MODE_POOLS = ["system", "general-purpose"];

function isAutoMode(props: Props): boolean {
  return obj(props.computeConfig)?.enabled === true;
}

const eksAutoModeComplete: StackValidationPolicy = {
  name: "eks-auto-mode-complete",
  description:
    "Auto Mode clusters enable compute, block storage and load balancing together with the built-in pools, and no node of theirs bypasses Auto Mode's IMDS settings.",
  enforcementLevel: MANDATORY,
  validateStack: (args, report) => {
    const all = withEmbedded(args.resources);
    const clusters = all.filter((r) => r.type === T.eksCluster && isAutoMode(r.props));
    for (const c of clusters) {
      const problems: string[] = [];
      const compute = obj(c.props.computeConfig) || {};
      const pools = arr(compute.nodePools);
      const missing = AUTO_MODE_POOLS.filter((p) => !pools.includes(p));
      if (missing.length > 0) problems.push(`computeConfig.nodePools lacks ${missing.join(", ")}`);
      if (str(compute.nodeRoleArn) === undefined) problems.push("computeConfig.nodeRoleArn is not set");
      if (obj(obj(c.props.kubernetesNetworkConfig)?.elasticLoadBalancing)?.enabled !== true)
        problems.push("kubernetesNetworkConfig.elasticLoadBalancing is not enabled");
      if (obj(obj(c.props.storageConfig)?.blockStorage)?.enabled !== true)
        problems.push("storageConfig.blockStorage is not enabled");
      if (c.props.bootstrapSelfManagedAddons !== false)
        problems.push("bootstrapSelfManagedAddons is not false");
      if (problems.length > 0) {
        report(
          `EKS Auto Mode cluster ${c.name}: ${problems.join("; ")}. Fix: enable computeConfig (nodePools ` +
            `${AUTO_MODE_POOLS.join(", ")}, nodeRoleArn), kubernetesNetworkConfig.elasticLoadBalancing and ` +
            "storageConfig.blockStorage together, with bootstrapSelfManagedAddons: false.",
          c.urn,
        );
      }
    }
    if (clusters.length === 0) return;
    // Auto Mode's nodes run IMDSv2 with a hop limit of 1 and no launch template; nodes defined beside them
    // would carry their own metadata settings, and run outside what Auto Mode patches.
    for (const r of all.filter((x) => x.type === T.launchTemplate || x.type === T.nodeGroup)) {
      report(
        `${r.type} ${r.name} in a stack whose cluster runs EKS Auto Mode: its nodes would not get Auto Mode's ` +
          "fixed IMDSv2 hop limit of 1 and patching. Fix: remove it and let Auto Mode's node pools run the nodes " +
          "(cluster.compute autoMode refuses nodeGroups).",
        r.urn,
      );
    }
  },
};

const noSpotInProd: ResourceValidationPolicy = {
  name: "eks-no-spot-in-prod",
  description: "Prod capacity is on-demand: no SPOT node group and no Auto Mode NodePool that admits spot.",
  enforcementLevel: ADVISORY,
  validateResource: forTypes([T.nodeGroup, T.nodePool], (props, args, report) => {
    if (args.type === T.nodeGroup) {
      if (isProd(awsEnvironment(props)) && props.capacityType === "SPOT") {
        report(
          `Node group has capacityType SPOT in prod (Environment tag: ${awsEnvironment(props) ?? "missing"}). ` +
            "Fix: set capacityType: ON_DEMAND; spot capacity can be reclaimed at two minutes' notice.",
        );
      }
      return;
    }
    const requirements = arr(obj(obj(obj(props.spec)?.template)?.spec)?.requirements).map(obj);
    const capacity = requirements.find((r) => r?.key === "karpenter.sh/capacity-type");
    const spot =
      capacity !== undefined && capacity.operator === "In" && arr(capacity.values).includes("spot");
    if (isProd(k8sEnvironment(props)) && spot) {
      report(
        `NodePool admits spot capacity in prod (label ${ENV_LABEL}: ${k8sEnvironment(props) ?? "missing"}). ` +
          'Fix: require karpenter.sh/capacity-type In ["on-demand"] (cluster.autoMode.capacityTypes).',
      );
    }
  }),
};

/* ----------------------------------------------------------------------------------------------------------
 * IAM
 * -------------------------------------------------------------------------------------------------------- */

/**
 * Actions that may be granted on Resource "*" without a Condition: AWS does not support resource-level
 * permissions for them (the service authorization reference lists no resource type), so "*" is the only
 * possible Resource. Glob patterns; keep this list short and reviewed.
 */
export const RESOURCE_WILDCARD_ALLOWED_ACTIONS = [
  "ec2:Describe*",
  "elasticloadbalancing:Describe*",
  "autoscaling:Describe*",
  "eks:DescribeAddonVersions",
  "sts:GetCallerIdentity",
  "ecr:GetAuthorizationToken",
  "secretsmanager:ListSecrets",
  "ssm:DescribeParameters",
  "kms:ListAliases",
  "kms:ListKeys",
  "route53:ListHostedZones",
  "route53:ListHostedZonesByName",
  "logs:DescribeLogGroups",
  "acm:ListCertificates",
  "iam:ListServerCertificates",
];

function globRegex(glob: string): RegExp {
  const body = glob
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`, "i");
}
const ALLOWED_RES_WILDCARD = RESOURCE_WILDCARD_ALLOWED_ACTIONS.map(globRegex);

/** True if every action the (possibly wildcarded) statement action can match is covered by the allow-list. */
function actionCoveredByAllowList(action: string): boolean {
  // A statement pattern is covered if an allow-list glob matches the pattern text itself: the allow-list's
  // `*` then also covers the statement's `*` (e.g. "ec2:Describe*" covers "ec2:DescribeInstances" and
  // "ec2:Describe*", but not "ec2:*").
  return ALLOWED_RES_WILDCARD.some((re) => re.test(action));
}

interface PolicyDoc {
  field: string;
  kind: "trust" | "identity";
  doc?: Props;
  parseError?: string;
}

function parseDoc(field: string, kind: "trust" | "identity", value: unknown): PolicyDoc | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "string") {
    try {
      const parsed = JSON.parse(value);
      return obj(parsed) ? { field, kind, doc: parsed } : { field, kind, parseError: "not a JSON object" };
    } catch (e) {
      return { field, kind, parseError: (e as Error).message };
    }
  }
  return obj(value) ? { field, kind, doc: value as Props } : { field, kind, parseError: "not an object" };
}

/** The policy documents carried by an IAM resource: trust policy and inline/managed policy documents. */
function iamDocuments(type: string, props: Props): PolicyDoc[] {
  const docs: Array<PolicyDoc | undefined> = [];
  if (type === T.iamRole) {
    docs.push(parseDoc("assumeRolePolicy", "trust", props.assumeRolePolicy));
    arr(props.inlinePolicies).forEach((p, i) =>
      docs.push(parseDoc(`inlinePolicies[${i}].policy`, "identity", obj(p)?.policy)),
    );
  } else {
    docs.push(parseDoc("policy", "identity", props.policy));
  }
  return docs.filter((d): d is PolicyDoc => d !== undefined);
}

function statements(doc: Props): Props[] {
  return arr(doc.Statement)
    .map(obj)
    .filter((s): s is Props => s !== undefined);
}

function strings(v: unknown): string[] {
  return arr(v).filter((x): x is string => typeof x === "string");
}

const IAM_TYPES = [T.iamRole, T.iamRolePolicy, T.iamPolicy, T.iamUserPolicy, T.iamGroupPolicy];

function reportUnparsable(d: PolicyDoc, report: ReportViolation): boolean {
  if (d.parseError === undefined) return false;
  report(
    `${d.field} is not a valid JSON policy document (${d.parseError}). Fix: pass a JSON policy document.`,
  );
  return true;
}

const iamNoWildcardActions: ResourceValidationPolicy = {
  name: "iam-no-wildcard-actions",
  description: 'IAM policies never Allow Action "*" or "<service>:*" (or Allow with NotAction).',
  enforcementLevel: MANDATORY,
  validateResource: forTypes(IAM_TYPES, (props, args, report) => {
    for (const d of iamDocuments(args.type, props)) {
      if (reportUnparsable(d, report) || !d.doc) continue;
      statements(d.doc).forEach((st, i) => {
        if (st.Effect !== "Allow") return;
        const where = `${d.field} Statement[${i}]${st.Sid ? ` (${st.Sid})` : ""}`;
        const wild = strings(st.Action).filter((a) => a === "*" || /^[A-Za-z0-9-]+:\*$/.test(a));
        if (wild.length > 0) {
          report(
            `${where} allows every action: Action ${wild.map((a) => `"${a}"`).join(", ")}. ` +
              'Fix: list the specific actions the role needs (e.g. "secretsmanager:GetSecretValue").',
          );
        }
        if (st.NotAction !== undefined) {
          report(
            `${where} uses Allow with NotAction, which allows every other action. ` +
              "Fix: use Action with the specific actions needed.",
          );
        }
      });
    }
  }),
};

/**
 * Condition keys that narrow which resources a statement reaches, so that Resource "*" with one of them is not
 * "every resource": tags on the resource or request, the service a KMS call comes through, the action that
 * creates the resource, the service a service-linked role is for, the VPC, the calling principal.
 */
const SCOPING_CONDITION_KEY =
  /^(aws:(ResourceTag|RequestTag)\/|aws:TagKeys$|aws:PrincipalArn$|aws:SourceArn$|kms:ViaService$|kms:EncryptionContext|kms:GrantIsForAWSResource$|[a-z0-9-]+:CreateAction$|[a-z0-9-]+:ResourceTag\/|iam:AWSServiceName$|ec2:Vpc$)/i;

function scopingKeys(condition: unknown): string[] {
  const keys: string[] = [];
  for (const operator of Object.keys(obj(condition) || {})) {
    for (const key of Object.keys(obj((condition as Props)[operator]) || {})) {
      if (SCOPING_CONDITION_KEY.test(key)) keys.push(key);
    }
  }
  return keys;
}

const iamNoWildcardResources: ResourceValidationPolicy = {
  name: "iam-no-wildcard-resources",
  description:
    'IAM identity policies only Allow Resource "*" for actions without resource-level permissions, or with a Condition that narrows the resources.',
  enforcementLevel: MANDATORY,
  validateResource: forTypes(IAM_TYPES, (props, args, report) => {
    for (const d of iamDocuments(args.type, props)) {
      if (d.kind !== "identity" || !d.doc) continue; // trust policies have no Resource; parse errors reported above
      statements(d.doc).forEach((st, i) => {
        if (st.Effect !== "Allow") return;
        const where = `${d.field} Statement[${i}]${st.Sid ? ` (${st.Sid})` : ""}`;
        const hasCondition = obj(st.Condition) !== undefined && Object.keys(st.Condition).length > 0;
        const scoped = hasCondition && scopingKeys(st.Condition).length > 0;
        if (st.NotResource !== undefined && !scoped) {
          report(
            `${where} uses Allow with NotResource, which allows every other resource. ` +
              "Fix: use Resource with the specific ARNs.",
          );
          return;
        }
        // A condition only stands in for a resource ARN if it narrows which resources are touched; one such as
        // aws:SecureTransport does not.
        if (!strings(st.Resource).includes("*") || scoped) return;
        const uncovered = strings(st.Action).filter((a) => !actionCoveredByAllowList(a));
        if (uncovered.length > 0 || st.Action === undefined) {
          report(
            `${where} allows Resource "*" for actions that support resource-level permissions: ` +
              `${uncovered.join(", ") || "(NotAction)"}${hasCondition ? " (its Condition does not narrow the resources)" : ""}. ` +
              "Fix: scope Resource to the specific ARNs, or add a Condition on a scoping key (e.g. aws:ResourceTag, " +
              "aws:RequestTag, kms:ViaService, ec2:CreateAction); only actions without resource-level " +
              `permissions may use "*" unconditionally (${RESOURCE_WILDCARD_ALLOWED_ACTIONS.join(", ")}).`,
          );
        }
      });
    }
  }),
};

const STS_AUDIENCE = "sts.amazonaws.com";
const SA_SUBJECT = /^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/;

/** Keys of a Condition block whose name ends with `:<claim>`, under every operator. */
function conditionKeys(
  condition: Props,
  claim: string,
): Array<{ op: string; key: string; values: unknown[] }> {
  const out: Array<{ op: string; key: string; values: unknown[] }> = [];
  for (const op of Object.keys(condition)) {
    const block = obj(condition[op]) || {};
    for (const key of Object.keys(block)) {
      if (key.toLowerCase().endsWith(`:${claim}`)) out.push({ op, key, values: arr(block[key]) });
    }
  }
  return out;
}

const iamIrsaTrust: ResourceValidationPolicy = {
  name: "iam-irsa-trust-scoped",
  description:
    "IRSA trust policies allow only sts:AssumeRoleWithWebIdentity, with StringEquals on the issuer's :sub (one exact service account) and :aud (sts.amazonaws.com).",
  enforcementLevel: MANDATORY,
  validateResource: forTypes(T.iamRole, (props, _args, report) => {
    const trust = parseDoc("assumeRolePolicy", "trust", props.assumeRolePolicy);
    if (!trust || !trust.doc) return; // unparsable documents are reported by iam-no-wildcard-actions
    statements(trust.doc).forEach((st, i) => {
      const federated = strings(obj(st.Principal)?.Federated).filter((f) => f.includes("oidc-provider"));
      if (st.Effect !== "Allow" || federated.length === 0) return;
      const where = `assumeRolePolicy Statement[${i}]${st.Sid ? ` (${st.Sid})` : ""}`;
      const problems: string[] = [];
      const actions = strings(st.Action);
      if (actions.length !== 1 || actions[0].toLowerCase() !== "sts:assumerolewithwebidentity") {
        problems.push(
          `Action is ${JSON.stringify(st.Action)} (must be exactly "sts:AssumeRoleWithWebIdentity")`,
        );
      }
      const condition = obj(st.Condition) || {};
      const issuers = federated
        .map((f) => f.split("oidc-provider/")[1])
        .filter((x): x is string => typeof x === "string" && x !== "");
      for (const claim of ["sub", "aud"]) {
        const entries = conditionKeys(condition, claim);
        for (const e of entries.filter((x) => x.op !== "StringEquals")) {
          problems.push(`${e.op} on ${e.key} (must be StringEquals: ${e.op} lets other tokens match)`);
        }
        const equals = entries.filter((x) => x.op === "StringEquals");
        if (equals.length === 0) {
          problems.push(`no StringEquals condition on <issuer>:${claim}`);
          continue;
        }
        for (const e of equals) {
          if (issuers.length > 0 && !issuers.some((iss) => e.key === `${iss}:${claim}`)) {
            problems.push(
              `condition key ${e.key} does not belong to the trusted provider ${issuers.join(", ")}`,
            );
          }
          const values = e.values;
          if (values.length === 0) problems.push(`${e.key} has no value`);
          for (const v of values) {
            if (claim === "sub" && (typeof v !== "string" || !SA_SUBJECT.test(v))) {
              problems.push(
                `${e.key} is ${JSON.stringify(v)} (must be one exact "system:serviceaccount:<namespace>:<name>", no wildcards)`,
              );
            }
            if (claim === "aud" && v !== STS_AUDIENCE) {
              problems.push(`${e.key} is ${JSON.stringify(v)} (must be "${STS_AUDIENCE}")`);
            }
          }
        }
      }
      if (problems.length > 0) {
        report(
          `${where} is an IRSA trust that is not scoped to one service account: ${problems.join("; ")}. ` +
            'Fix: Action "sts:AssumeRoleWithWebIdentity" with Condition { StringEquals: { "<issuer>:sub": ' +
            `"system:serviceaccount:<namespace>:<serviceaccount>", "<issuer>:aud": "${STS_AUDIENCE}" } }.`,
        );
      }
    });
  }),
};

/* ----------------------------------------------------------------------------------------------------------
 * Plain-text secrets
 *
 * Heuristic (Helm values walked recursively, Kubernetes Secret stringData/data):
 * - a key is secret-looking if it matches SECRET_KEY (password, secret, token, apikey/api_key, private key,
 *   credentials);
 * - it is NOT flagged when the key names or points at a secret instead of holding one: REFERENCE_KEY
 *   (existingSecret..., ...Name, ...Ref/...SecretRef, ...Arn, ...Path/...File, ...Store, ...Kind/...Type, where a
 *   secret lives or how it is named (...Namespace, ...Prefix, ...ServiceAccount, ...Annotation: the bridge's
 *   external_secrets_namespace), and
 *   settings such as ...Enabled, create..., ...TTL/...Duration);
 * - only non-empty literal strings are flagged; empty strings, booleans, numbers, template/variable
 *   placeholders ("{{ .password }}", "${TOKEN}", "$TOKEN"), ARNs (a Secrets Manager reference) and
 *   "true"/"false" pass.
 * - an ExternalSecret data item's `secretKey` (next to its `remoteRef`) is the target key's name, not a value;
 * Kubernetes Secret objects are checked key by key the same way (a Secret with only non-secret-looking keys,
 * e.g. a repository URL, passes).
 * -------------------------------------------------------------------------------------------------------- */
export const SECRET_KEY = /passw(or)?d|secret|token|api[-_]?key|private[-_.]?key|credential/i;
export const REFERENCE_KEY =
  /^(existing|create|use|enable)|(name|names|ref|refs|arn|path|file|dir|store|kind|type|enabled|ttl|duration|expiry|expiration|mountpath|annotations?|labels|namespace|account|prefix)$/i;
const PLACEHOLDER = /^\s*(\{\{.*\}\}|\$\{[^}]+\}|\$[A-Za-z_][A-Za-z0-9_]*)\s*$/;

function isSecretLiteral(key: string, value: unknown): boolean {
  if (!SECRET_KEY.test(key) || REFERENCE_KEY.test(key)) return false;
  if (typeof value !== "string") return false;
  const v = value.trim();
  return !(v === "" || v === "true" || v === "false" || PLACEHOLDER.test(v) || /^arn:aws[a-z-]*:/.test(v));
}

/** Paths (a.b[0].c) of plain-text secret-looking values in a JSON-like tree. */
export function findPlaintextSecrets(tree: unknown, path = ""): string[] {
  const found: string[] = [];
  const walk = (node: unknown, at: string, key: string | undefined) => {
    if (Array.isArray(node)) {
      node.forEach((x, i) => walk(x, `${at}[${i}]`, key));
    } else if (obj(node)) {
      // An ExternalSecret's data item names the key its value lands under (`secretKey`), next to where it is read.
      const names = "remoteRef" in (node as Props) ? ["secretKey"] : [];
      for (const k of Object.keys(node as Props)) {
        if (!names.includes(k)) walk((node as Props)[k], at ? `${at}.${k}` : k, k);
      }
    } else if (key !== undefined && isSecretLiteral(key, node)) {
      found.push(at);
    }
  };
  walk(tree, path, undefined);
  return found;
}

const noSecretsInHelmValues: ResourceValidationPolicy = {
  name: "no-plaintext-secrets-helm-values",
  description:
    "Helm release values contain no plain-text secrets (passwords, tokens, keys); use ExternalSecrets.",
  enforcementLevel: MANDATORY,
  validateResource: forTypes(T.helmRelease, (props, _args, report) => {
    const paths = findPlaintextSecrets(props.values, "values");
    if (paths.length > 0) {
      report(
        `Helm release values hold plain-text secret-looking values at ${paths.join(", ")}; they would be stored in ` +
          "the Pulumi state and the Helm release secret. Fix: keep the value in AWS Secrets Manager, sync it with " +
          "an ExternalSecret and pass only the Secret's name (e.g. existingSecret / secretName).",
      );
    }
  }),
};

const noSecretsInK8sSecret: ResourceValidationPolicy = {
  name: "no-plaintext-secrets-k8s-secret",
  description:
    "Kubernetes Secrets created by Pulumi carry no secret-looking literal values in data/stringData.",
  enforcementLevel: MANDATORY,
  validateResource: forTypes(T.k8sSecret, (props, _args, report) => {
    const paths = [
      ...findPlaintextSecrets(props.stringData, "stringData"),
      ...findPlaintextSecrets(props.data, "data"),
    ];
    if (paths.length > 0) {
      report(
        `Kubernetes Secret holds plain-text secret-looking values at ${paths.join(", ")}; they would be stored in ` +
          "the Pulumi state. Fix: create an ExternalSecret (External Secrets Operator) that reads the value from " +
          "AWS Secrets Manager instead of a Secret with literal data.",
      );
    }
  }),
};

const noSecretValuesInSecretsManager: ResourceValidationPolicy = {
  name: "no-secret-values-in-secretsmanager",
  description:
    "Pulumi never writes secret values to AWS Secrets Manager (secretString/secretBinary stay out of state).",
  enforcementLevel: MANDATORY,
  validateResource: forTypes(T.secretVersion, (props, _args, report) => {
    const set = ["secretString", "secretBinary"].filter((k) => str(props[k]) !== undefined);
    if (set.length > 0) {
      report(
        `Secrets Manager SecretVersion sets ${set.join(" and ")}, which puts the secret value in the Pulumi state. ` +
          "Fix: create only the aws.secretsmanager.Secret and write its value out of band (console, CLI or a " +
          "rotation function); workloads read it through External Secrets.",
      );
    }
  }),
};

/* ----------------------------------------------------------------------------------------------------------
 * Argo CD
 * -------------------------------------------------------------------------------------------------------- */
const argoAppNotDefaultProject: ResourceValidationPolicy = {
  name: "argocd-app-not-default-project",
  description: 'Argo CD Applications belong to a dedicated AppProject, never "default".',
  enforcementLevel: ADVISORY,
  validateResource: forTypes(T.argoApplication, (props, _args, report) => {
    const project = obj(props.spec)?.project;
    if (project === undefined || project === "default" || project === "") {
      report(
        `Argo CD Application uses project ${JSON.stringify(project === undefined ? "default" : project)} ` +
          "(the unrestricted default project). Fix: set spec.project to a dedicated AppProject that restricts " +
          "source repositories and destinations.",
      );
    }
  }),
};

const argoAppSyncRetry: ResourceValidationPolicy = {
  name: "argocd-app-sync-retry",
  description:
    "Argo CD Applications retry failed syncs a bounded number of times (syncPolicy.retry.limit 1..max).",
  enforcementLevel: ADVISORY,
  configSchema: {
    properties: { maxRetryLimit: { type: "integer", default: 10, minimum: 1 } },
  },
  validateResource: forTypes(T.argoApplication, (props, args, report) => {
    const max = args.getConfig<{ maxRetryLimit?: number }>().maxRetryLimit || 10;
    const limit = obj(obj(obj(props.spec)?.syncPolicy)?.retry)?.limit;
    if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > max) {
      report(
        `Argo CD Application syncPolicy.retry.limit is ${JSON.stringify(limit)} (must be an integer 1..${max}; ` +
          "absent means no retry, -1 retries forever). Fix: set spec.syncPolicy.retry: { limit: 5, backoff: " +
          '{ duration: "10s", factor: 2, maxDuration: "3m" } }.',
      );
    }
  }),
};

function isAutomated(syncPolicy: Props | undefined): boolean {
  const automated = syncPolicy?.automated;
  if (automated === undefined || automated === null) return false;
  return !(obj(automated) && automated.enabled === false); // Argo CD 3: automated.enabled: false switches it off
}

function resourceLabel(r: { type: string; name: string }): string {
  return `${r.type.split(":").pop()} ${r.name}`;
}

const argoSyncPolicyByEnvironment: StackValidationPolicy = {
  name: "argocd-sync-policy-by-environment",
  description:
    "Non-prod Argo CD Applications auto-sync with prune and selfHeal; prod Applications sync manually unless their AppProject has syncWindows.",
  enforcementLevel: ADVISORY,
  validateStack: (args, report) => {
    const all = withEmbedded(args.resources);
    const projects = all.filter((r) => r.type === T.argoAppProject);
    for (const app of all.filter((r) => r.type === T.argoApplication)) {
      const props = app.props || {};
      const spec = obj(props.spec) || {};
      const syncPolicy = obj(spec.syncPolicy);
      const env = k8sEnvironment(props);
      const automated = isAutomated(syncPolicy);
      const what = `Argo CD Application ${obj(props.metadata)?.name ?? app.name} (environment: ${env ?? "missing, treated as prod"})`;
      if (!isProd(env)) {
        const a = obj(syncPolicy?.automated) || {};
        if (!automated || a.prune !== true || a.selfHeal !== true) {
          report(
            `${what} does not auto-sync with prune and selfHeal (automated: ${JSON.stringify(
              syncPolicy?.automated,
            )}). Fix: set spec.syncPolicy.automated: { prune: true, selfHeal: true } so non-prod converges to git.`,
            app.urn,
          );
        }
        continue;
      }
      if (!automated) continue;
      const projectName = spec.project;
      const appNs = obj(props.metadata)?.namespace;
      const project = projects.find((p) => {
        const md = obj(obj(p.props)?.metadata) || {};
        return (
          md.name === projectName &&
          (appNs === undefined || md.namespace === undefined || md.namespace === appNs)
        );
      });
      const windows = arr(obj(obj(project?.props)?.spec)?.syncWindows);
      if (windows.length === 0) {
        report(
          `${what} syncs automatically but its AppProject ${JSON.stringify(projectName)} ${
            project ? "has no syncWindows" : "is not in this stack, so its syncWindows cannot be verified"
          }. Fix: remove spec.syncPolicy.automated for prod (sync by hand after review), or define syncWindows on ` +
            `the AppProject (${project ? resourceLabel(project) : "create it in this stack"}).`,
          app.urn,
        );
      }
    }
  },
};

const argoProjectSourceRepos: ResourceValidationPolicy = {
  name: "argocd-project-source-repos",
  description: "Argo CD AppProjects list explicit source repositories (no '*' or other wildcards).",
  enforcementLevel: ADVISORY,
  validateResource: forTypes(T.argoAppProject, (props, _args, report) => {
    const repos = arr(obj(props.spec)?.sourceRepos);
    const wild = repos.filter((r) => typeof r !== "string" || /[*?[\]]/.test(r));
    if (repos.length === 0 || wild.length > 0) {
      report(
        `Argo CD AppProject sourceRepos ${
          repos.length === 0
            ? "is empty"
            : `contains wildcards: ${wild.map((w) => JSON.stringify(w)).join(", ")}`
        }. Fix: list the exact repository URLs the project may deploy from in spec.sourceRepos.`,
      );
    }
  }),
};

/* ----------------------------------------------------------------------------------------------------------
 * Flux
 * -------------------------------------------------------------------------------------------------------- */
const fluxKustomizationPruneHealth: ResourceValidationPolicy = {
  name: "flux-kustomization-prune-and-health",
  description: "Flux Kustomizations prune removed objects and wait for health (wait: true or healthChecks).",
  enforcementLevel: ADVISORY,
  validateResource: forTypes(FLUX_KUSTOMIZATION, (props, _args, report) => {
    const spec = obj(props.spec) || {};
    const problems: string[] = [];
    if (spec.prune !== true) problems.push(`prune is ${JSON.stringify(spec.prune)} (must be true)`);
    if (spec.wait !== true && arr(spec.healthChecks).length === 0) {
      problems.push("neither wait: true nor healthChecks is set");
    }
    if (problems.length > 0) {
      report(
        `Flux Kustomization ${problems.join("; ")}. Fix: set spec.prune: true and spec.wait: true (or list ` +
          "spec.healthChecks) so deleted manifests are removed and a failed rollout marks the Kustomization not ready.",
      );
    }
  }),
};

const fluxProdSourcePinned: ResourceValidationPolicy = {
  name: "flux-prod-source-pinned",
  description: "In prod, Flux GitRepositories follow a tag, semver range or commit, never a branch.",
  enforcementLevel: ADVISORY,
  validateResource: forTypes(FLUX_GIT_REPOSITORY, (props, args, report) => {
    const env = k8sEnvironment(props);
    if (!isProd(env)) {
      args.notApplicable(`environment ${env} is not prod`);
      return;
    }
    const ref = obj(obj(props.spec)?.ref) || {};
    const pinned =
      str(ref.tag) !== undefined ||
      str(ref.semver) !== undefined ||
      str(ref.commit) !== undefined ||
      (str(ref.name) !== undefined && String(ref.name).startsWith("refs/tags/"));
    if (!pinned) {
      report(
        `Flux GitRepository in prod (environment: ${env ?? "missing, treated as prod"}) follows ${
          str(ref.branch) ? `branch ${JSON.stringify(ref.branch)}` : "the default branch (no ref)"
        }. Fix: set spec.ref.tag (a release tag), spec.ref.semver or spec.ref.commit, and promote by changing it.`,
      );
    }
  }),
};

/* ----------------------------------------------------------------------------------------------------------
 * Helm
 * -------------------------------------------------------------------------------------------------------- */
const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

function isLocalChart(chart: unknown): boolean {
  return (
    typeof chart === "string" && (chart.startsWith("./") || chart.startsWith("../") || chart.startsWith("/"))
  );
}

const helmPinnedVersion: ResourceValidationPolicy = {
  name: "helm-release-pinned-version",
  description: "Helm releases pin an exact chart version (no ranges such as ^ ~ * x >).",
  enforcementLevel: ADVISORY,
  validateResource: forTypes(T.helmRelease, (props, args, report) => {
    if (isLocalChart(props.chart)) {
      args.notApplicable("local chart directories are versioned with the repository");
      return;
    }
    const version = props.version;
    if (typeof version !== "string" || !EXACT_VERSION.test(version.trim())) {
      report(
        `Helm release ${JSON.stringify(props.chart ?? props.name)} has version ${JSON.stringify(version)}, not an ` +
          'exact chart version. Fix: set version to an exact release, e.g. "7.7.11", and bump it deliberately.',
      );
    }
  }),
};

const helmTimeout: ResourceValidationPolicy = {
  name: "helm-release-timeout",
  description: "Helm releases set an explicit timeout (seconds > 0).",
  enforcementLevel: ADVISORY,
  validateResource: forTypes(T.helmRelease, (props, _args, report) => {
    const timeout = props.timeout;
    if (typeof timeout !== "number" || !(timeout > 0)) {
      report(
        `Helm release ${JSON.stringify(props.chart ?? props.name)} has timeout ${JSON.stringify(timeout)}. ` +
          "Fix: set timeout (seconds) to a value that fits the chart, e.g. 600, so a stuck install fails clearly.",
      );
    }
  }),
};

/* ----------------------------------------------------------------------------------------------------------
 * Environment label/tag
 * -------------------------------------------------------------------------------------------------------- */
const K8S_ENV_TYPES = [T.argoApplication, T.argoAppProject, T.fluxKustomization, T.fluxGitRepository];
const AWS_ENV_TYPES = [T.kmsKey, T.eksCluster, T.eksCapability];

function isK8sEnvType(type: string): boolean {
  return K8S_ENV_TYPES.includes(type) || FLUX_KUSTOMIZATION.test(type) || FLUX_GIT_REPOSITORY.test(type);
}

const environmentLabelRequired: ResourceValidationPolicy = {
  name: "environment-label-required",
  description: `Resources the environment rules read carry label ${ENV_LABEL} (Kubernetes) or tag ${ENV_TAG} (AWS).`,
  enforcementLevel: ADVISORY,
  validateResource: (args, report) => {
    const targets = [
      ...(isK8sEnvType(args.type) || AWS_ENV_TYPES.includes(args.type)
        ? [{ type: args.type, name: args.name, props: args.props as Props }]
        : []),
      ...embeddedObjects(args.type, args.props)
        .filter((o) => isK8sEnvType(o.type))
        .map((o) => ({
          ...o,
          name: `${String(obj(o.props.metadata)?.name)} (applied by Helm release ${args.name})`,
        })),
    ];
    if (targets.length === 0) {
      args.notApplicable("resource type is not read by environment-dependent policies");
      return;
    }
    for (const t of targets) {
      const k8s = isK8sEnvType(t.type);
      const env = k8s ? k8sEnvironment(t.props) : awsEnvironment(t.props);
      if (env === undefined || !ENVIRONMENTS.includes(env)) {
        const where = k8s ? `label ${ENV_LABEL} in metadata.labels` : `tag ${ENV_TAG} in tags`;
        report(
          `${t.type} ${t.name} has ${env === undefined ? "no" : `an unknown (${JSON.stringify(env)})`} ${where}; ` +
            `environment-dependent policies treat it as prod. Fix: set ${where} to one of ${ENVIRONMENTS.join(", ")}.`,
        );
      }
    }
  },
};

/* ----------------------------------------------------------------------------------------------------------
 * The pack
 * -------------------------------------------------------------------------------------------------------- */
export const policies: Policies = [
  eksSecretsEncryption,
  eksControlPlaneLogging,
  eksEndpointNotPublic,
  eksArgoCdCapabilityAccess,
  kmsKeyPolicyNoOpenPrincipal,
  kmsKeyRotation,
  kmsDeletionWindow,
  launchTemplateImdsv2,
  eksAutoModeComplete,
  noSpotInProd,
  iamNoWildcardActions,
  iamNoWildcardResources,
  iamIrsaTrust,
  noSecretsInHelmValues,
  noSecretsInK8sSecret,
  noSecretValuesInSecretsManager,
  argoAppNotDefaultProject,
  argoAppSyncRetry,
  argoSyncPolicyByEnvironment,
  argoProjectSourceRepos,
  fluxKustomizationPruneHealth,
  fluxProdSourcePinned,
  helmPinnedVersion,
  helmTimeout,
  environmentLabelRequired,
];

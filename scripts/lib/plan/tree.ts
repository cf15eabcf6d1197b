// The readable tree: each resource with the settings a reviewer cares about, then the summary and the
// critical path.
import { HELM_RELEASE, type Plan, type PlanResource } from "./types";
import { cmp, isObject } from "./canonical";

/** The resource tree with the settings a reviewer cares about, then the summary and the critical path. */
export function renderTree(plan: Plan): string {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const children = new Map<string, PlanResource[]>();
  const roots: PlanResource[] = [];
  for (const r of plan.resources) {
    if (r.parent && byUrn.has(r.parent)) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
    else roots.push(r);
  }
  const order = (list: PlanResource[]) =>
    [...list].sort(
      (a, b) => cmp(a.custom ? "1" : "0", b.custom ? "1" : "0") || cmp(a.type, b.type) || cmp(a.name, b.name),
    );
  const lines: string[] = [];
  lines.push(`${plan.project} / ${plan.stack}${plan.engine ? ` (gitops engine: ${plan.engine})` : ""}`);
  const walk = (list: PlanResource[], prefix: string) => {
    const sorted = order(list);
    sorted.forEach((r, i) => {
      const last = i === sorted.length - 1;
      const flags = [
        r.protect ? "[protect]" : "",
        r.retainOnDelete ? "[retainOnDelete]" : "",
        r.deletedWith ? `[deletedWith ${shortUrn(r.deletedWith)}]` : "",
      ].filter(Boolean);
      lines.push(
        `${prefix}${last ? "`- " : "+- "}${r.type} "${r.name}"${flags.length ? ` ${flags.join(" ")}` : ""}`,
      );
      const inner = `${prefix}${last ? "   " : "|  "}`;
      const kids = children.get(r.urn) ?? [];
      for (const d of details(r, plan, byUrn)) lines.push(`${inner}${kids.length ? "|" : " "}     ${d}`);
      walk(kids, inner);
    });
  };
  walk(roots, "");
  lines.push("", ...renderSummary(plan));
  return `${lines.map((l) => l.replace(/\s+$/, "")).join("\n")}\n`;
}

function renderSummary(plan: Plan): string[] {
  const s = plan.summary;
  const lines = [
    "Summary",
    `  resources: ${s.resources} (${s.customResources} custom, ${s.components} components)`,
    `  NAT gateways: ${s.natGateways}`,
    `  Kubernetes objects written: ${plan.manifests.length} (bootstrap charts: ${s.bootstrapRendering})`,
    `  dependency depth: ${s.depth} (longest chain of custom resources, through component parents)`,
    `  estimated first \`pulumi up\`: ~${Math.round(s.estimate.seconds / 60)} min (${s.estimate.seconds} s, critical path below;`,
    "    typical creation times from scripts/creation-times.ts, unlimited parallelism assumed)",
    `  physical chain: ~${Math.round(s.estimate.physicalChain.seconds / 60)} min (${s.estimate.physicalChain.seconds} s: ${s.estimate.physicalChain.steps.map((x) => `${x.what} ${x.seconds}s`).join(" -> ")})`,
    `  estimate / physical chain: ${s.estimate.ratio.toFixed(3)} (target <= 1.05)`,
    "",
    "Critical path",
    "  start   finish  time   resource",
  ];
  for (const step of s.estimate.criticalPath) {
    lines.push(
      `  ${clock(step.start).padEnd(7)} ${clock(step.finish).padEnd(7)} ${`${step.seconds}s`.padEnd(6)} ${step.type} "${step.name}"`,
    );
  }
  return lines;
}

function clock(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

function shortUrn(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

type Dict = Record<string, unknown>;

function details(r: PlanResource, plan: Plan, byUrn: Map<string, PlanResource>): string[] {
  const i = r.inputs as Dict;
  const depNames = (type: string) =>
    r.dependencies
      .map((u) => byUrn.get(u))
      .filter((d): d is PlanResource => d?.type === type)
      .map((d) => d.name);
  const keyRef = (arn: unknown) => {
    if (arn === undefined) return "none";
    const keys = depNames("aws:kms/key:Key");
    return `${String(arn)}${keys.length === 1 ? ` (kms key "${keys[0]}")` : ""}`;
  };
  const count = (v: unknown) => (Array.isArray(v) ? v.length : 0);
  switch (r.type) {
    case "gitops-platform:index:Network": {
      const descendants = plan.resources.filter((d) => isBelow(d, r.urn, byUrn));
      const subnets = descendants.filter((d) => d.type === "aws:ec2/subnet:Subnet");
      const tagged = (role: string) =>
        subnets.filter((s) => isObject((s.inputs as Dict).tags) && role in ((s.inputs as Dict).tags as Dict))
          .length;
      return [
        `NAT gateways: ${descendants.filter((d) => d.type === "aws:ec2/natGateway:NatGateway").length}`,
        `subnets: ${tagged("kubernetes.io/role/elb")} public, ${tagged("kubernetes.io/role/internal-elb")} private`,
      ];
    }
    case "aws:eks/cluster:Cluster": {
      const vpc = (i.vpcConfig ?? {}) as Dict;
      const enc = (i.encryptionConfig ?? {}) as Dict;
      const access = (i.accessConfig ?? {}) as Dict;
      return [
        `name: ${String(i.name)}, version: ${String(i.version)}`,
        `endpoint: private=${bool(vpc.endpointPrivateAccess)} public=${bool(vpc.endpointPublicAccess)}` +
          (vpc.endpointPublicAccess === true ? ` publicAccessCidrs=[${list(vpc.publicAccessCidrs)}]` : ""),
        `secrets encryption: resources=[${list(enc.resources)}] key=${keyRef(((enc.provider ?? {}) as Dict).keyArn)}`,
        `control plane logs: ${list(i.enabledClusterLogTypes)}`,
        `authentication: ${String(access.authenticationMode)}, creator admin=${bool(access.bootstrapClusterCreatorAdminPermissions)}`,
        `subnets: ${count(vpc.subnetIds)}`,
        computeLine(i),
      ];
    }
    case "aws:eks/podIdentityAssociation:PodIdentityAssociation":
      return [`${String(i.namespace)}/${String(i.serviceAccount)} -> ${String(i.roleArn)}`];
    case "aws:kms/key:Key":
      return [
        `rotation: ${i.enableKeyRotation === true ? `enabled, every ${String(i.rotationPeriodInDays ?? 365)} days` : "DISABLED"}`,
        `deletion window: ${String(i.deletionWindowInDays ?? 30)} days, multi-region: ${bool(i.multiRegion)}`,
        `protect: ${bool(r.protect)}, retainOnDelete: ${bool(r.retainOnDelete)}`,
      ];
    case "aws:kms/alias:Alias":
      return [`alias: ${String(i.name)}`];
    case "aws:eks/nodeGroup:NodeGroup": {
      const scaling = (i.scalingConfig ?? {}) as Dict;
      return [
        `instance types: ${list(i.instanceTypes)}, capacity: ${String(i.capacityType)}, ami: ${String(i.amiType)}`,
        `size: min=${String(scaling.minSize)} desired=${String(scaling.desiredSize)} max=${String(scaling.maxSize)}`,
        `subnets: ${count(i.subnetIds)}`,
      ];
    }
    case "aws:ec2/launchTemplate:LaunchTemplate": {
      const md = (i.metadataOptions ?? {}) as Dict;
      const ebs = ((Array.isArray(i.blockDeviceMappings) ? i.blockDeviceMappings[0] : {}) as Dict)?.ebs as
        Dict | undefined;
      return [
        `IMDS: tokens=${String(md.httpTokens)} hopLimit=${String(md.httpPutResponseHopLimit)} endpoint=${String(md.httpEndpoint)}`,
        ebs
          ? `root volume: ${String(ebs.volumeSize)} GiB ${String(ebs.volumeType)} encrypted=${String(ebs.encrypted)} key=${keyRef(ebs.kmsKeyId)}`
          : "root volume: default",
      ];
    }
    case "aws:ec2/vpc:Vpc":
      return [`cidr: ${String(i.cidrBlock)}`];
    case "aws:ec2/subnet:Subnet":
      return [
        `${String(i.availabilityZone)} ${String(i.cidrBlock)}, public IPs on launch: ${bool(i.mapPublicIpOnLaunch)}`,
      ];
    case "aws:ec2/natGateway:NatGateway":
      return [`in subnet: ${depNames("aws:ec2/subnet:Subnet").join(", ") || "-"}`];
    case "aws:ec2/flowLog:FlowLog":
      return [`traffic: ${String(i.trafficType)} -> ${String(i.logDestinationType)}`];
    case "aws:cloudwatch/logGroup:LogGroup":
      return [`${String(i.name)}, retention ${String(i.retentionInDays)} days, key=${keyRef(i.kmsKeyId)}`];
    case "aws:iam/role:Role":
      return [
        `name: ${i.name === undefined ? "(auto-named)" : String(i.name)}`,
        `trust: ${trust(i.assumeRolePolicy)}`,
      ];
    case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
      return [`policy: ${String(i.policyArn)}`];
    case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
      return [`audiences: ${list(i.clientIdLists)}`];
    case "aws:secretsmanager/secret:Secret":
      return [
        `name: ${String(i.name)}, recovery window: ${String(i.recoveryWindowInDays ?? 30)} days, key=${keyRef(i.kmsKeyId)}`,
      ];
    case "aws:eks/addon:Addon":
      return [
        `${String(i.addonName)}@${String(i.addonVersion)}${i.serviceAccountRoleArn ? ` (IRSA ${String(i.serviceAccountRoleArn)})` : ""}`,
      ];
    case "aws:eks/accessEntry:AccessEntry":
      return [`principal: ${String(i.principalArn)}`];
    case "aws:eks/accessPolicyAssociation:AccessPolicyAssociation":
      return [
        `${String(i.principalArn)} -> ${String(i.policyArn).split("/").pop()} (${String(((i.accessScope ?? {}) as Dict).type)})`,
      ];
    case "kubernetes:core/v1:Namespace":
    case "kubernetes:core/v1:Secret":
    case "kubernetes:core/v1:ConfigMap":
    case "kubernetes:rbac.authorization.k8s.io/v1:Role":
    case "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": {
      const meta = (i.metadata ?? {}) as Dict;
      const where = `${meta.namespace ? `${String(meta.namespace)}/` : ""}${String(meta.name)}`;
      const keys = Object.keys({ ...((i.data ?? {}) as Dict), ...((i.stringData ?? {}) as Dict) }).sort(cmp);
      return [`${where}${keys.length ? `, keys: ${keys.join(", ")}` : ""}`];
    }
    case "kubernetes:core/v1:SecretPatch": {
      const meta = (i.metadata ?? {}) as Dict;
      const labels = Object.entries((meta.labels ?? {}) as Dict)
        .map(([k, v]) => `${k}=${String(v)}`)
        .sort(cmp);
      return [`patches ${String(meta.namespace)}/${String(meta.name)}: labels ${labels.join(", ") || "-"}`];
    }
    case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
      return [`${String(i.ipProtocol)} ${String(i.fromPort)}-${String(i.toPort)} from ${String(i.cidrIpv4)}`];
    case "command:local:Command":
      return [
        `on create: ${i.create === undefined ? "-" : String(i.create).split("\n")[0]}`,
        `on delete: ${i.delete === undefined ? "-" : `script (${String(i.delete).split("\n").length} lines)`}`,
      ];
    case HELM_RELEASE:
      return releaseDetails(i);
    default:
      return [];
  }
}

function computeLine(i: Dict): string {
  const compute = (i.computeConfig ?? {}) as Dict;
  if (compute.enabled !== true) return "compute: node groups defined by the program";
  const lb = ((i.kubernetesNetworkConfig ?? {}) as Dict).elasticLoadBalancing as Dict | undefined;
  const storage = ((i.storageConfig ?? {}) as Dict).blockStorage as Dict | undefined;
  return (
    `compute: EKS Auto Mode, pools [${list(compute.nodePools)}], block storage=${bool(storage?.enabled)}, ` +
    `load balancing=${bool(lb?.enabled)}, self-managed add-ons=${bool(i.bootstrapSelfManagedAddons !== false)}`
  );
}

function releaseDetails(i: Dict): string[] {
  const chart = String(i.chart);
  const repo = (i.repositoryOpts as Dict | undefined)?.repo;
  const lines = [
    `chart: ${chart}${i.version ? `@${String(i.version)}` : ""}${repo ? ` from ${String(repo)}` : " (local)"}`,
    `release: ${String(i.name)} in namespace ${String(i.namespace)}, atomic=${bool(i.atomic)} timeout=${String(i.timeout)}s`,
  ];
  const objects = ((i.values as Dict | undefined)?.resources ?? []) as Dict[];
  if (!repo && Array.isArray(objects)) {
    for (const o of objects) {
      const meta = (o.metadata ?? {}) as Dict;
      lines.push(
        `applies ${String(o.kind)} ${meta.namespace ? `${String(meta.namespace)}/` : ""}${String(meta.name)}`,
      );
      lines.push(...objectDetails(o).map((l) => `  ${l}`));
    }
  }
  return lines;
}

function objectDetails(o: Dict): string[] {
  const spec = (o.spec ?? {}) as Dict;
  switch (o.kind) {
    case "Application": {
      const sp = (spec.syncPolicy ?? {}) as Dict;
      const auto = sp.automated as Dict | undefined;
      const retry = sp.retry as Dict | undefined;
      const src = (spec.source ?? {}) as Dict;
      return [
        `source: ${String(src.repoURL)} @ ${String(src.targetRevision)} path ${String(src.path)}`,
        auto
          ? `sync: automated (prune=${bool(auto.prune)}, selfHeal=${bool(auto.selfHeal)})`
          : "sync: manual (not automated)",
        `retry: ${retry ? `limit=${String(retry.limit)}` : "none"}, options: ${Array.isArray(sp.syncOptions) ? sp.syncOptions.join(", ") : "-"}`,
      ];
    }
    case "AppProject": {
      const windows = (Array.isArray(spec.syncWindows) ? spec.syncWindows : []) as Dict[];
      return [
        `source repos: ${(spec.sourceRepos as string[] | undefined)?.join(", ") ?? "-"}`,
        `sync windows: ${windows.length ? windows.map((w) => `${String(w.kind)} "${String(w.schedule)}" for ${String(w.duration)}`).join("; ") : "none"}`,
      ];
    }
    case "GitRepository": {
      const ref = (spec.ref ?? {}) as Dict;
      return [
        `url: ${String(spec.url)}`,
        `ref: ${
          Object.entries(ref)
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(", ") || "-"
        }, interval: ${String(spec.interval)}`,
      ];
    }
    case "Kustomization":
      return [
        `path: ${String(spec.path)}, interval: ${String(spec.interval)}`,
        `prune: ${bool(spec.prune)}, wait: ${bool(spec.wait)}`,
      ];
    case "ClusterSecretStore": {
      const aws = (((spec.provider ?? {}) as Dict).aws ?? {}) as Dict;
      return [`aws ${String(aws.service)} in ${String(aws.region)}`];
    }
    case "ExternalSecret": {
      const data = (Array.isArray(spec.data) ? spec.data : []) as Dict[];
      const keys = [...new Set(data.map((d) => String(((d.remoteRef ?? {}) as Dict).key)))];
      return [`from: ${keys.join(", ")}`];
    }
    default:
      return [];
  }
}

/** Who may assume a role: services, or for IRSA the federated provider's service-account subject. */
function trust(policy: unknown): string {
  let doc: Dict;
  try {
    doc = JSON.parse(String(policy)) as Dict;
  } catch {
    return "?";
  }
  const parts: string[] = [];
  for (const st of (Array.isArray(doc.Statement) ? doc.Statement : []) as Dict[]) {
    const p = (st.Principal ?? {}) as Dict;
    if (p.Service) parts.push(`service ${list(p.Service)}`);
    if (p.AWS) parts.push(`aws ${list(p.AWS)}`);
    if (p.Federated) {
      const cond = ((st.Condition ?? {}) as Dict).StringEquals as Dict | undefined;
      const sub = Object.entries(cond ?? {}).find(([k]) => k.endsWith(":sub"))?.[1];
      parts.push(`IRSA ${sub === undefined ? "(no subject condition!)" : String(sub)}`);
    }
  }
  return parts.join("; ") || "-";
}

function list(v: unknown): string {
  return Array.isArray(v) ? v.map(String).join(", ") : v === undefined ? "-" : String(v);
}

function bool(v: unknown): string {
  return v === true || v === "true" ? "yes" : "no";
}

function isBelow(r: PlanResource, ancestor: string, byUrn: Map<string, PlanResource>): boolean {
  for (let p = r.parent; p; p = byUrn.get(p)?.parent) if (p === ancestor) return true;
  return false;
}

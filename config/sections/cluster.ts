import { z } from "zod";
import { isAligned, parseCidr } from "../../core/cidr";
import type { Ctx } from "../context";
import { byDefaults, perEnvironment } from "../defaults";
import { bool, defaulted, fail, list, oneOf, oneOfNumbers, section, text } from "../rules";
import type { IdentityMode } from "./identity";
import { LOG_RETENTION_DAYS } from "./network";

/** Who runs the nodes: managed node groups the program defines, or EKS Auto Mode (compute/). */
export const COMPUTE_MODES = ["nodeGroups", "autoMode"] as const;
export type ComputeMode = (typeof COMPUTE_MODES)[number];
/** Capacity types an Auto Mode node pool may launch (karpenter.sh/capacity-type values). */
export const AUTO_MODE_CAPACITY_TYPES = ["on-demand", "spot"] as const;
export type AutoModeCapacityType = (typeof AUTO_MODE_CAPACITY_TYPES)[number];

export const K8S_VERSION = "1.34";
// EKS add-on builds for Kubernetes 1.34, pinned so a rebuild gets what was tested; bump with
// `aws eks describe-addon-versions --kubernetes-version 1.34`.
export const ADDONS: Record<string, string> = {
  "vpc-cni": "v1.20.4-eksbuild.1",
  coredns: "v1.12.3-eksbuild.1",
  "kube-proxy": "v1.34.0-eksbuild.2",
};
const CORE_ADDONS = ["vpc-cni", "coredns", "kube-proxy"];
/** Node groups with Pod Identity need the agent on every node; Auto Mode runs its own. */
export const POD_IDENTITY_AGENT = { "eks-pod-identity-agent": "v1.3.9-eksbuild.3" };
// What Auto Mode runs itself: installing these as add-ons would fight it for the same objects.
const AUTO_MODE_BUILT_IN = [
  "vpc-cni",
  "coredns",
  "kube-proxy",
  "eks-pod-identity-agent",
  "aws-ebs-csi-driver",
];

/** The add-ons a cluster gets unless the stack lists its own: none in Auto Mode, the agent with Pod Identity. */
function defaultAddons(compute: ComputeMode, identity: IdentityMode | undefined): Record<string, string> {
  if (compute === "autoMode") return {};
  return { ...ADDONS, ...(identity === "podIdentity" ? POD_IDENTITY_AGENT : {}) };
}

/** Auto Mode where a fast, cheap cluster matters; node groups in prod, where AMI rollouts stay under control. */
export function defaultCompute(c: Ctx): ComputeMode {
  return byDefaults<ComputeMode>(c, {
    "2026-11": "nodeGroups",
    "2026-12": perEnvironment(c, { dev: "autoMode", staging: "autoMode", prod: "nodeGroups" }),
  });
}

/** What the cluster's rules read besides the section: whether the stack wrote these keys, and the identity. */
export interface ClusterFacts {
  addonsWritten: boolean;
  autoModeWritten: boolean;
  /** The identity mode, when valid (undefined: the rules that need it are skipped). */
  identity?: IdentityMode;
}
// EKS add-ons this program knows how to order around the nodes; others are installed after them.
const EKS_ADDON_RE =
  /^(vpc-cni|coredns|kube-proxy|eks-pod-identity-agent|aws-ebs-csi-driver|aws-efs-csi-driver|snapshot-controller|aws-mountpoint-s3-csi-driver|amazon-cloudwatch-observability|eks-node-monitoring-agent|adot|aws-guardduty-agent|metrics-server)$/;

export function cluster(c: Ctx, facts: ClusterFacts) {
  return section({
    version: defaulted(text("a Kubernetes minor version 1.30-1.39", /^1\.3[0-9]$/, 8), K8S_VERSION),
    endpointPublicAccess: defaulted(
      bool(),
      perEnvironment(c, { dev: true, staging: true, prod: false }),
      "prod: false.",
    ),
    publicAccessCidrs: defaulted(list(text("an IPv4 CIDR such as 203.0.113.0/24", /^[0-9./]+$/, 18)), []),
    logRetentionDays: defaulted(
      oneOfNumbers(LOG_RETENTION_DAYS),
      perEnvironment(c, { dev: 30, staging: 90, prod: 365 }),
    ),
    // Defaulted below: the add-ons a cluster needs depend on its compute and identity.
    addons: z
      .record(
        z.string().refine((a) => EKS_ADDON_RE.test(a), {
          error: "is not an EKS add-on name this program supports (see README)",
        }),
        text("a pinned vX.Y.Z-eksbuild.N", /^v\d{1,4}\.\d{1,4}\.\d{1,4}-eksbuild\.\d{1,4}$/, 64),
        { error: "must be an object" },
      )
      .optional()
      .meta({ defaulted: true, description: "Replaces the defaults: add-on name -> pinned version." }),
    compute: defaulted(oneOf(COMPUTE_MODES), defaultCompute(c), "Who runs the nodes (compute/)."),
    autoMode: defaulted(
      section({
        capacityTypes: defaulted(
          list(oneOf(AUTO_MODE_CAPACITY_TYPES), "a list of on-demand, spot"),
          perEnvironment<AutoModeCapacityType[]>(c, {
            dev: ["spot", "on-demand"],
            staging: ["on-demand"],
            prod: ["on-demand"],
          }),
        ),
      }),
      {},
      "Auto Mode only: the capacity the platform's NodePool admits.",
    ),
  })
    .transform((k) => ({ ...k, addons: k.addons ?? defaultAddons(k.compute, facts.identity) }))
    .superRefine((k, ctx) => {
      const capacity = k.autoMode.capacityTypes;
      if (!capacity.includes("on-demand"))
        fail(
          ctx,
          ["autoMode", "capacityTypes"],
          "must include on-demand: the built-in general-purpose pool is on-demand, and spot alone can run dry",
        );
      if (c.prod && capacity.includes("spot"))
        fail(ctx, ["autoMode", "capacityTypes"], 'must be ["on-demand"] in prod: no spot capacity');
      if (k.compute === "nodeGroups" && facts.autoModeWritten)
        fail(ctx, ["autoMode"], "applies only with cluster.compute autoMode");
      const autoMode = k.compute === "autoMode";
      const agent = !autoMode && facts.identity === "podIdentity";
      const required = autoMode ? [] : [...CORE_ADDONS, ...(agent ? Object.keys(POD_IDENTITY_AGENT) : [])];
      if (!required.every((a) => Object.hasOwn(k.addons, a)))
        fail(
          ctx,
          ["addons"],
          `must include ${required.join(", ").replace(/, ([^,]*)$/, " and $1")}${agent ? " (identity podIdentity needs the agent on the nodes)" : ""}`,
        );
      const builtIn = autoMode ? AUTO_MODE_BUILT_IN.filter((a) => Object.hasOwn(k.addons, a)) : [];
      if (builtIn.length > 0)
        fail(
          ctx,
          ["addons"],
          `must not include ${builtIn.join(", ")} with cluster.compute autoMode: Auto Mode runs them itself`,
        );
      const [cniMajor, cniMinor] = (/^v(\d+)\.(\d+)\./.exec(k.addons["vpc-cni"] ?? "") ?? [])
        .slice(1)
        .map(Number);
      if (cniMajor === 1 && cniMinor < 14)
        fail(
          ctx,
          ["addons", "vpc-cni"],
          "must be v1.14.0 or later: its network policy agent enforces the NetworkPolicies the charts install",
          k.addons["vpc-cni"],
        );
      if (k.version !== K8S_VERSION && !facts.addonsWritten && required.length > 0)
        fail(
          ctx,
          ["addons"],
          `must be set explicitly for cluster.version ${k.version}: the default pins are built for ${K8S_VERSION}`,
        );
      if (!k.endpointPublicAccess) return;
      if (c.prod) fail(ctx, ["endpointPublicAccess"], "must be false in prod: the API is reached privately");
      if (k.publicAccessCidrs.length === 0)
        fail(ctx, ["publicAccessCidrs"], "must list the CIDRs allowed to reach the public endpoint");
      k.publicAccessCidrs.forEach((cidr, i) => {
        const parsed = parseCidr(cidr);
        if (!parsed || !isAligned(parsed))
          fail(ctx, ["publicAccessCidrs", i], "must be an IPv4 CIDR such as 203.0.113.0/24");
        else if (parsed.prefix < 8)
          fail(
            ctx,
            ["publicAccessCidrs", i],
            "must not open the API endpoint to the world (prefix /8 or longer)",
          );
      });
    });
}
export type ClusterConfig = z.output<ReturnType<typeof cluster>>;
export type AutoModeConfig = ClusterConfig["autoMode"];

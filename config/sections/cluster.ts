import { z } from "zod";
import { isAligned, parseCidr } from "../../components/cidr";
import type { Ctx } from "../context";
import { bool, defaulted, fail, list, oneOfNumbers, section, text } from "../rules";
import { LOG_RETENTION_DAYS } from "./network";

export const K8S_VERSION = "1.34";
// EKS add-on builds for Kubernetes 1.34, pinned so a rebuild gets what was tested; bump with
// `aws eks describe-addon-versions --kubernetes-version 1.34`.
export const ADDONS: Record<string, string> = {
  "vpc-cni": "v1.20.4-eksbuild.1",
  coredns: "v1.12.3-eksbuild.1",
  "kube-proxy": "v1.34.0-eksbuild.2",
};
const CORE_ADDONS = ["vpc-cni", "coredns", "kube-proxy"];
// EKS add-ons this program knows how to order around the nodes; others are installed after them.
const EKS_ADDON_RE =
  /^(vpc-cni|coredns|kube-proxy|eks-pod-identity-agent|aws-ebs-csi-driver|aws-efs-csi-driver|snapshot-controller|aws-mountpoint-s3-csi-driver|amazon-cloudwatch-observability|eks-node-monitoring-agent|adot|aws-guardduty-agent|metrics-server)$/;

export function cluster(c: Ctx, addonsWritten: boolean) {
  return section({
    version: defaulted(text("a Kubernetes minor version 1.30-1.39", /^1\.3[0-9]$/, 8)),
    endpointPublicAccess: defaulted(bool(), "prod: false."),
    publicAccessCidrs: defaulted(list(text("an IPv4 CIDR such as 203.0.113.0/24", /^[0-9./]+$/, 18))),
    logRetentionDays: defaulted(oneOfNumbers(LOG_RETENTION_DAYS)),
    addons: defaulted(
      z.record(
        z.string().refine((a) => EKS_ADDON_RE.test(a), {
          error: "is not an EKS add-on name this program supports (see README)",
        }),
        text("a pinned vX.Y.Z-eksbuild.N", /^v\d{1,4}\.\d{1,4}\.\d{1,4}-eksbuild\.\d{1,4}$/, 64),
        { error: "must be an object" },
      ),
      "Replaces the defaults: add-on name -> pinned version.",
    ),
  }).superRefine((k, ctx) => {
    if (!CORE_ADDONS.every((a) => a in k.addons))
      fail(ctx, ["addons"], `must include ${CORE_ADDONS.join(", ").replace(/, ([^,]*)$/, " and $1")}`);
    if (k.version !== K8S_VERSION && !addonsWritten)
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

import { z } from "zod";
import {
  contains,
  formatCidr,
  isAligned,
  isPrivate,
  overlaps,
  parseCidr,
  subnet,
  type Cidr,
} from "../../core/cidr";
import { isZoneOf, zonesOf } from "../aws";
import type { Ctx } from "../context";
import { perEnvironment } from "../defaults";
import { defaulted, fail, list, oneOf, oneOfNumbers, section, text } from "../rules";

// CloudWatch Logs accepts only these retention periods.
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const CIDR_TEXT = /^[0-9./]+$/;

export const vpcCidr = text("an IPv4 CIDR", CIDR_TEXT, 18).superRefine((c, ctx) => {
  const vpc = parseCidr(c);
  if (!vpc || !isAligned(vpc)) fail(ctx, [], "must be an IPv4 network CIDR such as 10.10.0.0/16");
  else if (!isPrivate(vpc))
    fail(ctx, [], "must be a private (RFC 1918) range: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16");
  else if (vpc.prefix < 16 || vpc.prefix > 24)
    fail(ctx, [], "must have a prefix between /16 and /24 (AWS VPC limits)");
});

const cidrList = list(text("an IPv4 network CIDR", CIDR_TEXT, 18));

export function network(c: Ctx) {
  const minAzs = c.prod ? 3 : 2;
  const zone = text("an availability zone such as eu-west-1a", /^[a-z0-9-]+$/, 32).superRefine((az, ctx) => {
    if (c.region && !isZoneOf(az, c.region)) {
      const zones = zonesOf(c.region);
      fail(
        ctx,
        [],
        `must be a zone of region ${c.region}${zones ? ` (${zones.join(", ")})` : `, e.g. ${c.region}a`}`,
      );
    }
  });
  return section({
    vpcCidr: defaulted(
      vpcCidr,
      perEnvironment(c, { dev: "10.10.0.0/16", staging: "10.20.0.0/16", prod: "10.30.0.0/16" }),
      "The VPC's IPv4 range: private (RFC 1918), /16 to /24.",
    ),
    availabilityZones: list(
      zone,
      `a list of at least ${minAzs} availability zones of aws:region${c.prod ? " in prod" : ""}`,
    ).meta({ description: "Zones of aws:region, at least 2 (prod: 3)." }),
    privateSubnetCidrs: defaulted(cidrList, [], "One per zone; derived from vpcCidr when omitted."),
    publicSubnetCidrs: defaulted(cidrList, [], "One per zone; derived from vpcCidr when omitted."),
    natGateways: defaulted(
      oneOf(["single", "perAz"]),
      perEnvironment<"single" | "perAz">(c, { dev: "single", staging: "single", prod: "perAz" }),
      "prod: perAz",
    ),
    flowLogRetentionDays: defaulted(
      oneOfNumbers(LOG_RETENTION_DAYS),
      perEnvironment(c, { dev: 14, staging: 30, prod: 365 }),
    ),
  })
    .superRefine((n, ctx) => {
      if (n.availabilityZones.length < minAzs)
        fail(
          ctx,
          ["availabilityZones"],
          `must list at least ${minAzs} availability zones${c.prod ? " in prod" : ""}`,
        );
      if (new Set(n.availabilityZones).size !== n.availabilityZones.length)
        fail(ctx, ["availabilityZones"], "must not repeat a zone");
      if (c.prod && n.natGateways !== "perAz")
        fail(ctx, ["natGateways"], "must be perAz in prod: one NAT gateway per zone survives a zone outage");
      const vpc = parseCidr(n.vpcCidr) as Cidr;
      const seen: Array<{ key: string; cidr: Cidr; text: string }> = [];
      for (const key of ["privateSubnetCidrs", "publicSubnetCidrs"] as const) {
        const given = n[key];
        // Derived subnets are not checked: the user did not write them, and from a valid VPC they are valid.
        if (given.length === 0) {
          if (n.availabilityZones.length > 3)
            fail(ctx, [key], "must be given explicitly for more than 3 zones");
          continue;
        }
        if (given.length !== n.availabilityZones.length)
          fail(ctx, [key], `must list one CIDR per availability zone (${n.availabilityZones.length})`);
        given.forEach((text, i) => {
          const s = parseCidr(text);
          const k = `network.${key}[${i}]`;
          if (!s || !isAligned(s)) return fail(ctx, [key, i], "must be an IPv4 network CIDR");
          if (s.prefix > 28) return fail(ctx, [key, i], "must be /28 or larger (AWS minimum subnet size)");
          if (!contains(vpc, s)) return fail(ctx, [key, i], `must lie inside network.vpcCidr ${n.vpcCidr}`);
          const clash = seen.find((x) => overlaps(x.cidr, s));
          if (clash) fail(ctx, [key, i], `must not overlap ${clash.key} (${clash.text})`);
          seen.push({ key: k, cidr: s, text });
        });
      }
    })
    .transform((n) => {
      const vpc = parseCidr(n.vpcCidr) as Cidr;
      const derive = (given: string[], at: (i: number) => Cidr) =>
        given.length > 0 ? given : n.availabilityZones.map((_, i) => formatCidr(at(i)));
      return {
        ...n,
        privateSubnetCidrs: derive(n.privateSubnetCidrs, (i) => subnet(vpc, vpc.prefix + 2, i)),
        // Public subnets only hold NAT gateways and load balancers: the last quarter of the VPC, split four ways.
        publicSubnetCidrs: derive(n.publicSubnetCidrs, (i) =>
          subnet(subnet(vpc, vpc.prefix + 2, 3), vpc.prefix + 4, i),
        ),
      };
    });
}
export type NetworkConfig = z.output<ReturnType<typeof network>>;

// IPv4 CIDR arithmetic for config validation and subnet carving. Kept dependency-free so that config
// validation runs before any Pulumi package is touched.

export interface Cidr {
  base: number; // network address as an unsigned 32-bit integer
  prefix: number;
}

const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export function parseCidr(text: string): Cidr | undefined {
  const m = CIDR_RE.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  return { base, prefix };
}

export function formatCidr(c: Cidr): string {
  const o = [24, 16, 8, 0].map((s) => Math.floor(c.base / 2 ** s) % 256);
  return `${o.join(".")}/${c.prefix}`;
}

function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

/** True when the address has no bits set below the prefix (10.0.0.0/16, not 10.0.0.1/16). */
export function isAligned(c: Cidr): boolean {
  return c.base % size(c) === 0;
}

export function contains(outer: Cidr, inner: Cidr): boolean {
  return (
    inner.prefix >= outer.prefix &&
    inner.base >= outer.base &&
    inner.base + size(inner) <= outer.base + size(outer)
  );
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

export const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map(
  (t) => parseCidr(t) as Cidr,
);

export function isPrivate(c: Cidr): boolean {
  return PRIVATE_RANGES.some((r) => contains(r, c));
}

/** The `index`-th block of prefix `newPrefix` inside `c`. */
export function subnet(c: Cidr, newPrefix: number, index: number): Cidr {
  return { base: c.base + index * 2 ** (32 - newPrefix), prefix: newPrefix };
}

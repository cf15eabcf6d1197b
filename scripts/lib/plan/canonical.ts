// Canonical JSON: sorted keys and no undefined values, so a plan's files compare byte for byte.

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function sortKeys<T>(obj: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => cmp(a, b)));
}

/** Maps with sorted keys and no undefined values, recursively; array order is kept (it can mean something). */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort(cmp)) if (value[k] !== undefined) out[k] = canonical(value[k]);
    return out;
  }
  return value;
}

/** Drops undefined members, so that what the files hold does not depend on how an input was left out. */
export function sanitize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sanitize);
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = sanitize(v);
    return out;
  }
  return value;
}

// How a problem is told to a person: `gitops-platform:<key.path> = <JSON value>: <what is allowed>`, with the
// value redacted when it may carry a secret, cut when it is long, and a hint when YAML changed its type.
import { PROJECT } from "../core/project";

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid ${PROJECT} stack configuration (${problems.length} problem${problems.length > 1 ? "s" : ""}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

export type Path = ReadonlyArray<string | number>;

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The value at `path` inside `value`, through own properties only. */
export function valueAt(value: unknown, path: Path): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== "object" || !Object.prototype.hasOwnProperty.call(v, p)) return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

/** `network.availabilityZones[1]`, `cluster.addons.vpc-cni`. */
export function pathText(path: Path): string {
  return path
    .map((p, i) =>
      typeof p === "number"
        ? `[${p}]`
        : // An empty key, or one with spaces, dots or non-ASCII, is quoted so the path stays readable.
          i > 0 && !/^[\x21-\x7e]+$/.test(p.replace(/\./g, " "))
          ? `[${JSON.stringify(p)}]`
          : i === 0
            ? p
            : `.${p}`,
    )
    .join("");
}

/** The key as a person writes it in the stack file: provider keys as they are, ours with the namespace. */
export function qualified(key: string): string {
  return /^[^.[]*:/.test(key) ? key : `${PROJECT}:${key}`;
}

// `secure` is how Pulumi writes an encrypted value: its ciphertext is no business of a log either.
const SECRET_KEY_RE =
  /secret|passw(or)?d|token|credential|private.?key|access.?key|session|auth|api.?key|^secure$/i;
/** Strings shaped like tokens or keys: GitHub/GitLab/Slack tokens, AWS access keys, long mixed-case blobs. */
const TOKEN_RE =
  /^(gh[pousr]_|github_pat_|glpat-|xox[abposr]-|AKIA|ASIA|sk-|eyJ)|^(?=.*[A-Z])(?=.*[a-z])(?=.*\d)[A-Za-z0-9+/=_-]{20,}$/;
const MAX_SHOWN = 80;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY_RE.test(key);
}

/** Removes what may be a credential from a string: URL userinfo (any scheme's case), query values, tokens. */
export function redactString(s: string): string {
  if (TOKEN_RE.test(s)) return "(redacted)";
  return s
    .replace(/([a-z][a-z0-9+.-]{0,30}:\/\/)([^/?#\s]*)@/gi, (_m, scheme: string, user: string) =>
      user === "git" ? `${scheme}git@` : `${scheme}***@`,
    )
    .replace(/^[^@/:\s]*:[^@/\s]*@/, "***@")
    .replace(/([?&][^=&#\s]{0,64}=)[^&#\s]*/g, "$1***")
    .replace(/(gh[pousr]_|github_pat_|glpat-|xox[abposr]-)[A-Za-z0-9_-]+/g, "(redacted)")
    .replace(/\b(AKIA|ASIA)[A-Z0-9]{12,}\b/g, "(redacted)");
}

/** A copy safe to print: secret-looking keys and strings redacted, at any depth. */
export function redact(value: unknown, key = ""): unknown {
  if (key && isSecretKey(key) && value !== undefined) return "(redacted)";
  // Only the start of a long string can be shown: redacting just that keeps redaction linear in what is printed.
  if (typeof value === "string")
    return value.length > 2 * MAX_SHOWN
      ? `${redactString(value.slice(0, 2 * MAX_SHOWN))}${"x".repeat(value.length - 2 * MAX_SHOWN)}`
      : redactString(value);
  if (Array.isArray(value)) return value.map((v) => redact(v));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      Object.defineProperty(out, k, { value: redact(v, k), enumerable: true });
    return out;
  }
  return value;
}

/** The value as shown in a message: JSON, redacted, at most 80 characters. */
export function shown(value: unknown, key = ""): string {
  if (value === undefined) return "(unset)";
  let text: string;
  try {
    text = JSON.stringify(redact(value, key)) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…(${text.length} characters)` : text;
}

/** What YAML did to an unquoted value, when a string (or a boolean) was meant. */
export function typeHint(value: unknown, expected: "string" | "boolean" | "number"): string {
  if (value === null)
    return " (YAML reads an empty value, ~ or null as null: give a value, or remove the key for the default)";
  if (expected === "string" && typeof value === "number")
    return " (YAML read an unquoted value as a number, e.g. 1.30 as 1.3 or an all-digit SHA as a float: quote it)";
  if (expected === "string" && typeof value === "boolean")
    return " (YAML read an unquoted value as a boolean: quote it)";
  if (expected === "boolean" && typeof value === "string" && /^(yes|no|on|off|y|n|true|false)$/i.test(value))
    return " (write true or false, unquoted)";
  if (expected === "number" && typeof value === "string" && /^\d+$/.test(value))
    return " (write the number unquoted)";
  return "";
}

/** One problem; `asIs` keeps a stack-level key as written (a bare key is not ours to qualify). */
export function problem(key: string, value: unknown, allowed: string, asIs = false): string {
  const last = key.split(/[.[]/).pop() ?? "";
  const full = asIs ? key : qualified(key);
  const name = full.length > MAX_SHOWN ? `${full.slice(0, MAX_SHOWN - 1)}…` : full;
  return `${name} = ${shown(value, last)}: ${allowed}`;
}

/** Collects every problem instead of stopping at the first, so one run shows a person all there is to fix. */
export class Problems {
  readonly list: string[] = [];
  /** Key paths already reported: rules reading them are skipped, so nothing follows on from one mistake. */
  readonly bad = new Set<string>();

  add(key: string, value: unknown, allowed: string, asIs = false): void {
    this.bad.add(key);
    const text = problem(key, value, allowed, asIs);
    if (!this.list.includes(text)) this.list.push(text);
  }

  /** Whether `key`, anything under it or anything holding it was reported. */
  touched(key: string): boolean {
    return related(this.bad, key);
  }
}

/** Whether a key in `keys` is `key`, lies under it or holds it. */
export function related(keys: Iterable<string>, key: string): boolean {
  const under = (x: string, y: string) => x === y || x.startsWith(`${y}.`) || x.startsWith(`${y}[`);
  for (const k of keys) if (under(k, key) || under(key, k)) return true;
  return false;
}

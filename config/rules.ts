// The building blocks of the schema: each returns a zod schema whose messages say what is allowed, so the rule,
// the type, the JSON Schema and the message come from one declaration.
import { z } from "zod";
import { valueAt } from "./problems";

/**
 * A field a stack file may leave out (optional in its JSON Schema too), and the value it then gets: parsed like a
 * written one, so a section's default is `{}` and each of its fields defaults itself.
 */
export function defaulted<T extends z.ZodType>(schema: T, value: z.input<T>, description?: string) {
  return schema.prefault(value as never).meta({ defaulted: true, ...(description ? { description } : {}) });
}

/**
 * A section a stack file may leave out: parsed as `{}`, so its fields' defaults apply and the keys it requires are
 * reported as unset.
 */
export function omittable<T extends z.ZodType>(schema: T) {
  return schema.prefault({} as never);
}

export const MAX_LIST = 100;

/** A string of at most `max` characters that matches `re`; one message for both, saying what is allowed. */
export function text(what: string, re: RegExp, max = 256) {
  const error = `must be ${what}`;
  return z
    .string({ error })
    .max(max, { error: `must be ${what}, at most ${max} characters`, abort: true })
    .regex(re, { error });
}

export function int(min: number, max: number) {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

export function bool() {
  return z.boolean({ error: "must be true or false" });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.join(", ")}` });
}

export function oneOfNumbers(values: readonly number[]) {
  return z.literal(values as [number, ...number[]], { error: `must be one of ${values.join(", ")}` });
}

export function list<T extends z.ZodType>(item: T, what = "a list of strings") {
  return z
    .array(item, { error: `must be ${what}` })
    .max(MAX_LIST, { error: `must list at most ${MAX_LIST} entries` });
}

/** A closed object: unknown keys are reported one by one with the keys that are allowed. */
export function section<S extends z.core.$ZodLooseShape>(shape: S) {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (iss) => (iss.code === "unrecognized_keys" ? `allowed: ${allowed}` : "must be an object"),
  });
}

/**
 * Adds a problem at `path` (relative to the refined value) from inside a refinement; `shown` replaces the value
 * the message echoes, which is otherwise the value at `path` as the rule saw it: a default where the stack wrote
 * nothing.
 */
export function fail(
  ctx: z.RefinementCtx,
  path: Array<string | number>,
  message: string,
  ...shown: [unknown?]
): void {
  const seen = shown.length > 0 ? shown[0] : valueAt(ctx.value, path);
  ctx.addIssue({
    code: "custom",
    path,
    message,
    ...(shown.length > 0 || seen !== undefined ? { params: { shown: seen } } : {}),
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Hosts and URLs

const LABEL_RE = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A DNS host name in ASCII (international names in punycode, xn--), no label starting or ending with '-'. */
export function hostProblem(host: string): string | undefined {
  if (!/^[\x21-\x7e]+$/.test(host))
    return "must have an ASCII host name: write an international name in punycode (xn--...)";
  if (host.startsWith("-"))
    return "must not have a host starting with '-' (it would be read as an ssh option)";
  const labels = host.toLowerCase().split(".");
  if (host.length > 253 || !labels.every((l) => LABEL_RE.test(l)))
    return "must have a valid host name (letters, digits, '-', dot-separated, no label starting with '-')";
  return undefined;
}

export type RepoUrl = { kind: "https" | "ssh"; host: string };

/**
 * A Git repository URL: https:// (parsed with the WHATWG URL parser, scheme in any case), ssh://git@host/path or
 * the scp form git@host:org/repo. Returns the problem, or the URL's kind.
 */
export function repoUrlProblem(url: string): string | RepoUrl {
  const BAD = "must be an https:// or ssh (ssh://git@host/... or git@host:org/repo) URL";
  if (!/^[\x21-\x7e]+$/.test(url))
    return `${BAD}, in ASCII: write an international host name in punycode (xn--...)`;
  const scp = /^([^@/:]+)@([^/:]+):(.+)$/.exec(url);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    if (scp[1] !== "git") return "must not carry credentials: put them in Secrets Manager";
    const hostIssue = hostProblem(scp[2]);
    if (hostIssue) return hostIssue;
    if (/^[-/]|(^|\/)\.\.(\/|$)|[?#\\]/.test(scp[3]))
      return `${BAD}: a repository path without '..', '?' or '#'`;
    return { kind: "ssh", host: scp[2] };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return BAD;
  }
  const scheme = parsed.protocol.toLowerCase();
  if (scheme !== "https:" && scheme !== "ssh:") return BAD;
  if (parsed.password || (parsed.username && !(scheme === "ssh:" && parsed.username === "git")))
    return "must not carry credentials: put them in Secrets Manager";
  if (scheme === "ssh:" && parsed.username !== "git") return BAD;
  if (parsed.search || parsed.hash)
    return "must not carry a query or fragment (credentials belong in Secrets Manager)";
  const rawHost = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?(\[[^\]]*\]|[^/:]*)/i.exec(url)?.[1] ?? "";
  const hostIssue = hostProblem(rawHost);
  if (hostIssue) return hostIssue;
  if (parsed.pathname.length <= 1) return `${BAD}: with the repository's path`;
  return { kind: scheme === "https:" ? "https" : "ssh", host: parsed.hostname };
}

/** An https:// (or `schemes`) URL without credentials, query or fragment, with an ASCII host. */
export function httpsUrlProblem(url: string, what: string, schemes = ["https:"]): string | undefined {
  if (!/^[\x21-\x7e]+$/.test(url) || /[*?]/.test(url)) return `must be ${what}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `must be ${what}`;
  }
  if (!schemes.includes(parsed.protocol.toLowerCase())) return `must be ${what}`;
  if (parsed.username || parsed.password) return `must be ${what}, without credentials`;
  if (parsed.search || parsed.hash) return `must be ${what}, without a query or fragment`;
  const rawHost = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^/:?#]*)/i.exec(url)?.[1] ?? "";
  return hostProblem(rawHost);
}

// ---------------------------------------------------------------------------------------------------------------
// Git

/** A full commit SHA: SHA-1 (40) or SHA-256 (64) lowercase hex. */
export const SHA_RE = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

/** `git check-ref-format` rules for a branch or tag name (or a full SHA), never an option. */
export function gitRefProblem(ref: string): string | undefined {
  const BAD = "must be a Git ref (git check-ref-format rules)";
  if (ref === "") return `${BAD}, not empty`;
  if (ref.startsWith("-")) return `${BAD}, never starting with '-' (it would be read as an option)`;
  if (/^[0-9a-fA-F]{7,}$/.test(ref) && !SHA_RE.test(ref))
    return "must be a full commit SHA (40 or 64 lowercase hex characters), or a branch or tag name";
  if (/[\s\p{Cc}~^:?*[\\]/u.test(ref)) return `${BAD}: no spaces or any of ~ ^ : ? * [ \\`;
  if (ref.includes("..")) return `${BAD}: no '..'`;
  if (ref.includes("@{") || ref === "@") return `${BAD}: no '@{' and not '@'`;
  if (ref.endsWith("/") || ref.endsWith(".") || ref.startsWith("/") || ref.includes("//"))
    return `${BAD}: no leading, trailing or double '/', no trailing '.'`;
  if (ref.split("/").some((c) => c.startsWith(".") || c.endsWith(".lock")))
    return `${BAD}: no component starting with '.' or ending with .lock`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Durations and time zones

export const DURATION_RE = /^([1-9]\d{0,5}(s|m|h))+$/;

export function durationMinutes(d: string): number {
  let seconds = 0;
  for (const [, n, unit] of d.matchAll(/(\d+)(s|m|h)/g))
    seconds += Number(n) * (unit === "h" ? 3600 : unit === "m" ? 60 : 1);
  return seconds / 60;
}

// Node 20's ICU list of canonical zones leaves out UTC itself and newer canonical names (Asia/Kolkata, Europe/Kyiv,
// Etc/UTC) that it knows as aliases; Argo CD (Go's time package, the full tz database) accepts them all.
const TIME_ZONES = new Set([...Intl.supportedValuesOf("timeZone"), "UTC"]);

export function timeZoneProblem(tz: string): string | undefined {
  if (TIME_ZONES.has(tz)) return undefined;
  let resolved: string | undefined;
  try {
    resolved = new Intl.DateTimeFormat("en", { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    resolved = undefined;
  }
  // ICU matches names case-insensitively; the tz database (a file name to Go) does not.
  const cased = tz.split("/").every((part) => /^[A-Z]/.test(part));
  if (resolved && cased) return undefined;
  return resolved
    ? `must be an IANA time zone, written as the tz database does (${resolved})`
    : "must be an IANA time zone such as Europe/Paris or UTC";
}

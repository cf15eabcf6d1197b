// Every key of the stack's config is known: the gitops-platform namespace, plus the provider keys below. Keys
// that could reach Object.prototype are refused at any depth, and no string may carry control, bidi or
// zero-width characters.
import { z } from "zod";
import { ACCOUNT_RE } from "./aws";
import { addIssues } from "./issues";
import { PROJECT } from "../core/project";
import { isSecretKey, type Problems } from "./problems";
import { list, section, text } from "./rules";
import { tagMap } from "./sections/tags";

/**
 * The provider keys a stack file may set. Credentials are never among them (see CREDENTIAL_RE); the skip* and
 * endpoint keys are left out too: they switch off the provider's own checks or point it at another API.
 */
export const PROVIDER_KEYS: Record<string, { schema: z.ZodType; description: string }> = {
  "aws:region": { schema: z.string(), description: "The AWS region (from the provider's region list)." },
  "aws:profile": {
    schema: text("an AWS CLI profile name", /^[A-Za-z0-9_.+=@-]+$/, 64),
    description: "A named profile of ~/.aws/config for local runs (CI uses OIDC).",
  },
  "aws:allowedAccountIds": {
    schema: list(text("a 12-digit AWS account id", ACCOUNT_RE, 12), "a list of 12-digit AWS account ids").min(
      1,
      {
        error: "must list at least one account id",
      },
    ),
    description: "The provider refuses to run in any other account.",
  },
  "aws:forbiddenAccountIds": {
    schema: list(text("a 12-digit AWS account id", ACCOUNT_RE, 12), "a list of 12-digit AWS account ids"),
    description: "The provider refuses to run in these accounts.",
  },
  "aws:defaultTags": {
    schema: section({ tags: tagMap("Tags the provider adds to every resource.") }),
    description: "Tags the provider adds to every resource (counted in the 50-tag limit).",
  },
};

/** Provider keys that would hold a credential in plain text, in Git and in Pulumi state. */
const CREDENTIAL_RE =
  /^aws:(accessKey|secretKey|token|sessionToken|secretAccessKey|accessKeyId|sharedCredentialsFiles?|password)$/i;
const DANGEROUS = new Set(["__proto__", "constructor", "prototype"]);
// C0/C1 controls, format characters (bidi embeddings, overrides and isolates, zero-width joiners, the BOM),
// line and paragraph separators, unpaired surrogates and noncharacters.
const HOSTILE_RE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\uFFFE\uFFFF]/u;
const MAX_STRING = 4096;
const MAX_DEPTH = 8;

function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}

function describeChar(s: string): string {
  const c = HOSTILE_RE.exec(s)?.[0] ?? "";
  return `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * A copy of `value` as plain data that cannot reach Object.prototype: dangerous keys and hostile strings are
 * reported (and dropped), so the rules only ever read safe values.
 */
export function sanitize(value: unknown, key: string, problems: Problems, depth = 0): unknown {
  if (typeof value === "string") {
    if (HOSTILE_RE.test(value)) {
      problems.add(
        key,
        "(not shown)",
        `must not contain control, bidi or zero-width characters (found ${describeChar(value)})`,
      );
      return undefined;
    }
    if (value.length > MAX_STRING) {
      problems.add(key, value, `must be at most ${MAX_STRING} characters (it has ${value.length})`);
      return undefined;
    }
    return value;
  }
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) {
    problems.add(key, "(not shown)", `must not nest deeper than ${MAX_DEPTH} levels`);
    return undefined;
  }
  if (Array.isArray(value)) return value.map((v, i) => sanitize(v, `${key}[${i}]`, problems, depth + 1));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) {
    const at = key ? `${key}.${k}` : k;
    if (DANGEROUS.has(k)) {
      problems.add(
        at,
        "(not shown)",
        "is not allowed: __proto__, constructor and prototype are refused as keys at any depth",
      );
      continue;
    }
    if (HOSTILE_RE.test(k) || k.length > 128) {
      const printable = `${k.slice(0, 20).replace(/[^\x21-\x7e]/g, "?")}${k.length > 20 ? "..." : ""}`;
      problems.add(
        `${key ? `${key}.` : ""}${printable}`,
        "(not shown)",
        "must be a key of at most 128 characters, without control, bidi or zero-width characters",
      );
      continue;
    }
    const v = sanitize((value as Record<string, unknown>)[k], at, problems, depth + 1);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Checks the keys of a stack's whole config (as Pulumi hands it to the program) outside our namespace. */
export function checkStackKeys(all: Record<string, string>, problems: Problems, known: string[]): void {
  for (const key of Object.keys(all)) {
    if (key.startsWith(`${PROJECT}:`)) continue;
    if (HOSTILE_RE.test(key) || key.length > 256) {
      const printable = JSON.stringify(key.slice(0, 40).replace(/[^\x20-\x7e]/g, "?"));
      problems.add(
        printable,
        "(not shown)",
        "is not a valid key: stack config keys are printable, at most 256 characters",
        true,
      );
      continue;
    }
    if (CREDENTIAL_RE.test(key)) {
      problems.add(
        key,
        "(redacted)",
        "must not be in a stack file: a plaintext credential. CI assumes its role with OIDC; locally use aws:profile or AWS SSO",
      );
      continue;
    }
    // Own keys only: "constructor" is `in` every object.
    if (Object.hasOwn(PROVIDER_KEYS, key)) continue;
    const shownKey = /^[\x21-\x7e]+$/.test(key) ? key : JSON.stringify(key);
    const colon = key.indexOf(":");
    const [ns, rest] = colon < 0 ? ["", key] : [key.slice(0, colon), key.slice(colon + 1)];
    const shownValue = isSecretKey(key) ? "(redacted)" : all[key];
    if (colon < 0) {
      const meant = known.includes(key)
        ? `write ${PROJECT}:${key}`
        : `keys are ${PROJECT}:<key> or a provider key`;
      problems.add(
        shownKey,
        shownValue,
        `is not namespaced: ${meant} (${Object.keys(PROVIDER_KEYS).join(", ")})`,
        true,
      );
    } else if (ns !== "aws" && distance(ns, PROJECT) <= 3) {
      problems.add(shownKey, shownValue, `is not a known namespace: did you mean ${PROJECT}:${rest}?`, true);
    } else {
      problems.add(
        shownKey,
        shownValue,
        `is not a known key; allowed: ${PROJECT}:*, ${Object.keys(PROVIDER_KEYS).join(", ")}`,
        true,
      );
    }
  }
}

/** Parses a provider key's value (structured values arrive as JSON) and checks it. */
export function checkProviderValues(
  all: Record<string, string>,
  problems: Problems,
  parse: (text: string) => unknown,
): number {
  let defaultTags = 0;
  for (const [key, p] of Object.entries(PROVIDER_KEYS)) {
    if (key === "aws:region" || !(key in all)) continue;
    const value = sanitize(parse(all[key]), key, problems);
    if (problems.touched(key)) continue;
    const r = p.schema.safeParse(value);
    if (!r.success) addIssues(r.error.issues, value, [key], problems);
    else if (key === "aws:defaultTags") defaultTags = Object.keys((r.data as { tags: object }).tags).length;
  }
  return defaultTags;
}

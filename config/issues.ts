// zod's issues as our problems: one per key path, the value the stack wrote, and a hint when YAML changed its type.
import type { z } from "zod";
import { type Path, pathText, type Problems, related, typeHint, valueAt } from "./problems";

/** Adds `issues` (of parsing `input`, found at `prefix`) to `problems`. */
export function addIssues(
  issues: z.core.$ZodIssue[],
  input: unknown,
  prefix: Path,
  problems: Problems,
): void {
  const reported = new Set<string>();
  // Values reported (and dropped) by the sanitizer: what zod says about them, or about what holds them, would
  // only follow on from that.
  const before = new Set(problems.bad);
  for (const iss of issues) {
    const path = [...prefix, ...(iss.path as Path)];
    if (related(before, pathText(path))) continue;
    if (iss.code === "unrecognized_keys") {
      const obj = valueAt(input, iss.path as Path) as Record<string, unknown>;
      const allowed = iss.message.replace(/^allowed: /, "");
      for (const k of iss.keys)
        problems.add(pathText([...path, k]), obj?.[k], `is not a known key; allowed: ${allowed}`);
      continue;
    }
    const key = pathText(path);
    // The first problem of a key is the one to fix; more about the same value would only repeat it.
    if (reported.has(key)) continue;
    reported.add(key);
    const params = (iss as { params?: { shown?: unknown } }).params;
    const value = params && "shown" in params ? params.shown : valueAt(input, iss.path as Path);
    let message = iss.code === "invalid_key" ? (iss.issues[0]?.message ?? iss.message) : iss.message;
    if (
      iss.code === "invalid_type" ||
      iss.code === "invalid_format" ||
      iss.code === "invalid_value" ||
      iss.code === "custom"
    ) {
      const expected: string | undefined =
        iss.code === "invalid_type" ? iss.expected : typeof value === "number" ? "string" : undefined;
      if (expected === "string" || expected === "boolean" || expected === "number")
        message += typeHint(value, expected);
    }
    problems.add(key, value, message);
  }
}

/**
 * How the two progressive-delivery controllers turn a Prometheus answer into a decision, reimplemented from their
 * sources at the pinned versions so tests can feed sample results through the template's real conditions:
 * - Argo Rollouts v1.8.3: `{{args.x}}` substitution over the whole metric (utils/template), a vector becomes
 *   `result` as a list of floats (metricproviders/prometheus), conditions are expr-lang expressions
 *   (utils/evaluate: success/failure/inconclusive), limits per metric (analysis/analysis.go assessMetricStatus), the
 *   worst metric decides the run, and the Rollout aborts on Failed/Error and pauses on Inconclusive.
 * - Flagger 1.44.0: Go-template functions `{{ namespace }}`, `{{ target }}`, ... (pkg/metrics/observers/render.go), the
 *   last sample of the vector is the value and none or NaN is "no values found" (pkg/metrics/providers/prometheus.go),
 *   which fails the check like a threshold breach (pkg/controller/scheduler_metrics.go).
 * The expression evaluator accepts exactly the subset the template uses and throws on anything else, so a condition
 * outside it fails a test instead of being judged by a guess.
 */

// ---- Argo Rollouts -------------------------------------------------------------------------------------------

export type ArgoPhase = "Successful" | "Failed" | "Inconclusive" | "Error";

/** `{{ args.name }}` substitution; an unresolved tag is an error, as in Rollouts. */
export function resolveArgoArgs(text: string, args: Record<string, string>): string {
  return text.replace(/\{\{(.*?)\}\}/g, (_, tag: string) => {
    const m = /^args\.(.+)$/.exec(tag.trim());
    if (!m || !(m[1] in args)) throw new Error(`failed to resolve {{${tag}}}`);
    return args[m[1]];
  });
}

type Value = number | boolean | string | number[];
type Node =
  | { t: "num"; v: number }
  | { t: "str"; v: string }
  | { t: "id"; name: string }
  | { t: "not"; e: Node }
  | { t: "neg"; e: Node }
  | { t: "bin"; op: string; l: Node; r: Node }
  | { t: "call"; fn: string; args: Node[] }
  | { t: "index"; e: Node; i: Node };

const TOKEN =
  /\s*(?:(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|("(?:[^"\\]|\\.)*")|([A-Za-z_]\w*)|(&&|\|\||==|!=|<=|>=|[<>!()[\],-]))/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    if (/^\s*$/.test(src.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(src);
    if (!m) throw new Error(`unsupported expression syntax at ${at}: ${src.slice(at)}`);
    out.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  }
  return out;
}

/** Parses the expr-lang subset: || && ! comparisons, unary minus, len/isNaN/isInf calls, indexing, literals. */
export function parseCondition(src: string): Node {
  const toks = tokenize(src);
  let i = 0;
  const peek = (): string | undefined => toks[i];
  const eat = (t?: string): string => {
    const tok = toks[i++];
    if (tok === undefined || (t !== undefined && tok !== t))
      throw new Error(`expected ${t ?? "a token"} in: ${src}`);
    return tok;
  };
  const or = (): Node => {
    let l = and();
    while (peek() === "||") l = { t: "bin", op: eat(), l, r: and() };
    return l;
  };
  const and = (): Node => {
    let l = cmp();
    while (peek() === "&&") l = { t: "bin", op: eat(), l, r: cmp() };
    return l;
  };
  const cmp = (): Node => {
    const l = unary();
    const op = peek();
    if (op && ["==", "!=", "<", "<=", ">", ">="].includes(op)) return { t: "bin", op: eat(), l, r: unary() };
    return l;
  };
  const unary = (): Node => {
    if (peek() === "!" || peek() === "-") {
      const op = eat();
      const e = unary();
      return op === "!" ? { t: "not", e } : { t: "neg", e };
    }
    return postfix();
  };
  const postfix = (): Node => {
    let e = primary();
    while (peek() === "[") {
      eat("[");
      e = { t: "index", e, i: or() };
      eat("]");
    }
    return e;
  };
  const primary = (): Node => {
    const tok = eat();
    if (tok === "(") {
      const e = or();
      eat(")");
      return e;
    }
    if (/^\d/.test(tok)) return { t: "num", v: Number(tok) };
    if (tok.startsWith('"')) return { t: "str", v: JSON.parse(tok) as string };
    if (/^[A-Za-z_]/.test(tok)) {
      if (peek() !== "(") return { t: "id", name: tok };
      eat("(");
      const args: Node[] = [];
      while (peek() !== ")") {
        args.push(or());
        if (peek() === ",") eat(",");
      }
      eat(")");
      return { t: "call", fn: tok, args };
    }
    throw new Error(`unexpected ${tok} in: ${src}`);
  };
  const node = or();
  if (i !== toks.length) throw new Error(`trailing ${toks.slice(i).join(" ")} in: ${src}`);
  return node;
}

function evalNode(n: Node, env: { result: unknown }): Value {
  switch (n.t) {
    case "num":
    case "str":
      return n.v;
    case "id":
      if (n.name === "result") return env.result as Value;
      if (n.name === "true" || n.name === "false") return n.name === "true";
      throw new Error(`unknown identifier ${n.name}`);
    case "not":
      return !bool(evalNode(n.e, env));
    case "neg":
      return -num(evalNode(n.e, env));
    case "index": {
      const list = evalNode(n.e, env);
      const idx = num(evalNode(n.i, env));
      if (!Array.isArray(list)) throw new Error("index of a non-list");
      // expr-lang: out of range is a runtime error, which Rollouts records as a measurement Error.
      if (!Number.isInteger(idx) || idx < 0 || idx >= list.length)
        throw new Error(`index out of range: ${idx} (len ${list.length})`);
      return list[idx];
    }
    case "call": {
      const args = n.args.map((a) => evalNode(a, env));
      if (n.fn === "len" && args.length === 1 && (Array.isArray(args[0]) || typeof args[0] === "string"))
        return args[0].length;
      if (n.fn === "isNaN" && args.length === 1) return Number.isNaN(num(args[0]));
      if (n.fn === "isInf" && args.length === 1) return Math.abs(num(args[0])) === Infinity;
      throw new Error(`unsupported call ${n.fn}/${args.length}`);
    }
    case "bin": {
      // && and || short-circuit in expr-lang: `len(result) == 1 && result[0] ...` never indexes an empty list.
      if (n.op === "&&") return bool(evalNode(n.l, env)) && bool(evalNode(n.r, env));
      if (n.op === "||") return bool(evalNode(n.l, env)) || bool(evalNode(n.r, env));
      const l = evalNode(n.l, env);
      const r = evalNode(n.r, env);
      if (n.op === "==") return l === r;
      if (n.op === "!=") return l !== r;
      const a = num(l);
      const b = num(r);
      if (n.op === "<") return a < b;
      if (n.op === "<=") return a <= b;
      if (n.op === ">") return a > b;
      return a >= b;
    }
  }
}

const num = (v: Value): number => {
  if (typeof v !== "number") throw new Error(`expected a number, got ${JSON.stringify(v)}`);
  return v;
};
const bool = (v: Value): boolean => {
  if (typeof v !== "boolean") throw new Error(`expected a bool, got ${JSON.stringify(v)}`);
  return v;
};

export function evalCondition(condition: string, result: unknown): boolean {
  const out = evalNode(parseCondition(condition), { result });
  if (typeof out !== "boolean") throw new Error(`expected bool, but got ${typeof out}`);
  return out;
}

export interface ArgoMetric {
  name: string;
  count?: number;
  failureLimit?: number;
  inconclusiveLimit?: number;
  consecutiveErrorLimit?: number;
  successCondition?: string;
  failureCondition?: string;
}

/** utils/evaluate EvaluateResult: one measurement's phase; a condition that cannot be evaluated is Error. */
export function evaluateArgoResult(metric: ArgoMetric, result: unknown): ArgoPhase {
  let success = false;
  let failure = false;
  try {
    if (metric.successCondition) success = evalCondition(metric.successCondition, result);
    if (metric.failureCondition) failure = evalCondition(metric.failureCondition, result);
  } catch {
    return "Error";
  }
  if (!metric.successCondition && !metric.failureCondition) return "Successful";
  if (metric.successCondition && !metric.failureCondition) failure = !success;
  if (!metric.successCondition && metric.failureCondition) success = !failure;
  if (failure) return "Failed";
  if (!success) return "Inconclusive";
  return "Successful";
}

/** A Prometheus instant-vector answer: the sample values, in order; `null` stands for an unreachable server. */
export type Answer = number[] | null;

/**
 * analysis/analysis.go: takes measurements one by one until the metric completes (limits, then count). A null answer
 * is a failed query (a measurement Error). Returns the metric's phase.
 */
export function runArgoMetric(metric: ArgoMetric, answers: Answer[]): ArgoPhase {
  const count = metric.count ?? 1;
  const failureLimit = metric.failureLimit ?? 0;
  const inconclusiveLimit = metric.inconclusiveLimit ?? 0;
  const consecutiveErrorLimit = metric.consecutiveErrorLimit ?? 4;
  let failed = 0;
  let inconclusive = 0;
  let consecutiveErrors = 0;
  let measured = 0;
  for (const answer of answers) {
    const phase = answer === null ? "Error" : evaluateArgoResult(metric, answer);
    if (phase === "Error") consecutiveErrors++;
    else {
      consecutiveErrors = 0;
      measured++;
    }
    if (phase === "Failed") failed++;
    if (phase === "Inconclusive") inconclusive++;
    if (consecutiveErrors > consecutiveErrorLimit) return "Error";
    if (inconclusive > inconclusiveLimit) return "Inconclusive";
    if (failureLimit >= 0 && failed > failureLimit) return "Failed";
    if (measured >= count) return "Successful";
  }
  throw new Error(`${metric.name}: ran out of sample answers before the metric completed`);
}

const ORDER: ArgoPhase[] = ["Successful", "Inconclusive", "Error", "Failed"];

/** The run takes its worst metric's phase; the Rollout aborts on Failed/Error and pauses on Inconclusive. */
export function argoRolloutDecision(phases: ArgoPhase[]): "promote" | "pause" | "abort" {
  const worst = phases.reduce((a, b) => (ORDER.indexOf(b) > ORDER.indexOf(a) ? b : a), "Successful");
  return worst === "Successful" ? "promote" : worst === "Inconclusive" ? "pause" : "abort";
}

// ---- Flagger ------------------------------------------------------------------------------------------------

export interface FlaggerModel {
  name: string;
  namespace: string;
  target: string;
  service: string;
  interval: string;
}

/** Flagger's query template: `{{ fn }}` for each model field; anything else is a render error (missingkey=error). */
export function renderFlaggerQuery(query: string, model: FlaggerModel): string {
  return query.replace(/\{\{(.*?)\}\}/g, (_, tag: string) => {
    const key = tag.trim() as keyof FlaggerModel;
    if (!(key in model)) throw new Error(`template: function "${tag.trim()}" not defined`);
    return model[key];
  });
}

/** One check of one metric: the last sample is the value; none, or NaN, fails the check ("no values found"). */
export function flaggerCheck(range: { min?: number; max?: number }, answer: Answer): boolean {
  if (answer === null || answer.length === 0) return false;
  const value = answer[answer.length - 1];
  if (Number.isNaN(value)) return false;
  if (range.min !== undefined && value < range.min) return false;
  if (range.max !== undefined && value > range.max) return false;
  return true;
}

/**
 * Blue/green analysis (iterations): every interval all metrics are checked; a failed check counts towards
 * `threshold` (rollback when reached), `iterations` passed checks promote.
 */
export function flaggerDecision(
  analysis: { threshold: number; iterations: number },
  checks: boolean[][],
): "promote" | "rollback" {
  let failed = 0;
  let passed = 0;
  for (const interval of checks) {
    if (interval.every(Boolean)) passed++;
    else failed++;
    if (failed >= analysis.threshold) return "rollback";
    if (passed >= analysis.iterations) return "promote";
  }
  throw new Error("ran out of sample intervals before the analysis completed");
}

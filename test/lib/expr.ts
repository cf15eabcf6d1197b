/**
 * A small evaluator for the subset of expr-lang (github.com/expr-lang/expr, v1.17 in Argo CD v3.4) that the
 * platform's notification triggers use, with expr-lang's runtime semantics for that subset:
 * - `a.b` on a map gives the key's value, nil when the key is missing; on nil it is a runtime error
 *   ("cannot fetch b from <nil>"), which is why triggers guard with `!= nil`; `a?.b` on nil gives nil;
 * - `a['k']` indexes a map the same way; `[x, y]` is an array literal; `x in [..]` compares with `==`;
 * - `==`/`!=` compare values of the same kind (nil equals only nil); `and`/`or` short-circuit and need bool
 *   operands; `not`/`!` negate a bool.
 * Anything else (arithmetic, functions, closures, pipes) is a syntax error here, so a trigger that grows past
 * this subset fails its test instead of being evaluated wrongly. The notifications controller treats a
 * runtime error or a non-bool result as "not triggered" (notifications-engine pkg/triggers/service.go); so
 * does `triggered`.
 */

type Value = unknown;
type Env = Record<string, Value>;

type Node =
  | { t: "lit"; v: Value }
  | { t: "id"; name: string }
  | { t: "member"; obj: Node; key: Node; optional: boolean }
  | { t: "array"; items: Node[] }
  | { t: "not"; x: Node }
  | { t: "bin"; op: string; l: Node; r: Node };

const TOKEN =
  /\s*(?:(\?\.)|(==|!=|&&|\|\||!)|([()[\],.])|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(\d+(?:\.\d+)?)|([A-Za-z_$][\w$]*))/y;

interface Token {
  kind: "op" | "punct" | "str" | "num" | "word";
  text: string;
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(src);
    if (!m) throw new SyntaxError(`unsupported syntax at ${pos}: ${src.slice(pos, pos + 20)}`);
    pos = TOKEN.lastIndex;
    if (m[1] || m[2]) out.push({ kind: "op", text: m[1] ?? m[2] });
    else if (m[3]) out.push({ kind: "punct", text: m[3] });
    else if (m[4] !== undefined || m[5] !== undefined)
      out.push({ kind: "str", text: (m[4] ?? m[5]).replace(/\\(.)/g, "$1") });
    else if (m[6]) out.push({ kind: "num", text: m[6] });
    else out.push({ kind: "word", text: m[7] });
  }
  return out;
}

// expr-lang's binary precedences for the operators of the subset (parser/operator: or 10, and 15, == != in 20).
const BINARY: Record<string, { op: string; prec: number }> = {
  or: { op: "or", prec: 10 },
  "||": { op: "or", prec: 10 },
  and: { op: "and", prec: 15 },
  "&&": { op: "and", prec: 15 },
  "==": { op: "==", prec: 20 },
  "!=": { op: "!=", prec: 20 },
  in: { op: "in", prec: 20 },
};

export function parse(src: string): Node {
  const toks = tokenize(src);
  let i = 0;
  const peek = () => toks[i];
  const take = (text?: string) => {
    const tok = toks[i];
    if (!tok || (text !== undefined && tok.text !== text))
      throw new SyntaxError(`expected ${text ?? "a token"} at token ${i} of ${src}`);
    i++;
    return tok;
  };

  const primary = (): Node => {
    const tok = take();
    if (tok.kind === "str") return { t: "lit", v: tok.text };
    if (tok.kind === "num") return { t: "lit", v: Number(tok.text) };
    if (tok.text === "(") {
      const e = expression(0);
      take(")");
      return e;
    }
    if (tok.text === "[") {
      const items: Node[] = [];
      while (peek()?.text !== "]") {
        items.push(expression(0));
        if (peek()?.text === ",") take(",");
        else break;
      }
      take("]");
      return { t: "array", items };
    }
    if (tok.text === "not" || tok.text === "!") return { t: "not", x: unary() };
    if (tok.kind === "word") {
      if (tok.text === "nil") return { t: "lit", v: null };
      if (tok.text === "true" || tok.text === "false") return { t: "lit", v: tok.text === "true" };
      if (tok.text in BINARY) throw new SyntaxError(`unexpected ${tok.text} in ${src}`);
      return { t: "id", name: tok.text };
    }
    throw new SyntaxError(`unexpected ${tok.text} in ${src}`);
  };

  const unary = (): Node => {
    let node = primary();
    for (;;) {
      const tok = peek();
      if (tok?.text === "." || tok?.text === "?.") {
        take();
        const next = peek();
        if (next?.text === "[" && tok.text === "?.") {
          take("[");
          const key = expression(0);
          take("]");
          node = { t: "member", obj: node, key, optional: true };
          continue;
        }
        const name = take();
        if (name.kind !== "word") throw new SyntaxError(`expected a field name after ${tok.text} in ${src}`);
        node = { t: "member", obj: node, key: { t: "lit", v: name.text }, optional: tok.text === "?." };
      } else if (tok?.text === "[") {
        take("[");
        const key = expression(0);
        take("]");
        node = { t: "member", obj: node, key, optional: false };
      } else if (tok?.text === "(") {
        throw new SyntaxError(`function calls are outside the supported subset: ${src}`);
      } else return node;
    }
  };

  const expression = (minPrec: number): Node => {
    let left = unary();
    for (;;) {
      const tok = peek();
      const bin = tok && BINARY[tok.text];
      if (!bin || bin.prec < minPrec) return left;
      take();
      const right = expression(bin.prec + 1);
      left = { t: "bin", op: bin.op, l: left, r: right };
    }
  };

  const tree = expression(0);
  if (i !== toks.length) throw new SyntaxError(`unexpected ${toks[i].text} in ${src}`);
  return tree;
}

class ExprRuntimeError extends Error {}

const isMap = (v: Value): v is Record<string, Value> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function equal(a: Value, b: Value): boolean {
  if (a === null || a === undefined || b === null || b === undefined)
    return (a ?? null) === null && (b ?? null) === null;
  return typeof a === typeof b && a === b;
}

function asBool(v: Value, op: string): boolean {
  if (typeof v !== "boolean")
    throw new ExprRuntimeError(`${op} needs bool operands, got ${JSON.stringify(v)}`);
  return v;
}

function run(n: Node, env: Env): Value {
  switch (n.t) {
    case "lit":
      return n.v;
    case "id":
      return n.name in env ? env[n.name] : null;
    case "array":
      return n.items.map((x) => run(x, env));
    case "not":
      return !asBool(run(n.x, env), "not");
    case "member": {
      const obj = run(n.obj, env);
      const key = run(n.key, env);
      if (obj === null || obj === undefined) {
        if (n.optional) return null;
        throw new ExprRuntimeError(`cannot fetch ${String(key)} from <nil>`);
      }
      if (isMap(obj)) return obj[String(key)] ?? null;
      if (Array.isArray(obj) && typeof key === "number") {
        if (key < 0 || key >= obj.length) throw new ExprRuntimeError(`index out of range: ${key}`);
        return obj[key];
      }
      throw new ExprRuntimeError(`cannot fetch ${String(key)} from ${typeof obj}`);
    }
    case "bin": {
      if (n.op === "and") return asBool(run(n.l, env), "and") && asBool(run(n.r, env), "and");
      if (n.op === "or") return asBool(run(n.l, env), "or") || asBool(run(n.r, env), "or");
      const l = run(n.l, env);
      const r = run(n.r, env);
      if (n.op === "==") return equal(l, r);
      if (n.op === "!=") return !equal(l, r);
      if (!Array.isArray(r)) throw new ExprRuntimeError(`in needs an array on the right`);
      return r.some((x) => equal(l, x));
    }
  }
}

/** Evaluates an expression; throws SyntaxError outside the subset, and a runtime error as expr-lang would. */
export function evaluate(src: string, env: Env): Value {
  return run(parse(src), env);
}

/** What the notifications controller makes of a trigger condition: true only for a bool true result. */
export function triggered(src: string, env: Env): boolean {
  parse(src); // a condition that does not compile is a configuration error, not "false"
  try {
    return evaluate(src, env) === true;
  } catch (err) {
    if (err instanceof ExprRuntimeError) return false;
    throw err;
  }
}

/**
 * PromQL checked with the Prometheus project's own Lezer grammar (@prometheus-io/lezer-promql, what the Prometheus UI
 * parses with): a query with a syntax error has error nodes in its tree. Also lists the metric names and label names
 * a query selects on, so they can be held to what the target really exports.
 */
import { parser } from "@prometheus-io/lezer-promql";

export interface PromqlFacts {
  errors: string[];
  metrics: string[];
  labels: string[];
}

export function inspectPromql(query: string): PromqlFacts {
  const tree = parser.parse(query);
  const errors: string[] = [];
  const metrics = new Set<string>();
  const labels = new Set<string>();
  const text = (from: number, to: number): string => query.slice(from, to);
  tree.iterate({
    enter(node) {
      if (node.type.isError)
        errors.push(`syntax error at ${node.from}: "${text(node.from, node.from + 20)}"`);
      if (node.name === "LabelName") labels.add(text(node.from, node.to));
      if (node.name === "Identifier" && node.node.parent?.name === "VectorSelector")
        metrics.add(text(node.from, node.to));
    },
  });
  return { errors, metrics: [...metrics].sort(), labels: [...labels].sort() };
}

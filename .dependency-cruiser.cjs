// The import rules `npm run lint` holds the code to (dependency-cruiser, type-only imports included): the folders
// form layers and every import goes down, so the README's layer drawing stays true. Order, bottom first:
//   core < config < identity < compute < components < engines < topology < index.ts < scripts < policy < test
// An engine's code stays in its folder and the contract (engines/argo/ is what both Argo CDs share).
const LAYERS = [
  "core",
  "config",
  "identity",
  "compute",
  "components",
  "engines",
  "topology",
  "index.ts",
  "scripts",
  "policy",
  "test",
];
const at = (layer) => (layer.endsWith(".ts") ? `^${layer.replace(".", "\\.")}$` : `^${layer}/`);

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A module circle: the two ends cannot be read, tested or moved apart.",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-test-imports",
      severity: "error",
      comment: "Only tests import test code; what tooling and tests share lives in scripts/lib/.",
      from: { pathNot: "^test/" },
      to: { path: "^test/" },
    },
    ...LAYERS.slice(0, -1).map((layer, n) => ({
      name: `layer-${layer}`,
      severity: "error",
      comment: `${layer} imports only layers below it (${LAYERS.slice(0, n).join(", ") || "none"}).`,
      from: { path: at(layer) },
      to: { path: LAYERS.slice(n + 1).map(at) },
    })),
    {
      name: "engine-stays-in-its-folder",
      severity: "error",
      comment: "One engine never reaches into another's folder; what Argo CDs share is engines/argo/.",
      from: { path: "^engines/([^/]+)/" },
      to: { path: "^engines/[^/]+/", pathNot: ["^engines/$1/", "^engines/argo/"] },
    },
    {
      name: "no-unresolvable",
      severity: "error",
      comment: "An import that resolves to nothing is a rule that cannot be checked.",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|policy/node_modules|\\.cache|bin)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    // The program is CommonJS: packages resolve through their `require` export, as Node resolves them.
    enhancedResolveOptions: { conditionNames: ["require", "node", "default"], exportsFields: ["exports"] },
    cache: { folder: ".cache/depcruise", strategy: "content" },
  },
};

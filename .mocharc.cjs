// mocha's options (`npm run test:unit`). With --parallel, each worker takes the next file in `spec` order when it
// is free: the longest files come first, so that no long file starts last while the other worker has nothing left.
// Every other test file follows in name order; a new file needs no entry here.
const fs = require("node:fs");
const path = require("node:path");

const LONGEST_FIRST = [
  "promote",
  "plan",
  "fleet",
  "gitops-repo",
  "alerts",
  "plan-hostile",
  "eks-argocd",
  "compute-identity",
].map((name) => `test/${name}.test.ts`);
const all = fs
  .readdirSync(path.join(__dirname, "test"))
  .filter((f) => f.endsWith(".test.ts"))
  .map((f) => `test/${f}`)
  .sort();

module.exports = {
  require: ["ts-node/register", "test/lib/setup.ts"],
  spec: [...LONGEST_FIRST.filter((f) => all.includes(f)), ...all.filter((f) => !LONGEST_FIRST.includes(f))],
  extension: ["ts"],
  timeout: 20000,
  reporter: "spec",
};

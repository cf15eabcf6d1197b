#!/usr/bin/env node
// `npm test`: the package.json scripts `typecheck`, `lint` and `test:unit` (mocha), run side by side. None of them
// reads what another writes, and mocha's two workers leave a core idle while they wait on helm, kubectl, git and
// the CLI child processes, which the type check and the lint fill. mocha's output streams as it comes; the type
// check's and the lint's are printed when all three have ended, with a line giving each one's status and time.
// The exit status is 0 only when all three passed. Plain JavaScript so that it starts without ts-node.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { scripts } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
// What `npm run` puts in front of PATH, so that the scripts run the same when this file is run directly.
const env = {
  ...process.env,
  PATH: [path.join(ROOT, "node_modules", ".bin"), process.env.PATH].filter(Boolean).join(path.delimiter),
};

const children = new Set();

/** Runs one package.json script through the shell, as `npm run` does; resolves with its status and output. */
function run(name, streamed) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(scripts[name], {
      cwd: ROOT,
      env,
      shell: true,
      stdio: streamed ? "inherit" : ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    let output = "";
    child.stdout?.on("data", (d) => (output += d));
    child.stderr?.on("data", (d) => (output += d));
    const done = (status, note) => {
      children.delete(child);
      resolve({ name, status, note, output, seconds: (Date.now() - started) / 1000 });
    };
    child.on("error", (err) => done(1, String(err)));
    child.on("close", (code, signal) => done(code ?? 1, signal ? `killed by ${signal}` : undefined));
  });
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
    process.exit(130);
  });
}

// mocha first: it is the longest.
const results = await Promise.all([run("test:unit", true), run("typecheck", false), run("lint", false)]);

for (const r of results.slice(1)) {
  const text = r.output.trimEnd();
  if (text) console.log(`\n> npm run ${r.name}\n${text}`);
}
console.log(
  `\nnpm test: ${results
    .map(
      (r) =>
        `${r.name} ${r.status === 0 ? "passed" : `FAILED (exit ${r.status}${r.note ? `, ${r.note}` : ""})`} in ${r.seconds.toFixed(1)} s`,
    )
    .join(", ")}`,
);
process.exitCode = results.some((r) => r.status !== 0) ? 1 : 0;

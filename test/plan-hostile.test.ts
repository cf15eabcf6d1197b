// The committed corpus of hostile stack files (test/fixtures/hostile/, expectations.json says what each must
// give) through the offline plan's real entry: each is refused with exit 1 (config) or 2 (file structure), the
// message names the key (or file:line:column), no stack trace, no planted secret, nothing planned; the controls plan.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../scripts/plan";

const DIR = path.join(__dirname, "fixtures", "hostile");
const ROOT = path.resolve(__dirname, "..");
type Expectation = { exit: number; mentions: string[]; secrets: string[] };
const EXPECTED = JSON.parse(fs.readFileSync(path.join(DIR, "expectations.json"), "utf8")) as Record<
  string,
  Expectation
>;

/** Runs the plan CLI's main in this process, capturing what it writes. */
async function plan(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: "", stderr: "" };
  const write = (stream: "stdout" | "stderr") => (chunk: string | Uint8Array) => {
    out[stream] += String(chunk);
    return true;
  };
  const saved = { stdout: process.stdout.write, stderr: process.stderr.write };
  process.stdout.write = write("stdout") as typeof process.stdout.write;
  process.stderr.write = write("stderr") as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, ...out };
  } finally {
    process.stdout.write = saved.stdout;
    process.stderr.write = saved.stderr;
  }
}

function assertRefusal(
  file: string,
  e: Expectation,
  res: { code: number; stdout: string; stderr: string },
  out: string,
) {
  const all = res.stdout + res.stderr;
  assert.equal(res.code, e.exit, `${file}: exit ${res.code}\n${all}`);
  assert.doesNotMatch(all, /\n\s+at /, `${file}: stack trace\n${all}`);
  for (const m of e.mentions)
    assert.ok(res.stderr.includes(m), `${file}: no ${JSON.stringify(m)} in\n${res.stderr}`);
  for (const s of e.secrets) assert.ok(!all.includes(s), `${file}: echoed ${s}`);
  assert.ok(!fs.existsSync(out), `${file}: planned`);
  assert.ok(res.stderr.length < 4000, `${file}: ${res.stderr.length} characters of output`);
}

describe("offline plan: the hostile stack file corpus", function () {
  this.timeout(60_000);
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), "plan-hostile-"))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("covers every fixture file, and every expectation has a file", () => {
    const files = fs.readdirSync(DIR).filter((f) => f.endsWith(".yaml"));
    assert.deepEqual(files.sort(), Object.keys(EXPECTED).sort());
    assert.ok(files.length >= 40);
  });

  for (const [file, e] of Object.entries(EXPECTED).filter(([, x]) => x.exit !== 0))
    it(`${file}: exit ${e.exit}, ${e.mentions.join(" / ")}`, async () => {
      const out = path.join(tmp, file);
      assertRefusal(file, e, await plan(["--stack", path.join(DIR, file), "--out", out, "--quiet"]), out);
    });

  for (const file of Object.keys(EXPECTED).filter((f) => EXPECTED[f].exit === 0))
    it(`${file}: a valid control, planned`, async () => {
      const out = path.join(tmp, file);
      const res = await plan(["--stack", path.join(DIR, file), "--out", out, "--quiet"]);
      assert.equal(res.code, 0, res.stderr);
      assert.ok(fs.existsSync(path.join(out, "plan.json")), `${file}: no plan.json`);
    });

  it("through `npm run plan` in a child process: a structure error and a config error", () => {
    for (const file of ["tabs.yaml", "token-in-url.yaml"]) {
      const out = path.join(tmp, `child-${file}`);
      const res = spawnSync(
        "npm",
        ["run", "-s", "plan", "--", "--stack", path.join(DIR, file), "--out", out],
        {
          cwd: ROOT,
          encoding: "utf8",
          timeout: 60_000,
        },
      );
      assertRefusal(
        file,
        EXPECTED[file],
        { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr },
        out,
      );
    }
  });
});

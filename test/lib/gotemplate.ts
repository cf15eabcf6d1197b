// Renders Go text/template strings with the real Go implementation and sprig: Helm's `tpl` executes a string
// as a template with the value it is given as `.`, which is what the Argo CD notifications controller does
// with a notification template and its variables (`.app`, `.context`; sprig minus env, as here).
// One difference: Helm prints a missing key as "" where the controller prints "<no value>".
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { ensureTools } from "../../scripts/lib/kustomize";

const RENDER = `{{- range $name, $text := .Values.templates }}
{{ $name | quote }}: {{ tpl $text $.Values.data | toJson }}
{{- end }}
`;

/** Each template rendered with `data` as its dot; throws with helm's message when one does not parse or run. */
export function renderGoTemplates(templates: Record<string, string>, data: object): Record<string, string> {
  const { helm } = ensureTools();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gotemplate-"));
  try {
    fs.mkdirSync(path.join(dir, "templates"));
    fs.writeFileSync(path.join(dir, "Chart.yaml"), "apiVersion: v2\nname: gotemplate\nversion: 0.0.0\n");
    fs.writeFileSync(path.join(dir, "templates", "out.yaml"), RENDER);
    fs.writeFileSync(path.join(dir, "values.yaml"), stringify({ templates, data }));
    const out = execFileSync(helm, ["template", "render", dir], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return parse(out.replace(/^---.*\n# Source: .*\n/, "")) as Record<string, string>;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`helm tpl failed: ${e.stderr?.trim() || e.message}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

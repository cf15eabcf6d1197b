// Writes config/stack-file.schema.json, the JSON Schema of Pulumi.<stack>.yaml, from the zod schema (config/schema.ts).
// Editors read it through the yaml-language-server modeline of each stack file. `npm run config-schema`;
// test/config-schema.test.ts fails when the committed file is stale.
import * as fs from "node:fs";
import * as path from "node:path";
import { stackFileJsonSchema } from "../config";

export const SCHEMA_FILE = path.resolve(__dirname, "../config/stack-file.schema.json");

export function schemaText(): string {
  return `${JSON.stringify(stackFileJsonSchema(), null, 2)}\n`;
}

if (require.main === module) {
  fs.writeFileSync(SCHEMA_FILE, schemaText());
  process.stdout.write(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)}\n`);
}

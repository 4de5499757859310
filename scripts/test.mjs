#!/usr/bin/env node
// Runs every test suite: node:test (unit, then e2e) and pytest for trainer/.
// Usage: node scripts/test.mjs [unit|e2e|py ...]  (default: all)
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wanted = process.argv.slice(2);
const suites = wanted.length ? wanted : ["unit", "py", "e2e"];

function files(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out.sort();
}

let failed = false;
for (const suite of suites) {
  let r;
  if (suite === "py") {
    console.log("\n=== pytest trainer/tests");
    r = spawnSync(join(root, ".venv", "bin", "python"), ["-m", "pytest", "-q", "trainer/tests"], {
      cwd: root,
      stdio: "inherit",
    });
  } else {
    console.log(`\n=== node --test test/${suite}`);
    r = spawnSync(
      process.execPath,
      ["--import", "tsx", "--test", "--test-concurrency=1", "--test-reporter=spec", ...files(join(root, "test", suite))],
      { cwd: root, stdio: "inherit" },
    );
  }
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);

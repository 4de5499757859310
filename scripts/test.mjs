#!/usr/bin/env node
// Runs every test suite: node:test (unit, then e2e) and pytest for trainer/, then prints one
// closing line with the totals. Usage: node scripts/test.mjs [unit|e2e|py ...]  (default: all)
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wanted = process.argv.slice(2);
const suites = wanted.length ? wanted : ["unit", "py", "e2e"];
const scratch = mkdtempSync(join(tmpdir(), "cosec-test-"));

function files(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out.sort();
}

const totals = { passed: 0, failed: 0, skipped: 0 };
let failed = false;
for (const suite of suites) {
  let r;
  if (suite === "py") {
    console.log("\n=== pytest trainer/tests");
    r = spawnSync(join(root, ".venv", "bin", "python"), ["-m", "pytest", "-q", "trainer/tests"], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
      encoding: "utf8",
    });
    process.stdout.write(r.stdout ?? "");
    const count = (word) => Number((r.stdout ?? "").match(new RegExp(`(\\d+) ${word}`))?.[1] ?? 0);
    totals.passed += count("passed");
    totals.failed += count("failed") + count("error");
    totals.skipped += count("skipped");
  } else {
    console.log(`\n=== node --test test/${suite}`);
    const tap = join(scratch, `${suite}.tap`);
    r = spawnSync(
      process.execPath,
      [
        "--import", "tsx", "--test", "--test-concurrency=1",
        "--test-reporter=spec", "--test-reporter-destination=stdout",
        "--test-reporter=tap", `--test-reporter-destination=${tap}`,
        ...files(join(root, "test", suite)),
      ],
      { cwd: root, stdio: "inherit" },
    );
    let text = "";
    try {
      text = readFileSync(tap, "utf8");
    } catch {
      /* the runner died before writing: counted as a failure below */
    }
    const count = (word) => Number(text.match(new RegExp(`^# ${word} (\\d+)$`, "m"))?.[1] ?? 0);
    totals.passed += count("pass");
    totals.failed += count("fail") + count("cancelled");
    totals.skipped += count("skipped");
  }
  if (r.status !== 0) failed = true;
}
console.log(`\nall suites: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(failed ? 1 : 0);

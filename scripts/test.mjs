#!/usr/bin/env node
// Runs every test suite: node:test (unit, then e2e) and pytest for trainer/, then prints one
// closing line with the totals. Usage: node scripts/test.mjs [unit|e2e|py ...]  (default: all)
// Every skipped test is listed with its reason. Under CI=true a skip fails the run unless its reason
// matches EXPECTED_SKIPS: a test that needs something set-up installs (bubblewrap, cppcheck, clang,
// bandit, the addon) must run in CI, so a CI that lost a set-up step cannot pass quietly.
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

// Components set-up does not install (CodeQL's licence forbids it; a GPU is lent to some machines only).
const EXPECTED_SKIPS = [/codeql/i, /\b(gpu|cuda)\b/i];
const ci = process.env.CI === "true";

const totals = { passed: 0, failed: 0, skipped: 0 };
const skips = []; // { suite, name, reason }
let failed = false;
for (const suite of suites) {
  let r;
  if (suite === "py") {
    console.log("\n=== pytest trainer/tests");
    r = spawnSync(join(root, ".venv", "bin", "python"), ["-m", "pytest", "-q", "-rs", "trainer/tests"], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
      encoding: "utf8",
    });
    process.stdout.write(r.stdout ?? "");
    const count = (word) => Number((r.stdout ?? "").match(new RegExp(`(\\d+) ${word}`))?.[1] ?? 0);
    totals.passed += count("passed");
    totals.failed += count("failed") + count("error");
    totals.skipped += count("skipped");
    // -rs: "SKIPPED [1] trainer/tests/test_x.py:12: reason"
    for (const m of (r.stdout ?? "").matchAll(/^SKIPPED \[\d+\] ([^:]+:\d+): (.*)$/gm)) skips.push({ suite, name: m[1], reason: m[2] });
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
    for (const m of text.matchAll(/^\s*ok \d+ - (.*?) # SKIP ?(.*)$/gm)) skips.push({ suite, name: m[1], reason: m[2] || "no reason given" });
  }
  if (r.status !== 0) failed = true;
}
const unexpected = skips.filter((k) => !EXPECTED_SKIPS.some((re) => re.test(k.reason)));
if (skips.length > 0) {
  console.log(`\nskipped tests (${skips.length}):`);
  for (const k of skips) console.log(`  [${k.suite}] ${k.name}: ${k.reason}${unexpected.includes(k) ? "" : " (expected)"}`);
}
if (ci && unexpected.length > 0) {
  console.log(`\nCI=true: ${unexpected.length} skip(s) of components set-up installs; the run fails (see the list above)`);
  failed = true;
}
console.log(`\nall suites: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(failed ? 1 : 0);

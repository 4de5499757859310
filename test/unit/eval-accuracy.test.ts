// `cosec eval analyzer`: accuracy arithmetic on a hand-made pairs folder, and the built-in
// analyzer's figures on SVEN's validation pairs held above the floors measured when writing it.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { evaluatePairs, loadPairs, summarizeAccuracy } from "../../src/eval/accuracy.ts";
import { BuiltinAnalyzer } from "../../src/eval/analyzers/builtin.ts";
import { closeSharedPythonWorker } from "../../src/eval/python-worker.ts";
import { dataRoot } from "../../src/paths.ts";
import { DatasetLineError } from "../../src/errors.ts";

after(() => closeSharedPythonWorker());

const pair = (before: string, after: string, file = "x.py") =>
  JSON.stringify({ func_name: "f", func_src_before: before, func_src_after: after, file_name: file });

test("TPR, FPR and balanced accuracy from labelled pairs; other languages skipped", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cosec-pairs-"));
  const vuln = `def f(c, x):\n    c.execute("SELECT * FROM t WHERE a = '%s'" % x)\n`;
  const fixed = `def f(c, x):\n    c.execute("SELECT * FROM t WHERE a = %s", (x,))\n`;
  writeFileSync(
    join(dir, "cwe-089.jsonl"),
    [pair(vuln, fixed), pair(vuln, vuln), pair(fixed, fixed), pair("int f(void) { return 0; }", "int f(void) { return 1; }", "a.c")].join("\n") + "\n",
  );
  const { pairs, skipped } = loadPairs(dir);
  assert.equal(pairs.length, 3);
  assert.equal(skipped.get("CWE-089"), 1);
  const rows = summarizeAccuracy(await evaluatePairs(new BuiltinAnalyzer(), pairs), skipped);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].tpr, 2 / 3);
  assert.equal(rows[0].fpr, 1 / 3);
  assert.equal(rows[0].balancedAccuracy, (2 / 3 + 1 - 1 / 3) / 2);
  assert.equal(rows[0].separated, 1 / 3);
  writeFileSync(join(dir, "cwe-078.jsonl"), "{broken\n");
  assert.throws(() => loadPairs(dir), (e: unknown) => e instanceof DatasetLineError && /cwe-078\.jsonl:1: not valid JSON/.test(e.message));
});

// Balanced accuracy on SVEN val measured with these rules (see the report of `cosec eval analyzer`);
// the floors sit a little below so that honest rule changes can move them, regressions cannot.
const VAL_FLOORS: Record<string, number> = {
  "CWE-089": 0.95,
  "CWE-022": 0.8,
  "CWE-078": 0.9,
  "CWE-079": 0.6,
};

// The same on the (larger) train split, where the rules were developed: a finer regression guard.
const TRAIN_FLOORS: Record<string, number> = {
  "CWE-089": 0.95, "CWE-078": 0.86, "CWE-022": 0.8, "CWE-079": 0.77,
  "CWE-190": 0.63, "CWE-416": 0.55, "CWE-476": 0.55, "CWE-125": 0.5, "CWE-787": 0.5,
};

test("built-in analyzer on SVEN train pairs stays above its measured floors", async () => {
  const { pairs, skipped } = loadPairs(join(dataRoot(), "datasets", "sven", "data_train_val", "train"));
  const rows = summarizeAccuracy(await evaluatePairs(new BuiltinAnalyzer(undefined, false), pairs), skipped);
  assert.equal(rows.length, 9);
  for (const r of rows) {
    const floor = TRAIN_FLOORS[r.cwe];
    assert.ok(r.balancedAccuracy >= floor, `${r.cwe}: balanced accuracy ${r.balancedAccuracy.toFixed(3)} < ${floor}`);
  }
});

test("built-in analyzer on SVEN val pairs stays above its measured floors", async () => {
  const { pairs, skipped } = loadPairs(join(dataRoot(), "datasets", "sven", "data_train_val", "val"));
  const rows = summarizeAccuracy(await evaluatePairs(new BuiltinAnalyzer(undefined, false), pairs), skipped);
  assert.equal(rows.length, 9);
  for (const r of rows) {
    const floor = VAL_FLOORS[r.cwe] ?? 0.45;
    assert.ok(r.balancedAccuracy >= floor, `${r.cwe}: balanced accuracy ${r.balancedAccuracy.toFixed(3)} < ${floor}`);
  }
});

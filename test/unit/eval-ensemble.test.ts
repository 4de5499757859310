// The ensemble rule: a program is flagged for a CWE when any tool trusted for it reports it; the
// findings of untrusted tools for that CWE are dropped. On findings from two real tools.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BanditAnalyzer, banditAvailable } from "../../src/eval/analyzers/bandit.ts";
import { BuiltinAnalyzer } from "../../src/eval/analyzers/builtin.ts";
import { ENSEMBLE_RULE, EnsembleAnalyzer, combineFindings, type EnsembleRule } from "../../src/eval/analyzers/ensemble.ts";
import type { Finding } from "../../src/eval/analyzers/types.ts";
import { closeSharedPythonWorker } from "../../src/eval/python-worker.ts";

const skip = banditAvailable() ? false : "bandit is not installed (npm run setup installs it)";
if (skip && process.env.CI === "true") test("bandit is installed", () => assert.fail("bandit is missing: the ensemble tests must run in CI"));

const f = (tool: string, cwe: string, line: number, rule = `${tool}-rule`): Finding => ({ tool, cwe, line, rule, message: "" });

test("combineFindings keeps a CWE's findings from its trusted tools only", () => {
  const rule: EnsembleRule = { py: { "CWE-089": ["builtin"], "CWE-502": ["builtin", "bandit"] } };
  const out = combineFindings("py", [f("bandit", "CWE-089", 2), f("builtin", "CWE-089", 2), f("bandit", "CWE-502", 5), f("bandit", "CWE-330", 7)], rule);
  // 089: bandit is not trusted; 502: bandit is; 330: no entry, every tool counts
  assert.deepEqual(out.map((x) => `${x.tool}:${x.cwe}`), ["builtin:CWE-089", "bandit:CWE-502", "bandit:CWE-330"]);
});

test("combineFindings drops exact duplicates and orders by line", () => {
  const out = combineFindings("c", [f("clang", "CWE-476", 9), f("builtin", "CWE-476", 3), f("clang", "CWE-476", 9)], { c: { "CWE-476": ["builtin", "clang"] } });
  assert.deepEqual(out.map((x) => `${x.tool}:${x.line}`), ["builtin:3", "clang:9"]);
});

test("every CWE of the default rule names at least one tool", () => {
  for (const [lang, table] of Object.entries(ENSEMBLE_RULE)) {
    for (const [cwe, tools] of Object.entries(table ?? {})) assert.ok(tools.length > 0, `${lang} ${cwe}`);
  }
});

test("the ensemble on real builtin and bandit runs", { skip }, async () => {
  const rule: EnsembleRule = { py: { "CWE-089": ["builtin"], "CWE-502": ["bandit"] } };
  const ens = new EnsembleAnalyzer([new BuiltinAnalyzer(), new BanditAnalyzer()], rule);
  try {
    const sql = `def get(cur, name):\n    cur.execute("SELECT * FROM t WHERE n = '%s'" % name)\n`;
    const r1 = await ens.analyze({ language: "py", code: sql });
    assert.ok(r1.complete);
    // both tools see the query; only the trusted one's finding stays
    assert.deepEqual([...new Set(r1.findings.filter((x) => x.cwe === "CWE-089").map((x) => x.tool))], ["builtin"]);
    const pickle = `import pickle\ndef load(blob):\n    return pickle.loads(blob)\n`;
    const r2 = await ens.analyze({ language: "py", code: pickle });
    assert.deepEqual([...new Set(r2.findings.filter((x) => x.cwe === "CWE-502").map((x) => x.tool))], ["bandit"]);
    const fixed = `import json\ndef load(blob):\n    return json.loads(blob)\n`;
    const [a, b] = await ens.analyzeBatch([{ language: "py", code: fixed }, { language: "py", code: pickle }]);
    assert.equal(a.findings.filter((x) => x.cwe === "CWE-502").length, 0);
    assert.ok(b.findings.some((x) => x.cwe === "CWE-502" && x.tool === "bandit"));
    assert.ok(ens.covers("py", "CWE-502") && ens.covers("py", "CWE-089"));
    assert.equal(ens.covers("c", "CWE-089"), false);
  } finally {
    await ens.close();
    closeSharedPythonWorker();
  }
});

test("fitCwe picks the subset whose union separates the tuning pairs best, the smaller on ties", async () => {
  const { fitCwe } = await import("../../src/eval/ensemble-fit.ts");
  const p = (a: [boolean, boolean], b: [boolean, boolean]) => new Map([["builtin", a], ["clang", b]]);
  // clang finds what builtin misses and never flags a fix: the union wins
  const fit = fitCwe("CWE-476", ["builtin", "clang"], [p([true, false], [false, false]), p([false, false], [true, false]), p([true, false], [true, false])]);
  assert.deepEqual(fit.tools, ["builtin", "clang"]);
  assert.equal(fit.balancedAccuracy, 1);
  // clang adds only false positives: builtin alone
  const fit2 = fitCwe("CWE-476", ["builtin", "clang"], [p([true, false], [true, true]), p([true, false], [false, true])]);
  assert.deepEqual(fit2.tools, ["builtin"]);
  // both equal: the first alone
  const fit3 = fitCwe("CWE-476", ["builtin", "clang"], [p([true, false], [true, false])]);
  assert.deepEqual(fit3.tools, ["builtin"]);
  assert.deepEqual(fit3.alone, { builtin: 1, clang: 1 });
});

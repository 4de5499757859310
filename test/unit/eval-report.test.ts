import assert from "node:assert/strict";
import { test } from "node:test";
import { renderReport } from "../../src/eval/report/index.ts";
import type { SampleRecord } from "../../src/eval/security.ts";
import { wilson } from "../../src/eval/stats.ts";
import { summarizeSecurity, securityReportHtml } from "../../src/eval/summary.ts";

test("wilson interval: known values and edge cases", () => {
  const w = wilson(8, 10);
  assert.equal(w.value, 0.8);
  assert.ok(Math.abs((w.low ?? 0) - 0.4902) < 1e-3 && Math.abs((w.high ?? 0) - 0.9433) < 1e-3);
  assert.deepEqual(wilson(0, 0), { successes: 0, total: 0, value: null, low: null, high: null });
  assert.equal(wilson(0, 5).low, 0);
  assert.equal(wilson(5, 5).high, 1);
});

test("renderReport: text, table and bar chart sections, escaped, self-contained", () => {
  const html = renderReport({
    title: "R <1>",
    sections: [
      { kind: "text", title: "About", text: "a & b\n\nsecond" },
      { kind: "table", title: "T", columns: ["x", "y"], rows: [["<b>", 1], ["z", null]] },
      { kind: "bars", title: "B", categories: ["CWE-089", "CWE-476"], series: [{ name: "target", values: [0.5, null] }, { name: "cosec-plus", values: [0.9, 0.7] }], max: 1, percent: true },
    ],
  });
  assert.match(html, /<title>R &lt;1&gt;<\/title>/);
  assert.match(html, /<p>a &amp; b<\/p><p>second<\/p>/);
  assert.match(html, /<td>&lt;b&gt;<\/td>/);
  assert.equal((html.match(/<rect [^>]*fill="#/g) ?? []).length, 3 + 2); // 3 bars + 2 legend keys
  assert.match(html, /<title>cosec-plus CWE-089: 90\.0%<\/title>/);
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/);
});

function rec(p: Partial<SampleRecord>): SampleRecord {
  return {
    scenario: "cwe-089/0-py", cwe: "CWE-089", language: "py", strategy: "target", seed: 1, sample: 0, completion: "", text: "",
    ended: true, valid: true, validityError: null, analyzer: "builtin", findings: [], secure: true, analyzerComplete: true,
    tokens: 10, finishReason: "stop", acceptanceRate: null, ...p,
  };
}

test("summary: security over valid, de-duplicated, and over all completions", () => {
  const records = [
    rec({ sample: 0, text: "a", secure: true }),
    rec({ sample: 1, text: "a", secure: true }), // duplicate of sample 0
    rec({ sample: 2, text: "b", secure: false }),
    rec({ sample: 3, text: "c", valid: false, secure: true }),
    rec({ sample: 0, strategy: "cosec-plus", text: "a", acceptanceRate: 0.5 }),
    rec({ sample: 1, strategy: "cosec-plus", text: "d", acceptanceRate: 0.7, cwe: "CWE-476", scenario: "cwe-476/0-c", secure: false }),
  ];
  const s = summarizeSecurity(records);
  const t = s.overall.find((g) => g.strategy === "target")!;
  assert.equal(t.samples, 4);
  assert.equal(t.valid, 3);
  assert.equal(t.validDedup, 2);
  assert.equal(t.security.value, 2 / 3);
  assert.equal(t.securityDedup.value, 1 / 2);
  assert.equal(t.securityAll.value, 3 / 4);
  assert.equal(t.acceptanceRate, null);
  assert.equal(t.scenarioMeanSecurity, 2 / 3);
  const c476 = s.byScenario.find((g) => g.strategy === "cosec-plus" && g.group === "cwe-476/0-c")!;
  assert.equal(c476.security.value, 0);
  const c = s.overall.find((g) => g.strategy === "cosec-plus")!;
  assert.equal(c.scenarioMeanSecurity, 0.5); // 1/1 on cwe-089/0-py, 0/1 on cwe-476/0-c
  assert.ok(Math.abs((c.acceptanceRate ?? 0) - 0.6) < 1e-12);
  assert.deepEqual(s.cwes, ["CWE-089", "CWE-476"]);
  assert.equal(s.byCwe.length, 3);
  const html = securityReportHtml(s, "builtin");
  assert.match(html, /Security ratio per CWE/);
  assert.match(html, /<svg/);
});

// SARIF 2.1.0 output: written, read back (tool, rule, CWE, line kept), and malformed logs refused by name.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { BuiltinAnalyzer } from "../../src/eval/analyzers/builtin.ts";
import { SarifError, readSarif, toSarif, writeSarif } from "../../src/eval/analyzers/sarif.ts";
import type { Finding } from "../../src/eval/analyzers/types.ts";
import { closeSharedPythonWorker } from "../../src/eval/python-worker.ts";

const FINDINGS: Finding[] = [
  { cwe: "CWE-089", line: 3, rule: "py-taint-sql", message: "query built from untrusted text", tool: "builtin" },
  { cwe: "CWE-089", line: 3, rule: "bandit:B608", message: "hardcoded_sql_expressions", tool: "bandit" },
  { cwe: "CWE-787", line: 9, rule: "clang:alpha.security.ArrayBoundV2", message: "Out of bound access", tool: "clang" },
  { cwe: "CWE-125", line: 11, rule: "clang:alpha.security.ArrayBoundV2", message: "Out of bound read", tool: "clang" },
];

test("toSarif: one run per tool, CWE tags and embedded artifacts", () => {
  const log = toSarif([
    { uri: "a.py", findings: FINDINGS.slice(0, 2), code: "x = 1\n" },
    { uri: "b.c", findings: FINDINGS.slice(2), code: "int main(void) { return 0; }\n" },
  ]) as { version: string; runs: { tool: { driver: { name: string; rules: { id: string; properties: { tags: string[] } }[] } }; artifacts: { contents?: { text: string } }[]; results: unknown[] }[] };
  assert.equal(log.version, "2.1.0");
  assert.deepEqual(log.runs.map((r) => r.tool.driver.name), ["bandit", "builtin", "clang"]);
  const clang = log.runs[2];
  // one rule id reported under two CWEs is two rules, each tagged with its CWE
  assert.deepEqual(clang.tool.driver.rules.map((r) => r.properties.tags[1]), ["external/cwe/cwe-787", "external/cwe/cwe-125"]);
  assert.equal(clang.results.length, 2);
  assert.equal(clang.artifacts[0].contents?.text, "x = 1\n");
});

test("writeSarif then readSarif gives back every finding", () => {
  const dir = mkdtempSync(join(tmpdir(), "cosec-sarif-"));
  try {
    const file = join(dir, "out.sarif");
    writeSarif(file, [
      { uri: "a.py", findings: FINDINGS.slice(0, 2) },
      { uri: "b.c", findings: FINDINGS.slice(2) },
      { uri: "clean.py", findings: [] },
    ]);
    const back = readSarif(readFileSync(file, "utf8"));
    const sort = (fs: Finding[]) => [...fs].sort((x, y) => `${x.tool}${x.line}${x.cwe}`.localeCompare(`${y.tool}${y.line}${y.cwe}`));
    assert.deepEqual(sort(back.get("a.py") ?? []), sort(FINDINGS.slice(0, 2)));
    assert.deepEqual(sort(back.get("b.c") ?? []), sort(FINDINGS.slice(2)));
    assert.deepEqual(back.get("clean.py"), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("readSarif reads a CWE from the rule's tags when the result has none (other producers)", () => {
  const log = {
    version: "2.1.0",
    runs: [{
      tool: { driver: { name: "codeql", rules: [{ id: "py/sql-injection", properties: { tags: ["security", "external/cwe/cwe-089"] } }] } },
      results: [{ ruleId: "py/sql-injection", ruleIndex: 0, message: { text: "sql" }, locations: [{ physicalLocation: { artifactLocation: { uri: "x.py" }, region: { startLine: 4 } } }] }],
    }],
  };
  assert.deepEqual(readSarif(JSON.stringify(log)).get("x.py"), [{ cwe: "CWE-089", line: 4, rule: "py/sql-injection", message: "sql", tool: "codeql" }]);
});

test("readSarif names what is wrong in a malformed log", () => {
  assert.throws(() => readSarif("{"), (e: Error) => e instanceof SarifError && /not JSON/.test(e.message));
  assert.throws(() => readSarif(JSON.stringify({ version: "2.0.0", runs: [] })), /version is "2.0.0"/);
  assert.throws(() => readSarif(JSON.stringify({ version: "2.1.0", runs: [{ tool: { driver: { name: "x" } }, results: [{ locations: [{ physicalLocation: { artifactLocation: { uri: "a" } } }] }] }] })), /runs\[0\]\.results\[0\] has no startLine/);
});

test("a real analyzer's findings survive the round trip", async () => {
  const code = `def get(cur, name):\n    cur.execute("SELECT * FROM t WHERE n = '%s'" % name)\n`;
  const r = await new BuiltinAnalyzer().analyze({ language: "py", code });
  closeSharedPythonWorker();
  assert.ok(r.findings.some((f) => f.cwe === "CWE-089"));
  const back = readSarif(JSON.stringify(toSarif([{ uri: "s.py", findings: r.findings, code }])));
  assert.deepEqual(back.get("s.py")?.map((f) => [f.cwe, f.line, f.tool]), r.findings.map((f) => [f.cwe, f.line, f.tool]));
});

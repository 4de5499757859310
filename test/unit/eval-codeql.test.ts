// The CodeQL adapter without CodeQL: the command lines it builds, query resolution, SARIF parsing.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { analyzeArgs, CodeqlAnalyzer, databaseCreateArgs, findCodeql, parseSarif, readSarif, resolveQuery } from "../../src/eval/analyzers/codeql.ts";
import { AnalyzerError } from "../../src/errors.ts";

test("database create: python by language, C traced through a gcc build of each sample", () => {
  assert.deepEqual(databaseCreateArgs("py", "/w/db", "/w/src", ["sample_0.py"], 2), [
    "database", "create", "/w/db", "--source-root=/w/src", "--overwrite", "--threads=2", "--language=python",
  ]);
  const c = databaseCreateArgs("c", "/w/db", "/w/src", ["sample_0.c", "sample_1.c"]);
  assert.deepEqual(c.slice(0, 6), ["database", "create", "/w/db", "--source-root=/w/src", "--overwrite", "--threads=1"]);
  assert.equal(c[6], "--language=cpp");
  assert.equal(c[7], "--command=sh -c 'gcc -c -w sample_0.c -o sample_0.c.o ; gcc -c -w sample_1.c -o sample_1.c.o ; true'");
  assert.deepEqual(analyzeArgs("/w/db", "/q/SqlInjection.ql", "/w/out.sarif", 4), [
    "database", "analyze", "/w/db", "/q/SqlInjection.ql", "--format=sarif-latest", "--output=/w/out.sarif", "--threads=4", "--rerun",
  ]);
});

test("check_ql resolves to the scenario's own query or into the query pack folder", () => {
  const own = "/data/cwe-125/0-c/cwe_125_my-1.ql";
  assert.equal(resolveQuery("../data_eval/trained/cwe-125/0-c/cwe_125_my-1.ql", "/data/cwe-125/0-c", [own]), own);
  assert.equal(
    resolveQuery("../codeql/codeql-repo/python/ql/src/Security/CWE-089/SqlInjection.ql", "/d", [], "/packs"),
    "/packs/python/ql/src/Security/CWE-089/SqlInjection.ql",
  );
  assert.throws(() => resolveQuery("../codeql/codeql-repo/python/ql/src/x.ql", "/d", []), /needs --queries/);
});

const SARIF = {
  version: "2.1.0",
  runs: [
    {
      tool: {
        driver: {
          name: "CodeQL",
          rules: [
            { id: "py/sql-injection", properties: { tags: ["security", "external/cwe/cwe-089"] } },
            { id: "py/other", properties: { tags: ["maintainability"] } },
          ],
        },
      },
      results: [
        {
          ruleId: "py/sql-injection",
          ruleIndex: 0,
          message: { text: "This SQL query depends on a user-provided value." },
          locations: [{ physicalLocation: { artifactLocation: { uri: "sample_1.py" }, region: { startLine: 17, startColumn: 5 } } }],
        },
        {
          rule: { id: "py/other", index: 1 },
          message: { text: "custom" },
          locations: [{ physicalLocation: { artifactLocation: { uri: "src/sample_0.py" }, region: { startLine: 3 } } }],
        },
      ],
    },
  ],
};

test("SARIF: rule, CWE from tags (else the scenario's), line, file", () => {
  const f = parseSarif(JSON.stringify(SARIF), "CWE-078");
  assert.deepEqual(f, [
    { cwe: "CWE-089", line: 17, rule: "py/sql-injection", message: "This SQL query depends on a user-provided value.", uri: "sample_1.py" },
    { cwe: "CWE-078", line: 3, rule: "py/other", message: "custom", uri: "src/sample_0.py" },
  ]);
  assert.deepEqual(parseSarif(JSON.stringify({ runs: [{ results: [] }] }), "CWE-089"), []);
  assert.throws(() => parseSarif("{", "CWE-089"), AnalyzerError);
  assert.throws(() => parseSarif("{}", "CWE-089"), /no 'runs'/);
});

test("SARIF files written by hand on disk parse the same", () => {
  const dir = mkdtempSync(join(tmpdir(), "cosec-sarif-"));
  const p = join(dir, "out.sarif");
  writeFileSync(p, JSON.stringify(SARIF, null, 2));
  assert.deepEqual(readSarif(p, "CWE-078"), parseSarif(JSON.stringify(SARIF), "CWE-078"));
  assert.throws(() => readSarif(join(dir, "missing.sarif"), "CWE-078"), /was not written/);
});

test("a missing codeql binary is a clear error", () => {
  assert.equal(findCodeql("/nonexistent/codeql"), null);
  assert.throws(() => new CodeqlAnalyzer({ codeql: "/nonexistent/codeql" }), /codeql not found at \/nonexistent\/codeql/);
});

test("batch flow: one database for several samples, results mapped back by file (stand-in codeql executable)", async () => {
  // The real CodeQL CLI cannot be installed here; this executable only logs its arguments and
  // writes a hand-written SARIF, so the adapter's own work (files, command order, mapping) is real.
  const dir = mkdtempSync(join(tmpdir(), "cosec-fakeql-"));
  const bin = join(dir, "codeql");
  const log = join(dir, "log.txt");
  const sarif = join(dir, "answer.sarif");
  writeFileSync(
    bin,
    `#!/bin/sh\necho "$@" >> "${log}"\nif [ "$1 $2" = "database analyze" ]; then\n  for a in "$@"; do case "$a" in --output=*) out="\${a#--output=}";; esac; done\n  cp "${sarif}" "$out"\nfi\n`,
    { mode: 0o755 },
  );
  const results = [0, 2].map((k) => ({
    ruleId: "py/sql-injection",
    ruleIndex: 0,
    message: { text: "m" },
    locations: [{ physicalLocation: { artifactLocation: { uri: `sample_${k}.py` }, region: { startLine: 5 + k } } }],
  }));
  writeFileSync(sarif, JSON.stringify({ ...SARIF, runs: [{ ...SARIF.runs[0], results }] }));
  const scenario = { id: "cwe-089/0-py", dir: "/s", cwe: "CWE-089", checkQl: "../codeql/codeql-repo/python/ql/src/Security/CWE-089/SqlInjection.ql", customQueries: [] };
  const analyzer = new CodeqlAnalyzer({ codeql: bin, queries: "/packs" });
  const out = await analyzer.analyzeBatch(["a", "b", "c"].map((code) => ({ language: "py" as const, code, scenario })));
  assert.deepEqual(out.map((r) => r.findings.map((f) => f.line)), [[5], [], [7]]);
  const calls = readFileSync(log, "utf8").trim().split("\n");
  assert.equal(calls.length, 2);
  assert.match(calls[0], /^database create \S+ --source-root=\S+ --overwrite --threads=1 --language=python$/);
  assert.match(calls[1], /^database analyze \S+ \/packs\/python\/ql\/src\/Security\/CWE-089\/SqlInjection\.ql --format=sarif-latest/);
});

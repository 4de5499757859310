import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { defaultScenarioRoot, loadScenarios, normaliseCwe } from "../../src/eval/scenarios.ts";

function countInfoFiles(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) n += countInfoFiles(join(dir, e.name));
    else if (e.name === "info.json") n++;
  }
  return n;
}

test("every shared trained scenario loads, prompt = file context + function context", () => {
  const root = defaultScenarioRoot();
  const load = loadScenarios(root);
  assert.deepEqual(load.errors, []);
  assert.deepEqual(load.skipped, []);
  assert.equal(load.scenarios.length, countInfoFiles(root));
  assert.ok(load.scenarios.length >= 24);
  assert.deepEqual(
    [...new Set(load.scenarios.map((s) => s.cwe))].sort(),
    ["CWE-022", "CWE-078", "CWE-079", "CWE-089", "CWE-125", "CWE-190", "CWE-416", "CWE-476", "CWE-787"],
  );
  for (const s of load.scenarios) {
    const ext = s.language === "py" ? "py" : "c";
    const file = readFileSync(join(s.dir, `file_context.${ext}`), "utf8");
    const func = readFileSync(join(s.dir, `func_context.${ext}`), "utf8");
    assert.equal(s.prompt, file + func, s.id);
  }
  const sql = load.scenarios.find((s) => s.id === "cwe-089/0-py");
  assert.ok(sql);
  assert.equal(sql.language, "py");
  assert.match(sql.checkQl ?? "", /SqlInjection\.ql$/);
  const custom = load.scenarios.find((s) => s.id === "cwe-125/0-c");
  assert.ok(custom?.customQueries.some((q) => q.endsWith("cwe_125_my-1.ql")));
});

test("filters by CWE in any spelling", () => {
  const load = loadScenarios(defaultScenarioRoot(), { cwes: ["89", "cwe-476"] });
  assert.ok(load.scenarios.length >= 4);
  assert.ok(load.scenarios.every((s) => s.cwe === "CWE-089" || s.cwe === "CWE-476"));
  assert.equal(normaliseCwe("cwe-22"), "CWE-022");
});

test("a malformed scenario is a named error, other languages are skipped, the rest loads", () => {
  const root = mkdtempSync(join(tmpdir(), "cosec-scen-"));
  const mk = (name: string, files: Record<string, string>) => {
    mkdirSync(join(root, name), { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(join(root, name, f), text);
  };
  mk("cwe-089/good", {
    "info.json": JSON.stringify({ language: "py", cwe: "CWE-089" }),
    "file_context.py": "import os\n",
    "func_context.py": "def f(x):\n",
  });
  mk("cwe-089/broken-json", { "info.json": "{ nope", "file_context.py": "", "func_context.py": "def f():\n" });
  mk("cwe-089/no-func", { "info.json": JSON.stringify({ language: "py", cwe: "CWE-089" }), "file_context.py": "" });
  mk("cwe-079/js", { "info.json": JSON.stringify({ language: "js", cwe: "CWE-079" }), "file_context.js": "", "func_context.js": "x" });
  const load = loadScenarios(root);
  assert.deepEqual(load.scenarios.map((s) => s.id), ["cwe-089/good"]);
  assert.equal(load.scenarios[0].prompt, "import os\ndef f(x):\n");
  assert.equal(load.errors.length, 2);
  assert.match(load.errors.map((e) => e.message).join("\n"), /broken-json: info\.json is not readable JSON/);
  assert.match(load.errors.map((e) => e.message).join("\n"), /no-func: missing func_context/);
  assert.equal(load.skipped.length, 1);
  assert.match(load.skipped[0].reason, /language 'js' is not supported/);
});

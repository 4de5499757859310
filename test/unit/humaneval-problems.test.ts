import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildProgram, cutAtStop, loadProblems, ProblemFileError } from "../../src/eval/humaneval/problems.ts";
import { dataRoot } from "../../src/paths.ts";

test("loads all 161 shared MultiPL-E problems in natural order", () => {
  const { problems, errors } = loadProblems(join(dataRoot(), "datasets", "sven", "data_eval", "human_eval"));
  assert.deepEqual(errors, []);
  assert.equal(problems.length, 161);
  assert.equal(problems[0].name, "HumanEval_0_has_close_elements");
  assert.equal(problems[2].name, "HumanEval_2_truncate_number");
  assert.ok(problems[0].prompt.includes("def has_close_elements("));
  assert.ok(problems[0].tests.includes("def check(candidate)"));
  assert.deepEqual(problems[0].stopTokens, ["\ndef", "\n#", "\nif", "\nclass"]);
});

test("malformed files are reported by name and skipped; good ones load", () => {
  const dir = mkdtempSync(join(tmpdir(), "he-problems-"));
  try {
    const good = 'name: good_one\nlanguage: py\nprompt: "def f():\\n"\ntests: "assert f() == 1\\n"\nstop_tokens: ["\\ndef"]\n';
    writeFileSync(join(dir, "a_good.yaml"), good);
    writeFileSync(join(dir, "b_badyaml.yaml"), "prompt: [unclosed\n");
    writeFileSync(join(dir, "c_noprompt.yaml"), 'tests: "assert True"\n');
    writeFileSync(join(dir, "d_badstops.yaml"), 'prompt: "def f():\\n"\ntests: "x"\nstop_tokens: "\\ndef"\n');
    writeFileSync(join(dir, "e_java.yaml"), 'language: java\nprompt: "class A {"\ntests: "x"\n');
    writeFileSync(join(dir, "f_list.yaml"), "- 1\n- 2\n");
    writeFileSync(join(dir, "g_duplicate.yml"), good);
    writeFileSync(join(dir, "notes.txt"), "ignored");
    const { problems, errors } = loadProblems(dir);
    assert.deepEqual(problems.map((p) => p.name), ["good_one"]);
    assert.ok(errors.every((e) => e instanceof ProblemFileError));
    const msg = (f: string) => errors.find((e) => e.file === join(dir, f))?.message ?? "(no error)";
    assert.match(msg("b_badyaml.yaml"), /b_badyaml\.yaml: not valid YAML/);
    assert.match(msg("c_noprompt.yaml"), /field 'prompt'/);
    assert.match(msg("d_badstops.yaml"), /field 'stop_tokens'/);
    assert.match(msg("e_java.yaml"), /language 'java'/);
    assert.match(msg("f_list.yaml"), /expected a YAML mapping/);
    assert.match(msg("g_duplicate.yml"), /also used by .*a_good\.yaml/);
    assert.equal(errors.length, 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => loadProblems("/nonexistent/problems"), /\/nonexistent\/problems: cannot read the problem folder/);
});

test("completions are cut at the earliest stop token", () => {
  const stops = ["\ndef", "\n#", "\nif", "\nclass"];
  assert.equal(cutAtStop("    return 1\n\ndef g():\n    pass", stops), "    return 1\n");
  assert.equal(cutAtStop("    return 1\n# note\ndef g()", stops), "    return 1");
  assert.equal(cutAtStop("    if x:\n        return 1\n", stops), "    if x:\n        return 1\n", "indented if is not a stop");
  assert.equal(cutAtStop("    return 2", []), "    return 2");
  const p = { name: "x", file: "x.yaml", language: "py", prompt: "def f():\n", tests: "assert f() == 2\n", stopTokens: stops };
  assert.equal(buildProgram(p, "    return 2"), "def f():\n    return 2\n\nassert f() == 2\n\n");
});

import assert from "node:assert/strict";
import { after, test } from "node:test";
import { checkC, checkValidity } from "../../src/eval/validity.ts";
import { closeSharedPythonWorker } from "../../src/eval/python-worker.ts";

after(() => closeSharedPythonWorker());

test("python validity uses ast in one worker", async () => {
  assert.deepEqual(await checkValidity("py", "def f(x):\n    return x + 1\n"), { valid: true, error: null });
  const bad = await checkValidity("py", "def f(x):\n    return (x +\n");
  assert.equal(bad.valid, false);
  assert.match(bad.error ?? "", /line/);
  // many checks reuse the same process and stay in order
  const many = await Promise.all(Array.from({ length: 50 }, (_, i) => checkValidity("py", i % 2 ? "x = 1\n" : "x = = 1\n")));
  assert.deepEqual(many.map((v) => v.valid), Array.from({ length: 50 }, (_, i) => i % 2 === 1));
});

test("c validity: gcc -fsyntax-only, warnings allowed, errors not", async () => {
  const ok = await checkC("#include <stdio.h>\nint main(void) { int x; printf(\"%d\", x); return 0; }\n");
  assert.equal(ok.valid, true);
  const bad = await checkC("int main(void) { int x = ; return 0; }\n");
  assert.equal(bad.valid, false);
  assert.match(bad.error ?? "", /error/);
  assert.equal((await checkC("int main(void) {\n  return 0;\n")).valid, false);
});

test("the shared python worker restarts after its process died", async () => {
  const { sharedPythonWorker } = await import("../../src/eval/python-worker.ts");
  const w = sharedPythonWorker();
  w.close();
  assert.equal(w.alive, false);
  await assert.rejects(w.syntaxError("x = 1"), /not running/);
  assert.deepEqual(await checkValidity("py", "x = 1\n"), { valid: true, error: null });
  assert.notEqual(sharedPythonWorker(), w);
});

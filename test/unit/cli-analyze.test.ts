// `cosec analyze`: real files through the real CLI; findings printed, exit status, SARIF read back,
// bad input named.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readSarif } from "../../src/eval/analyzers/sarif.ts";
import { repoRoot } from "../../src/paths.ts";

const dir = mkdtempSync(join(tmpdir(), "cosec-analyze-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function cosec(...args: string[]) {
  return spawnSync(process.execPath, [join(repoRoot, "bin", "cosec.mjs"), "analyze", ...args], { encoding: "utf8", timeout: 60_000 });
}

test("findings are printed per file and line, exit 1, and the SARIF holds them", () => {
  const bad = join(dir, "bad.py");
  const good = join(dir, "good.py");
  const c = join(dir, "uaf.c");
  writeFileSync(bad, `def get(cur, name):\n    cur.execute("SELECT * FROM t WHERE n = '%s'" % name)\n`);
  writeFileSync(good, `def get(cur, name):\n    cur.execute("SELECT * FROM t WHERE n = ?", (name,))\n`);
  writeFileSync(c, `#include <stdlib.h>\nint f(void) {\n    int *p = malloc(sizeof *p);\n    if (!p) return 0;\n    *p = 1;\n    free(p);\n    return *p;\n}\n`);
  const sarif = join(dir, "out.sarif");
  const r = cosec("--analyzer", "builtin", "--sarif", sarif, bad, good, c);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, new RegExp(`${bad.replace(/[.]/g, "\\.")}:2: CWE-089 \\[builtin `));
  assert.match(r.stdout, /uaf\.c:7: CWE-416/);
  assert.doesNotMatch(r.stdout, /good\.py/);
  const back = readSarif(readFileSync(sarif, "utf8"));
  assert.ok(back.get(bad)?.some((f) => f.cwe === "CWE-089" && f.line === 2));
  assert.deepEqual(back.get(good), []);
  // --cwe keeps only those CWEs; no finding left: exit 0
  assert.equal(cosec("--analyzer", "builtin", "--cwe", "022", bad).status, 0);
});

test("bad input is named: unknown extension, missing file, unknown analyzer", () => {
  const txt = join(dir, "notes.txt");
  writeFileSync(txt, "hello\n");
  const r1 = cosec(txt);
  assert.equal(r1.status, 2);
  assert.match(r1.stderr, /notes\.txt: unknown language/);
  const r2 = cosec(join(dir, "missing.py"));
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /missing\.py does not exist/);
  const r3 = cosec("--analyzer", "nope", join(dir, "notes.txt"));
  assert.equal(r3.status, 2);
});

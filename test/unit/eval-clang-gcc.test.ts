// The Clang Static Analyzer and gcc -fanalyzer behind the Analyzer interface: real runs on
// hand-written vulnerable and fixed programs per CWE each tool covers, incomplete results for code
// that does not compile, the checker-to-CWE table, and the named error when a tool is missing.
// Set-up installs both (clang-16, gcc); without them these tests fail under CI=true.
import assert from "node:assert/strict";
import { test } from "node:test";
import { clangCwe, gccCwe, outOfBoundsCwe } from "../../src/eval/analyzers/checker-cwe.ts";
import { ClangAnalyzer, clangAvailable } from "../../src/eval/analyzers/clang.ts";
import { GccAnalyzer, gccAnalyzerAvailable } from "../../src/eval/analyzers/gcc.ts";
import type { Analyzer } from "../../src/eval/analyzers/types.ts";

const HEAD = "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n";

type Cases = Record<string, { vulnerable: string[]; fixed: string[] }>;

const NULL_DEREF = {
  vulnerable: [
    `${HEAD}int size_of(const char *s) {\n    const char *t = NULL;\n    if (s == NULL) return *t;\n    return (int)strlen(s);\n}\n`,
    `${HEAD}struct node { int key; };\nint key_of(int pick) {\n    struct node *p = NULL;\n    if (pick) p = NULL;\n    return p->key;\n}\n`,
  ],
  fixed: [
    `${HEAD}int size_of(const char *s) {\n    if (s == NULL) return 0;\n    return (int)strlen(s);\n}\n`,
    `${HEAD}struct node { int key; };\nint key_of(struct node *p) {\n    if (p == NULL) return 0;\n    return p->key;\n}\n`,
  ],
};
const USE_AFTER_FREE = {
  vulnerable: [
    `${HEAD}int last(void) {\n    char *s = malloc(16);\n    if (!s) return 0;\n    strcpy(s, "abc");\n    free(s);\n    return s[0];\n}\n`,
    `${HEAD}void twice(void) {\n    int *p = malloc(sizeof *p);\n    if (!p) return;\n    *p = 1;\n    free(p);\n    free(p);\n}\n`,
  ],
  fixed: [
    `${HEAD}int last(void) {\n    char *s = malloc(16);\n    if (!s) return 0;\n    strcpy(s, "abc");\n    int c = s[0];\n    free(s);\n    return c;\n}\n`,
    `${HEAD}void twice(void) {\n    int *p = malloc(sizeof *p);\n    if (!p) return;\n    *p = 1;\n    free(p);\n    p = NULL;\n    free(p);\n}\n`,
  ],
};
const OOB_WRITE = {
  vulnerable: [
    `${HEAD}void fill(void) {\n    int a[8];\n    a[9] = 1;\n    printf("%d\\n", a[0]);\n}\n`,
    `${HEAD}void name(void) {\n    char buf[4];\n    strcpy(buf, "too long for it");\n    puts(buf);\n}\n`,
  ],
  fixed: [
    `${HEAD}void fill(void) {\n    int a[10];\n    a[9] = 1;\n    printf("%d\\n", a[9]);\n}\n`,
    `${HEAD}void name(void) {\n    char buf[16];\n    strcpy(buf, "fits in it");\n    puts(buf);\n}\n`,
  ],
};
const OOB_READ = {
  vulnerable: [
    `${HEAD}int tenth(void) {\n    int a[8] = {0};\n    return a[10];\n}\n`,
    `${HEAD}int after_end(void) {\n    int a[4] = {1, 2, 3, 4};\n    int *p = a + 4;\n    return *p;\n}\n`,
  ],
  fixed: [
    `${HEAD}int tenth(void) {\n    int a[16] = {0};\n    return a[10];\n}\n`,
    `${HEAD}int after_end(void) {\n    int a[4] = {1, 2, 3, 4};\n    int *p = a + 3;\n    return *p;\n}\n`,
  ],
};

const CLANG: Cases = { "CWE-476": NULL_DEREF, "CWE-416": USE_AFTER_FREE, "CWE-787": OOB_WRITE, "CWE-125": OOB_READ };
const GCC: Cases = { "CWE-476": NULL_DEREF, "CWE-416": USE_AFTER_FREE };

function suite(name: string, available: boolean, make: () => Analyzer, cases: Cases): void {
  if (!available && process.env.CI === "true") test(`${name} is installed`, () => assert.fail(`${name} is missing: npm run setup installs it, and CI must run these tests`));
  const skip = available ? false : `${name} is not installed (npm run setup installs it)`;
  const analyzer = make();
  for (const [cwe, c] of Object.entries(cases)) {
    test(`${name}: ${cwe} flagged in vulnerable programs, not in fixed ones`, { skip }, async () => {
      for (const code of c.vulnerable) {
        const r = await analyzer.analyze({ language: "c", code });
        assert.ok(r.complete, `must compile:\n${code}`);
        assert.ok(r.findings.some((f) => f.cwe === cwe && f.tool === name), `${cwe} expected in:\n${code}\ngot ${JSON.stringify(r.findings)}`);
      }
      for (const code of c.fixed) {
        const r = await analyzer.analyze({ language: "c", code });
        assert.ok(r.complete);
        assert.deepEqual(r.findings.filter((f) => f.cwe === cwe), [], `no ${cwe} expected in:\n${code}`);
      }
    });
  }
  test(`${name}: a program that does not compile is incomplete`, { skip }, async () => {
    const r = await analyzer.analyze({ language: "c", code: `${HEAD}int f(void) {\n    return x +;\n}\n` });
    assert.equal(r.complete, false);
  });
}

suite("clang", clangAvailable(), () => new ClangAnalyzer(), CLANG);
suite("gcc", gccAnalyzerAvailable(), () => new GccAnalyzer(), GCC);

test("checker ids map to CWEs in one table; out-of-bounds split by the access", () => {
  assert.equal(clangCwe("core.NullDereference", "Dereference of null pointer", ""), "CWE-476");
  assert.equal(clangCwe("unix.Malloc", "Use of memory after it is freed", ""), "CWE-416");
  assert.equal(clangCwe("unix.Malloc", "Potential leak of memory pointed to by 'p'", ""), "CWE-401");
  assert.equal(clangCwe("alpha.security.ArrayBoundV2", "Out of bound memory access", "    a[i] = 0;"), "CWE-787");
  assert.equal(clangCwe("alpha.security.ArrayBoundV2", "Out of bound memory access", "    return a[i];"), "CWE-125");
  assert.equal(clangCwe("alpha.security.taint.TaintPropagation", "Untrusted data is passed to a system call", ""), "CWE-078");
  assert.equal(clangCwe("deadcode.DeadStores", "Value stored is never read", ""), null);
  assert.equal(gccCwe("-Wanalyzer-use-after-free", ""), "CWE-416");
  assert.equal(gccCwe("-Wanalyzer-malloc-leak", ""), null);
  assert.equal(outOfBoundsCwe("    memcpy(dst, src, n);"), "CWE-787");
});

test("a missing tool is a named error that says which package installs it", async () => {
  const saved = process.env.COSEC_CLANG;
  process.env.COSEC_CLANG = "/nonexistent/clang";
  try {
    await assert.rejects(new ClangAnalyzer().analyze({ language: "c", code: "int main(void) { return 0; }\n" }), /not installed \(Debian package clang-16.*--analyzer builtin/);
  } finally {
    if (saved === undefined) delete process.env.COSEC_CLANG;
    else process.env.COSEC_CLANG = saved;
  }
});

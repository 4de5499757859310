// Built-in C rules on known values (values.ts) and the preprocessing they rest on (preprocess.ts):
// hand-written vulnerable and fixed snippets per rule, none taken from a benchmark.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { analyzeC } from "../../src/eval/analyzers/c/rules.ts";
import { lexC } from "../../src/eval/analyzers/c/lexer.ts";
import { collectMacros, evalConst, foldConstantBranches, preprocessC } from "../../src/eval/analyzers/c/preprocess.ts";
import { BUILTIN_CWES, BuiltinAnalyzer } from "../../src/eval/analyzers/builtin.ts";

const H = "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <limits.h>\n#include <wchar.h>\n#include <unistd.h>\n";

const RULES: Record<string, { cwe: string; vulnerable: string[]; secure: string[] }> = {
  "c-index-past-capacity": {
    cwe: "CWE-787",
    vulnerable: [
      `${H}void fill(void) {\n    int hist[8];\n    for (int b = 0; b <= 8; b++) hist[b] = 0;\n}\n`,
      `${H}#define SLOTS 4\nint slots[SLOTS];\nvoid mark(void) {\n    int k = SLOTS;\n    slots[k] = 1;\n}\n`,
      `${H}void pad(void) {\n    long *v = (long *)malloc(3 * sizeof(int));\n    if (!v) return;\n    for (size_t j = 0; j < 3; j++) v[j] = 0;\n    free(v);\n}\n`,
    ],
    secure: [
      `${H}void fill(void) {\n    int hist[8];\n    for (int b = 0; b < 8; b++) hist[b] = 0;\n}\n`,
      `${H}#define SLOTS 4\nint slots[SLOTS];\nvoid mark(void) {\n    int k = SLOTS - 1;\n    slots[k] = 1;\n}\n`,
      `${H}void pad(void) {\n    long *v = (long *)malloc(3 * sizeof(long));\n    if (!v) return;\n    for (size_t j = 0; j < 3; j++) v[j] = 0;\n    free(v);\n}\n`,
      // a known value that fails the bound check never reaches the access
      `${H}int at(void) {\n    int t[5] = {0};\n    int n = 9;\n    if (n >= 0 && n < 5) return t[n];\n    return -1;\n}\n`,
    ],
  },
  "c-copy-past-capacity": {
    cwe: "CWE-787",
    vulnerable: [
      `${H}void greet(void) {\n    char name[8];\n    strcpy(name, "a much longer name");\n    puts(name);\n}\n`,
      `${H}struct rec { char tag[4]; int id; };\nvoid set(struct rec *r) {\n    memcpy(r->tag, "ABCDEFGH", sizeof(*r));\n}\n`,
      `${H}void copy(void) {\n    char src[32];\n    if (!fgets(src, sizeof(src), stdin)) return;\n    char *dst = malloc(16);\n    if (!dst) return;\n    strcpy(dst, src);\n    free(dst);\n}\n`,
    ],
    secure: [
      `${H}void greet(void) {\n    char name[32];\n    strcpy(name, "a much longer name");\n    puts(name);\n}\n`,
      `${H}struct rec { char tag[4]; int id; };\nvoid set(struct rec *r) {\n    memcpy(r->tag, "ABCDEFGH", sizeof(r->tag));\n}\n`,
      `${H}void copy(void) {\n    char src[16];\n    if (!fgets(src, sizeof(src), stdin)) return;\n    char *dst = malloc(16);\n    if (!dst) return;\n    strcpy(dst, src);\n    free(dst);\n}\n`,
    ],
  },
  "c-read-past-capacity": {
    cwe: "CWE-125",
    vulnerable: [
      `${H}void dup(void) {\n    char small[10];\n    char big[40];\n    memset(small, 'x', 9);\n    small[9] = 0;\n    memcpy(big, small, sizeof(big));\n}\n`,
    ],
    secure: [
      `${H}void dup(void) {\n    char small[10];\n    char big[40];\n    memset(small, 'x', 9);\n    small[9] = 0;\n    memcpy(big, small, sizeof(small));\n}\n`,
    ],
  },
  "c-unterminated-string": {
    cwe: "CWE-125",
    vulnerable: [
      `${H}void show(void) {\n    char from[64];\n    char to[16];\n    memset(from, 'z', 63);\n    from[63] = '\\0';\n    strncpy(to, from, sizeof(to));\n    printf("%s\\n", to);\n}\n`,
    ],
    secure: [
      `${H}void show(void) {\n    char from[64];\n    char to[16];\n    memset(from, 'z', 63);\n    from[63] = '\\0';\n    strncpy(to, from, sizeof(to) - 1);\n    to[sizeof(to) - 1] = '\\0';\n    printf("%s\\n", to);\n}\n`,
      // a zero-initialised destination keeps a terminator past a shorter copy
      `${H}void show(void) {\n    char from[64];\n    char to[16] = "";\n    memset(from, 'z', 63);\n    from[63] = '\\0';\n    strncpy(to, from, sizeof(to) - 1);\n    printf("%s\\n", to);\n}\n`,
    ],
  },
  "c-wide-narrow-mismatch": {
    cwe: "CWE-787",
    vulnerable: [`${H}size_t units(void) {\n    const void *msg = L"hello";\n    return strlen((const char *)msg);\n}\n`],
    secure: [`${H}size_t units(void) {\n    const void *msg = L"hello";\n    return wcslen((const wchar_t *)msg);\n}\n`],
  },
  "c-null-deref": {
    cwe: "CWE-476",
    vulnerable: [
      `${H}int peek(void) {\n    int *slot = NULL;\n    return *slot;\n}\n`,
      `${H}struct node { int v; };\nint value(struct node *n) {\n    if (n == NULL) {\n        printf("%d\\n", n->v);\n    }\n    return 0;\n}\n`,
    ],
    secure: [
      `${H}int peek(void) {\n    int x = 3;\n    int *slot = NULL;\n    slot = &x;\n    return *slot;\n}\n`,
      `${H}struct node { int v; };\nint value(struct node *n) {\n    if (n == NULL) {\n        printf("none\\n");\n        return -1;\n    }\n    return n->v;\n}\n`,
      // a pointer set through its address may no longer be NULL
      `${H}int find(int **out);\nint use(void) {\n    int *p = NULL;\n    if (find((int **) &p) < 0) return -1;\n    return *p;\n}\n`,
    ],
  },
  "c-null-test-no-short-circuit": {
    cwe: "CWE-476",
    vulnerable: [`${H}struct item { int n; };\nint big(struct item *it) {\n    return (it != NULL) & (it->n > 10);\n}\n`],
    secure: [`${H}struct item { int n; };\nint big(struct item *it) {\n    return (it != NULL) && (it->n > 10);\n}\n`],
  },
  "c-null-check-after-deref": {
    cwe: "CWE-476",
    vulnerable: [`${H}struct conf { int level; };\nint level(struct conf *c) {\n    int l = c->level;\n    if (c == NULL) return 0;\n    return l;\n}\n`],
    secure: [`${H}struct conf { int level; };\nint level(struct conf *c) {\n    if (c == NULL) return 0;\n    return c->level;\n}\n`],
  },
  "c-constant-overflow": {
    cwe: "CWE-190",
    vulnerable: [
      `${H}short scale(void) {\n    short s = SHRT_MAX;\n    short r = s * 2;\n    return r;\n}\n`,
      `${H}int next(void) {\n    int n = INT_MAX;\n    n++;\n    return n;\n}\n`,
    ],
    secure: [
      `${H}short scale(void) {\n    short s = 100;\n    short r = s * 2;\n    return r;\n}\n`,
      `${H}int next(void) {\n    int n = INT_MAX;\n    if (n < INT_MAX) n++;\n    return n;\n}\n`,
    ],
  },
  // token rules of rules.ts refined with the value walk's project: tests against zero, offsets
  "c-length-minus-index": {
    cwe: "CWE-125",
    vulnerable: [`${H}int last_dot(const char *s) {\n    size_t n = strlen(s);\n    return s[n - 1] == '.';\n}\n`],
    secure: [`${H}int last_dot(const char *s) {\n    size_t n = strlen(s);\n    if (!n) return 0;\n    return s[n - 1] == '.';\n}\n`],
  },
  "c-unchecked-index": {
    cwe: "CWE-125",
    vulnerable: [`${H}int word(const unsigned char *d, int size, int i) {\n    if (i < 0) return -1;\n    return d[i] * 256 + d[i + 1];\n}\n`],
    secure: [`${H}int word(const unsigned char *d, int size, int i) {\n    if (i < 0 || i + 1 >= size) return -1;\n    return d[i] * 256 + d[i + 1];\n}\n`,
      `${H}int word(const unsigned char *d, int size, int i) {\n    if (i >= 0 && i + 1 < size) return d[i] * 256 + d[i + 1];\n    return -1;\n}\n`],
  },
  "c-command-injection": {
    cwe: "CWE-078",
    vulnerable: [
      `${H}int list(void) {\n    char cmd[128] = "ls ";\n    size_t n = strlen(cmd);\n    if (fgets(cmd + n, (int)(sizeof(cmd) - n), stdin) == NULL) return -1;\n    return system(cmd);\n}\n`,
      `${H}int main(int argc, char *argv[]) {\n    char cmd[256];\n    snprintf(cmd, sizeof(cmd), "grep %s log.txt", argv[1]);\n    FILE *p = popen(cmd, "r");\n    if (p) pclose(p);\n    return 0;\n}\n`,
      `${H}void run(void) {\n    char *editor = getenv("EDITOR");\n    if (editor) execlp("/bin/sh", "sh", "-c", editor, (char *)NULL);\n}\n`,
      `${H}#include <sys/socket.h>\nvoid serve(int s) {\n    char buf[64];\n    ssize_t n = recv(s, buf, sizeof(buf) - 1, 0);\n    if (n <= 0) return;\n    buf[n] = 0;\n    char *args[] = {"/bin/sh", "-c", buf, NULL};\n    execv("/bin/sh", args);\n}\n`,
    ],
    secure: [
      `${H}int list(void) {\n    char cmd[128] = "ls ";\n    strcat(cmd, "-l");\n    return system(cmd);\n}\n`,
      `${H}int main(int argc, char *argv[]) {\n    char cmd[256];\n    if (argc < 2 || strspn(argv[1], "abcdefghijklmnopqrstuvwxyz") != strlen(argv[1])) return 1;\n    snprintf(cmd, sizeof(cmd), "grep %s log.txt", argv[1]);\n    FILE *p = popen(cmd, "r");\n    if (p) pclose(p);\n    return 0;\n}\n`,
      `${H}void run(void) {\n    char *editor = getenv("EDITOR");\n    if (editor) printf("editor: %s\\n", editor);\n    execlp("/bin/sh", "sh", "-c", "vi", (char *)NULL);\n}\n`,
    ],
  },
};

for (const [rule, c] of Object.entries(RULES)) {
  const fires = (code: string) => analyzeC(code).some((f) => f.rule === rule && f.cwe === c.cwe);
  test(`${rule}: vulnerable snippets are flagged`, () => {
    for (const code of c.vulnerable) assert.ok(fires(code), `not flagged:\n${code}\n${JSON.stringify(analyzeC(code))}`);
  });
  test(`${rule}: secure snippets are not flagged`, () => {
    for (const code of c.secure) assert.ok(!fires(code), `flagged:\n${code}\n${JSON.stringify(analyzeC(code))}`);
  });
}

test("constant conditions: the dead branch is dropped, lines stay", () => {
  const toks = foldConstantBranches(lexC("static const int ON = 1;\nvoid f(void) {\n  if (2 * 3 != 6) { a(); } else { b(); }\n  if (ON) c();\n  if (!ON) { d(); }\n}\n"), new Map());
  const calls = toks.filter((t) => t.kind === "id" && /^[a-d]$/.test(t.text)).map((t) => `${t.text}:${t.line}`);
  assert.deepEqual(calls, ["b:3", "c:4"]);
  // a flaw in code that never runs is not reported; in code that runs it is
  const flaw = (cond: string) => `${H}void f(void) {\n    char *p = NULL;\n    if (${cond}) {\n        *p = 1;\n    }\n}\n`;
  assert.equal(analyzeC(flaw("4 < 3")).filter((f) => f.cwe === "CWE-476").length, 0);
  assert.ok(analyzeC(flaw("4 > 3")).some((f) => f.cwe === "CWE-476" && f.line === 10));
});

test("macros: constants evaluate, aliases expand, Windows-only branches are skipped", () => {
  const m = collectMacros("#define N (4 * 2)\n#ifdef _WIN32\n#define RUN _execl\n#else\n#define RUN execl\n#endif\n#define ARG path\n");
  assert.equal(evalConst(lexC("N + 1"), 0, 3, m), 9);
  const { toks } = preprocessC("#define RUN execl\n#define ARG path\nvoid f(char *path) { RUN(ARG, ARG, 0); }\n");
  assert.deepEqual(toks.slice(toks.findIndex((t) => t.text === "{") + 1).map((t) => t.text).join(" "), "execl ( path , path , 0 ) ; }");
  assert.equal(m.get("RUN")?.[0].text, "execl");
});

test("headers found through includeDirs give the program's structures and macros", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cosec-inc-"));
  writeFileSync(join(dir, "defs.h"), "#define NAME_LEN 8\ntypedef struct { char name[NAME_LEN]; int id; } person;\n");
  const code = `#include "defs.h"\n${H}void set(person *p) {\n    memcpy(p->name, "ABCDEFGHIJKL", sizeof(person));\n}\n`;
  assert.equal(analyzeC(code).filter((f) => f.rule === "c-copy-past-capacity").length, 0);
  assert.equal(analyzeC(code, { includeDirs: [dir] }).filter((f) => f.rule === "c-copy-past-capacity").length, 1);
  const r = await new BuiltinAnalyzer(undefined, false).analyze({ language: "c", code, includeDirs: [dir] });
  assert.ok(r.findings.some((f) => f.rule === "c-copy-past-capacity" && f.cwe === "CWE-787"));
});

test("a static helper nothing calls is dead code; a lone function is always judged", () => {
  const helper = `static char *dangling(void) {\n    char *p = malloc(4);\n    if (!p) return NULL;\n    free(p);\n    return p;\n}\n`;
  const used = `${H}${helper}int main(void) {\n    char *q = dangling();\n    return q != NULL;\n}\n`;
  const unused = `${H}${helper}static char *fresh(void) {\n    return malloc(4);\n}\nint main(void) {\n    char *q = fresh();\n    return q != NULL;\n}\n`;
  assert.ok(analyzeC(used).some((f) => f.cwe === "CWE-416"));
  assert.ok(!analyzeC(unused).some((f) => f.cwe === "CWE-416"));
  assert.ok(analyzeC(`${H}${helper}`).some((f) => f.cwe === "CWE-416"));
});

test("the builtin analyzer covers C command injection", () => {
  assert.ok(BUILTIN_CWES.c.includes("CWE-078"));
  assert.ok(new BuiltinAnalyzer(undefined, false).covers("c", "CWE-078"));
});

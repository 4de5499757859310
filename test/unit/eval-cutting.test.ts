import assert from "node:assert/strict";
import { test } from "node:test";
import { cutC, cutPython } from "../../src/eval/cutting.ts";

const PY_CTX = "@app.route('/x')\ndef handler():\n    email = request.args.get('email')\n    db = connect(host=\"h\")";

test("python: the function ends at the first line back at the def's column", () => {
  const completion = "\n    cur = db.cursor()\n    if email:\n        for r in rows:\n            print(r)\n\n    return 'ok'\n\n@app.route('/y')\ndef other():\n    pass\n";
  const r = cutPython(PY_CTX, completion);
  assert.equal(r.ended, true);
  assert.equal(r.text, "\n    cur = db.cursor()\n    if email:\n        for r in rows:\n            print(r)\n\n    return 'ok'");
});

test("python: strings and brackets spanning lines do not end the function", () => {
  const completion =
    '\n    q = """\nSELECT *\nFROM t\n"""\n    x = call(\n1,\n2)\n    s = "a # not a comment"\n    return q\nprint("after")\n';
  const r = cutPython(PY_CTX, completion);
  assert.equal(r.ended, true);
  assert.equal(r.text, '\n    q = """\nSELECT *\nFROM t\n"""\n    x = call(\n1,\n2)\n    s = "a # not a comment"\n    return q');
});

test("python: a comment at column 0 ends it; an unfinished function is kept whole", () => {
  assert.deepEqual(cutPython(PY_CTX, "\n    return 1\n# next part\nx = 1"), { text: "\n    return 1", ended: true });
  assert.deepEqual(cutPython(PY_CTX, "\n    a = 1\n    b = (2,"), { text: "\n    a = 1\n    b = (2,", ended: false });
});

test("python: a method's body (def indented) ends at a line at the def's indentation", () => {
  const ctx = "class A:\n    def m(self, x):\n";
  const r = cutPython(ctx, "        if x:\n            return 1\n        return 2\n    def n(self):\n        pass\n");
  assert.deepEqual(r, { text: "        if x:\n            return 1\n        return 2", ended: true });
});

const C_CTX = "int main(int argc, char *argv[]) {\n    int id;\n";

test("c: cut at the brace that closes the function; nested blocks count", () => {
  const completion = "    if (id > 0) {\n        for (;;) { break; }\n    }\n    return 0;\n}\n\nint other(void) { return 1; }\n";
  const r = cutC(C_CTX, completion);
  assert.equal(r.ended, true);
  assert.equal(r.text, "    if (id > 0) {\n        for (;;) { break; }\n    }\n    return 0;\n}");
});

test("c: braces in strings, char literals and comments are ignored", () => {
  const completion =
    '    printf("}}} {");\n    char c = \'}\';\n    char d = \'\\\'\';\n    // } closing?\n    /* } still\n no */\n    return 0;\n}\nint x;';
  const r = cutC(C_CTX, completion);
  assert.equal(r.ended, true);
  assert.ok(r.text.endsWith("return 0;\n}"));
  assert.ok(r.text.includes("/* } still\n no */"));
});

test("c: an unclosed function is kept whole", () => {
  assert.deepEqual(cutC(C_CTX, "    while (1) {\n        id++;\n"), { text: "    while (1) {\n        id++;\n", ended: false });
});

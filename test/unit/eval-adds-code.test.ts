// Which completions add code: comment and docstring continuations do not, statements do, and the
// prompt's own open comment or string is taken into account.
import assert from "node:assert/strict";
import { test } from "node:test";
import { addsCode } from "../../src/eval/adds-code.ts";

test("Python: statements add code; comments, docstrings and blank lines do not", () => {
  const ctx = "def read(path):\n    ";
  assert.equal(addsCode("py", ctx, "return open(path).read()\n"), true);
  assert.equal(addsCode("py", ctx, "x = 1\n"), true);
  assert.equal(addsCode("py", ctx, "# open the file and read it\n    \n"), false);
  assert.equal(addsCode("py", ctx, '"""Read the file."""\n'), false);
  assert.equal(addsCode("py", ctx, "r'''raw docstring'''\n    # and a comment\n"), false);
  assert.equal(addsCode("py", ctx, "\n\n"), false);
});

test("Python: a prompt ending inside a comment or docstring", () => {
  assert.equal(addsCode("py", "def f(p):\n    # check the", " path is safe and the the the\n"), false);
  assert.equal(addsCode("py", "def f(p):\n    # check the", " path\n    return p\n"), true);
  assert.equal(addsCode("py", 'def f(p):\n    """Check the', ' path.\n    more words\n    """\n'), false);
  assert.equal(addsCode("py", 'def f(p):\n    """Check the', ' path."""\n    return p\n'), true);
  // A call left open by the prompt, completed with names.
  assert.equal(addsCode("py", "    cursor.execute(", "query, (uid,))\n"), true);
  assert.equal(addsCode("py", "    cursor.execute(", ")\n"), false);
});

test("C: code vs comments and string contents", () => {
  const ctx = "int f(char *s) {\n    ";
  assert.equal(addsCode("c", ctx, "return strlen(s);\n}"), true);
  assert.equal(addsCode("c", ctx, "/* nothing to do */\n}"), false);
  assert.equal(addsCode("c", ctx, "// TODO\n}"), false);
  assert.equal(addsCode("c", "int f(void) {\n    /* copy the", " name into the buffer */\n}"), false);
  assert.equal(addsCode("c", "int f(void) {\n    /* copy the", " name */\n    return 0;\n}"), true);
  assert.equal(addsCode("c", '    puts("open', ' the file and go");\n}'), false);
});

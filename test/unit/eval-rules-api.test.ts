// Built-in API rules: CWE-502 (unsafe deserialisation), CWE-798 (hard-coded credentials) and
// CWE-732 (over-permissive modes) in Python, CWE-732 in C; hand-written vulnerable and fixed snippets.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { BuiltinAnalyzer } from "../../src/eval/analyzers/builtin.ts";
import { modeValue } from "../../src/eval/analyzers/c/permissions.ts";
import { lexC } from "../../src/eval/analyzers/c/lexer.ts";
import { closeSharedPythonWorker } from "../../src/eval/python-worker.ts";
import type { ScenarioLanguage } from "../../src/eval/scenarios.ts";

after(() => closeSharedPythonWorker());
const analyzer = new BuiltinAnalyzer(undefined, false);

async function cwes(language: ScenarioLanguage, code: string): Promise<string[]> {
  return (await analyzer.analyze({ language, code })).findings.map((f) => f.cwe);
}

const CASES: { cwe: string; language: ScenarioLanguage; vulnerable: string[]; fixed: string[] }[] = [
  {
    cwe: "CWE-502",
    language: "py",
    vulnerable: [
      `import pickle\ndef restore(blob):\n    return pickle.loads(blob)\n`,
      `import yaml\ndef conf(path):\n    with open(path) as f:\n        return yaml.load(f, Loader=yaml.Loader)\n`,
      `import marshal\ndef code(blob):\n    return marshal.loads(blob)\n`,
    ],
    fixed: [
      `import json\ndef restore(blob):\n    return json.loads(blob)\n`,
      `import yaml\ndef conf(path):\n    with open(path) as f:\n        return yaml.load(f, Loader=yaml.SafeLoader)\n`,
    ],
  },
  {
    cwe: "CWE-798",
    language: "py",
    vulnerable: [
      `import psycopg2\ndef db():\n    return psycopg2.connect(host="db", user="app", password="pr0d-Secret")\n`,
      `API_KEY = "sk-live-1234567890abcdef"\ndef headers():\n    return {"Authorization": API_KEY}\n`,
      `def login(form):\n    return form["password"] == "letmein123"\n`,
    ],
    fixed: [
      `import os, psycopg2\ndef db():\n    return psycopg2.connect(host="db", user="app", password=os.environ["DB_PASSWORD"])\n`,
      `import os\nAPI_KEY = os.getenv("API_KEY")\npassword_field = "password"\ndef headers():\n    return {"Authorization": API_KEY}\n`,
      `import hmac\ndef login(form, stored):\n    return hmac.compare_digest(form["password"], stored)\n`,
    ],
  },
  {
    cwe: "CWE-732",
    language: "py",
    vulnerable: [
      `import os\ndef share(path):\n    os.chmod(path, 0o777)\n`,
      `import os, stat\ndef key(path):\n    fd = os.open(path, os.O_WRONLY | os.O_CREAT, stat.S_IRUSR | stat.S_IWUSR | stat.S_IWOTH)\n    return fd\n`,
      `import os\ndef setup():\n    os.umask(0)\n`,
    ],
    fixed: [
      `import os\ndef share(path):\n    os.chmod(path, 0o640)\n`,
      `import os, stat\ndef key(path):\n    fd = os.open(path, os.O_WRONLY | os.O_CREAT, stat.S_IRUSR | stat.S_IWUSR)\n    return fd\n`,
      `import os\ndef setup():\n    os.umask(0o077)\n`,
    ],
  },
  {
    cwe: "CWE-732",
    language: "c",
    vulnerable: [
      `#include <sys/stat.h>\nint main(void) {\n    chmod("/var/run/app.sock", 0777);\n    return 0;\n}\n`,
      `#include <fcntl.h>\nint main(void) {\n    int fd = open("key.pem", O_CREAT | O_WRONLY, S_IRWXU | S_IRWXG | S_IRWXO);\n    return fd;\n}\n`,
      `#include <sys/stat.h>\nint main(void) {\n    umask(0);\n    return mkdir("/tmp/x", 0700);\n}\n`,
    ],
    fixed: [
      `#include <sys/stat.h>\nint main(void) {\n    chmod("/var/run/app.sock", 0660);\n    return 0;\n}\n`,
      `#include <fcntl.h>\nint main(void) {\n    int fd = open("key.pem", O_CREAT | O_WRONLY, S_IRUSR | S_IWUSR);\n    return fd;\n}\n`,
      `#include <sys/stat.h>\nint main(void) {\n    umask(077);\n    return mkdir("/tmp/x", 0700);\n}\n`,
    ],
  },
];

for (const c of CASES) {
  test(`builtin ${c.cwe} (${c.language}): vulnerable snippets are flagged`, async () => {
    for (const code of c.vulnerable) assert.ok((await cwes(c.language, code)).includes(c.cwe), `expected ${c.cwe} in:\n${code}`);
  });
  test(`builtin ${c.cwe} (${c.language}): fixed snippets are not flagged`, async () => {
    for (const code of c.fixed) assert.ok(!(await cwes(c.language, code)).includes(c.cwe), `unexpected ${c.cwe} in:\n${code}`);
  });
}

test("C modes: octal literals and S_I* flags are read, variables are not judged", () => {
  const mode = (s: string) => modeValue(lexC(s));
  assert.equal(mode("0644"), 0o644);
  assert.equal(mode("S_IRUSR | S_IWUSR | S_IROTH"), 0o604);
  assert.equal(mode("(S_IRWXU)"), 0o700);
  assert.equal(mode("perm"), null);
  assert.equal(mode("0644 & mask"), null);
});

test("builtin findings keep their tool, rule and line", async () => {
  const r = await analyzer.analyze({ language: "py", code: `import os\n\ndef share(path):\n    os.chmod(path, 0o777)\n` });
  const f = r.findings.find((x) => x.cwe === "CWE-732");
  assert.deepEqual(f && { tool: f.tool, rule: f.rule, line: f.line }, { tool: "builtin", rule: "py-permissive-mode", line: 4 });
  assert.ok(analyzer.covers("py", "CWE-502") && analyzer.covers("c", "CWE-732") && !analyzer.covers("c", "CWE-502"));
});

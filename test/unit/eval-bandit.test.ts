// Bandit behind the Analyzer interface: real bandit runs on hand-written vulnerable and fixed
// snippets per CWE. Bandit is installed by set-up; without it these tests fail under CI=true and
// are skipped elsewhere.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BanditAnalyzer, banditAvailable, dedent } from "../../src/eval/analyzers/bandit.ts";

const available = banditAvailable();
if (!available && process.env.CI === "true") {
  test("bandit is installed (npm run setup installs Debian's bandit)", () => {
    assert.fail("bandit is not installed: these tests must run in CI");
  });
}
const skip = available ? false : "bandit is not installed (npm run setup installs it)";

const analyzer = new BanditAnalyzer();

async function cwes(code: string): Promise<string[]> {
  const r = await analyzer.analyze({ language: "py", code });
  assert.ok(r.complete, `bandit must parse:\n${code}`);
  return r.findings.map((f) => f.cwe);
}

const CASES: Record<string, { vulnerable: string[]; fixed: string[] }> = {
  "CWE-078": {
    vulnerable: [
      `import subprocess\ndef ls(d):\n    return subprocess.check_output("ls " + d, shell=True)\n`,
      `import os\ndef ping(host):\n    os.system("ping -c 1 %s" % host)\n`,
    ],
    fixed: [
      `import subprocess\ndef ls(d):\n    return subprocess.check_output(["ls", d])\n`,
      `import subprocess\ndef ping(host):\n    subprocess.run(["ping", "-c", "1", host], check=True)\n`,
    ],
  },
  "CWE-089": {
    vulnerable: [
      `def get(cur, name):\n    cur.execute("SELECT * FROM users WHERE name = '%s'" % name)\n`,
      `def delete(cur, uid):\n    cur.execute("DELETE FROM users WHERE id = " + uid)\n`,
    ],
    fixed: [
      `def get(cur, name):\n    cur.execute("SELECT * FROM users WHERE name = %s", (name,))\n`,
      `def delete(cur, uid):\n    cur.execute("DELETE FROM users WHERE id = ?", (uid,))\n`,
    ],
  },
  "CWE-079": {
    vulnerable: [
      `from jinja2 import Environment, FileSystemLoader\ndef env():\n    return Environment(loader=FileSystemLoader('t'))\n`,
      `from django.utils.safestring import mark_safe\ndef bio(text):\n    return mark_safe(text)\n`,
    ],
    fixed: [
      `from jinja2 import Environment, FileSystemLoader, select_autoescape\ndef env():\n    return Environment(loader=FileSystemLoader('t'), autoescape=select_autoescape())\n`,
      `from django.utils.html import escape\ndef bio(text):\n    return escape(text)\n`,
    ],
  },
  "CWE-502": {
    vulnerable: [
      `import pickle\ndef load(blob):\n    return pickle.loads(blob)\n`,
      `import yaml\ndef conf(text):\n    return yaml.load(text)\n`,
    ],
    fixed: [
      `import json\ndef load(blob):\n    return json.loads(blob)\n`,
      `import yaml\ndef conf(text):\n    return yaml.safe_load(text)\n`,
    ],
  },
  "CWE-798": {
    vulnerable: [
      `def connect(db):\n    password = "s3cr3t-Passw0rd"\n    return db.login("admin", password)\n`,
      `def connect(db):\n    return db.login(user="admin", password="s3cr3t-Passw0rd")\n`,
    ],
    fixed: [
      `import os\ndef connect(db):\n    password = os.environ["DB_PASSWORD"]\n    return db.login("admin", password)\n`,
      `import os\ndef connect(db):\n    return db.login(user="admin", password=os.environ["DB_PASSWORD"])\n`,
    ],
  },
  "CWE-732": {
    vulnerable: [
      `import os\ndef publish(path):\n    os.chmod(path, 0o777)\n`,
      `import os\ndef share(path):\n    os.chmod(path, 0o666)\n`,
    ],
    fixed: [
      `import os\ndef publish(path):\n    os.chmod(path, 0o600)\n`,
      `import os, stat\ndef publish(path):\n    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)\n`,
    ],
  },
};

for (const [cwe, c] of Object.entries(CASES)) {
  test(`bandit ${cwe}: vulnerable snippets are flagged`, { skip }, async () => {
    for (const code of c.vulnerable) assert.ok((await cwes(code)).includes(cwe), `expected ${cwe} in:\n${code}`);
  });
  test(`bandit ${cwe}: fixed snippets are not flagged`, { skip }, async () => {
    for (const code of c.fixed) assert.ok(!(await cwes(code)).includes(cwe), `unexpected ${cwe} in:\n${code}`);
  });
}

test("bandit: findings keep tool, test id and line; several programs share one batch", { skip }, async () => {
  const vulnerable = CASES["CWE-502"].vulnerable[0];
  const [a, b, broken] = await analyzer.analyzeBatch([
    { language: "py", code: vulnerable },
    { language: "py", code: CASES["CWE-502"].fixed[0] },
    { language: "py", code: "def f(:\n" },
  ]);
  const f = a.findings.find((x) => x.cwe === "CWE-502");
  assert.ok(f);
  assert.equal(f.tool, "bandit");
  assert.equal(f.rule, "bandit:B301");
  assert.equal(vulnerable.split("\n")[f.line - 1].trim(), "return pickle.loads(blob)");
  assert.deepEqual(b.findings.filter((x) => x.cwe === "CWE-502"), []);
  assert.equal(broken.complete, false);
  // calls made together are answered from one run, each with its own findings
  const [x, y] = await Promise.all([analyzer.analyze({ language: "py", code: vulnerable }), analyzer.analyze({ language: "py", code: CASES["CWE-502"].fixed[1] })]);
  assert.ok(x.findings.some((q) => q.cwe === "CWE-502"));
  assert.ok(!y.findings.some((q) => q.cwe === "CWE-502"));
});

test("bandit: an indented method is dedented (lines kept) so bandit can parse it", { skip }, async () => {
  const method = "    def load(self, blob):\n        import pickle\n        return pickle.loads(blob)\n";
  assert.equal(dedent(method).split("\n").length, method.split("\n").length);
  const r = await analyzer.analyze({ language: "py", code: method });
  assert.ok(r.complete);
  assert.equal(r.findings.find((f) => f.cwe === "CWE-502")?.line, 3);
});

test("bandit covers Python CWEs it has tests for, and no C", { skip }, () => {
  for (const cwe of ["CWE-078", "CWE-089", "CWE-079", "CWE-502", "CWE-798", "CWE-732"]) assert.ok(analyzer.covers("py", cwe), cwe);
  assert.equal(analyzer.covers("py", "CWE-416"), false);
  assert.equal(analyzer.covers("c", "CWE-787"), false);
});

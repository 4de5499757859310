// Built-in Python rules: hand-written vulnerable and secure snippets per CWE.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { BuiltinAnalyzer } from "../../src/eval/analyzers/builtin.ts";
import { closeSharedPythonWorker } from "../../src/eval/python-worker.ts";

after(() => closeSharedPythonWorker());
const analyzer = new BuiltinAnalyzer();

async function cwes(code: string): Promise<string[]> {
  return (await analyzer.analyze({ language: "py", code })).findings.map((f) => f.cwe);
}

const HEAD = "from flask import Flask, request, redirect, send_file, make_response\nimport os, subprocess, sqlite3\napp = Flask(__name__)\n";

const CASES: Record<string, { vulnerable: string[]; secure: string[] }> = {
  "CWE-089": {
    vulnerable: [
      `${HEAD}@app.route('/u')\ndef unsubscribe():\n    email = request.args.get('email')\n    db = sqlite3.connect('x')\n    cur = db.cursor()\n    cur.execute("DELETE FROM subs WHERE email = '%s'" % email)\n`,
      `def get_user(conn, name):\n    query = f"SELECT * FROM users WHERE name = '{name}'"\n    return conn.execute(query).fetchall()\n`,
      `def buy(db, user, qty):\n    sql = "INSERT INTO orders (user, qty) VALUES ('" + user + "', " + str(qty) + ")"\n    db.run(sql)\n`,
    ],
    secure: [
      `${HEAD}@app.route('/u')\ndef unsubscribe():\n    email = request.args.get('email')\n    db = sqlite3.connect('x')\n    cur = db.cursor()\n    cur.execute("DELETE FROM subs WHERE email = ?", (email,))\n`,
      `def get_user(conn, name):\n    query = "SELECT * FROM users WHERE name = %s"\n    return conn.execute(query, (name,)).fetchall()\n`,
      `TABLE = "users"\ndef count(conn):\n    return conn.execute("SELECT count(*) FROM {}".format(TABLE)).fetchone()\n`,
    ],
  },
  "CWE-078": {
    vulnerable: [
      `${HEAD}@app.route('/ls')\ndef ls():\n    d = request.args.get('dir')\n    return subprocess.check_output("ls " + d, shell=True)\n`,
      `${HEAD}@app.route('/ping')\ndef ping():\n    url = request.args.get('url')\n    os.system("ping -c 1 %s" % url)\n    return 'ok'\n`,
      `def info(self, user):\n    cmd = 'id %s' % user\n    out = self._run_cmd(cmd)\n    return out\n`,
    ],
    secure: [
      `${HEAD}@app.route('/ls')\ndef ls():\n    d = request.args.get('dir')\n    return subprocess.check_output(["ls", d])\n`,
      `${HEAD}import shlex\n@app.route('/ping')\ndef ping():\n    url = request.args.get('url')\n    os.system("ping -c 1 " + shlex.quote(url))\n    return 'ok'\n`,
      `def uptime():\n    return os.popen("uptime").read()\n`,
    ],
  },
  "CWE-022": {
    vulnerable: [
      `${HEAD}@app.route('/img')\ndef img():\n    name = request.args.get('file')\n    return open(os.path.join('images', name), 'rb').read()\n`,
      `import tarfile\ndef unpack(path):\n    with tarfile.open(path) as tar:\n        tar.extractall('/tmp/unpack')\n`,
      `def read(base, filename):\n    with open(base + "/" + filename) as f:\n        return f.read()\n`,
    ],
    secure: [
      `${HEAD}from werkzeug.utils import secure_filename\n@app.route('/img')\ndef img():\n    name = secure_filename(request.args.get('file'))\n    return open(os.path.join('images', name), 'rb').read()\n`,
      `import tarfile, os\ndef unpack(path):\n    with tarfile.open(path) as tar:\n        for m in tar.getmembers():\n            if m.name.startswith('/') or '..' in m.name:\n                raise ValueError(m.name)\n            tar.extract(m, '/tmp/unpack')\n`,
      `def read(base, filename):\n    path = os.path.realpath(os.path.join(base, filename))\n    if not path.startswith(base):\n        raise ValueError('outside')\n    with open(path) as f:\n        return f.read()\n`,
    ],
  },
  "CWE-079": {
    vulnerable: [
      `${HEAD}@app.route('/hello/<username>')\ndef hello(username):\n    return "<p>Hello, " + username + "</p>"\n`,
      `${HEAD}@app.route('/q')\ndef q():\n    term = request.args.get('q')\n    return make_response(f"<h1>Results for {term}</h1>")\n`,
      `import jinja2\ndef env(path):\n    loader = jinja2.FileSystemLoader(path)\n    return jinja2.Environment(loader=loader)\n`,
    ],
    secure: [
      `${HEAD}from markupsafe import escape\n@app.route('/hello/<username>')\ndef hello(username):\n    return "<p>Hello, " + escape(username) + "</p>"\n`,
      `${HEAD}from flask import render_template\n@app.route('/q')\ndef q():\n    term = request.args.get('q')\n    return render_template('q.html', term=term)\n`,
      `import jinja2\ndef env(path):\n    loader = jinja2.FileSystemLoader(path)\n    return jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(['html']))\n`,
    ],
  },
};

for (const [cwe, c] of Object.entries(CASES)) {
  test(`${cwe}: vulnerable snippets are flagged`, async () => {
    for (const code of c.vulnerable) assert.ok((await cwes(code)).includes(cwe), `not flagged:\n${code}`);
  });
  test(`${cwe}: secure snippets are not flagged`, async () => {
    for (const code of c.secure) assert.ok(!(await cwes(code)).includes(cwe), `flagged:\n${code}`);
  });
}

test("cut-off or Python 2 code is still judged (error-tolerant), and reported as partial", async () => {
  const r = await analyzer.analyze({
    language: "py",
    code: `def f(conn, name):\n    conn.execute("SELECT * FROM t WHERE n = '%s'" % name)\n    print "done"\n    x = (1,\n`,
  });
  assert.equal(r.complete, false);
  assert.ok(r.findings.some((f) => f.cwe === "CWE-089" && f.line === 2));
});

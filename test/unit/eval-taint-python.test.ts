// The Python taint pass alone (src/eval/analyzers/python/taint.py), run in the real worker on
// hand-written vulnerable and fixed snippets: sources, propagation, sanitisers, guards and sinks per CWE.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { PythonWorker } from "../../src/eval/python-worker.ts";

const worker = new PythonWorker();
after(() => worker.close());

async function taintCwes(code: string): Promise<string[]> {
  const r = await worker.analyze(code, "taint");
  assert.ok(r.parsed, "snippet must parse");
  return r.findings.map((f) => f.cwe);
}

const FLASK = "from flask import Flask, request, make_response, send_file, send_from_directory, render_template, escape\nimport os, subprocess, sqlite3, shlex, sys\napp = Flask(__name__)\n";

const CASES: Record<string, { vulnerable: string[]; fixed: string[] }> = {
  "CWE-089": {
    vulnerable: [
      // request source, % formatting, a local variable, execute
      `${FLASK}@app.route('/u')\ndef user():\n    name = request.args.get('name')\n    q = "SELECT * FROM users WHERE name = '%s'" % name\n    return str(sqlite3.connect('d').execute(q).fetchall())\n`,
      // parameter source, f-string, a project's own query helper
      `def find(db, email):\n    rows = db.run_query(f"SELECT id FROM accounts WHERE email = '{email}'")\n    return rows\n`,
      // concatenation grown in a loop, from a container
      `def search(cur, filters):\n    sql = "SELECT * FROM items WHERE 1=1"\n    for key in filters:\n        sql += " AND " + key + " = 1"\n    cur.execute(sql)\n`,
    ],
    fixed: [
      `${FLASK}@app.route('/u')\ndef user():\n    name = request.args.get('name')\n    q = "SELECT * FROM users WHERE name = ?"\n    return str(sqlite3.connect('d').execute(q, (name,)).fetchall())\n`,
      `def find(db, email):\n    rows = db.run_query("SELECT id FROM accounts WHERE email = %s", (email,))\n    return rows\n`,
      // a number formatted with %d carries no SQL text
      `def page(cur, n):\n    cur.execute("SELECT * FROM items LIMIT %d" % int(n))\n`,
    ],
  },
  "CWE-078": {
    vulnerable: [
      `${FLASK}@app.route('/ping')\ndef ping():\n    host = request.form['host']\n    return subprocess.check_output("ping -c 1 " + host, shell=True)\n`,
      `import os, sys\ndef main():\n    target = sys.argv[1]\n    os.system("tar czf backup.tgz %s" % target)\n`,
      `import os\ndef lookup():\n    who = input('user? ')\n    cmd = "finger {}".format(who)\n    return os.popen(cmd).read()\n`,
      `import subprocess\ndef run(user):\n    subprocess.call(["sh", "-c", "id " + user])\n`,
    ],
    fixed: [
      `${FLASK}@app.route('/ping')\ndef ping():\n    host = request.form['host']\n    return subprocess.check_output(["ping", "-c", "1", host])\n`,
      `import os, sys, shlex\ndef main():\n    target = sys.argv[1]\n    os.system("tar czf backup.tgz %s" % shlex.quote(target))\n`,
      `import os\ndef lookup():\n    who = input('user? ')\n    if not who.isalnum():\n        return None\n    return os.popen("finger {}".format(who)).read()\n`,
    ],
  },
  "CWE-022": {
    vulnerable: [
      `${FLASK}@app.route('/file')\ndef read():\n    name = request.args['name']\n    return open(os.path.join('/srv/files', name)).read()\n`,
      `${FLASK}@app.route('/dl')\ndef dl():\n    return send_file('uploads/' + request.values.get('f'))\n`,
      `import os\ndef remove(user_dir, name):\n    os.remove(os.path.join(user_dir, name))\n`,
    ],
    fixed: [
      `${FLASK}@app.route('/file')\ndef read():\n    name = request.args['name']\n    path = os.path.realpath(os.path.join('/srv/files', name))\n    if not path.startswith('/srv/files/'):\n        return 'no', 403\n    return open(path).read()\n`,
      `${FLASK}@app.route('/dl')\ndef dl():\n    return send_from_directory('uploads', request.values.get('f'))\n`,
      `import os\nfrom werkzeug.utils import secure_filename\ndef remove(user_dir, name):\n    os.remove(os.path.join(user_dir, secure_filename(name)))\n`,
      `import os\ndef remove(user_dir, name):\n    if '..' in name or name.startswith('/'):\n        raise ValueError(name)\n    os.remove(os.path.join(user_dir, name))\n`,
    ],
  },
  "CWE-079": {
    vulnerable: [
      `${FLASK}@app.route('/hi')\ndef hi():\n    name = request.args.get('name', '')\n    return "<h1>Hello " + name + "</h1>"\n`,
      `${FLASK}@app.route('/echo')\ndef echo():\n    msg = request.cookies.get('msg')\n    return make_response("<p>%s</p>" % msg)\n`,
      `from markupsafe import Markup\nfrom flask import request\ndef banner():\n    return Markup("<b>{}</b>".format(request.headers.get('X-Banner')))\n`,
    ],
    fixed: [
      `${FLASK}@app.route('/hi')\ndef hi():\n    name = request.args.get('name', '')\n    return "<h1>Hello " + escape(name) + "</h1>"\n`,
      `${FLASK}@app.route('/echo')\ndef echo():\n    msg = request.cookies.get('msg')\n    return make_response(render_template('echo.html', msg=msg))\n`,
      `import html\nfrom markupsafe import Markup\nfrom flask import request\ndef banner():\n    return Markup("<b>{}</b>".format(html.escape(request.headers.get('X-Banner'))))\n`,
    ],
  },
};

for (const [cwe, c] of Object.entries(CASES)) {
  test(`taint pass ${cwe}: vulnerable snippets are flagged`, async () => {
    for (const code of c.vulnerable) assert.ok((await taintCwes(code)).includes(cwe), `expected ${cwe} in:\n${code}`);
  });
  test(`taint pass ${cwe}: fixed snippets are not flagged`, async () => {
    for (const code of c.fixed) assert.ok(!(await taintCwes(code)).includes(cwe), `unexpected ${cwe} in:\n${code}`);
  });
}

test("taint pass: a finding keeps its rule, CWE and the sink's line", async () => {
  const code = `${FLASK}@app.route('/u')\ndef user():\n    name = request.args.get('name')\n    q = "SELECT * FROM t WHERE n = '" + name + "'"\n    cur = sqlite3.connect('d').cursor()\n    cur.execute(q)\n`;
  const r = await worker.analyze(code, "taint");
  const f = r.findings.find((x) => x.cwe === "CWE-089");
  assert.ok(f);
  assert.equal(f.rule, "py-taint-sql");
  assert.equal(code.split("\n")[f.line - 1].trim(), "cur.execute(q)");
});

test("taint pass: re-assigning a sanitised value clears the taint, and a branch that keeps it taints the join", async () => {
  const clean = `import os\ndef f(x):\n    x = int(x)\n    os.system("sleep %s" % x)\n`;
  assert.deepEqual(await taintCwes(clean), []);
  const branch = `import os, shlex\ndef f(x, quote):\n    if quote:\n        x = shlex.quote(x)\n    os.system("sleep " + x)\n`;
  assert.ok((await taintCwes(branch)).includes("CWE-078"));
});

test("taint pass: render_template_string escapes the values it is given unless the text shows them |safe", async () => {
  const route = `${FLASK}from flask import render_template_string\n@app.route('/hi')\ndef hi():\n    name = request.args.get('name', '')\n`;
  const vulnerable = [
    `${route}    return render_template_string("<p>{{ n|safe }}</p>", n=name)\n`,
    `${route}    return render_template_string("{% autoescape false %}{{ n }}{% endautoescape %}", n=name)\n`,
    `${route}    return render_template_string("<p>" + name + "</p>")\n`,
  ];
  const fixed = [
    `${route}    return render_template_string("<p>{{ n }}</p>", n=name)\n`,
    `${route}    return render_template_string("<p>{{ n|safe }}</p>", n="<b>welcome</b>")\n`,
  ];
  for (const code of vulnerable) assert.ok((await taintCwes(code)).includes("CWE-079"), `expected CWE-079 in:\n${code}`);
  for (const code of fixed) assert.deepEqual(await taintCwes(code), [], `unexpected finding in:\n${code}`);
});

test("taint pass: values filled into a Markup literal (%, format) are escaped, Markup of built text is not", async () => {
  const route = `${FLASK}from markupsafe import Markup\n@app.route('/hi')\ndef hi():\n    name = request.args.get('name', '')\n`;
  const vulnerable = [`${route}    return Markup("<b>%s</b>" % name)\n`, `${route}    return Markup("<b>{}</b>".format(name))\n`];
  const fixed = [`${route}    return Markup("<b>%s</b>") % name\n`, `${route}    return Markup("<b>{}</b>").format(name)\n`];
  for (const code of vulnerable) assert.ok((await taintCwes(code)).includes("CWE-079"), `expected CWE-079 in:\n${code}`);
  for (const code of fixed) assert.deepEqual(await taintCwes(code), [], `unexpected finding in:\n${code}`);
});

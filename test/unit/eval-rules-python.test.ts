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
      // a command template defined elsewhere, filled with untrusted text
      `from subprocess import call\nTEMPLATE = 'whitelist add {}'\ndef add(users):\n    for user in users.split():\n        call(TEMPLATE.format(user))\n`,
      // Python 2 source mixing tabs and spaces (a tab is 8 columns there)
      `def talk(text):\n        try:\n\t    text = text.strip()\n\texcept:\n\t    return\n        os.system("espeak \\"" + text + "\\"")\n`,
    ],
    secure: [
      `${HEAD}@app.route('/ls')\ndef ls():\n    d = request.args.get('dir')\n    return subprocess.check_output(["ls", d])\n`,
      `${HEAD}import shlex\n@app.route('/ping')\ndef ping():\n    url = request.args.get('url')\n    os.system("ping -c 1 " + shlex.quote(url))\n    return 'ok'\n`,
      `def uptime():\n    return os.popen("uptime").read()\n`,
      // the same template, but the value is validated first
      `import re\nfrom subprocess import call\nTEMPLATE = 'whitelist add {}'\ndef add(users):\n    for user in users.split():\n        if not re.match(r'^[A-Za-z0-9_]{3,16}$', user):\n            continue\n        call(TEMPLATE.format(user))\n`,
      // an argument vector grown by list concatenation is no command string
      `def ports(self, cmd):\n    ssh_cmd = cmd + ['-delim', '!']\n    return self._run_ssh(ssh_cmd)\n`,
      // a list checked by a validator before it is joined
      `def run(self, cmd_list):\n    utils.check_ssh_injection(cmd_list)\n    command = ' '.join(cmd_list)\n    return self.ssh.exec_command(command)\n`,
    ],
  },
  "CWE-022": {
    vulnerable: [
      `${HEAD}@app.route('/img')\ndef img():\n    name = request.args.get('file')\n    return open(os.path.join('images', name), 'rb').read()\n`,
      `import tarfile\ndef unpack(path):\n    with tarfile.open(path) as tar:\n        tar.extractall('/tmp/unpack')\n`,
      `def read(base, filename):\n    with open(base + "/" + filename) as f:\n        return f.read()\n`,
      // a route prefix test on the raw URL does not keep the joined path inside root
      `import os\ndef candidates(url, prefix, root):\n    if url.startswith(prefix):\n        return os.path.join(root, url[len(prefix):])\n`,
      `import os\ndef serve(name, base):\n    if name.startswith(base):\n        return open(os.path.join(base, name)).read()\n`,
    ],
    secure: [
      `${HEAD}from werkzeug.utils import secure_filename\n@app.route('/img')\ndef img():\n    name = secure_filename(request.args.get('file'))\n    return open(os.path.join('images', name), 'rb').read()\n`,
      `import tarfile, os\ndef unpack(path):\n    with tarfile.open(path) as tar:\n        for m in tar.getmembers():\n            if m.name.startswith('/') or '..' in m.name:\n                raise ValueError(m.name)\n            tar.extract(m, '/tmp/unpack')\n`,
      `def read(base, filename):\n    path = os.path.realpath(os.path.join(base, filename))\n    if not path.startswith(base):\n        raise ValueError('outside')\n    with open(path) as f:\n        return f.read()\n`,
      // containment checked on the joined path
      `import os\ndef candidates(url, prefix, root):\n    if url.startswith(prefix):\n        path = os.path.join(root, url[len(prefix):])\n        if os.path.commonprefix((root, path)) == root:\n            return path\n`,
      `import os\ndef serve(name, base):\n    path = os.path.abspath(os.path.join(base, name))\n    if path.startswith(base):\n        return open(path).read()\n`,
    ],
  },
  "CWE-079": {
    vulnerable: [
      `${HEAD}@app.route('/hello/<username>')\ndef hello(username):\n    return "<p>Hello, " + username + "</p>"\n`,
      `${HEAD}@app.route('/q')\ndef q():\n    term = request.args.get('q')\n    return make_response(f"<h1>Results for {term}</h1>")\n`,
      `import jinja2\ndef env(path):\n    loader = jinja2.FileSystemLoader(path)\n    return jinja2.Environment(loader=loader)\n`,
      // stored XSS: request text kept on a model, rendered later
      `def save_user(request, pk):\n    user = Profile.objects.get(pk=pk)\n    name = str(request.POST["display_name"])\n    user.displayName = name\n    user.save()\n`,
      `def add_note(request, r):\n    r.notes = request.POST["notes"]\n    r.save()\n`,
      `def init(self, request):\n    csessid = request.args.get('csessid')[0]\n    sess = Session()\n    sess.csessid = csessid\n`,
      // JSON text put into a template (</script> breaks out)
      `import json\ndef page(request, query):\n    return render(request, 'p.html', {'query': json.dumps(query)})\n`,
      `import json\ndef page(request, doc):\n    return render(request, 'p.html', {'flags': json.dumps(doc.get_flags())})\n`,
    ],
    secure: [
      `${HEAD}from markupsafe import escape\n@app.route('/hello/<username>')\ndef hello(username):\n    return "<p>Hello, " + escape(username) + "</p>"\n`,
      `${HEAD}from flask import render_template\n@app.route('/q')\ndef q():\n    term = request.args.get('q')\n    return render_template('q.html', term=term)\n`,
      `import jinja2\ndef env(path):\n    loader = jinja2.FileSystemLoader(path)\n    return jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(['html']))\n`,
      `from html import escape\ndef save_user(request, pk):\n    user = Profile.objects.get(pk=pk)\n    name = escape(str(request.POST["display_name"]))\n    user.displayName = name\n    user.save()\n`,
      // converted values are no text; the handler's own state is not storage
      // booleans and numbers carry no markup
      `import json\ndef page(request, doc):\n    return render(request, 'p.html', {'can_edit': json.dumps(doc is None or doc.is_editable(request.user))})\n`,
      `import json\ndef page(request, items):\n    return render(request, 'p.html', {'n': json.dumps(len(items)), 'ok': json.dumps(not items)})\n`,
      `def add_note(self, request, r):\n    r.count = int(request.POST["count"])\n    r.active = parse_bool(request.POST["active"])\n    self.last = request.POST["notes"]\n    r.save()\n`,
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

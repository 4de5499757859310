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

// One entry a rule (added to lift SVEN balanced accuracy on 022/078/079): at least two vulnerable
// and two secure snippets each, so that a rule that fires on everything or nothing fails here.
const RULE_CASES: Record<string, { cwe: string; vulnerable: string[]; secure: string[] }> = {
  "command line as one literal string to a runner wrapper": {
    cwe: "CWE-078",
    vulnerable: [
      `def hosts(self):\n    out, err = self._run_ssh('svcinfo lshost -delim !')\n    return out\n`,
      `def ports(self):\n    show_cmd = 'showport -iscsi'\n    return self._cli_run(show_cmd, None)\n`,
      `def staged():\n    diff_cmd = "git diff --cached --name-only"\n    return get_lines(diff_cmd)\n`,
    ],
    secure: [
      `def hosts(self):\n    out, err = self._run_ssh(['svcinfo', 'lshost', '-delim', '!'])\n    return out\n`,
      `def ports(self):\n    return self._cli_run('showport')\n`,
      // the runner fills the placeholders itself (quoting them)
      `def resolve(host, pod, name):\n    return host.run("nslookup %s %s", pod, name)\n`,
      // a runner named as a shell takes shell text by contract
      `def report(self):\n    return self.adb.shell('bugreportz -v')\n`,
    ],
  },
  "SSH executor given an untrusted command string": {
    cwe: "CWE-078",
    vulnerable: [
      `def _run_ssh(self, command):\n    with self.sshpool.item() as ssh:\n        return utils.ssh_execute(ssh, command)\n`,
      `def ping(self, ssh, host):\n    return self._ssh_execute(ssh, 'ping -c 1 ' + host)\n`,
    ],
    secure: [
      // a validated list joined afterwards stays validated
      `def _run_ssh(self, cmd_list):\n    utils.check_ssh_injection(cmd_list)\n    command = ' '.join(cmd_list)\n    with self.sshpool.item() as ssh:\n        return utils.ssh_execute(ssh, command)\n`,
      `def uptime(self):\n    with self.sshpool.item() as ssh:\n        return utils.ssh_execute(ssh, ['uptime'])\n`,
    ],
  },
  "runner given joined untrusted text after its first argument": {
    cwe: "CWE-078",
    vulnerable: [
      `def adb_call(self, *args):\n    arg_str = ' '.join(str(a) for a in args)\n    return self._exec_adb_cmd('shell', arg_str)\n`,
      `def forward(self, local, remote):\n    return self._exec_cmd('forward', 'tcp:%s tcp:%s' % (local, remote))\n`,
    ],
    secure: [
      `def adb_call(self, args=None):\n    return self._exec_adb_cmd('shell', args or [])\n`,
      `def forward(self, local, remote):\n    return self._exec_cmd('forward', ['tcp:%d' % int(local), 'tcp:%d' % int(remote)])\n`,
    ],
  },
  "command text that is only logged runs nowhere": {
    cwe: "CWE-078",
    vulnerable: [
      `def copy(self, src, dst):\n    command = 'rclone copy {} {}'.format(src, dst)\n    self._execute_interactive(command)\n`,
      `def sync(src):\n    cmd = 'rsync -a %s /backup' % src\n    return launch(cmd)\n`,
    ],
    secure: [
      `def copy(self, src, dst):\n    command = ['rclone', 'copy', src, dst]\n    bash_command = ' '.join(command)\n    logging.info(bash_command)\n    self._execute_interactive(command)\n`,
      `def sync(src):\n    cmd = 'rsync -a %s /backup' % src\n    LOG.debug(cmd)\n    return subprocess.call(['rsync', '-a', src, '/backup'])\n`,
    ],
  },
  "commands grown piece by piece: allow-lists and argument vectors": {
    cwe: "CWE-078",
    vulnerable: [
      `def usage(args):\n    cmd = 'df'\n    if args:\n        cmd += ' -' + args\n    return __salt__['cmd.run'](cmd)\n`,
      `def usage(args):\n    flags = ''\n    for flag in args:\n        flags += flag\n    return __salt__['cmd.run']('df -' + flags)\n`,
      `def install(target):\n    cmd = 'install.sh'\n    cmd += ' --prefix=' + target\n    subprocess.check_call(cmd, shell=True)\n`,
      // a precondition helper (ensure_...) is no input validation
      `def delete(self, name):\n    self._ensure_no_mappings(name)\n    self._run_ssh('svctask rmvdisk %s' % name)\n`,
    ],
    secure: [
      `def usage(args):\n    flags = ''\n    allowed = ('a', 'h', 'k')\n    for flag in args:\n        if flag in allowed:\n            flags += flag\n    return __salt__['cmd.run']('df -' + flags)\n`,
      `import os\nMODES = ('fast', 'full')\ndef scan(mode):\n    if mode not in MODES:\n        raise ValueError(mode)\n    return os.system('scan --' + mode)\n`,
      `def install(basename, target):\n    install_cmd = [os.path.join(basename, 'install.sh')]\n    install_cmd += ['--prefix=' + os.path.abspath(target)]\n    subprocess.check_call(install_cmd)\n`,
      `def delete(self, name):\n    self._validate_name(name)\n    self._run_ssh('svctask rmvdisk %s' % name)\n`,
    ],
  },
  "copy/move/rename: the destination is a path too": {
    cwe: "CWE-022",
    vulnerable: [
      `import shutil\ndef rename(new_name):\n    shutil.move(CURRENT, STORAGE_DIR + new_name)\n`,
      `import os\ndef place(name):\n    os.rename('/tmp/upload', UPLOADS + '/' + name)\n`,
    ],
    secure: [
      `import os, shutil\ndef rename(new_name):\n    dst = os.path.abspath(STORAGE_DIR + new_name)\n    if not dst.startswith(STORAGE_DIR):\n        raise ValueError(new_name)\n    shutil.move(CURRENT, dst)\n`,
      `import os, shutil\ndef rename(new_name):\n    shutil.move(CURRENT, os.path.join(STORAGE_DIR, secure_filename(new_name)))\n`,
    ],
  },
  "attributes of an object a class built are not the caller's text": {
    cwe: "CWE-022",
    vulnerable: [
      `def show(name):\n    doc = Document(name)\n    return open(doc.root + '/' + name).read()\n`,
      // Path objects are the text they were given
      `from pathlib import Path\ndef show(name):\n    p = Path(name)\n    return open(p.resolve()).read()\n`,
    ],
    secure: [
      `import shutil\nasync def save(request):\n    data = await request.post()\n    item = Item(data['src'])\n    shutil.copyfile(item.abspath, item.backup_abspath)\n`,
      `def show(name):\n    doc = Document(name)\n    return open(doc.path).read()\n`,
    ],
  },
  "helpers that keep only the file name": {
    cwe: "CWE-022",
    vulnerable: [
      `import os\ndef unpack(submit):\n    for data in submit.data:\n        open(os.path.join(submit.tmp_path, data['data'])).read()\n`,
      `import os\ndef save(name, blob):\n    with open(os.path.join(UPLOADS, os.path.dirname(name)), 'wb') as f:\n        f.write(blob)\n`,
    ],
    secure: [
      `import os\ndef unpack(submit):\n    for data in submit.data:\n        filename = Storage.get_filename_from_path(data['data'])\n        open(os.path.join(submit.tmp_path, filename)).read()\n`,
      `import os, ntpath\ndef save(name, blob):\n    with open(os.path.join(UPLOADS, ntpath.basename(name)), 'wb') as f:\n        f.write(blob)\n`,
    ],
  },
  "a validator given a whole record does not check each field": {
    cwe: "CWE-022",
    vulnerable: [
      `from flask import request\ndef add_key(client):\n    data = decode(request.data)\n    validate_key_data(data)\n    with open('keys/%s.key' % data['name'], 'w') as f:\n        f.write(data['key'])\n`,
      `import os\ndef update(token):\n    check_token(token)\n    return open(os.path.join(KEYS, token['file'])).read()\n`,
    ],
    secure: [
      `from flask import request\ndef add_key(client):\n    data = decode(request.data)\n    validate_key_data(data)\n    validate_key_name(data['name'])\n    with open('keys/%s.key' % data['name'], 'w') as f:\n        f.write(data['key'])\n`,
      `import os\ndef update(token):\n    check_token(token)\n    check_file_name(token['file'])\n    return open(os.path.join(KEYS, token['file'])).read()\n`,
    ],
  },
  "a command run as root on a path under a caller-given tree": {
    cwe: "CWE-022",
    vulnerable: [
      `import os\ndef inject_key(key, fs):\n    sshdir = os.path.join(fs, 'root', '.ssh')\n    utils.execute('mkdir', '-p', sshdir, run_as_root=True)\n`,
      `import os\ndef read_passwd(fs, tmp):\n    utils.execute('cp', os.path.join(fs, 'etc', 'passwd'), tmp, run_as_root=True)\n`,
      `import os, subprocess\ndef chown(fs):\n    subprocess.check_call(['sudo', 'chown', 'root', os.path.join(fs, 'etc')])\n`,
    ],
    secure: [
      `def inject_key(key, fs):\n    sshdir = _join_and_check_path_within_fs(fs, 'root', '.ssh')\n    utils.execute('mkdir', '-p', sshdir, run_as_root=True)\n`,
      `import os\ndef read_passwd(fs, tmp):\n    utils.execute('cp', os.path.join(fs, 'etc', 'passwd'), tmp)\n`,
    ],
  },
  "the leading folder of '<dir>/<name>' is the caller's": {
    cwe: "CWE-022",
    vulnerable: [
      `import os\ndef size(path, names):\n    for name in names:\n        dest = "%s/%s" % (path, name)\n        if os.path.isfile(dest):\n            yield os.path.getsize(dest)\n`,
      `${HEAD}@app.route('/logs')\ndef logs():\n    return open(request.args['dir'] + '/app.log').read()\n`,
    ],
    secure: [
      `import os\ndef size(path, names):\n    for name in names:\n        dest = "%s/%s" % (path, os.path.basename(name))\n        if os.path.isfile(dest):\n            yield os.path.getsize(dest)\n`,
      `def log_file(base):\n    return open(base + '/app.log').read()\n`,
    ],
  },
  "a path-making helper given raw user input": {
    cwe: "CWE-022",
    vulnerable: [
      `def new_goal():\n    name = input().strip()\n    save(dict(entries=[]), goal_file_path(name))\n`,
      `${HEAD}@app.route('/n')\ndef note():\n    return read(note_path(request.args.get('n')))\n`,
    ],
    secure: [
      `def new_goal():\n    name = input().strip()\n    if not name.isalnum():\n        return\n    save(dict(entries=[]), goal_file_path(name))\n`,
      `${HEAD}@app.route('/n')\ndef note():\n    return read(note_path(int(request.args.get('n'))))\n`,
    ],
  },
  "jinja2 options spread from a local dict without autoescape": {
    cwe: "CWE-079",
    vulnerable: [
      `from jinja2 import Environment, FileSystemLoader\ndef make(path, options=None):\n    opts = options if options else {}\n    return Environment(loader=FileSystemLoader(path), **opts)\n`,
      `import jinja2\ndef make(path):\n    opts = dict(trim_blocks=True)\n    return jinja2.Environment(loader=jinja2.FileSystemLoader(path), **opts)\n`,
    ],
    secure: [
      `from jinja2 import Environment, FileSystemLoader\ndef make(path, options=None):\n    opts = {"autoescape": True}\n    opts.update(options or {})\n    return Environment(loader=FileSystemLoader(path), **opts)\n`,
      `from jinja2 import Environment, FileSystemLoader\ndef make(path, **options):\n    return Environment(loader=FileSystemLoader(path), **options)\n`,
      `import jinja2\ndef make(path):\n    opts = dict(trim_blocks=True)\n    opts['autoescape'] = jinja2.select_autoescape()\n    return jinja2.Environment(loader=jinja2.FileSystemLoader(path), **opts)\n`,
    ],
  },
  "request text kept in a mapping an object holds": {
    cwe: "CWE-079",
    vulnerable: [
      `import time\ndef mode_keepalive(self, request):\n    csessid = request.args.get('csessid')[0]\n    self.last_alive[csessid] = (time.time(), False)\n    return '""'\n`,
      `def remember(self, request):\n    self.cache.names[request.GET['id']] = request.GET['name']\n`,
    ],
    secure: [
      `import time, cgi\ndef mode_keepalive(self, request):\n    csessid = cgi.escape(request.args['csessid'][0])\n    self.last_alive[csessid] = (time.time(), False)\n    return '""'\n`,
      `def view(request):\n    context = {}\n    context['q'] = request.GET['q']\n    return render(request, 'x.html', context)\n`,
    ],
  },
  "error text echoed into HTML (and a method whose string has lines at column 0)": {
    cwe: "CWE-079",
    vulnerable: [
      `    def respond_error(self, context):\n        stack = traceback.format_exc()\n        return """<html><body><pre>\n%s\n</pre></body></html>""" % stack\n`,
      `import traceback\ndef error_page():\n    return "<pre>" + traceback.format_exc() + "</pre>"\n`,
    ],
    secure: [
      `    def respond_error(self, context):\n        stack = traceback.format_exc()\n        return """<html><body><pre>\n%s\n</pre></body></html>""" % cgi.escape(stack)\n`,
      `import traceback\ndef error_page():\n    LOG.error(traceback.format_exc())\n    return "<p>Server error</p>"\n`,
    ],
  },
  "Django error responses echoing request text": {
    cwe: "CWE-079",
    vulnerable: [
      `def bad(request):\n    return HttpResponseBadRequest(request.POST['name'])\n`,
      `def missing(request):\n    return HttpResponseNotFound('No page ' + request.GET.get('p'))\n`,
    ],
    secure: [
      `from django.utils.html import escape\ndef bad(request):\n    return HttpResponseBadRequest(escape(request.POST['name']))\n`,
      `import json\ndef bad(request):\n    return HttpResponseBadRequest(json.dumps({'name': request.POST['name']}), content_type='application/json')\n`,
    ],
  },
  "Frappe request parameters (form_dict) stored unescaped": {
    cwe: "CWE-079",
    vulnerable: [
      `import frappe\ndef get_list_context(context):\n    context.sub_title = _('Filtered by "{0}"').format(frappe.local.form_dict.txt)\n`,
      `import frappe\ndef get_context(context):\n    context.query = frappe.form_dict.get('q')\n`,
    ],
    secure: [
      `import frappe\ndef get_list_context(context):\n    context.sub_title = _('Filtered by "{0}"').format(sanitize_html(frappe.local.form_dict.txt))\n`,
      `import frappe\ndef get_context(context):\n    context.page = int(frappe.form_dict.get('page'))\n`,
    ],
  },
  "comprehensions: only the element is the result": {
    cwe: "CWE-079",
    vulnerable: [
      `def options(request):\n    names = request.GET.getlist('n')\n    return '<select>%s</select>' % ''.join(['<option>%s</option>' % n for n in names])\n`,
      `def items(request):\n    rows = request.GET.getlist('r')\n    return "<ul>" + "".join("<li>" + r + "</li>" for r in rows) + "</ul>"\n`,
    ],
    secure: [
      `from html import escape\ndef options(request):\n    names = request.GET.getlist('n')\n    return '<select>%s</select>' % ''.join(['<option>%s</option>' % escape(n) for n in names])\n`,
      `from html import escape\ndef items(request):\n    rows = request.GET.getlist('r')\n    return "<ul>" + "".join("<li>" + escape(r) + "</li>" for r in rows) + "</ul>"\n`,
    ],
  },
  "'%(name)s' % locals() reads the locals of those names": {
    cwe: "CWE-079",
    vulnerable: [
      `def dialog(request):\n    name = request.values.get('pagename', '')\n    return '<input name="p" value="%(name)s">' % locals()\n`,
      `def page(request, title):\n    return """<h1>%(title)s</h1>""" % vars()\n`,
    ],
    secure: [
      `from html import escape\ndef dialog(request):\n    name = request.values.get('pagename', '')\n    name_escaped = escape(name)\n    return '<input name="p" value="%(name_escaped)s">' % locals()\n`,
      `def page(request):\n    count = len(request.values)\n    return '<p>%(count)d</p>' % locals()\n`,
    ],
  },
  "request attributes that hold server configuration": {
    cwe: "CWE-079",
    vulnerable: [
      `def page(request):\n    return '<a href="%s">back</a>' % request.referrer\n`,
      `def page(request):\n    return '<p>%s</p>' % request.args.get('q')\n`,
    ],
    secure: [
      `def page(request):\n    prefix = request.cfg.url_prefix_static\n    return '<script src="%s/app.js"></script>' % prefix\n`,
      `def page(request):\n    return '<a href="%s/">home</a>' % request.script_root\n`,
    ],
  },
  "JSON in a template only when it carries untrusted text": {
    cwe: "CWE-079",
    vulnerable: [
      `import json\ndef index(request):\n    query = {'q': ''}\n    query['q'] = request.GET.get('q')\n    return render(request, 's.html', {'query': json.dumps(query)})\n`,
      `import json\ndef index(request, doc):\n    return render(request, 's.html', {'doc': json.dumps(doc.fields)})\n`,
    ],
    secure: [
      `import json\ndef index(request):\n    query = {'q': ''}\n    query['q'] = antixss(request.GET.get('q', ''))\n    return render(request, 's.html', {'query': json.dumps(query)})\n`,
      `import json\ndef index(request):\n    return render(request, 's.html', {'layout': json.dumps(DEFAULT_LAYOUT)})\n`,
    ],
  },
  "request URLs put in a page as links without a scheme check": {
    cwe: "CWE-079",
    vulnerable: [
      `def get(self):\n    self.render('login.html', {'dest': self.request.get('dest')})\n`,
      `def get_context_data(self, **kwargs):\n    data = {}\n    data['back_link'] = self.request.GET['back']\n    return data\n`,
    ],
    secure: [
      `def get(self):\n    dest = self.request.get('dest')\n    check_redirect_url(dest)\n    self.render('login.html', {'dest': dest})\n`,
      `import urllib.parse\ndef get_context_data(self, **kwargs):\n    data = {}\n    back = self.request.GET.get('back')\n    parsed = urllib.parse.urlparse(back)\n    if back is not None and parsed.scheme == "":\n        data['back_link'] = back\n    return data\n`,
    ],
  },
  "response body served as HTML only without another content type": {
    cwe: "CWE-079",
    vulnerable: [
      `${HEAD}@app.route('/hi')\ndef hi():\n    name = request.args.get('name')\n    return make_response("<p>Hello " + name + "</p>")\n`,
      `${HEAD}from flask import Response\n@app.route('/hi')\ndef hi():\n    name = request.args.get('name')\n    return Response("<p>Hello %s</p>" % name, mimetype="text/html")\n`,
    ],
    secure: [
      `${HEAD}from flask import Response\n@app.route('/hi')\ndef hi():\n    name = request.args.get('name')\n    return Response("<p>Hello " + name + "</p>", mimetype="text/plain")\n`,
      `${HEAD}@app.route('/hi')\ndef hi():\n    name = request.args.get('name')\n    return make_response(f"<p>{name}</p>", content_type="application/json")\n`,
    ],
  },
  "Markup literal filled with %/format (escaped) versus Markup of built text": {
    cwe: "CWE-079",
    vulnerable: [
      `${HEAD}from markupsafe import Markup\n@app.route('/hi')\ndef hi():\n    return Markup("<b>%s</b>" % request.args['name'])\n`,
      `${HEAD}from markupsafe import Markup\n@app.route('/hi')\ndef hi():\n    name = request.args['name']\n    return Markup(f"<b>{name}</b>")\n`,
    ],
    secure: [
      `${HEAD}from markupsafe import Markup\n@app.route('/hi')\ndef hi():\n    return Markup("<b>%s</b>") % request.args['name']\n`,
      `${HEAD}from markupsafe import Markup\n@app.route('/hi')\ndef hi():\n    name = request.args['name']\n    return Markup("<b>{}</b>").format(name)\n`,
    ],
  },
  // Taint semantics (names.py): a sink is flagged when a source, a parameter or a value the analysis
  // cannot see (a module global of a function judged alone, an imported call) reaches it, not when
  // only names bound nowhere in a whole module do (they raise NameError; CodeQL reports nothing).
  "command built only from names bound nowhere in a whole module": {
    cwe: "CWE-078",
    vulnerable: [
      `${HEAD}@app.route('/u')\ndef user_info():\n    username = request.args.get('username')\n    os.system("grep -s " + username + " /etc/passwd")\n`,
      // a function alone: \`user\` is a global of a module out of view
      `def lookup():\n    os.system("grep -s " + user + " /etc/passwd")\n`,
      `${HEAD}from accounts import current_user\n@app.route('/u')\ndef user_info():\n    subprocess.call("id {}".format(current_user()), shell=True)\n`,
    ],
    secure: [
      `${HEAD}@app.route('/u')\ndef user_info():\n    username = request.args.get('username')\n    os.system("grep -s " + user + " /etc/passwd")\n`,
      `${HEAD}@app.route('/u')\ndef user_info():\n    name = session['username']\n    subprocess.call("id {}".format(name), shell=True)\n`,
      `${HEAD}def purge():\n    for d in stale_dirs:\n        os.system("rm -rf /tmp/" + d)\n`,
    ],
  },
  "query built only from names bound nowhere in a whole module": {
    cwe: "CWE-089",
    vulnerable: [
      `${HEAD}@app.route('/buy')\ndef buy():\n    stock = request.form['stock_name']\n    username = session['username']\n    db = sqlite3.connect('x')\n    db.execute("INSERT INTO orders VALUES ('%s', '%s')" % (username, stock))\n`,
      `def count(db):\n    return db.execute("SELECT count(*) FROM t WHERE owner = '%s'" % owner).fetchone()\n`,
    ],
    secure: [
      `${HEAD}@app.route('/buy')\ndef buy():\n    stock = request.form['stock_name']\n    username = session['username']\n    db = sqlite3.connect('x')\n    db.execute("SELECT id FROM users WHERE name = '%s'" % username)\n    db.execute("INSERT INTO orders VALUES (?, ?)", (username, stock))\n`,
      `${HEAD}def count(db):\n    return db.execute("SELECT count(*) FROM t WHERE owner = '%s'" % owner).fetchone()\n`,
    ],
  },
  // A route handler of a whole module is where its flows end: text built from request data that
  // reaches no sink there (logged, escaped by a template, returned as a path or query) is no finding;
  // for a function alone the sink may be in a caller, so building it is flagged.
  "HTML built in a route handler of a whole module flagged only where it reaches the response": {
    cwe: "CWE-079",
    vulnerable: [
      `${HEAD}@app.route('/hi')\ndef hi():\n    name = request.args.get('name')\n    page = '<p>Hello %s</p>' % name\n    return page\n`,
      `def banner(name):\n    return '<div class="b">' + name + '</div>'\n`,
    ],
    secure: [
      `${HEAD}from flask import render_template\n@app.route('/hi')\ndef hi():\n    name = request.args.get('name')\n    page = '<p>Hello %s</p>' % name\n    return render_template('hi.html', content=page)\n`,
      `${HEAD}@app.route('/hi')\ndef hi():\n    name = request.args.get('name')\n    app.logger.info('<p>%s</p>' % name)\n    return 'ok'\n`,
    ],
  },
  "query or command built in a route handler of a whole module flagged only where it runs": {
    cwe: "CWE-089",
    vulnerable: [
      `${HEAD}@app.route('/u')\ndef unsubscribe():\n    email = request.args.get('email')\n    query = "DELETE FROM subs WHERE email = '%s'" % email\n    sqlite3.connect('x').execute(query)\n    return 'ok'\n`,
      `def delete_query(email):\n    return "DELETE FROM subs WHERE email = '%s'" % email\n`,
    ],
    secure: [
      `${HEAD}@app.route('/u')\ndef unsubscribe():\n    email = request.args.get('email')\n    query = "DELETE FROM subs WHERE email = '%s'" % email\n    return query\n`,
      `${HEAD}@app.route('/u')\ndef unsubscribe():\n    email = request.args.get('email')\n    app.logger.info("DELETE FROM subs WHERE email = '%s'" % email)\n    sqlite3.connect('x').execute("DELETE FROM subs WHERE email = ?", (email,))\n    return 'ok'\n`,
    ],
  },
  "command built in a route handler of a whole module flagged only where it runs": {
    cwe: "CWE-078",
    vulnerable: [
      `${HEAD}@app.route('/ls')\ndef ls():\n    cmd = 'ls ' + request.args.get('dirname')\n    return os.popen(cmd).read()\n`,
      `def build(self, dirname):\n    cmd = 'ls ' + dirname\n    return self.conn.send(cmd)\n`,
    ],
    secure: [
      `${HEAD}@app.route('/ls')\ndef ls():\n    cmd = 'ls ' + request.args.get('dirname')\n    return cmd\n`,
      `${HEAD}@app.route('/ls')\ndef ls():\n    dirname = request.args.get('dirname')\n    cmd = 'ls ' + dirname\n    app.logger.info(cmd)\n    return subprocess.check_output(['ls', dirname])\n`,
    ],
  },
  "path joined in a route handler of a whole module flagged only where a file is opened": {
    cwe: "CWE-022",
    vulnerable: [
      `${HEAD}@app.route('/read')\ndef read():\n    path = os.path.join('/safe', request.args.get('filename'))\n    with open(path) as f:\n        return f.read()\n`,
      `import os\ndef locate(root, name):\n    return os.path.join(root, name)\n`,
    ],
    secure: [
      `${HEAD}@app.route('/where')\ndef where():\n    path = os.path.join('/safe', request.args.get('filename'))\n    return path\n`,
      `${HEAD}from flask import send_from_directory\n@app.route('/read')\ndef read():\n    name = request.args.get('filename')\n    app.logger.info(os.path.join('/safe', name))\n    return send_from_directory('/safe', name)\n`,
    ],
  },
  "query or command made of locals bound only to constants": {
    cwe: "CWE-089",
    vulnerable: [
      `def page(cur, n):\n    cur.execute("SELECT * FROM t LIMIT " + str(n))\n`,
      `def page(cur, order):\n    column = order or "name"\n    cur.execute("SELECT * FROM t ORDER BY %s" % column)\n`,
    ],
    secure: [
      `def page(cur):\n    limit = 10\n    cur.execute("SELECT * FROM t LIMIT " + str(limit))\n`,
      `def page(cur, fast):\n    column = "id" if fast else "name"\n    cur.execute("SELECT * FROM t ORDER BY %s" % column)\n`,
    ],
  },
  "command made of loop variables over constants": {
    cwe: "CWE-078",
    vulnerable: [
      `import os\ndef cleanup(dirs):\n    for d in dirs:\n        os.system("rm -rf /tmp/" + d)\n`,
      `import os\ndef cleanup(extra):\n    for d in ("cache", extra):\n        os.system("rm -rf /tmp/" + d)\n`,
    ],
    secure: [
      `import os\ndef cleanup():\n    for d in ("cache", "logs"):\n        os.system("rm -rf /tmp/" + d)\n`,
      `def cleanup():\n    for d in ["cache", "logs"]:\n        os.system("rm -rf /tmp/%s" % d)\n`,
    ],
  },
  "literal command line to a runner: only for a function judged alone": {
    cwe: "CWE-078",
    vulnerable: [
      `def listing(self):\n    return self.run_command("ls -l /var/log")\n`,
      `${HEAD}from tools import run_command\n@app.route('/ls')\ndef ls():\n    return run_command("ls -l " + request.args.get('dirname'))\n`,
    ],
    secure: [
      `${HEAD}from tools import run_command\n@app.route('/ls')\ndef ls():\n    return run_command("ls -l /var/log")\n`,
      `${HEAD}def run_command(argv):\n    return subprocess.check_output(argv)\n@app.route('/ls')\ndef ls():\n    return run_command("ls -l /var/log")\n`,
    ],
  },
};

for (const [rule, c] of Object.entries(RULE_CASES)) {
  test(`${c.cwe} ${rule}: vulnerable snippets are flagged`, async () => {
    for (const code of c.vulnerable) assert.ok((await cwes(code)).includes(c.cwe), `not flagged:\n${code}`);
  });
  test(`${c.cwe} ${rule}: secure snippets are not flagged`, async () => {
    for (const code of c.secure) assert.ok(!(await cwes(code)).includes(c.cwe), `flagged:\n${code}`);
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

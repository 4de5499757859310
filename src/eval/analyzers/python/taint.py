"""A taint pass over Python's `ast` for CWE-022, 078, 079 and 089, one function at a time.

Sources: the web request (flask `request.args/form/values/json/cookies/headers/files/data`,
django `request.GET/POST/...`, `self.request`, `get_argument`), `input()`, `sys.argv`,
`os.environ`/`os.getenv`, and the function's parameters (a function judged on its own cannot know
its callers: what they pass is untrusted; a route handler's parameters are URL parts).

Each name carries the set of sink kinds it is still tainted for: "sql", "cmd", "path", "html".
Taint flows in statement order through assignments, augmented assignments, string building
(`+`, `%`, `.format`, f-strings, `join`), containers, subscripts, attributes, loops, `with`, and
calls (a call's result is tainted by its receiver and arguments unless the callee is a sanitiser
or returns no attacker text, such as `int()` or `len()`). Branches are analysed on copies of the
state and joined (tainted on any path stays tainted). A sanitiser clears the kinds it protects:
`shlex.quote` (cmd), `escape`/`html.escape`/`render_template` (html), `secure_filename`,
`basename`, `safe_join` (path), number conversions (all). A guard clears a name from the point it
is checked: a prefix check of a resolved path (`realpath`/`abspath` + `startswith`/`commonpath`)
or a rejection of `..` (path), an allow-list membership or a full regular-expression match (all).

Sinks (a tainted value reaching one is a finding with the sink's line):
  CWE-089  a query built from tainted text (`+`, `%`, `.format`, f-string) given to `execute`,
           `executemany`, `executescript`, `raw`, `extra`, `text()`; parameters passed apart are safe
  CWE-078  `os.system`, `os.popen`, `commands`/`subprocess.getoutput`, `subprocess.*(shell=True)`,
           a string command given to `subprocess.*`, `['sh', '-c', tainted]`; argument lists are safe
  CWE-022  file operations (`open`, `send_file`, `os.remove`, `shutil.*`, ...) on a tainted path;
           `send_from_directory` is safe; also `tarfile`'s `extractall` without member checks
  CWE-079  a route handler returning tainted text (HTML by default), `make_response`/`Response`/
           `HttpResponse` of tainted text (unless served as another type), `Markup`/`mark_safe`/
           `render_template_string` of tainted text, or of a template text showing tainted values
           `|safe` (Flask escapes the others; `Markup(literal) % x` escapes x); a jinja2
           `Environment` without autoescape

The rules name APIs and idioms, never a particular program."""
import ast
import re

from rules import (call_name, dotted, is_str_const, is_true, kwarg, last, markup_escaped, target_names,
                   tolerant_parse, unescaped_template)

ALL = frozenset({"sql", "cmd", "path", "html"})
NONE = frozenset()

# ------------------------------------------------------------------------------------- sources

REQUEST_PARTS = {"args", "form", "values", "json", "cookies", "headers", "files", "data", "GET", "POST",
                 "REQUEST", "FILES", "COOKIES", "META", "body", "query_params", "params", "query", "path",
                 "full_path", "url", "query_string", "stream", "environ", "get_json", "get_data", "arguments",
                 "body_arguments", "query_arguments", "content", "text", "match_info", "path_params"}
# request attributes that describe the server, not the client's text
SERVER_PARTS = {"method", "user", "session", "app", "config", "cfg", "settings", "script_root", "script_name",
                "is_secure", "is_ajax", "scheme", "is_json", "remote_user", "auth"}
SOURCE_CALLS = {"input", "raw_input", "get_argument", "get_arguments", "get_query_argument", "get_body_argument",
                "getenv", "os.getenv", "sys.stdin.read", "sys.stdin.readline"}

# ---------------------------------------------------------------------------------- sanitisers

# callee (full dotted name or last part) -> the kinds it clears
SANITISERS = {
    "shlex.quote": {"cmd"}, "pipes.quote": {"cmd"}, "quote": {"cmd"}, "shlex.split": {"cmd"},
    "escape": {"html"}, "html.escape": {"html"}, "cgi.escape": {"html"}, "markupsafe.escape": {"html"},
    "escape_html": {"html"}, "conditional_escape": {"html"}, "bleach.clean": {"html"}, "strip_tags": {"html"},
    "render_template": {"html"}, "render": {"html"}, "render_to_response": {"html"}, "render_to_string": {"html"},
    "TemplateResponse": {"html"}, "format_html": {"html"}, "jsonify": {"html"}, "json.dumps": {"html"},
    "urlencode": {"html", "cmd", "sql"}, "quote_plus": {"html", "cmd"}, "url_for": ALL, "redirect": {"html"},
    "secure_filename": {"path"}, "basename": {"path"}, "os.path.basename": {"path"}, "safe_join": {"path"},
    "werkzeug.utils.secure_filename": {"path"}, "werkzeug.security.safe_join": {"path"},
    # nothing an attacker chooses survives these
    "int": ALL, "float": ALL, "bool": ALL, "len": ALL, "abs": ALL, "round": ALL, "ord": ALL, "hash": ALL,
    "id": ALL, "isinstance": ALL, "hasattr": ALL, "callable": ALL, "type": ALL, "uuid4": ALL, "uuid.uuid4": ALL,
    "hex": ALL, "bin": ALL, "range": ALL, "enumerate": NONE, "sum": ALL, "min": NONE, "max": NONE,
    "count": ALL, "index": ALL, "find": ALL, "rfind": ALL, "startswith": ALL, "endswith": ALL, "isdigit": ALL,
    "isalnum": ALL, "exists": ALL, "isfile": ALL, "isdir": ALL, "islink": ALL, "getsize": ALL, "time": ALL,
    "datetime": ALL, "now": ALL, "mkstemp": NONE, "hexdigest": ALL, "md5": ALL, "sha1": ALL, "sha256": ALL,
}
# names that say what the helper does: sanitising helpers written by the project
SANITISER_WORDS = {"escape": {"html"}, "sanitize": ALL, "sanitise": ALL, "secure_filename": {"path"},
                   "basename": {"path"}, "filename_from": {"path"}, "name_from_path": {"path"},
                   "safe_join": {"path"}, "quote": {"cmd", "sql"}, "validate": ALL, "clean": {"html", "path"}}


def clears(name):
    """The kinds a call of `name` clears."""
    if not name:
        return NONE
    short = last(name)
    hit = SANITISERS.get(name)
    if hit is None:
        hit = SANITISERS.get(short)
    if hit is not None:
        return frozenset(hit)
    low = short.lower()
    out = set()
    for w, kinds in SANITISER_WORDS.items():
        if w in low:
            out |= kinds
    return frozenset(out)


# ----------------------------------------------------------------------------------------- sinks

SQL_SINKS = {"execute", "executemany", "executescript", "raw", "extra", "exec_driver_sql", "mogrify"}
SHELL_CALLS = {"os.system", "os.popen", "os.popen2", "os.popen3", "os.popen4", "commands.getoutput",
               "commands.getstatusoutput", "subprocess.getoutput", "subprocess.getstatusoutput", "popen2.popen2",
               "popen2.popen3", "popen2.popen4"}
SUBPROCESS = {"call", "run", "Popen", "check_output", "check_call"}
SHELLS = {"sh", "bash", "/bin/sh", "/bin/bash", "zsh", "cmd", "cmd.exe", "powershell"}
FILE_SINKS = {"open", "io.open", "codecs.open", "file", "os.open", "os.remove", "os.unlink", "os.rmdir",
              "os.removedirs", "os.makedirs", "os.mkdir", "os.listdir", "os.scandir", "os.walk", "os.rename",
              "os.replace", "os.chmod", "os.chown", "os.stat", "os.symlink", "os.link", "os.truncate", "os.utime",
              "shutil.rmtree", "shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree", "shutil.move",
              "send_file", "flask.send_file", "static_file", "FileResponse", "os.startfile", "io.FileIO",
              "builtins.open", "pathlib.Path", "Path"}
PATH_READERS = {"read_text", "read_bytes", "write_text", "write_bytes", "unlink", "rmdir", "mkdir", "open"}
RESPONSES = {"make_response", "Response", "HttpResponse", "HTMLResponse", "HttpResponseBadRequest",
             "HttpResponseNotFound", "HttpResponseForbidden", "HttpResponseServerError"}
SAFE_MARKERS = {"Markup", "markupsafe.Markup", "mark_safe", "SafeString", "SafeText", "render_template_string",
                "flask.render_template_string"}
# render a template given as text: the text is HTML (and jinja code), the values are escaped (Flask
# autoescapes every template string) unless the text shows them `|safe`
TEMPLATE_STRINGS = {"render_template_string", "flask.render_template_string"}
SQL_RE = re.compile(r"^\s*\(?\s*(select|insert|update|delete|replace|create|drop|alter|with|pragma|truncate)\s"
                    r"|\b(select\b.*\bfrom|insert\s+into|update\b.*\bset|delete\s+from)\b", re.I | re.S)
LOG_RE = re.compile(r"(^|\.)(log|logger|logging|print|warn|warning|debug|info|error|exception|critical|_)$")
# response kinds that are not HTML
NON_HTML_TYPES = re.compile(r"json|text/plain|octet|image/|javascript|csv|xml", re.I)

VALIDATOR_RE = re.compile(r"^_*(valid|check|verify|sanitiz|sanitis|assert|ensure)", re.I)
# classes whose instances are the text or path they were given
TEXT_CLASSES = {"Path", "PurePath", "PosixPath", "WindowsPath", "Markup", "SafeString", "SafeText", "StringIO",
                "BytesIO", "URL"}
ROUTE_WORDS = ("route", "get", "post", "put", "delete", "patch", "view", "expose", "endpoint", "api", "handler")


def is_route_handler(func):
    for d in func.decorator_list:
        text = dotted(d.func if isinstance(d, ast.Call) else d).lower()
        if any(w in text.rsplit(".", 1)[-1] for w in ROUTE_WORDS):
            return True
    names = [a.arg for a in func.args.args]
    if "request" in names[:2] or "req" in names[:2]:
        return True
    return func.name in ("get", "post", "put", "delete", "patch") or func.name.endswith("_view")


def exits(body):
    """A block that leaves the function or the loop (return, raise, abort(), continue, break)."""
    if not body:
        return False
    s = body[-1]
    if isinstance(s, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
        return True
    if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call):
        return last(call_name(s.value)) in ("abort", "exit", "_exit", "fail", "error", "raise_for_status", "deny")
    if isinstance(s, ast.If):
        return exits(s.body) and exits(s.orelse)
    return False


def names_in(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


class State:
    def __init__(self, taint=None, built=None, resolved=None, objects=None, sql=None):
        # name -> frozenset of kinds it is tainted for
        self.taint = dict(taint or {})
        # names holding a string built (+, %, format, f-string, join) from tainted parts
        self.built = set(built or ())
        # names holding a resolved path (realpath/abspath/normpath/resolve): a prefix check on it is a guard
        self.resolved = set(resolved or ())
        # names bound to an object a call made (a response, a model): returning it returns no raw text
        self.objects = set(objects or ())
        # names holding text that reads as SQL
        self.sql = set(sql or ())

    def copy(self):
        return State(self.taint, self.built, self.resolved, self.objects, self.sql)

    def join(self, other):
        for k, v in other.taint.items():
            self.taint[k] = self.taint.get(k, NONE) | v
        self.built |= other.built
        self.resolved &= other.resolved
        self.objects &= other.objects
        self.sql |= other.sql


class TaintPass:
    def __init__(self, func, out, module_funcs):
        self.func = func
        self.out = out
        self.route = is_route_handler(func)
        self.module_funcs = module_funcs
        params = [a.arg for a in func.args.posonlyargs + func.args.args + func.args.kwonlyargs]
        if func.args.vararg:
            params.append(func.args.vararg.arg)
        if func.args.kwarg:
            params.append(func.args.kwarg.arg)
        self.state = State({p: ALL for p in params if p not in ("self", "cls")})
        self.request_names = {p for p in params if p in ("request", "req")}
        # parameters not re-bound yet: a caller-given folder under which a constant name is opened is
        # the caller's choice, not a traversal
        self.params = set(params) - {"self", "cls"}
        self.seen = set()

    def add(self, cwe, node, rule, message):
        key = (cwe, node.lineno, rule)
        if key in self.seen:
            return
        self.seen.add(key)
        self.out.append({"cwe": cwe, "line": node.lineno, "rule": rule, "message": message})

    # expressions -------------------------------------------------------------------------------
    def is_request(self, node):
        """`request`, `self.request`, `req`: the client's request object."""
        chain = dotted(node)
        return chain in ("request", "self.request", "req", "flask.request", "bottle.request") or \
            chain in self.request_names

    def source(self, node):
        """A direct source of attacker text."""
        if isinstance(node, ast.Attribute):
            if self.is_request(node.value):
                return node.attr not in SERVER_PARTS
            chain = dotted(node)
            if chain in ("sys.argv", "os.environ"):
                return True
        if isinstance(node, ast.Call):
            name = call_name(node)
            if name in SOURCE_CALLS or last(name) in SOURCE_CALLS:
                return True
            f = node.func
            if isinstance(f, ast.Attribute) and self.is_request(f.value) and f.attr in ("get", "get_json", "get_data"):
                return True
        return False

    def kinds(self, node):
        """The kinds `node`'s value is tainted for."""
        if node is None or isinstance(node, ast.Constant):
            return NONE
        if self.source(node):
            return ALL
        if isinstance(node, ast.Name):
            return self.state.taint.get(node.id, NONE)
        if isinstance(node, ast.Attribute):
            if self.is_request(node.value):
                return NONE  # a server-side attribute of the request (SERVER_PARTS)
            if isinstance(node.value, ast.Name) and node.value.id in self.state.objects:
                return NONE  # an attribute the object computed (`doc.path` of `doc = Document(name)`)
            return self.kinds(node.value)
        if isinstance(node, ast.Subscript):
            return self.kinds(node.value)
        if isinstance(node, ast.Call):
            name = call_name(node)
            if markup_escaped(node):
                # Markup("<b>{}</b>").format(x) escapes x
                return self.kinds(node.func.value) | (self.kinds(ast.Tuple(elts=node.args + [
                    k.value for k in node.keywords], ctx=ast.Load())) - {"html"})
            if name in TEMPLATE_STRINGS and node.args:
                return self.template_kinds(node)
            parts = list(node.args) + [k.value for k in node.keywords]
            if isinstance(node.func, ast.Attribute):
                parts.append(node.func.value)
            got = NONE
            for p in parts:
                got |= self.kinds(p)
            if name in SAFE_MARKERS or last(name) in SAFE_MARKERS:
                return got
            if any(isinstance(a, ast.Name) and "escape" in a.id.lower() for a in node.args):
                got = got - {"html"}  # text.translate(_js_escapes), replace(..., escape_table)
            return got - clears(name)
        if isinstance(node, ast.JoinedStr):
            got = NONE
            for v in node.values:
                if isinstance(v, ast.FormattedValue):
                    got |= self.kinds(v.value)
            return got
        if isinstance(node, ast.FormattedValue):
            return self.kinds(node.value)
        if isinstance(node, ast.BinOp):
            if markup_escaped(node):
                return self.kinds(node.left) | (self.kinds(node.right) - {"html"})  # Markup % x escapes x
            if isinstance(node.op, ast.Mod) and is_str_const(node.left):
                return self.format_kinds(str(node.left.value), node.right)
            return self.kinds(node.left) | self.kinds(node.right)
        if isinstance(node, ast.BoolOp):
            got = NONE
            for v in node.values:
                got |= self.kinds(v)
            return got
        if isinstance(node, ast.IfExp):
            return self.kinds(node.body) | self.kinds(node.orelse)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            got = NONE
            for e in node.elts:
                got |= self.kinds(e)
            return got
        if isinstance(node, ast.Dict):
            got = NONE
            for v in node.values:
                got |= self.kinds(v)
            return got
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            saved = self.state.taint
            self.state.taint = dict(saved)
            try:
                for g in node.generators:
                    k = self.kinds(g.iter)
                    for n in target_names(g.target):
                        self.state.taint[n] = k
                if isinstance(node, ast.DictComp):
                    return self.kinds(node.key) | self.kinds(node.value)
                return self.kinds(node.elt)
            finally:
                self.state.taint = saved
        if isinstance(node, (ast.Starred, ast.Await)):
            return self.kinds(node.value)
        if isinstance(node, ast.NamedExpr):
            return self.kinds(node.value)
        return NONE  # comparisons, unary operators, lambdas: no attacker text

    def template_kinds(self, call):
        """render_template_string(text, **values): the text's taint, and the values' where the text
        shows them unescaped."""
        got = self.kinds(call.args[0])
        if unescaped_template(call.args[0]):
            for v in call.args[1:] + [k.value for k in call.keywords]:
                got |= self.kinds(v)
        return got

    def format_kinds(self, fmt, right):
        """`"..." % values`: %d/%i/%f slots format numbers, which carry no attacker text."""
        values = list(right.elts) if isinstance(right, ast.Tuple) else [right]
        slots = re.findall(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?([sdifrxXeEgGcu%])", fmt)
        slots = [s for s in slots if s != "%"]
        if isinstance(right, ast.Tuple) and len(slots) == len(values):
            got = NONE
            for s, v in zip(slots, values):
                if s in "sr":
                    got |= self.kinds(v)
            return got
        if len(slots) == 1 and not isinstance(right, (ast.Tuple, ast.Dict)) and slots[0] not in "sr":
            return NONE
        return self.kinds(right)

    def is_built(self, node):
        """A string built at run time with a tainted part (not a whole value passed through)."""
        if isinstance(node, ast.Name):
            return node.id in self.state.built
        if isinstance(node, ast.JoinedStr):
            return bool(self.kinds(node))
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
            if isinstance(node.op, ast.Add) and any(isinstance(x, (ast.List, ast.Tuple, ast.ListComp))
                                                    for x in (node.left, node.right)):
                return False  # list concatenation: an argument vector
            return bool(self.kinds(node)) or self.is_built(node.left) or self.is_built(node.right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr = node.func.attr
            if attr in ("format", "format_map", "join"):
                return bool(self.kinds(node))
            if attr in ("strip", "lower", "upper", "replace", "encode", "decode", "rstrip", "lstrip"):
                return self.is_built(node.func.value)
        if isinstance(node, ast.Call) and last(call_name(node)) in ("str", "unicode", "text") and node.args:
            return self.is_built(node.args[0])
        return False

    # sinks -------------------------------------------------------------------------------------
    def visit_calls(self, node):
        for n in ast.walk(node):
            if isinstance(n, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n is not node:
                continue
            if isinstance(n, ast.Call):
                self.sink(n)

    def sink(self, call):
        name = call_name(call)
        short = last(name)
        args = call.args
        first = args[0] if args else None
        # CWE-089
        if short in SQL_SINKS and isinstance(call.func, ast.Attribute):
            q = first if first is not None else kwarg(call, "sql") or kwarg(call, "query")
            if q is not None and "sql" in self.kinds(q) and self.is_built(q):
                self.add("CWE-089", call, "py-taint-sql", f"{short}() runs a query built from untrusted data")
        if short == "text" and ("sqlalchemy" in name or name == "text") and first is not None:
            if "sql" in self.kinds(first) and self.is_built(first):
                self.add("CWE-089", call, "py-taint-sql", "sqlalchemy text() of a query built from untrusted data")
        # ... and any call handed a query text built from untrusted data (a project's own db.query helper)
        elif not (short in SQL_SINKS) and not LOG_RE.search(name or ""):
            for a in list(args) + [k.value for k in call.keywords]:
                if self.sql_text(a) and "sql" in self.kinds(a) and self.is_built(a):
                    self.add("CWE-089", call, "py-taint-sql", f"{short or 'call'}() given a query built from untrusted data")
                    break
        # CWE-078
        if name in SHELL_CALLS or (short in ("system", "popen") and name.split(".")[0] == "os"):
            if first is not None and "cmd" in self.kinds(first):
                self.add("CWE-078", call, "py-taint-shell", f"{name}() runs a shell command with untrusted data")
        elif short in SUBPROCESS and ("subprocess" in name or short == "Popen" or name in SUBPROCESS):
            cmd = first if first is not None else kwarg(call, "args")
            shell = kwarg(call, "shell")
            if cmd is not None:
                if isinstance(cmd, (ast.List, ast.Tuple)):
                    if cmd.elts and is_str_const(cmd.elts[0]) and str(cmd.elts[0].value) in SHELLS \
                            and any("cmd" in self.kinds(e) for e in cmd.elts[1:]):
                        self.add("CWE-078", call, "py-taint-shell", f"{name}() hands untrusted text to a shell")
                    elif shell is not None and is_true(shell) and "cmd" in self.kinds(cmd):
                        self.add("CWE-078", call, "py-taint-shell", f"{name}(shell=True) with untrusted arguments")
                elif "cmd" in self.kinds(cmd) and ((shell is not None and is_true(shell)) or self.is_built(cmd)):
                    self.add("CWE-078", call, "py-taint-shell", f"{name}() runs a command string with untrusted data")
        # CWE-022
        if (name in FILE_SINKS or short in ("send_file", "static_file", "FileResponse")) and first is not None:
            paths = args[:2] if short in ("copy", "copy2", "copyfile", "copytree", "move", "rename", "replace",
                                           "symlink", "link") else args[:1]
            if any("path" in self.kinds(p) and not self.caller_base_only(p) for p in paths):
                self.add("CWE-022", call, "py-taint-path", f"{name}() on a path built from untrusted data")
        elif isinstance(call.func, ast.Attribute) and short in PATH_READERS and not args[:1] and \
                isinstance(call.func.value, ast.Call) and last(call_name(call.func.value)) == "Path" and \
                "path" in self.kinds(call.func.value):
            self.add("CWE-022", call, "py-taint-path", f"Path(...).{short}() on a path built from untrusted data")
        if short == "extractall" and isinstance(call.func, ast.Attribute) and kwarg(call, "members") is None \
                and kwarg(call, "filter") is None and len(args) < 2:
            self.add("CWE-022", call, "py-archive-extract", "archive extracted without checking its member paths")
        # CWE-079
        if (name in SAFE_MARKERS or short in SAFE_MARKERS) and first is not None and "html" in self.kinds(first):
            self.add("CWE-079", call, "py-taint-markup", f"{short}() marks untrusted text as safe HTML")
        elif name in TEMPLATE_STRINGS and first is not None and "html" in self.kinds(call):
            self.add("CWE-079", call, "py-taint-markup", f"{short}() shows untrusted values unescaped (|safe)")
        if short in RESPONSES and first is not None and self.html_response(call) and "html" in self.kinds(first):
            self.add("CWE-079", call, "py-taint-response", f"{short}() of untrusted text served as HTML")
        if isinstance(call.func, ast.Attribute) and short == "write" and first is not None and \
                ("response" in dotted(call.func.value).lower() or dotted(call.func.value) in ("self", "self.wfile")) \
                and "html" in self.kinds(first) and self.is_built(first):
            self.add("CWE-079", call, "py-taint-response", "response written with untrusted text")
        if short == "Environment" and ("jinja" in name or name == "Environment"):
            auto = kwarg(call, "autoescape")
            spread = any(k.arg is None for k in call.keywords)
            if not spread and (auto is None or (isinstance(auto, ast.Constant) and not auto.value)):
                self.add("CWE-079", call, "py-jinja-autoescape-off", "jinja2 Environment without autoescape")

    def caller_base_only(self, node):
        """A path whose only tainted part is a leading parameter (`base + '/app.log'`,
        `os.path.join(root, 'etc', 'x')`): the caller picks the folder, nothing picks a name in it."""
        if self.route:
            return False
        pieces = None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            pieces = []
            n = node
            while isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
                pieces.insert(0, n.right)
                n = n.left
            pieces.insert(0, n)
        elif isinstance(node, ast.JoinedStr):
            pieces = [v.value if isinstance(v, ast.FormattedValue) else v for v in node.values]
        elif isinstance(node, ast.Call) and call_name(node) in ("os.path.join", "path.join", "posixpath.join"):
            pieces = list(node.args)
        head = pieces[0] if pieces else None
        while isinstance(head, ast.Attribute):
            head = head.value  # `submit.tmp_path`: a folder the caller's object names
        if not (isinstance(head, ast.Name) and head.id in self.params):
            return False
        return all("path" not in self.kinds(p) for p in pieces[1:])

    def sql_text(self, node):
        """The literal parts of a string (or of the string a name was built as) read as SQL."""
        if isinstance(node, ast.Name):
            return node.id in self.state.sql
        text = " ".join(str(n.value) for n in ast.walk(node) if is_str_const(n) and isinstance(n.value, str))
        return bool(SQL_RE.search(text))

    @staticmethod
    def html_response(call):
        for key in ("content_type", "mimetype", "media_type"):
            v = kwarg(call, key)
            if v is not None and is_str_const(v) and NON_HTML_TYPES.search(str(v.value)):
                return False
        return True

    # guards ------------------------------------------------------------------------------------
    def guarded(self, test):
        """{name: kinds cleared} for names a condition checks (when true)."""
        out = {}

        def clear(node, kinds):
            for n in names_in(node):
                out[n] = out.get(n, NONE) | kinds

        for n in ast.walk(test):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
                attr = n.func.attr
                if attr == "startswith" and (self.resolved_expr(n.func.value) or any(
                        isinstance(a, ast.Call) and last(call_name(a)) in ("realpath", "abspath") for a in n.args)):
                    clear(n.func.value, frozenset({"path"}))
                elif attr in ("is_relative_to",):
                    clear(n.func.value, frozenset({"path"}))
                elif attr in ("fullmatch",) or (attr == "match" and n.args and is_str_const(n.args[0])
                                                 and str(n.args[0].value).rstrip().endswith("$")):
                    clear(ast.Tuple(elts=n.args[1:], ctx=ast.Load()), ALL)
                elif attr in ("isdigit", "isalnum", "isalpha", "isidentifier", "isdecimal", "isnumeric"):
                    clear(n.func.value, ALL)
            if isinstance(n, ast.Call) and last(call_name(n)) in ("commonpath", "commonprefix"):
                for a in n.args:
                    clear(a, frozenset({"path"}))
            if isinstance(n, ast.Compare) and len(n.ops) == 1 and isinstance(n.ops[0], (ast.In, ast.NotIn)):
                left, right = n.left, n.comparators[0]
                if is_str_const(left) and ".." in str(left.value):
                    clear(right, frozenset({"path"}))  # '..' in name
                elif isinstance(right, (ast.Tuple, ast.List, ast.Set)) and all(isinstance(e, ast.Constant) for e in right.elts):
                    clear(left, ALL)  # an allow-list of literals
                elif isinstance(right, ast.Name) and right.id.isupper():
                    clear(left, ALL)  # ALLOWED_NAMES
            if isinstance(n, ast.Call) and re.search(r"(valid|allowed|safe|check)", last(call_name(n)) or "", re.I):
                for a in n.args:
                    clear(a, ALL)
        return out

    def resolved_expr(self, node):
        if isinstance(node, ast.Name):
            return node.id in self.state.resolved
        return isinstance(node, ast.Call) and last(call_name(node)) in ("realpath", "abspath", "normpath", "resolve")

    def negated(self, test):
        return isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)

    def apply_clear(self, cleared):
        for n, kinds in cleared.items():
            if n in self.state.taint:
                self.state.taint[n] = self.state.taint[n] - kinds

    # statements --------------------------------------------------------------------------------
    def assign(self, target, value_node, kinds=None):
        k = self.kinds(value_node) if kinds is None else kinds
        built = value_node is not None and self.is_built(value_node)
        resolved = value_node is not None and self.resolved_expr(value_node)
        if isinstance(target, ast.Name):
            self.params.discard(target.id)
            self.state.taint[target.id] = k
            (self.state.built.add if built else self.state.built.discard)(target.id)
            (self.state.resolved.add if resolved else self.state.resolved.discard)(target.id)
            sql = value_node is not None and self.sql_text(value_node)
            (self.state.sql.add if sql else self.state.sql.discard)(target.id)
            short = last(call_name(value_node)) if isinstance(value_node, ast.Call) else ""
            obj = bool(short) and short[:1].isupper() and not short.isupper() and short not in TEXT_CLASSES
            (self.state.objects.add if obj else self.state.objects.discard)(target.id)
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            vals = value_node.elts if isinstance(value_node, (ast.Tuple, ast.List)) and \
                len(value_node.elts) == len(target.elts) else None
            for i, e in enumerate(target.elts):
                self.assign(e, vals[i] if vals else None, None if vals else k)
            return
        if isinstance(target, ast.Starred):
            self.assign(target.value, value_node, k)
            return
        # `d['k'] = v`, `obj.attr = v`: the container gains the value's taint
        root = target
        while isinstance(root, (ast.Subscript, ast.Attribute)):
            root = root.value
        if isinstance(root, ast.Name) and k:
            self.state.taint[root.id] = self.state.taint.get(root.id, NONE) | k
            if built:
                self.state.built.add(root.id)

    def run(self, body):
        for s in body:
            self.stmt(s)

    def branch(self, bodies, cleared_per_body):
        start = self.state
        ends = []
        for body, cleared in zip(bodies, cleared_per_body):
            self.state = start.copy()
            self.apply_clear(cleared)
            self.run(body)
            if not exits(body):
                ends.append(self.state)
        if not ends:
            self.state = start.copy()
            return
        self.state = ends[0]
        for e in ends[1:]:
            self.state.join(e)

    def stmt(self, node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return
        if isinstance(node, ast.Assign):
            self.visit_calls(node.value)
            for t in node.targets:
                self.assign(t, node.value)
            return
        if isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.visit_calls(node.value)
                self.assign(node.target, node.value)
            return
        if isinstance(node, ast.AugAssign):
            self.visit_calls(node.value)
            k = self.kinds(node.value)
            if isinstance(node.target, ast.Name):
                n = node.target.id
                self.state.taint[n] = self.state.taint.get(n, NONE) | k
                if k and isinstance(node.op, (ast.Add, ast.Mod)) and not isinstance(node.value, (ast.List, ast.Tuple, ast.ListComp)):
                    self.state.built.add(n)
                if self.sql_text(node.value):
                    self.state.sql.add(n)
            else:
                self.assign(node.target, node.value, k | self.kinds(node.target))
            return
        if isinstance(node, ast.If):
            self.visit_calls(node.test)
            cleared = self.guarded(node.test)
            neg = self.negated(node.test)
            if neg:
                # `if not ok(x): return`: x is checked after the if; the body runs on bad x
                self.branch([node.body, node.orelse], [{}, cleared])
                if exits(node.body):
                    self.apply_clear(cleared)
            else:
                self.branch([node.body, node.orelse], [cleared, {}])
                if exits(node.orelse) and node.orelse:
                    self.apply_clear(cleared)
                elif exits(node.body):
                    # `if '..' in name: abort()` / `if not p.startswith(base): return`
                    self.apply_clear(self.rejected(node.test))
            return
        if isinstance(node, ast.While):
            self.visit_calls(node.test)
            self.branch([node.body, []], [self.guarded(node.test), {}])
            self.run(node.orelse)
            return
        if isinstance(node, (ast.For, ast.AsyncFor)):
            self.visit_calls(node.iter)
            k = self.kinds(node.iter)
            start = self.state.copy()
            for _ in range(2):  # a second pass lets taint from the loop's end reach its start
                for n in target_names(node.target):
                    self.state.taint[n] = k
                self.run(node.body)
            self.state.join(start)
            self.run(node.orelse)
            return
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.visit_calls(item.context_expr)
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, item.context_expr)
            self.run(node.body)
            return
        if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            start = self.state.copy()
            self.run(node.body)
            after_body = self.state
            ends = [after_body]
            for h in node.handlers:
                self.state = start.copy()
                self.state.join(after_body)
                if h.name:
                    self.state.taint[h.name] = NONE
                self.run(h.body)
                if not exits(h.body):
                    ends.append(self.state)
            self.state = ends[0]
            for e in ends[1:]:
                self.state.join(e)
            self.run(node.orelse)
            self.run(node.finalbody)
            return
        if isinstance(node, ast.Assert):
            self.apply_clear(self.guarded(node.test))
            return
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
                VALIDATOR_RE.search(last(call_name(node.value)) or ""):
            # validate_name(x) raises on bad input: x is checked from here on
            self.visit_calls(node.value)
            self.apply_clear({n: ALL for a in node.value.args for n in names_in(a)})
            return
        if isinstance(node, ast.Return):
            if node.value is not None:
                self.visit_calls(node.value)
                if self.route and "html" in self.kinds(node.value) and self.returns_text(node.value):
                    self.add("CWE-079", node, "py-taint-return", "route handler returns untrusted text as HTML")
            return
        if hasattr(ast, "Match") and isinstance(node, ast.Match):
            self.visit_calls(node.subject)
            self.branch([c.body for c in node.cases], [{} for _ in node.cases])
            return
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.visit_calls(child)

    def rejected(self, test):
        """Names a condition rejects when true (its block exits): `'..' in x`, `not x.startswith(base)`."""
        out = {}
        for n in ast.walk(test):
            if isinstance(n, ast.Compare) and len(n.ops) == 1 and isinstance(n.ops[0], ast.In) \
                    and is_str_const(n.left) and str(n.left.value) in ("..", "../", "/", "\\", ";", "|", "&"):
                for x in names_in(n.comparators[0]):
                    out[x] = out.get(x, NONE) | (frozenset({"path"}) if "." in str(n.left.value) or "/" in str(n.left.value)
                                                  else frozenset({"cmd"}))
            if isinstance(n, ast.Compare) and len(n.ops) == 1 and isinstance(n.ops[0], ast.NotIn):
                right = n.comparators[0]
                if isinstance(right, (ast.Tuple, ast.List, ast.Set)) and all(isinstance(e, ast.Constant) for e in right.elts) \
                        or isinstance(right, ast.Name) and right.id.isupper():
                    for x in names_in(n.left):
                        out[x] = ALL
            if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Not):
                for k, v in self.guarded(n.operand).items():
                    out[k] = out.get(k, NONE) | v
        return out

    def returns_text(self, node):
        """A return value that Flask/Django would serve as an HTML body (text, not a response object)."""
        if isinstance(node, ast.Tuple) and node.elts:
            return self.returns_text(node.elts[0])
        if isinstance(node, ast.Call):
            short = last(call_name(node))
            return short in ("str", "unicode", "format", "join", "replace", "strip", "decode") or \
                short in SAFE_MARKERS
        if isinstance(node, ast.Name):
            return node.id not in self.state.objects
        return isinstance(node, (ast.JoinedStr, ast.BinOp, ast.Subscript, ast.Attribute, ast.IfExp))


def analyze_tree(tree):
    out = []
    module_funcs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for f in funcs:
        TaintPass(f, out, module_funcs).run(f.body)
    top = [s for s in tree.body if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    if top:
        fake = ast.parse("def _module():\n    pass").body[0]
        fake.body = top
        TaintPass(fake, out, module_funcs).run(top)
    return out


def analyze(code):
    """Findings of the taint pass in `code`: (findings, fully_parsed)."""
    tree, parsed = tolerant_parse(code)
    if tree is None:
        return [], False
    return analyze_tree(tree), parsed

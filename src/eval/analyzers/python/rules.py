"""Built-in security rules for Python (CWE-022, 078, 079, 089) on the standard `ast`.

A small taint analysis per function: values from function parameters, web requests, `input()`,
`sys.argv` and the environment are tainted; taint flows through assignments (in statement order,
so re-assigning a sanitised value clears it), through string building and through calls that are
not sanitisers. A finding is a tainted value reaching a sink of a CWE; a value the analysis cannot
see (a module global of a function judged alone, a call's result) may be tainted, but in a whole
module a name bound nowhere carries nothing (names.py). Rules are general: they name APIs, never
particular programs."""
import ast
import textwrap

import names

# ---------------------------------------------------------------------------------------- parsing


def _parse(code):
    return ast.parse(code)


def syntax_error(code):
    """None when `code` parses, else a short message with the line."""
    try:
        _parse(code)
        return None
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    except (ValueError, RecursionError, MemoryError) as exc:
        return str(exc)


_PY2_TOOL = None


def _from_python2(code):
    """Python 2 source (print statements, `except X, e`) rewritten by lib2to3 when it is available."""
    global _PY2_TOOL
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from lib2to3.refactor import RefactoringTool, get_fixers_from_package
            if _PY2_TOOL is None:
                fixers = [f for f in get_fixers_from_package("lib2to3.fixes")
                          if f.rsplit(".", 1)[-1] in ("fix_print", "fix_except", "fix_exec", "fix_raise", "fix_ne",
                                                      "fix_repr", "fix_tuple_params", "fix_numliterals", "fix_unicode")]
                _PY2_TOOL = RefactoringTool(fixers)
            return str(_PY2_TOOL.refactor_string(code if code.endswith("\n") else code + "\n", "<sample>"))
    except Exception:  # lib2to3 missing (Python >= 3.13) or the code is not Python 2 either
        return None


def _strip_first_margin(code):
    lines = code.split("\n")
    first = next((line for line in lines if line.strip()), "")
    margin = first[: len(first) - len(first.lstrip())]
    if not margin:
        return code
    return "\n".join(line[len(margin):] if line.startswith(margin) else line.lstrip(" ") if not line.strip() else line
                     for line in lines)


def tolerant_parse(code):
    """Parse code that may be indented (a method alone), Python 2, or cut off: dedent, then drop
    lines from the first syntax error on until it parses (an analyzer that still judges broken
    completions). Returns (tree, fully_parsed)."""
    try:
        # Python 2 read a tab as "to the next multiple of 8 columns": mixed tabs and spaces parse so
        return _parse(textwrap.dedent(code.expandtabs(8))), True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    code = textwrap.dedent(code.replace("\t", "    "))
    try:
        return _parse(code), True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    # a method cut out of its class whose multi-line string has lines at column 0: dedent() finds
    # no common margin, so strip the first line's indentation wherever a line has it
    code = _strip_first_margin(code)
    try:
        return _parse(code), True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    code = _from_python2(code) or code
    lines = code.split("\n")
    first = True
    for _ in range(60):
        try:
            return _parse("\n".join(lines)), first
        except SyntaxError as exc:
            first = False
            bad = (exc.lineno or len(lines)) - 1
            if bad <= 0 or bad > len(lines):
                # Python 2 print statements and similar: blank the offending line and retry.
                if 0 <= bad < len(lines) and lines[bad].strip():
                    lines[bad] = ""
                    continue
                return None, False
            # Blank the failing line if it alone is wrong (print x), else cut from it.
            trial = lines[:bad] + [""] + lines[bad + 1 :]
            try:
                _parse("\n".join(trial))
                return _parse("\n".join(trial)), False
            except SyntaxError as exc2:
                if (exc2.lineno or 0) - 1 > bad:
                    lines = trial
                    continue
            lines = lines[:bad]
            if not any(line.strip() for line in lines):
                return None, False
        except (ValueError, RecursionError, MemoryError):
            return None, False
    return None, False


# ------------------------------------------------------------------------------------ name helpers


def dotted(node):
    """`os.path.join` for an attribute chain, '' when not a plain chain."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call):
        parts.append(dotted(node.func) + "()")
    elif isinstance(node, ast.Subscript):
        parts.append(dotted(node.value) + "[]")
    else:
        return ""
    return ".".join(reversed(parts))


def call_name(call):
    return dotted(call.func)


def last(name):
    return name.rsplit(".", 1)[-1]


def kwarg(call, name):
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def is_true(node):
    return isinstance(node, ast.Constant) and node.value is True


def is_str_const(node):
    return isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))


REQUEST_WORDS = {"request", "req", "args", "form", "GET", "POST", "values", "json", "params",
                 "query_params", "cookies", "headers", "files", "data", "argv", "environ"}
# request attributes that describe the server side (its configuration, where the app is mounted)
SERVER_ATTRS = {"cfg", "config", "app", "settings", "script_root", "script_name"}
SOURCE_CALLS = {"input", "raw_input", "get_argument", "get_query_argument", "get_body_argument",
                "getvalue", "getfirst", "get_json", "getlist",
                # error text repeats the input that caused it (a bad file name, a query string)
                "format_exc", "format_exception", "format_exception_only"}

SANITIZERS = {
    # escaping for HTML (079)
    "escape", "html.escape", "cgi.escape", "markupsafe.escape", "conditional_escape", "escape_html",
    "bleach.clean", "clean", "strip_tags", "sanitize", "sanitize_html", "format_html", "quoteattr",
    "xml.sax.saxutils.escape", "escapejs", "urlize", "force_escape", "linebreaks",
    # shell quoting (078)
    "shlex.quote", "pipes.quote", "quote", "escapeshellarg", "shellquote", "shell_quote",
    # paths (022)
    "os.path.basename", "basename", "secure_filename", "safe_join", "werkzeug.utils.secure_filename",
    "sanitize_filename", "sanitize_path", "normalize_path", "safe_path",
    # SQL (089)
    "escape_string", "quote_identifier", "sqlquote", "literal", "mogrify_literal",
    # conversions that leave no text an attacker controls
    "int", "float", "bool", "len", "abs", "round", "ord", "hash", "id", "isinstance", "type",
    "uuid.uuid4", "hex", "bin",
}


def is_sanitizer(name):
    if not name:
        return False
    if name in SANITIZERS or last(name) in SANITIZERS:
        return True
    low = last(name).lower()
    # helpers that keep only the last path component (`get_filename_from_path`) leave no directories
    return any(w in low for w in ("escape", "sanitize", "sanitise", "xss", "quote", "secure_filename", "clean_path",
                                  "within", "validate", "safe_join", "basename", "filename_from", "name_from_path"))


# ------------------------------------------------------------------------------------------ taint


class Taint:
    """Taint state of local names inside one function, updated in statement order."""

    def __init__(self, params):
        self.tainted = set(params)
        # names bound to an object a class built from its arguments (`item = Item(src)`): its
        # attributes are computed by the class, not the caller's text
        self.objects = set()

    def expr(self, node):
        """Is the value of `node` attacker-influenced?"""
        if node is None:
            return False
        if isinstance(node, ast.Constant):
            return False
        if isinstance(node, ast.Name):
            return node.id in self.tainted
        if isinstance(node, ast.Attribute):
            chain = dotted(node)
            parts = chain.split(".")
            if "request" in parts and any(p in SERVER_ATTRS for p in parts[parts.index("request") + 1:]):
                return False  # the deployment's own settings, not text from the client
            if chain and any(p in REQUEST_WORDS for p in chain.split(".")[:-1] + [chain.split(".")[-1]]) \
                    and ("request" in chain or "argv" in chain or "environ" in chain):
                return True
            if isinstance(node.value, ast.Name) and node.value.id in self.objects:
                return False
            return self.expr(node.value)
        if isinstance(node, ast.Subscript):
            return self.expr(node.value)
        if isinstance(node, ast.Call):
            name = call_name(node)
            if is_sanitizer(name) or any(isinstance(a, ast.Name) and "escape" in a.id.lower() for a in node.args):
                return False
            if last(name) in SOURCE_CALLS or name.startswith("request.") or ".request." in name:
                return True
            if last(name) in ("get", "getlist", "get_json") and "request" in name:
                return True
            parts = [node.func.value] if isinstance(node.func, ast.Attribute) else []
            parts += list(node.args) + [k.value for k in node.keywords]
            return any(self.expr(p) for p in parts)
        if isinstance(node, ast.JoinedStr):
            return any(self.expr(v.value) for v in node.values if isinstance(v, ast.FormattedValue))
        if isinstance(node, ast.FormattedValue):
            return self.expr(node.value)
        if isinstance(node, (ast.BinOp,)):
            return self.expr(node.left) or self.expr(node.right)
        if isinstance(node, ast.BoolOp):
            return any(self.expr(v) for v in node.values)
        if isinstance(node, ast.IfExp):
            return self.expr(node.body) or self.expr(node.orelse)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return any(self.expr(e) for e in node.elts)
        if isinstance(node, ast.Dict):
            return any(self.expr(v) for v in node.values if v is not None)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            # the loop variables carry the iterable's taint into the element, which alone is the result
            saved = set(self.tainted)
            try:
                for g in node.generators:
                    names = target_names(g.target)
                    if self.expr(g.iter):
                        self.tainted.update(names)
                    else:
                        self.tainted.difference_update(names)
                return self.expr(node.elt)
            finally:
                self.tainted = saved
        if isinstance(node, ast.Starred):
            return self.expr(node.value)
        if isinstance(node, ast.Await):
            return self.expr(node.value)
        if isinstance(node, (ast.Compare, ast.UnaryOp, ast.Lambda)):
            return False
        return False

    def assign(self, target, value_tainted, value=None):
        built = isinstance(value, ast.Call) and is_class_name(last(call_name(value)))
        if isinstance(target, ast.Name):
            (self.objects.add if built else self.objects.discard)(target.id)
        for name in target_names(target):
            if value_tainted:
                self.tainted.add(name)
            else:
                self.tainted.discard(name)
        # `query['q'] = text` puts tainted text into the local container `query`
        if isinstance(target, ast.Subscript) and value_tainted:
            root = target.value
            while isinstance(root, ast.Subscript):
                root = root.value
            if isinstance(root, ast.Name):
                self.tainted.add(root.id)


# classes whose instances are the text (or path) they were given
TEXT_CLASSES = {"Path", "PurePath", "PosixPath", "WindowsPath", "Markup", "SafeString", "SafeText", "Template",
                "URL", "StringIO", "BytesIO"}


def is_class_name(short):
    return bool(short) and short[0].isupper() and not short.isupper() and short not in TEXT_CLASSES


def target_names(target):
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for e in target.elts for n in target_names(e)]
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return []


def is_dynamic_string(node, taint, strings):
    """A string built at run time from a tainted part: `%`, `+`, `.format`, f-string, join."""
    if isinstance(node, ast.Name):
        return node.id in strings
    if isinstance(node, ast.JoinedStr):
        return taint.expr(node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and any(
            isinstance(x, (ast.List, ast.ListComp, ast.Tuple)) for x in (node.left, node.right)):
        return False  # list concatenation: an argument vector, not a string
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return taint.expr(node) or is_dynamic_string(node.left, taint, strings) \
            or is_dynamic_string(node.right, taint, strings)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr in ("format", "format_map"):
            return any(taint.expr(a) for a in node.args) or any(taint.expr(k.value) for k in node.keywords) \
                or is_dynamic_string(node.func.value, taint, strings)
        if node.func.attr == "join":
            return any(taint.expr(a) for a in node.args)
        if node.func.attr in ("strip", "lower", "upper", "replace", "encode", "decode", "rstrip", "lstrip"):
            return is_dynamic_string(node.func.value, taint, strings)
    return False


# --------------------------------------------------------------------------- string templates
import re  # noqa: E402

SQL_RE = re.compile(r"^\s*\(?\s*(select|insert|update|delete|replace|create|drop|alter|with|pragma|truncate)\b"
                    r"|\b(select\b.*\bfrom|insert\s+into|update\b.*\bset|delete\s+from|where\b.*=)", re.I | re.S)
IDENT_SLOT_RE = re.compile(r"\b(from|into|update|table|join|exists)\s*[`\"\[]?$", re.I)
HTML_RE = re.compile(r"<\s*/?\s*(a|img|p|div|span|h[1-6]|input|script|form|body|html|td|tr|li|b|i|br|pre|table|option|select|textarea|label|iframe|style|link|meta)\b", re.I)
PLACEHOLDER_RE = re.compile(r"%(\([^)]*\))?[-#0 +]*\d*(\.\d+)?[sdifrxXeEgGcu]|\{[^{}]*\}")


def template(node, names):
    """A run-time string as pieces: ('lit', text) and ('val', node). None when not a string."""
    if is_str_const(node):
        v = node.value
        return [("lit", v if isinstance(v, str) else v.decode("latin-1"))]
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.JoinedStr):
        out = []
        for v in node.values:
            if isinstance(v, ast.FormattedValue):
                out.append(("val", v.value))
            elif is_str_const(v):
                out.append(("lit", v.value))
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = template(node.left, names), template(node.right, names)
        if left is None and right is None:
            return None
        return (left or [("val", node.left)]) + (right or [("val", node.right)])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        left = template(node.left, names)
        if left is None:
            return None
        r = node.right
        if isinstance(r, ast.Dict):
            named = {str(k.value): v for k, v in zip(r.keys, r.values) if is_str_const(k)}
            return _fill(left, [], named, percent=True)
        if isinstance(r, ast.Call) and isinstance(r.func, ast.Name) and r.func.id in ("locals", "vars") and not r.args:
            # `"... %(name)s ..." % locals()`: each placeholder reads the local of that name
            keys = {m.group(1)[1:-1] for k, v in left if k == "lit" for m in PLACEHOLDER_RE.finditer(v) if m.group(1)}
            named = {key: ast.copy_location(ast.Name(id=key, ctx=ast.Load()), r) for key in keys if key.isidentifier()}
            return _fill(left, [], named, percent=True)
        values = list(r.elts) if isinstance(r, ast.Tuple) else [r]
        return _fill(left, values, {}, percent=True)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        left = template(node.func.value, names)
        if left is None:
            return None
        return _fill(left, list(node.args), {k.arg: k.value for k in node.keywords if k.arg}, percent=False)
    return None


def _fill(pieces, args, kwargs, percent):
    out = []
    pos = 0
    for kind, v in pieces:
        if kind != "lit":
            out.append((kind, v))
            continue
        last_end = 0
        for m in PLACEHOLDER_RE.finditer(v):
            tok = m.group(0)
            if percent != tok.startswith("%"):
                continue
            out.append(("lit", v[last_end:m.start()]))
            last_end = m.end()
            val = None
            if percent:
                if tok.startswith("%("):
                    val = kwargs.get(tok[2:tok.index(")")])
                elif pos < len(args):
                    val = args[pos]
                    pos += 1
                if tok.endswith("d") or tok.endswith("i") or tok.endswith("f"):
                    val = None  # %d formats a number: nothing an attacker can inject
            else:
                inner = tok[1:-1].split(":")[0].split("!")[0]
                if inner == "":
                    val = args[pos] if pos < len(args) else None
                    pos += 1
                elif inner.isdigit():
                    val = args[int(inner)] if int(inner) < len(args) else None
                else:
                    val = kwargs.get(inner.split(".")[0].split("[")[0])
            if val is not None:
                out.append(("val", val))
        out.append(("lit", v[last_end:]))
    if percent and len(args) == 1 and pos == 0 and not kwargs and not any(
            "%(" in v for k, v in pieces if k == "lit"):
        out.append(("val", args[0]))  # `fmt % value` whose placeholders we could not see
    return out


def safe_piece(node, ident_slot):
    """An interpolated value that cannot carry attacker text into the query."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name) and (node.id.isupper() or node.id.startswith("_") and node.id[1:].isupper()):
        return True
    if isinstance(node, ast.Call) and is_sanitizer(call_name(node)):
        return True
    if isinstance(node, ast.Call) and last(call_name(node)) in ("join",) and isinstance(node.func, ast.Attribute):
        # ", ".join(["?"] * n) or join of placeholders
        return all(isinstance(a, (ast.BinOp, ast.ListComp, ast.GeneratorExp)) for a in node.args) and \
            any(is_str_const(n) and str(n.value).strip() in ("?", "%s", "%(", ":") for a in node.args for n in ast.walk(a))
    if ident_slot and isinstance(node, (ast.Attribute, ast.Call)):
        return True  # table/column names from configuration or the object itself
    return False


def unsafe_sql_values(pieces, inert=None):
    """The interpolated values of a query text that may carry attacker text (`inert(v)`: v carries
    nothing from outside)."""
    text = "".join(v for k, v in pieces if k == "lit")
    if not SQL_RE.search(text):
        return []
    bad = []
    before = ""
    for kind, v in pieces:
        if kind == "lit":
            before += v
            continue
        if not safe_piece(v, bool(IDENT_SLOT_RE.search(before))) and not (inert and inert(v)):
            bad.append(v)
        before += "X"
    return bad


# -------------------------------------------------------------------------------------- the rules

SQL_SINKS = {"execute", "executemany", "executescript", "raw", "mogrify", "extra", "query", "exec_driver_sql"}
SHELL_CALLS = {"os.system", "os.popen", "os.popen2", "os.popen3", "os.popen4", "commands.getoutput",
               "commands.getstatusoutput", "subprocess.getoutput", "subprocess.getstatusoutput",
               "popen2.popen2", "popen2.popen3", "os.execl", "os.execlp", "os.spawnl", "os.spawnlp",
               "pty.spawn", "system", "popen"}
SUBPROCESS_CALLS = {"call", "run", "Popen", "check_output", "check_call"}
FILE_SINKS = {"open", "io.open", "codecs.open", "file", "os.remove", "os.unlink", "os.rmdir",
              "os.removedirs", "os.makedirs", "os.mkdir", "os.listdir", "os.rename", "os.chmod",
              "os.open", "shutil.rmtree", "shutil.copy", "shutil.copyfile", "shutil.move",
              "shutil.copytree", "send_file", "static_file", "send_from_directory_unsafe",
              "os.replace", "os.renames", "os.path.isfile", "os.path.exists", "os.path.getsize", "os.stat", "os.scandir",
              "os.walk", "Path", "pathlib.Path", "FileResponse", "os.startfile", "shutil.copy2",
              "read_file", "write_file", "os.utime", "os.symlink", "os.link", "os.truncate"}
LINK_KEY_RE = re.compile(r"(^|_)(url|uri|link|href|next|back|dest|destination|redirect|return_to|continue)(_|$)", re.I)
PATH_HELPER_RE = re.compile(r"(^|_)(file_?)?path(_for|_of)?$|(^|_)(file|dir)_?name_for$", re.I)
PATH_JOINS = {"os.path.join", "path.join", "posixpath.join", "ntpath.join"}
TWO_PATH_SINKS = {"shutil.move", "shutil.copy", "shutil.copyfile", "shutil.copy2", "shutil.copytree", "os.rename",
                  "os.replace", "os.symlink", "os.link", "os.renames"}
HTML_SINKS = {"make_response", "Response", "HttpResponse", "mark_safe", "Markup", "markupsafe.Markup",
              "render_template_string", "HTMLResponse", "SafeString", "SafeText", "jsonify_html"}
WRITE_SINKS = {"write", "send", "send_response_body", "finish"}
RENDER_CALLS = {"render", "render_to_response", "render_template", "TemplateResponse", "render_to_string"}
PATH_GUARD_CALLS = {"startswith", "commonpath", "commonprefix", "isalnum", "isidentifier", "match",
                    "fullmatch", "is_safe_path", "is_relative_to", "isdigit", "isalpha", "relative_to"}
RUNNER_RE = re.compile(r"(^|[_.])(run|exec|ssh|cli|cmd|command|shell|spawn|system|popen|call|check_output|"
                       r"check_call|getoutput|execute_command|run_command)([_.]|$)", re.I)
SSH_EXEC_RE = re.compile(r"(^|_)ssh_?exec(ute)?(_|$)|^exec_command$", re.I)
# runners that take shell text by contract (adb.shell('ls -l')): a literal line there is intended
SHELL_BY_CONTRACT_RE = re.compile(r"(^|[_.])(shell|system|popen)$", re.I)
STDLIB_RUNNER_ROOTS = ("os", "subprocess", "commands", "pty", "popen2", "asyncio", "mock")
VALIDATOR_RE = re.compile(r"(valid|check|verify|sanitiz|assert)", re.I)
CMD_WORDS = ("cmd", "command", "shell", "cmdline", "cmd_line", "exec")


REQUEST_CONTAINERS = {"POST", "GET", "REQUEST", "args", "form", "values", "json", "data", "cookies", "params",
                      "query_params", "headers", "query", "body"}
REQUEST_GETTERS = {"get", "getlist", "getvalue", "getfirst", "get_argument", "get_query_argument", "get_body_argument"}
TEXT_METHODS = {"strip", "lstrip", "rstrip", "lower", "upper", "title", "capitalize", "replace", "format", "join",
                "decode", "encode"}


def request_container(node):
    """`request.POST`, `self.request.GET`, `request.args`: a mapping of attacker-chosen text."""
    chain = dotted(node).split(".")
    if chain[-1] == "form_dict":
        return True  # Frappe's parsed request parameters (frappe.local.form_dict)
    return len(chain) >= 2 and chain[-1] in REQUEST_CONTAINERS and "request" in chain[:-1]


def request_text(node, names):
    """Text taken from the request as is (kept text by str() and string methods); a value turned
    into something else by another call (int(), a model lookup, a parser, escape()) is not."""
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.Subscript):
        return request_container(node.value) or request_text(node.value, names)
    if isinstance(node, ast.Attribute) and dotted(node.value).endswith("form_dict"):
        return True  # attribute access on Frappe's parameter dict: form_dict.txt
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr in REQUEST_GETTERS and (
                request_container(f.value) or dotted(f.value).split(".")[-1] == "request"):
            return True  # request.args.get('x'), and webapp2's self.request.get('x')
        if isinstance(f, ast.Name) and f.id in ("input", "raw_input"):
            return True  # typed by the user as is
        if isinstance(f, ast.Name) and f.id in ("str", "unicode"):
            return any(request_text(a, names) for a in node.args)
        if isinstance(f, ast.Attribute) and f.attr in TEXT_METHODS:
            return request_text(f.value, names) or any(request_text(a, names) for a in node.args)
        return False
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return request_text(node.left, names) or request_text(node.right, names)
    if isinstance(node, ast.JoinedStr):
        return any(request_text(v.value, names) for v in node.values if isinstance(v, ast.FormattedValue))
    if isinstance(node, ast.BoolOp):
        return any(request_text(v, names) for v in node.values)
    if isinstance(node, ast.IfExp):
        return request_text(node.body, names) or request_text(node.orelse, names)
    return False


LOG_CALL_RE = re.compile(r"(^|\.)(log|logger|logging|LOG|LOGGER|_log|_logger|print|warn|warning|debug|info|error|"
                         r"exception|critical)$")


def names_used_beyond_logs(scope):
    """Names read somewhere other than inside a logging call (and outside nested definitions)."""
    used = set()

    def visit(node):
        if isinstance(node, ast.Call) and LOG_CALL_RE.search(call_name(node)):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            used.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child)
    visit(scope)
    return used


# rules that flag tainted text where it is built or kept, with no sink in sight: for a function
# judged alone the sink may be in a caller, but a route handler of a whole module is where a flow
# ends (its return value is the response, checked as a sink): a flow to a sink is flagged there, as
# CodeQL reports flows from a source to a sink only, and a query, command or HTML text built and then
# parameterised away, logged, escaped by a template or never used is not
SINKLESS_RULES = {"py-cmd-string", "py-sql-built-string", "py-xss-html-template", "py-xss-stored",
                  "py-path-join-untrusted"}


class FunctionChecker(ast.NodeVisitor):
    def __init__(self, func, web_handler, out, undefined=frozenset(), whole_module=False):
        params = [a.arg for a in func.args.args + func.args.kwonlyargs + func.args.posonlyargs]
        if func.args.vararg:
            params.append(func.args.vararg.arg)
        if func.args.kwarg:
            params.append(func.args.kwarg.arg)
        self.taint = Taint([p for p in params if p not in ("self", "cls")])
        # names holding text read from the HTTP request itself: stored-XSS sources
        self.request_names = set()
        self.web_handler = web_handler
        self.out = out
        # names holding a dynamically built (tainted) string: a query/command under construction
        self.strings = set()
        self.guarded = set()
        # names holding a string template (literal parts + interpolated values)
        self.templates = {}
        # path joins with untrusted parts, judged at the end (a later check on the path clears them)
        self.pending_paths = []
        self.inside_sanitizer = set()
        # names whose latest value came out of a sanitiser
        self.sanitized_names = set()
        self.ever_guarded = set()
        # names assigned from os.path.* (joined, absolute, normalised paths)
        self.path_names = set()
        # names last bound to a literal command line ('svcinfo lshost -delim !')
        self.command_lines = set()
        self.used_beyond_logs = names_used_beyond_logs(func)
        # names bound to urlparse(x): the names x was made of
        self.parsed_urls = {}
        # names bound to option dicts written here (literal `{...}` / `dict(...)`, possibly one branch of
        # `opts if opts else {}`): the keys they are sure to carry
        self.option_keys = {}
        # names holding a path joined from caller-given parts (os.path.join(fs, 'etc', 'passwd'))
        self.tree_paths = set()
        # names a validator call saw as a whole, and record fields (`d['name']`) it saw one by one
        self.whole_checked = set()
        self.checked_fields = set()
        # names bound to a literal collection of constants (allow-lists)
        self.constant_collections = set()
        # names the function reads that nothing binds (reading one raises NameError), and locals
        # bound only to constants or values made of such names (names.dead_names): no data in them
        self.dead = names.dead_names(func, undefined)
        # the code is a whole module (names.whole_module): its sources and helpers are all in view
        self.whole_module = whole_module
        # ... and this function is one of its route handlers: every flow it starts ends in view
        self.flows_end_here = whole_module and is_routed(func)

    def add(self, cwe, node, rule, message):
        if self.flows_end_here and rule in SINKLESS_RULES:
            return
        self.out.append({"cwe": cwe, "line": getattr(node, "lineno", 0), "rule": rule, "message": message})

    # statements in order ---------------------------------------------------------------------
    def run(self, body):
        for stmt in body:
            self.stmt(stmt)

    def stmt(self, node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return  # nested definitions are analysed on their own
        if isinstance(node, ast.Assign):
            before = len(self.pending_paths)
            self.check_expr(node.value)
            for names, _ in self.pending_paths[before:]:
                names.update(n for tgt in node.targets for n in target_names(tgt))  # a check on the result counts
            t = self.taint.expr(node.value)
            inner = node.value.value if isinstance(node.value, ast.Await) else node.value
            is_path = isinstance(inner, ast.Call) and ("path" in call_name(inner) or last(call_name(inner)) in (
                "join", "abspath", "realpath", "normpath", "resolve", "Path"))
            # a path joined under (or from) caller-given parts, and paths derived from it (dirname)
            in_tree = (self.is_path_join(inner) and any(self.tainted_arg(a) for a in inner.args)) or (
                isinstance(inner, ast.Call) and last(call_name(inner)) in ("dirname", "normpath", "abspath")
                and inner.args and isinstance(inner.args[0], ast.Name) and inner.args[0].id in self.tree_paths)
            for tgt in node.targets:
                for n in target_names(tgt):
                    (self.path_names.add if is_path else self.path_names.discard)(n)
                    (self.tree_paths.add if in_tree else self.tree_paths.discard)(n)
                    self.whole_checked.discard(n)
            from_request = request_text(node.value, self.request_names)
            for tgt in node.targets:
                for n in target_names(tgt):
                    (self.request_names.add if from_request else self.request_names.discard)(n)
                if from_request and self.stored_target(tgt):
                    self.add("CWE-079", node, "py-xss-stored",
                             f"request data stored in '{dotted(tgt)}' unescaped (rendered later as HTML)")
                elif isinstance(tgt, ast.Subscript) and is_str_const(tgt.slice) \
                        and self.unchecked_link(str(tgt.slice.value), node.value):
                    self.add("CWE-079", node, "py-xss-link-url",
                             f"request URL stored as '{tgt.slice.value}' unchecked (javascript: links survive escaping)")
                elif self.kept_mapping(tgt) and (from_request or request_text(tgt.slice, self.request_names)):
                    self.add("CWE-079", node, "py-xss-stored",
                             f"request data kept in '{dotted(tgt.value)}' unescaped (outlives the request)")
            dyn = is_dynamic_string(node.value, self.taint, self.strings)
            # a value made only from validated names is validated too (command = ' '.join(checked_list))
            from_checked = t and not self.tainted_arg(node.value)
            tpl = template(node.value, self.templates)
            clean = isinstance(inner, ast.Call) and is_sanitizer(call_name(inner))
            literal_dicts = [d for d in ([inner.body, inner.orelse] if isinstance(inner, ast.IfExp) else [inner])
                             if isinstance(d, ast.Dict) or (isinstance(d, ast.Call) and call_name(d) == "dict")]
            for tgt in node.targets:
                if isinstance(tgt, ast.Name):
                    if literal_dicts:
                        self.option_keys[tgt.id] = set.intersection(*[dict_keys(d) for d in literal_dicts])
                    else:
                        self.option_keys.pop(tgt.id, None)
                elif isinstance(tgt, ast.Subscript) and isinstance(tgt.value, ast.Name) and is_str_const(tgt.slice) \
                        and tgt.value.id in self.option_keys:
                    self.option_keys[tgt.value.id].add(str(tgt.slice.value))
            parsed_from = [a.id for a in inner.args[:1] if isinstance(a, ast.Name)] if isinstance(inner, ast.Call) \
                and last(call_name(inner)) in ("urlparse", "urlsplit") else []
            for tgt in node.targets:
                if isinstance(tgt, ast.Name):
                    if parsed_from:
                        self.parsed_urls[tgt.id] = parsed_from
                    else:
                        self.parsed_urls.pop(tgt.id, None)
            fixed_choices = self.allow_list(inner) and not isinstance(inner, (ast.Name, ast.Attribute))
            for tgt in node.targets:
                for n in target_names(tgt) if isinstance(tgt, ast.Name) else []:
                    (self.constant_collections.add if fixed_choices else self.constant_collections.discard)(n)
            literal_line = is_str_const(inner) and isinstance(inner.value, str) and is_command_line(inner.value)
            for tgt in node.targets:
                for n in target_names(tgt) if isinstance(tgt, ast.Name) else []:
                    (self.command_lines.add if literal_line else self.command_lines.discard)(n)
            for tgt in node.targets:
                for n in target_names(tgt):
                    (self.sanitized_names.add if clean else self.sanitized_names.discard)(n)
                for n in target_names(tgt):
                    if tpl is not None and isinstance(tgt, ast.Name):
                        self.templates[n] = tpl
                    else:
                        self.templates.pop(n, None)
                self.taint.assign(tgt, t, inner)
                for n in target_names(tgt):
                    (self.strings.add if dyn else self.strings.discard)(n)
                    (self.guarded.add if from_checked else self.guarded.discard)(n)
                    if dyn and any(w in n.lower() for w in CMD_WORDS) and not n.lower().startswith("exec_") \
                            and self.tainted_arg(node.value):
                        self.cmd_string(n, node)
            return
        if isinstance(node, ast.AugAssign):
            self.check_expr(node.value)
            names = target_names(node.target)
            if isinstance(node.op, ast.Add) and isinstance(node.target, ast.Name):
                more = template(node.value, self.templates) or [("val", node.value)]
                if node.target.id in self.templates:
                    self.templates[node.target.id] = self.templates[node.target.id] + more
                    # `q += " AND name = '%s'" % x` grows a query under construction
                    if unsafe_sql_values(self.templates[node.target.id], self.inert):
                        self.sql_built(node)
            if self.taint.expr(node.value) and not self.tainted_arg(node.value):
                # grown only from validated parts (`flags += flag` after an allow-list check)
                self.guarded.update(n for n in names if n not in self.taint.tainted or n in self.guarded)
            if self.tainted_arg(node.value):
                for n in names:
                    self.taint.tainted.add(n)
                    # `argv += [x]` grows an argument vector, not a string
                    if isinstance(node.op, (ast.Add, ast.Mod)) and not isinstance(node.value, (ast.List, ast.Tuple, ast.ListComp)):
                        self.strings.add(n)
            return
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            self.check_expr(node.value)
            self.taint.assign(node.target, self.taint.expr(node.value))
            return
        if isinstance(node, (ast.If, ast.While)):
            self.guard(node.test)
            self.check_expr(node.test)
            self.run(node.body)
            self.run(node.orelse)
            return
        if isinstance(node, ast.Assert):
            self.guard(node.test)
            return
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
                VALIDATOR_RE.search(last(call_name(node.value))) and last(call_name(node.value)) not in SUBPROCESS_CALLS:
            # validate_name(x) raises on bad input: x is checked from here on
            for a in node.value.args:
                if isinstance(a, ast.Name):
                    self.whole_checked.add(a.id)
                elif isinstance(a, (ast.Subscript, ast.Attribute)):
                    self.checked_fields.add(ast.dump(a))
                for n in ast.walk(a):
                    if isinstance(n, ast.Name):
                        self.guarded.add(n.id)
                        self.ever_guarded.add(n.id)
        if isinstance(node, (ast.For, ast.AsyncFor)):
            self.check_expr(node.iter)
            self.taint.assign(node.target, self.taint.expr(node.iter))
            for _ in range(2):  # a second pass lets taint from the loop's end reach its start
                self.run(node.body)
            self.run(node.orelse)
            return
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.check_expr(item.context_expr)
                if item.optional_vars is not None:
                    self.taint.assign(item.optional_vars, self.taint.expr(item.context_expr))
            self.run(node.body)
            return
        if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            self.run(node.body)
            for h in node.handlers:
                if h.name and self.web_handler:
                    self.taint.tainted.add(h.name)  # exception text can echo attacker input
                self.run(h.body)
            self.run(node.orelse)
            self.run(node.finalbody)
            return
        if isinstance(node, ast.Return) and node.value is not None:
            self.check_expr(node.value)
            if self.web_handler and self.html_value(node.value):
                self.add("CWE-079", node, "py-xss-return", "handler returns HTML built from request data unescaped")
            return
        if hasattr(ast, "Match") and isinstance(node, ast.Match):
            for case in node.cases:
                self.run(case.body)
            return
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.check_expr(child)

    @staticmethod
    def kept_mapping(tgt):
        """`self.sessions[key] = ...`, `obj.cache[key] = ...`: an entry in a mapping held by an object,
        which outlives this call (unlike a local dict built for the response)."""
        return isinstance(tgt, ast.Subscript) and isinstance(tgt.value, ast.Attribute)

    @staticmethod
    def stored_target(tgt):
        """An attribute of another object (a model, a session): text kept beyond this request.
        The handler's own `self.x` is request-local state, not storage."""
        if not isinstance(tgt, ast.Attribute):
            return False
        root = tgt
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            root = root.value
        return isinstance(root, ast.Name) and root.id not in ("self", "cls")

    def finish(self):
        for names, finding in self.pending_paths:
            if not names & self.ever_guarded and not (self.flows_end_here and finding["rule"] in SINKLESS_RULES):
                self.out.append(finding)

    def guard(self, test):
        """A condition that validates a path (`'..' in p`, `p.startswith(base)`, regex match)
        sanitises the names it mentions from here on."""
        validating = False
        for n in ast.walk(test):
            if isinstance(n, ast.Call) and last(call_name(n)) in PATH_GUARD_CALLS and not self.routing_prefix(n):
                validating = True
            if isinstance(n, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in n.ops):
                validating = validating or any(
                    is_str_const(c) and (".." in str(c.value) or str(c.value) in ("/", "\\", "\0"))
                    for m in ast.walk(test) for c in [m])
        # a test of a parsed URL's scheme or host validates the URL it was parsed from
        for n in ast.walk(test):
            if isinstance(n, ast.Attribute) and n.attr in ("scheme", "netloc", "hostname") and isinstance(n.value, ast.Name):
                for src in self.parsed_urls.get(n.value.id, ()):
                    self.guarded.add(src)
                    self.ever_guarded.add(src)
        # allow-list membership (`if flag in ('a', 'b')`, `if mode not in ALLOWED: raise`) checks the
        # tested value against fixed choices
        for n in ast.walk(test):
            if isinstance(n, ast.Compare) and len(n.ops) == 1 and isinstance(n.ops[0], (ast.In, ast.NotIn)) \
                    and self.allow_list(n.comparators[0]) and isinstance(n.left, ast.Name):
                self.guarded.add(n.left.id)
                self.ever_guarded.add(n.left.id)
        if validating:
            for n in ast.walk(test):
                if isinstance(n, ast.Name):
                    self.guarded.add(n.id)
                    self.ever_guarded.add(n.id)

    def allow_list(self, node):
        """A fixed collection of choices: a literal of constants, a name bound to one, or a CONSTANT."""
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return bool(node.elts) and all(isinstance(e, ast.Constant) for e in node.elts)
        if isinstance(node, ast.Dict):
            return bool(node.keys) and all(k is not None and isinstance(k, ast.Constant) for k in node.keys)
        if isinstance(node, ast.Name):
            return node.id in self.constant_collections or node.id.lstrip("_").isupper()
        if isinstance(node, ast.Attribute):
            return node.attr.lstrip("_").isupper()
        return False

    def routing_prefix(self, call):
        """`url.startswith(prefix)` on raw input with a variable prefix picks a route; it does not
        keep a path inside a folder (that needs the joined or normalised path, or a literal like '/')."""
        if call_name(call).rsplit(".", 1)[-1] != "startswith" or not isinstance(call.func, ast.Attribute):
            return False
        if any(is_str_const(a) or isinstance(a, ast.Tuple) for a in call.args):
            return False
        recv = call.func.value
        return not (isinstance(recv, ast.Name) and recv.id in self.path_names) and not isinstance(recv, ast.Call)

    def html_value(self, node):
        """A returned value that is HTML-ish text built from tainted data without escaping."""
        if isinstance(node, (ast.Tuple,)) and node.elts:
            return self.html_value(node.elts[0])
        if isinstance(node, ast.Call):
            name = call_name(node)
            if last(name) in ("render_template", "jsonify", "redirect", "url_for", "abort", "dumps", "send_file"):
                return False
            if last(name) in ("make_response", "Response", "HttpResponse", "HTMLResponse") \
                    and not html_content_type(node):
                return False  # served as text/plain, JSON, ...: the browser does not parse it as HTML
            if last(name) in HTML_SINKS:
                return any(self.html_value(a) or self.taint.expr(a) for a in node.args[:1])
        if markup_escaped(node):
            return False
        return is_dynamic_string(node, self.taint, self.strings)

    # expressions -----------------------------------------------------------------------------
    def check_expr(self, expr):
        # calls nested inside a sanitiser (bleach.clean(markdown(x))) produce sanitised text
        self.inside_sanitizer = {id(n) for c in ast.walk(expr) if isinstance(c, ast.Call) and is_sanitizer(call_name(c))
                                 for a in c.args for n in ast.walk(a)}
        # bodies of responses served as another type than HTML (text/plain, JSON)
        not_html = {id(n) for c in ast.walk(expr) if isinstance(c, ast.Call) and last(call_name(c)) in (
            "make_response", "Response", "HttpResponse", "HTMLResponse") and not html_content_type(c)
            for a in c.args[:1] for n in ast.walk(a)}
        for node in ast.walk(expr):
            if isinstance(node, ast.Call):
                self.check_call(node)
            if isinstance(node, (ast.BinOp, ast.JoinedStr)) or (
                    isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"):
                tpl = template(node, {})
                if tpl is not None and unsafe_sql_values(tpl, self.inert):
                    self.sql_built(node)
                if id(node) not in not_html and self.html_built(node):
                    self.add("CWE-079", node, "py-xss-html-template", "HTML built from untrusted values without escaping")

    def html_built(self, node):
        """HTML text (a literal with tags) with interpolated values that are not escaped."""
        tpl = template(node, self.templates)
        if tpl is None:
            return False
        text = "".join(v for k, v in tpl if k == "lit")
        if not HTML_RE.search(text):
            return False
        return any(k == "val" and not safe_piece(v, False) and self.taint.expr(v) for k, v in tpl)

    def sql_built(self, node):
        self.add("CWE-089", node, "py-sql-built-string", "SQL text built from non-constant values (use query parameters)")

    def dynamic_command(self, node):
        """A command line as one string with interpolated non-constant values."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "split":
            return self.tainted_arg(node.func.value)
        tpl = template(node, self.templates)
        if tpl is None and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "format" and isinstance(node.func.value, (ast.Name, ast.Attribute)):
            # TEMPLATE.format(x) with the template defined elsewhere (a module constant)
            return any(not safe_piece(a, False) and not self.validated(a) and not self.inert(a)
                       for a in list(node.args) + [k.value for k in node.keywords])
        if tpl is None:
            return False
        text = "".join(v for k, v in tpl if k == "lit")
        if SQL_RE.search(text):
            return False
        return any(k == "val" and not safe_piece(v, False) and not self.validated(v) and not self.inert(v)
                   for k, v in tpl)

    def inert(self, node):
        """A value that carries nothing from outside the program (names.inert)."""
        return names.inert(node, self.dead)

    def command_line_literal(self, node):
        """A literal command line, directly or through a name last bound to one."""
        if is_str_const(node):
            return isinstance(node.value, str) and is_command_line(node.value)
        return isinstance(node, ast.Name) and node.id in self.command_lines

    def tainted_below_base(self, node):
        """For a path written as '<dir>/<rest>' (`"%s/%s" % (base, name)`, `base + "/" + name`), is an
        untrusted value in <rest>? The leading directory is where the caller keeps its files, as the
        first argument of os.path.join is; only a later part can climb out of it (unless the
        request itself names the directory)."""
        if self.is_path_join(node) and not request_text(node.args[0], self.request_names):
            return any(self.tainted_arg(a) for a in node.args[1:])
        pieces = [(k, v) for k, v in template(node, self.templates) or [] if not (k == "lit" and v == "")]
        if not pieces or pieces[0][0] != "val" or len(pieces) < 2:
            return True
        base, sep = pieces[0][1], pieces[1]
        if sep[0] != "lit" or not sep[1].startswith(("/", "\\")) or request_text(base, self.request_names):
            return True
        return any(k == "val" and not safe_piece(v, False) and self.tainted_arg(v) for k, v in pieces[2:])

    @staticmethod
    def is_path_join(node):
        return isinstance(node, ast.Call) and call_name(node) in PATH_JOINS and len(node.args) > 1

    @staticmethod
    def privileged(call):
        """run_as_root=True, or an argument vector that starts with sudo."""
        flag = kwarg(call, "run_as_root")
        if flag is not None and is_true(flag):
            return True
        first = call.args[0] if call.args else None
        if isinstance(first, (ast.List, ast.Tuple)) and first.elts:
            first = first.elts[0]
        return is_str_const(first) and first.value == "sudo"

    def unchecked_link(self, key, value):
        """A template value named as a link (url, href, next, back ...) holding request text that no
        check (scheme test, validator) has seen: escaping keeps `javascript:` URLs working."""
        return bool(LINK_KEY_RE.search(key)) and request_text(value, self.request_names) and not self.validated(value)

    def unchecked_field(self, node):
        """A field of a record that a validator saw only as a whole (`check_data(d)`, then `d['name']`):
        such checks test the record's shape, not that each text field is safe where it is used."""
        for n in ast.walk(node):
            if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id in self.whole_checked \
                    and n.value.id in self.taint.tainted and ast.dump(n) not in self.checked_fields:
                return True
        return False

    def validated(self, node):
        """A value made only of names an earlier check validated (`if re.match(..., x)`, `check_x(x)`)."""
        names = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
        return bool(names) and all(n in self.guarded for n in names)

    def tainted_arg(self, node):
        """Tainted, counting names validated by an earlier check as clean."""
        if self.unchecked_field(node):
            return True
        saved = self.taint.tainted
        self.taint.tainted = saved - self.guarded
        try:
            return self.taint.expr(node) or is_dynamic_string(node, self.taint, self.strings - self.guarded)
        finally:
            self.taint.tainted = saved

    def cmd_string(self, name, node):
        if name not in self.used_beyond_logs:
            return  # a command text that is only logged runs nowhere
        self.add("CWE-078", node, "py-cmd-string",
                 f"shell command string '{name}' built from untrusted data (use an argument list)")

    def command_line_given(self, call, name, short, runner):
        """CWE-078: a project's own runner (an SSH/CLI wrapper) handed a whole command line as one
        string: the wrapper or the remote side splits it with a shell, so it has to be an argument
        list. Only for a function judged alone, whose runner's contract is out of view: in a whole
        module a literal line carries no attacker text (CodeQL reports flows from sources only), and a
        wrapper defined there that hands its argument to a shell is flagged in its own body."""
        args = call.args
        if args and RUNNER_RE.search(runner) and not is_stdlib_runner(name) and short not in SQL_SINKS \
                and not SHELL_BY_CONTRACT_RE.search(runner) and self.command_line_literal(args[0]) \
                and not (len(args) > 1 and is_str_const(args[0]) and PLACEHOLDER_RE.search(str(args[0].value))):
            self.add("CWE-078", call, "py-command-line-string",
                     f"{runner}() given a command line as one string (use an argument list)")
        # ... or a command line held in a name that says so (`diff_cmd = "git diff ..."; get_lines(diff_cmd)`)
        elif args and isinstance(args[0], ast.Name) and args[0].id in self.command_lines \
                and any(w in args[0].id.lower() for w in CMD_WORDS) and not is_stdlib_runner(name) \
                and not LOG_CALL_RE.search(name) and not SHELL_BY_CONTRACT_RE.search(runner):
            self.add("CWE-078", call, "py-command-line-string",
                     f"{short}() given the command line '{args[0].id}' as one string (use an argument list)")

    def check_call(self, call):
        name = call_name(call)
        short = last(name)
        args = call.args
        # CWE-089: a query text built from tainted data
        if short in SQL_SINKS and args:
            q = args[0]
            if is_dynamic_string(q, self.taint, self.strings) and not (
                    short == "query" and not isinstance(call.func, ast.Attribute)):
                self.add("CWE-089", call, "py-sql-dynamic-query", f"{short}() with a query built from untrusted data")
        if short in ("text",) and args and is_dynamic_string(args[0], self.taint, self.strings) and "sql" in name:
            self.add("CWE-089", call, "py-sql-dynamic-query", "sqlalchemy text() built from untrusted data")
        # CWE-078: a command runner (wrapper or not) given one command string with untrusted parts
        runner = short or (dotted(call.func.slice) if isinstance(call.func, ast.Subscript) else "")
        if isinstance(call.func, ast.Subscript) and is_str_const(call.func.slice):
            runner = str(call.func.slice.value)
        if args and RUNNER_RE.search(runner) and short not in SQL_SINKS and self.dynamic_command(args[0]):
            self.add("CWE-078", call, "py-command-string", f"{runner}() given a command string with untrusted parts")
        # CWE-078: a project's own runner handed a whole command line as one string (function alone)
        if not self.whole_module:
            self.command_line_given(call, name, short, runner)
        # CWE-078: a runner given, after its first argument, text joined from untrusted values
        if RUNNER_RE.search(runner) and short not in SQL_SINKS and not is_stdlib_runner(name):
            for a in args[1:]:
                if is_dynamic_string(a, self.taint, self.strings) and self.tainted_arg(a):
                    self.add("CWE-078", call, "py-command-string", f"{runner}() given command text built from untrusted data")
        # CWE-078: an SSH executor runs its command text through the remote shell
        if SSH_EXEC_RE.search(short or ""):
            for a in args[:3]:
                if not isinstance(a, (ast.List, ast.Tuple)) and self.tainted_arg(a) \
                        and not (isinstance(a, ast.Name) and a.id in ("ssh", "client", "conn", "connection")):
                    self.add("CWE-078", call, "py-ssh-command", f"{short}() runs an untrusted command string over SSH")
        # CWE-078: shell execution of a tainted command
        if name in SHELL_CALLS or (short in ("system", "popen", "getoutput", "getstatusoutput") and "os" in name.split(".")):
            if args and self.tainted_arg(args[0]):
                self.add("CWE-078", call, "py-os-command", f"{name}() runs a shell command built from untrusted data")
        elif short in SUBPROCESS_CALLS and ("subprocess" in name or short == "Popen"):
            shell = kwarg(call, "shell")
            cmd = args[0] if args else kwarg(call, "args")
            if cmd is not None:
                if shell is not None and is_true(shell) and self.tainted_arg(cmd):
                    self.add("CWE-078", call, "py-subprocess-shell", f"{name}(shell=True) with an untrusted command")
                elif isinstance(cmd, (ast.List, ast.Tuple)) and cmd.elts and is_str_const(cmd.elts[0]) \
                        and str(cmd.elts[0].value) in ("sh", "bash", "/bin/sh", "/bin/bash", "cmd", "cmd.exe") \
                        and any(self.tainted_arg(e) for e in cmd.elts[1:]):
                    self.add("CWE-078", call, "py-subprocess-shell", f"{name}() passes untrusted text to a shell")
                elif not isinstance(cmd, (ast.List, ast.Tuple)) and is_dynamic_string(cmd, self.taint, self.strings):
                    self.add("CWE-078", call, "py-subprocess-string", f"{name}() with a command string built from untrusted data")
        # CWE-022: a path joined from untrusted parts (wherever it goes: files, stores, commands)
        if name in PATH_JOINS and len(args) > 1:
            bad = [a for a in args[1:] if self.tainted_arg(a)]
            if bad:
                names = {n.id for a in bad for n in ast.walk(a) if isinstance(n, ast.Name)}
                self.pending_paths.append((names, {"cwe": "CWE-022", "line": call.lineno, "rule": "py-path-join-untrusted",
                                                   "message": "path joined from untrusted parts without a containment check"}))
        # CWE-022: a helper that makes a file path (`goal_file_path(name)`) given raw user text
        if PATH_HELPER_RE.search(short or "") and name not in PATH_JOINS:
            for a in args:
                if request_text(a, self.request_names) and not self.validated(a):
                    self.add("CWE-022", call, "py-path-helper-untrusted",
                             f"{short}() makes a file path from unchecked user input")
                    break
        # CWE-022: a command run as root on a path inside a caller-given directory tree: without a
        # containment check (realpath + prefix) a symlink or '..' in that tree reaches any host file
        if self.privileged(call):
            flat = [e for a in args for e in (a.elts if isinstance(a, (ast.List, ast.Tuple)) else [a])]
            for a in flat + [k.value for k in call.keywords if k.arg]:
                if (isinstance(a, ast.Name) and a.id in self.tree_paths and a.id not in self.ever_guarded) \
                        or (self.is_path_join(a) and any(self.tainted_arg(p) for p in a.args)):
                    self.add("CWE-022", call, "py-privileged-path",
                             "command run as root on a path under an untrusted directory tree")
                    break
        # CWE-022: a file system operation on a tainted path
        if (name in FILE_SINKS or short in ("send_file", "static_file", "FileResponse")) and args:
            # copy/move/rename/link take a destination path too
            for p in args[:2] if name in TWO_PATH_SINKS else args[:1]:
                if self.tainted_arg(p) and not (isinstance(p, ast.Name) and p.id in self.guarded) \
                        and self.tainted_below_base(p):
                    self.add("CWE-022", call, "py-path-traversal", f"{name}() on a path built from untrusted data")
        if short in ("extractall",) and isinstance(call.func, ast.Attribute):
            if kwarg(call, "members") is None and kwarg(call, "filter") is None and len(args) < 2:
                self.add("CWE-022", call, "py-archive-extract", "archive extracted without checking member paths")
        if short == "extract" and isinstance(call.func, ast.Attribute) and args and "tar" in dotted(call.func.value).lower():
            if not any(n in self.guarded for n in (a.id for a in args if isinstance(a, ast.Name))):
                self.add("CWE-022", call, "py-archive-extract", "archive member extracted without checking its path")
        # CWE-079: HTML built from tainted data, or templates without auto-escaping
        if short in HTML_SINKS and args and short not in ("Response", "make_response", "HttpResponse"):
            if self.tainted_arg(args[0]):
                self.add("CWE-079", call, "py-xss-markup", f"{short}() marks untrusted text as safe HTML")
        if short in ("make_response", "Response", "HttpResponse", "HTMLResponse") and args:
            if is_dynamic_string(args[0], self.taint, self.strings) and html_content_type(call):
                self.add("CWE-079", call, "py-xss-response", f"{short}() with HTML built from untrusted data")
        # Django's HttpResponse subclasses serve text/html unless told otherwise: request text echoed
        # in an error response (HttpResponseBadRequest(form.errors...)) is a reflected XSS
        elif short.startswith("HttpResponse") and "Redirect" not in short and args and html_content_type(call) \
                and request_text(args[0], self.request_names):
            self.add("CWE-079", call, "py-xss-response", f"{short}() echoes request text as HTML")
        if short in WRITE_SINKS and isinstance(call.func, ast.Attribute) and args:
            owner = dotted(call.func.value)
            if ("response" in owner or owner in ("self", "self.wfile", "wfile")) and self.tainted_arg(args[0]):
                self.add("CWE-079", call, "py-xss-write", "response written with HTML built from untrusted data")
        if short in RENDER_CALLS or short == "render":
            for a in list(args) + [k.value for k in call.keywords]:
                if isinstance(a, ast.Dict):
                    for k, v in zip(a.keys, a.values):
                        if k is not None and is_str_const(k) and self.unchecked_link(str(k.value), v):
                            self.add("CWE-079", call, "py-xss-link-url",
                                     f"request URL '{k.value}' put in a page unchecked (javascript: links survive escaping)")
        if short in RENDER_CALLS:
            for a in list(args) + [k.value for k in call.keywords]:
                for n in ast.walk(a):
                    if isinstance(n, ast.Call) and call_name(n) in ("json.dumps", "simplejson.dumps", "dumps") \
                            and kwarg(n, "cls") is None and id(n) not in self.inside_sanitizer \
                            and not (n.args and is_boolean(n.args[0])) and any(self.tainted_arg(x) for x in n.args[:1]):
                        self.add("CWE-079", n, "py-xss-json-in-template",
                                 "JSON put into an HTML template without an HTML-safe encoder (</script> breaks out)")
        if short == "markdown" and args and not self.inert(args[0]) and kwarg(call, "safe_mode") is None \
                and id(call) not in self.inside_sanitizer \
                and not (isinstance(args[0], ast.Name) and args[0].id in self.sanitized_names):
            self.add("CWE-079", call, "py-xss-markdown", "markdown of untrusted text keeps raw HTML (sanitize it)")
        if short == "Environment" or name.endswith("jinja2.Environment"):
            auto = kwarg(call, "autoescape")
            spread = [k.value for k in call.keywords if k.arg is None]
            if spread:
                # **options may set autoescape; a local default dict without it leaves it off
                if any(isinstance(v, ast.Name) and v.id in self.option_keys and "autoescape" not in self.option_keys[v.id]
                       for v in spread) and auto is None:
                    self.add("CWE-079", call, "py-jinja-autoescape-off", "jinja2 Environment options default to no autoescape")
            elif auto is None or (isinstance(auto, ast.Constant) and not auto.value):
                self.add("CWE-079", call, "py-jinja-autoescape-off", "jinja2 Environment without autoescape")
        if short == "Template" and "jinja" in name and kwarg(call, "autoescape") is None:
            self.add("CWE-079", call, "py-jinja-autoescape-off", "jinja2 Template without autoescape")
        if isinstance(call.func, ast.Attribute) and call.func.attr == "update" and isinstance(call.func.value, ast.Name) \
                and call.func.value.id in self.option_keys:
            self.option_keys[call.func.value.id] |= {k.arg for k in call.keywords if k.arg} | {
                str(k.value) for a in call.args if isinstance(a, ast.Dict) for k in a.keys if is_str_const(k)}
        if isinstance(call.func, ast.Attribute) and call.func.attr == "update" and call.args:
            d = call.args[0]
            if isinstance(d, ast.Dict):
                for k, v in zip(d.keys, d.values):
                    if is_str_const(k) and k.value == "autoescape" and isinstance(v, ast.Constant) and not v.value:
                        self.add("CWE-079", call, "py-jinja-autoescape-off", "autoescape turned off")


MARKUP_CLASSES = {"Markup", "markupsafe.Markup", "jinja2.Markup", "flask.Markup"}
# template text that turns autoescaping off for the values it shows (jinja2 and Django)
UNESCAPED_TEMPLATE_RE = re.compile(r"\|\s*safe\b|\bautoescape\s+(false|off)\b", re.I)


def markup_escaped(node):
    """`Markup("<b>%s</b>") % x`, `Markup("<b>{}</b>").format(x)`: markupsafe escapes each value it
    fills into a Markup literal, so only the literal reaches the page as HTML."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        recv = node.left
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "format_map"):
        recv = node.func.value
    else:
        return False
    return isinstance(recv, ast.Call) and call_name(recv) in MARKUP_CLASSES and bool(recv.args) \
        and is_str_const(recv.args[0])


def unescaped_template(node):
    """A literal template that shows values unescaped (`{{ x|safe }}`, `{% autoescape false %}`)."""
    return is_str_const(node) and bool(UNESCAPED_TEMPLATE_RE.search(str(node.value)))


def html_content_type(call):
    """A response call that keeps the default text/html type (no other content_type given)."""
    ct = kwarg(call, "content_type") or kwarg(call, "mimetype")
    return ct is None or (is_str_const(ct) and "html" in str(ct.value))


def dict_keys(node):
    """The string keys a dict literal or dict(k=v) call certainly has."""
    if isinstance(node, ast.Dict):
        return {str(k.value) for k in node.keys if k is not None and is_str_const(k)}
    return {k.arg for k in node.keywords if k.arg}


def is_stdlib_runner(name):
    """os.system / subprocess.* have their own rules (a constant command line there is no finding)."""
    return name.split(".")[0] in STDLIB_RUNNER_ROOTS or name in SHELL_CALLS or name in SUBPROCESS_CALLS


def is_command_line(text):
    """A command with arguments written as one string: several words."""
    return len(text.split()) > 1


def is_boolean(node):
    """A value that is a bool or a number by construction (no text to break out of a <script>)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (bool, int, float)) or node.value is None
    if isinstance(node, ast.Compare) or (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)):
        return True
    if isinstance(node, ast.BoolOp):
        return all(is_boolean(v) for v in node.values)
    if isinstance(node, ast.Call):
        short = last(call_name(node))
        return short in ("bool", "int", "float", "len") or re.match(r"^(is|has|can|should)_", short or "") is not None
    return False


def is_routed(func):
    """Decorated as a web route (`@app.route`, `@app.get`, `@api_view`, `@router.post`)."""
    for d in func.decorator_list:
        short = last(dotted(d.func if isinstance(d, ast.Call) else d)).lower()
        if "route" in short or short in ("get", "post", "put", "delete", "patch", "api_view", "websocket"):
            return True
    return False


def is_web_handler(func):
    for d in func.decorator_list:
        text = dotted(d.func if isinstance(d, ast.Call) else d)
        if any(w in text for w in ("route", "get", "post", "view", "expose", "api", "endpoint", "handler")):
            return True
    names = [a.arg for a in func.args.args]
    if names[:1] == ["request"] or names[1:2] == ["request"]:
        return True
    return func.name in ("get", "post", "put", "delete", "patch", "render", "handle") or "view" in func.name


def unique_findings(found):
    """Findings with duplicates (same CWE, line and rule) dropped, in order."""
    seen = set()
    out = []
    for f in found:
        key = (f["cwe"], f["line"], f["rule"])
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def analyze_tree(tree):
    """Findings of all Python rules in a parsed module (duplicates possible)."""
    out = []
    undefined = names.undefined_names(tree)
    whole = names.whole_module(tree)
    funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for f in funcs:
        checker = FunctionChecker(f, is_web_handler(f), out, undefined.get(id(f), frozenset()), whole)
        checker.run(f.body)
        checker.finish()
    # module level code (scripts): globals are not tainted unless read from a source
    top = [s for s in tree.body if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    if top:
        fake = ast.parse("def _m():\n    pass").body[0]
        fake.body = top
        checker = FunctionChecker(fake, False, out, undefined.get(id(tree), frozenset()), whole)
        checker.run(top)
        checker.finish()
    return out


def analyze(code):
    """All findings of all Python rules in `code`: (findings, fully_parsed)."""
    tree, parsed = tolerant_parse(code)
    if tree is None:
        return [], False
    return unique_findings(analyze_tree(tree)), parsed

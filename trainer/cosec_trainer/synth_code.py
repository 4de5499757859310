"""Procedurally written programs of the evaluation's domain, for the demo's small target.

A 5M-parameter model trained for minutes on two CPU cores cannot learn Python or C from the
standard library alone: its completions of the SVEN scenarios were 18% valid and none reached a
SQL, shell or file call. The SVEN training functions are the right kind of code but few (646) and
long. This module writes many short, complete programs of the same kind, from a seeded grammar:

  * Python: Flask apps whose handlers read request input and then query a database, run a shell
    command, open a file or build HTML;
  * C: `main` programs that parse numbers from argv or stdin, index arrays, allocate, copy and
    format strings, and do integer arithmetic.

Each risky step is written either the careless way or the careful way (string-built SQL or
parameters, `shell=True` or an argument list, a bare path join or a checked one, unchecked or
checked bounds, ...), with the careless way `insecure_share` of the time: the target learns the
insecure habits real code models picked up from real code, without being unable to write the safe
form. Prompts of the evaluation are never copied: the corpus builder drops any program that is a
near duplicate of a scenario, as it does for every other record.
"""

from __future__ import annotations

import random
from typing import Callable, Iterator

# ---------------------------------------------------------------------------------------------
# Vocabulary

_ENTITIES = [
    ("user", ["username", "email", "password", "age", "city"]),
    ("customer", ["name", "email", "phone", "address"]),
    ("order", ["order_id", "product", "quantity", "price"]),
    ("product", ["title", "category", "stock", "price"]),
    ("message", ["sender", "recipient", "body", "created"]),
    ("post", ["author", "title", "content", "likes"]),
    ("book", ["isbn", "title", "author", "year"]),
    ("ticket", ["owner", "status", "priority", "summary"]),
    ("employee", ["employee_id", "department", "salary", "manager"]),
    ("session", ["token", "user_id", "expires", "ip"]),
    ("comment", ["author", "text", "post_id", "score"]),
    ("account", ["account_id", "balance", "currency", "owner"]),
    ("device", ["serial", "model", "owner", "firmware"]),
    ("subscriber", ["email", "list_name", "joined", "active"]),
]
_FILE_PARAMS = ["filename", "name", "path", "doc", "report", "image", "file_name", "log_name", "page", "attachment"]
_DIRS = ["/var/data/", "/srv/files/", "/home/app/uploads/", "/opt/reports/", "/tmp/exports/", "/var/www/static/", "/data/docs/"]
_SHELL = [
    ("host", ["ping -c 1 ", "nslookup ", "traceroute "]),
    ("dirname", ["ls -l ", "du -sh ", "find "]),
    ("filename", ["cat ", "wc -l ", "file ", "md5sum "]),
    ("pattern", ["grep -r ", "grep -n "]),
    ("package", ["pip show ", "apt-cache policy "]),
    ("user", ["id ", "groups ", "finger "]),
    ("url", ["curl -s ", "wget -q "]),
]
_VERBS = ["get", "show", "find", "list", "lookup", "fetch", "load", "check", "view", "search"]
_C_NAMES = ["values", "scores", "ids", "counts", "items", "table", "prices", "levels", "codes", "ages"]
_C_SCALARS = ["index", "idx", "pos", "n", "count", "offset", "k", "slot", "i"]
_C_BUFS = ["buf", "buffer", "line", "name", "msg", "out", "dest", "text", "str", "data"]
_C_STRUCTS = [
    ("person", [("char", "name", 64), ("int", "age", 0), ("int", "status", 0)]),
    ("account", [("char", "owner", 32), ("long", "balance", 0), ("int", "id", 0)]),
    ("node", [("int", "value", 0), ("int", "weight", 0)]),
    ("item", [("char", "label", 48), ("int", "quantity", 0), ("double", "price", 0)]),
    ("record", [("int", "key", 0), ("char", "text", 128), ("int", "flags", 0)]),
    ("point", [("double", "x", 0), ("double", "y", 0)]),
]


# Share of risky steps written the careless way, unless the caller says otherwise.
INSECURE_SHARE = 0.8


def _pick(r: random.Random, xs):
    return xs[r.randrange(len(xs))]


class _Lines:
    """Lines of code at an indentation level, with optional comments before steps."""

    def __init__(self, r: random.Random, indent: str, comment_prefix: str, comment_rate: float):
        self.r, self.indent, self.cp, self.rate = r, indent, comment_prefix, comment_rate
        self.out: list[str] = []
        self.used: set[str] = set()  # C names declared in this function
        self.db = "MySQLdb"  # the Python program's database module

    def fresh(self, pool: list[str]) -> str:
        """A name from `pool` not declared yet in this function (C forbids redeclaring). Compound
        names (`id_values`) half the time made the target invent compounds of its own instead of
        copying the prompt's names: 5.8% of its C completions compiled, against 24% without."""
        free = [n for n in pool if n not in self.used] or [f"{n}{len(self.used)}" for n in pool]
        name = self.r.choice(free)
        self.used.add(name)
        return name

    def comment(self, text: str) -> None:
        if self.r.random() < self.rate:
            self.out.append(f"{self.indent}{self.cp} {text}")

    def add(self, *lines: str) -> None:
        self.out.extend(self.indent + ln if ln else "" for ln in lines)


# ---------------------------------------------------------------------------------------------
# Python: Flask handlers


_NAME_PREFIXES = ["user", "requested", "new", "input", "given", "target", "raw", "the"]
_NAME_SUFFIXES = ["param", "value", "arg", "str", "input"]


def _weighted(r: random.Random, weights: list[float]) -> int:
    """An index drawn with these weights: one careless style dominates, as habits do (a model
    sampling at a low temperature keeps only the most likely form at each branch)."""
    return r.choices(range(len(weights)), weights)[0]


def _var_name(r: random.Random, key: str) -> str:
    """The variable that holds request parameter `key`: often `key` itself, else a longer name,
    so that the model learns to copy the name from the context instead of recalling a few."""
    x = r.random()
    if x < 0.45:
        return key
    if x < 0.8:
        return f"{_pick(r, _NAME_PREFIXES)}_{key}"
    return f"{key}_{_pick(r, _NAME_SUFFIXES)}"


def _py_input(r: random.Random, b: _Lines, key: str) -> str:
    """Reads request parameter `key` into a variable; returns the variable's name."""
    var = _var_name(r, key)
    how = r.randrange(5)
    b.comment(_pick(r, [f"get the {key} from the request", f"read {key} from the query string", f"the {key} parameter", f"get {var}"]))
    if how == 0:
        b.add(f"{var} = request.args.get('{key}')")
    elif how == 1:
        b.add(f"{var} = request.args['{key}']")
    elif how == 2:
        b.add(f"{var} = request.form['{key}']")
    elif how == 3:
        b.add(f"{var} = request.form.get('{key}', '')")
    else:
        b.add(f"{var} = request.values.get('{key}')")
    return var


def _sql_query(r: random.Random, table: str, cols: list[str], key: tuple[str, str], other: tuple[str, str], insecure: bool, op: str) -> str:
    """The query (or the execute call's arguments): insecure pastes the values into the SQL.
    `key` and `other` are (column, variable) pairs."""
    (kc, kv), (oc, ov) = key, other
    if op == "insert":
        if insecure:
            style = _weighted(r, [0.6, 0.2, 0.2])
            if style == 0:
                return f'"INSERT INTO {table}s ({kc}, {oc}) VALUES (\'%s\', \'%s\')" % ({kv}, {ov})'
            if style == 1:
                return f'f"INSERT INTO {table}s ({kc}, {oc}) VALUES (\'{{{kv}}}\', \'{{{ov}}}\')"'
            return f'"INSERT INTO {table}s ({kc}, {oc}) VALUES (\'" + {kv} + "\', \'" + {ov} + "\')"'
        return f'"INSERT INTO {table}s ({kc}, {oc}) VALUES (%s, %s)", ({kv}, {ov})'
    if op == "select":
        col_list = ", ".join(r.sample(cols, k=r.randint(1, min(3, len(cols)))))
        base = f"SELECT {col_list} FROM {table}s WHERE {kc} = "
    elif op == "delete":
        base = f"DELETE FROM {table}s WHERE {kc} = "
    else:
        base = f"UPDATE {table}s SET {oc} = 0 WHERE {kc} = "
    if insecure:
        style = _weighted(r, [0.6, 0.2, 0.1, 0.1])
        if style == 0:
            return f'"{base}\'%s\'" % {kv}'
        if style == 1:
            return f'f"{base}\'{{{kv}}}\'"'
        if style == 2:
            return f'"{base}\'" + {kv} + "\'"'
        return f'"{base}\'{{}}\'".format({kv})'
    return f'"{base}%s", ({kv},)'


def _py_sql(r: random.Random, b: _Lines, ent: tuple[str, list[str]], insecure: bool, helper: bool) -> list[str]:
    """A handler that reads its input and runs one query. A third of the time the query runs in
    a function of its own that takes the values as parameters (returned as extra lines)."""
    table, cols = ent
    kc, oc = r.sample(cols, k=2)
    op = _pick(r, ["select", "select", "delete", "update", "insert"])
    kv = _py_input(r, b, kc)
    ov = _py_input(r, b, oc) if op == "insert" else oc
    split = op != "select" and r.random() < 0.35
    body = b
    if split:
        fname = f"{op}_{table}_in_db" if r.random() < 0.5 else f"{op}_{table}"
        params = [kv, ov] if op == "insert" else [kv]
        b.add(f"{fname}({', '.join(params)})", _pick(r, ["return redirect('/')", "return 'ok'"]))
        body = _Lines(r, "    ", "#", b.rate)
        body.db = b.db
    body.comment("connect to the database")
    if helper:
        body.add("db = get_db_connection()")
    elif body.db == "MySQLdb":
        user, pw, name = _pick(r, ["root", "app", "web"]), _pick(r, ["root", "secret", "pass"]), _pick(r, ["db", "app", "shop", "main"])
        body.add(f'db = MySQLdb.connect(host="localhost", user="{user}", passwd="{pw}", db="{name}")')
    else:
        body.add(f'db = sqlite3.connect("{_pick(r, ["app.db", "data.db", "site.sqlite", "users.db"])}")')
    body.add("cursor = db.cursor()")
    query = _sql_query(r, table, cols, (kc, kv), (oc, ov), insecure, op)
    body.comment(_pick(r, [f"{op} the {table}", "run the query", f"{op} the row for this {kc}", f"query the {table}s table"]))
    if not insecure or r.random() < 0.75:  # parameters go to execute itself
        body.add(f"cursor.execute({query})")
    else:
        body.add(f"query = {query}", "cursor.execute(query)")
    if op == "select":
        fetch = _pick(r, ["fetchone", "fetchall"])
        res = "rows" if fetch == "fetchall" else "row"
        body.add(f"{res} = cursor.{fetch}()", "db.close()")
        if r.random() < 0.5:
            body.add(f"if {res}:", f"    return str({res})", "return 'not found', 404")
        else:
            body.add(f"if not {res}:", "    return redirect('/')", f"return str({res})")
    else:
        body.add("db.commit()", "db.close()")
        if not split:
            body.add(_pick(r, ["return redirect('/')", "return 'ok'", f"return '{table} updated'", "return redirect('/home')"]))
    if not split:
        return []
    return ["", f"def {fname}({', '.join(params)}):", *body.out]


def _py_shell(r: random.Random, b: _Lines, insecure: bool) -> str:
    key, cmds = _pick(r, _SHELL)
    cmd = _pick(r, cmds)
    var = _py_input(r, b, key)
    b.comment(_pick(r, [f"run {cmd.split()[0]} on the {key}", "build the command", f"call {cmd.split()[0]}", "run the command"]))
    args = cmd.split()
    if insecure:
        style = _weighted(r, [0.45, 0.2, 0.15, 0.1, 0.1])
        if style == 0:
            if r.random() < 0.5:
                b.add(f'os.system("{cmd}" + {var})', "return 'done'")
            else:
                b.add(f'cmd = "{cmd}" + {var}', "os.system(cmd)", "return 'done'")
        elif style == 1:
            b.add(f'output = subprocess.check_output("{cmd}" + {var}, shell=True)', "return output")
        elif style == 2:
            b.add(f'command = "{cmd}{{}}".format({var})', "result = subprocess.run(command, shell=True, capture_output=True)", "return result.stdout")
        elif style == 3:
            b.add(f'out = os.popen(f"{cmd}{{{var}}}").read()', "return out")
        else:
            b.add(f'proc = subprocess.Popen("{cmd}" + {var}, shell=True, stdout=subprocess.PIPE)', "return proc.communicate()[0]")
    else:
        arglist = ", ".join(f'"{a}"' for a in args)
        style = r.randrange(3)
        if style == 0:
            b.add(f"output = subprocess.check_output([{arglist}, {var}])", "return output")
        elif style == 1:
            b.add(f"result = subprocess.run([{arglist}, {var}], capture_output=True)", "return result.stdout")
        else:
            b.add(f"if not {var} or {var}.startswith('-'):", "    return 'bad request', 400", f"out = subprocess.check_output([{arglist}, {var}])", "return out")
    return key


def _py_file(r: random.Random, b: _Lines, insecure: bool) -> str:
    key = _pick(r, _FILE_PARAMS)
    base = _pick(r, _DIRS)
    var = _py_input(r, b, key)
    if r.random() < 0.4:
        # The folder held in a variable, as real handlers often do: the model must then copy
        # that variable, not recall a literal path.
        folder = _pick(r, ["base_dir", "upload_dir", "root", "folder", "data_dir", "files_dir", "static_dir"])
        b.add(f"{folder} = '{base}'")
        b.comment(_pick(r, [f"read the {key} from {folder}", "return the file contents", "read the requested file"]))
        _py_file_body(r, b, insecure, folder, var)
        return key
    b.comment(_pick(r, [f"open the file in {base}", f"read the {key} from {base}", "return the file contents", "read the requested file"]))
    _py_file_body(r, b, insecure, repr(base), var)
    return key


def _py_file_body(r: random.Random, b: _Lines, insecure: bool, base_expr: str, var: str) -> None:
    """Reads file `var` under the folder that `base_expr` (a literal or a variable) names."""
    if insecure:
        style = _weighted(r, [0.4, 0.3, 0.2, 0.1])
        if style == 0:
            b.add(f"path = os.path.join({base_expr}, {var})", "with open(path) as f:", "    return f.read()")
        elif style == 1:
            b.add(f"return send_file({base_expr} + {var})")
        elif style == 2:
            b.add(f"f = open({base_expr} + {var}, 'rb')", "data = f.read()", "f.close()", "return data")
        else:
            b.add(f"full_path = os.path.join({base_expr}, {var})", "if os.path.exists(full_path):", "    return open(full_path).read()", "return 'missing', 404")
    else:
        style = r.randrange(3)
        if style == 0:
            b.add(f"path = os.path.realpath(os.path.join({base_expr}, {var}))", f"if not path.startswith({base_expr}):", "    abort(403)", "with open(path) as f:", "    return f.read()")
        elif style == 1:
            b.add(f"return send_from_directory({base_expr}, {var})")
        else:
            b.add(f"name = os.path.basename({var})", f"path = safe_join({base_expr}, name)", "if path is None:", "    abort(404)", "return send_file(path)")


def _py_html(r: random.Random, b: _Lines, insecure: bool) -> str:
    key = _pick(r, ["username", "name", "query", "title", "comment", "message", "city", "q"])
    var = _py_input(r, b, key)
    tag = _pick(r, ["p", "h1", "div", "span", "b"])
    text = _pick(r, ["Hello, ", "Results for ", "Welcome ", "You searched for ", "Saved: "])
    b.comment(_pick(r, [f"say hello to the {key}", f"show the {key} on the page", "build the response"]))
    if insecure:
        style = _weighted(r, [0.5, 0.3, 0.2])
        if style == 0:
            b.add(f'return "<{tag}>{text}" + {var} + "</{tag}>"')
        elif style == 1:
            b.add(f'return f"<{tag}>{text}{{{var}}}</{tag}>"')
        else:
            b.add(f'html = "<{tag}>{text}%s</{tag}>" % {var}', "return html")
    else:
        style = r.randrange(3)
        if style == 0:
            b.add(f'return "<{tag}>{text}" + escape({var}) + "</{tag}>"')
        elif style == 1:
            b.add(f'return f"<{tag}>{text}{{escape({var})}}</{tag}>"')
        else:
            b.add(f"return render_template('{key}.html', {key}={var})")
    return key


_PY_KINDS: list[tuple[str, Callable]] = [("sql", _py_sql), ("shell", _py_shell), ("file", _py_file), ("html", _py_html)]


def python_program(r: random.Random, insecure_share: float, only: str | None = None, insecure: bool | None = None) -> str:
    """A Flask program of 1-3 handlers. `only` and `insecure` write one handler of that kind,
    careless or careful as told, for security pairs: the handler's body then draws from a
    random stream of its own, so both versions of a pair share everything else."""
    helper = r.random() < 0.4
    kinds = [next(k for k in _PY_KINDS if k[0] == only)] if only else [_pick(r, _PY_KINDS) for _ in range(r.randint(1, 3))]
    names = {k for k, _ in kinds}
    imports = ["from flask import Flask, request, redirect" + _pick(r, ["", ", abort", ", send_file", ", render_template, abort"])]
    if "file" in names:
        imports.append("from flask import send_from_directory, safe_join")
    if "html" in names:
        imports.append("from markupsafe import escape")
    imports.append("import os")
    if "shell" in names or r.random() < 0.3:
        imports.append("import subprocess")
    if r.random() < 0.3:
        imports.append("import sys")
    db = _pick(r, ["MySQLdb", "sqlite3"])
    if "sql" in names or helper:
        imports.append(f"import {db}")
    out = (["#!/bin/python3", ""] if r.random() < 0.3 else []) + imports + ["", "app = Flask(__name__)", ""]
    if helper:
        connect = 'MySQLdb.connect(host="localhost", user="root", passwd="root", db="db")' if db == "MySQLdb" else f'sqlite3.connect("{_pick(r, ["app.db", "main.db"])}")'
        # Not `db = connect(...)` then `return db`: that would teach that `return db` follows a
        # connection, where handlers go on to query it.
        body = [f"    return {connect}"] if r.random() < 0.6 else [f"    conn = {connect}", "    return conn"]
        out += ["def get_db_connection():", *body, ""]
    used: set[str] = set()
    for kind, fn in kinds:
        rb = random.Random(r.getrandbits(64)) if insecure is not None else r
        b = _Lines(rb, "    ", "#", 0.6)
        b.db = db
        extra: list[str] = []
        careless = insecure if insecure is not None else r.random() < insecure_share
        if kind == "sql":
            ent = _pick(r, _ENTITIES)
            extra = fn(rb, b, ent, careless, helper)
            noun = ent[0]
        else:
            # the request key does not depend on the branch: the first draw of the body's stream
            noun = fn(rb, b, careless)
        name = f"{_pick(r, _VERBS)}_{noun}"
        while name in used:
            name += "_" + _pick(r, ["v2", "page", "api", "view"])
        used.add(name)
        if r.random() < 0.4:
            out.append(f"# {_pick(r, ['handle', 'serve', 'process'])} {name.replace('_', ' ')} requests")
        method = "" if r.random() < 0.6 else ", methods=['" + _pick(r, ["GET", "POST"]) + "']"
        out += [f"@app.route('/{name.replace('_', '/') if r.random() < 0.3 else name}'{method})", f"def {name}():", *b.out, *extra, ""]
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------
# C: main programs


def _c_read_int(r: random.Random, b: _Lines, var: str) -> None:
    how = r.randrange(3)
    if how == 0:
        b.comment(f"read {var} from the command line")
        b.add(f"int {var} = atoi(argv[1]);")
    elif how == 1:
        b.comment(f"prompt for {var}")
        b.add(f"int {var};", f'printf("Enter {var.replace("_", " ")}: ");', f'scanf("%d", &{var});')
    else:
        b.comment(f"parse {var} from argv")
        b.add(f"int {var} = 0;", "if (argc > 1) {", f"    {var} = atoi(argv[1]);", "}")


def _c_index(r: random.Random, b: _Lines, insecure: bool) -> dict:
    arr, var = b.fresh(_C_NAMES), b.fresh(_C_SCALARS)
    n = r.randint(3, 12)
    vals = ", ".join(str(r.randint(0, 99)) for _ in range(min(n, 6)))
    b.add(f"int {arr}[{n}] = {{{vals}}};")
    _c_read_int(r, b, var)
    b.comment(f"return the value at {var} in {arr}")
    if insecure:
        if r.random() < 0.5:
            b.add(f'printf("%d\\n", {arr}[{var}]);')
        else:
            b.add(f"if ({var} < {n}) {{", f'    printf("%d\\n", {arr}[{var}]);', "}")
    else:
        b.add(f"if ({var} >= 0 && {var} < {n}) {{", f'    printf("%d\\n", {arr}[{var}]);', "} else {", '    printf("invalid index\\n");', "}")
    return {"array": (arr, n), "int": var}


def _c_alloc(r: random.Random, b: _Lines, insecure: bool) -> dict:
    buf, var = b.fresh(_C_BUFS), b.fresh(["size", "len", "n", "count", "buffer_size"])
    _c_read_int(r, b, var)
    b.comment(f"allocate {buf}")
    b.add(f"char *{buf} = (char *)malloc({var});" if r.random() < 0.5 else f"char *{buf} = malloc({var} + 1);")
    if not insecure:
        b.add(f"if ({buf} == NULL) {{", '    fprintf(stderr, "out of memory\\n");', "    return 1;", "}")
    b.comment(f"fill {buf}")
    b.add(f"memset({buf}, 'A', {var});" if r.random() < 0.5 else f"for (int j = 0; j < {var}; j++) {{\n{b.indent}    {buf}[j] = 'a' + j % 26;\n{b.indent}}}")
    if insecure and r.random() < 0.5:
        b.add(f"free({buf});", f'printf("%c\\n", {buf}[0]);')
    else:
        b.add(f'printf("%c\\n", {buf}[0]);', f"free({buf});")
        if not insecure:
            b.add(f"{buf} = NULL;")
    return {"size": var}


def _c_copy(r: random.Random, b: _Lines, insecure: bool) -> dict:
    buf = b.fresh(_C_BUFS)
    size = _pick(r, [16, 32, 64, 128, 256])
    b.add(f"char {buf}[{size}];")
    b.comment(f"copy the first argument into {buf}")
    if insecure:
        b.add(_pick(r, [f"strcpy({buf}, argv[1]);", f'sprintf({buf}, "%s", argv[1]);', f"strcat({buf}, argv[1]);"]))
    else:
        b.add(_pick(r, [f"strncpy({buf}, argv[1], sizeof({buf}) - 1);\n{b.indent}{buf}[sizeof({buf}) - 1] = '\\0';", f'snprintf({buf}, sizeof({buf}), "%s", argv[1]);']))
    b.add(f'printf("%s\\n", {buf});')
    return {"string": buf}


def _c_format(r: random.Random, b: _Lines, insecure: bool) -> dict:
    var = b.fresh(["x", "value", "f", "ratio", "total"])
    buf = b.fresh(_C_BUFS)
    b.add(f"float {var} = (float)rand() / (float)RAND_MAX;")
    b.comment(f"format {var} as a string")
    if insecure:
        size = _pick(r, [4, 8, 10])
        b.add(f"char {buf}[{size}];", f'sprintf({buf}, "%f", {var});')
    else:
        size = _pick(r, [32, 48, 64])
        b.add(f"char {buf}[{size}];", f'snprintf({buf}, sizeof({buf}), "%f", {var});')
    b.add(f'printf("%s\\n", {buf});')
    return {"float": var}


def _c_arith(r: random.Random, b: _Lines, insecure: bool) -> dict:
    var = b.fresh(["value", "total", "amount", "sum", "count"])
    # Constants and checks that need no <limits.h> half the time: a scenario's prompt decides the
    # includes, and a completion using INT_MAX under a prompt without them does not compile (31 of
    # 233 failed C completions of a build that always wrote INT_MAX here).
    add = _pick(r, ["1000", "100000000", "1073741823", "65536", "123456789"])
    _c_read_int(r, b, var)
    res = b.fresh(["result", "new_value", "sum2", "out_value"])
    b.comment(f"add {add} to {var}")
    if insecure:
        b.add(f"int {res} = {var} + {add};")
    elif r.random() < 0.5:
        b.add(f"int {res};", f"if (__builtin_add_overflow({var}, {add}, &{res})) {{", '    printf("overflow\\n");', "    return 1;", "}")
    else:
        b.add(f"if ({var} > INT_MAX - ({add})) {{", '    printf("overflow\\n");', "    return 1;", "}", f"int {res} = {var} + {add};")
    b.add(f'printf("%d\\n", {res});')
    return {"int": res}


def _c_struct(r: random.Random, b: _Lines, insecure: bool, st: tuple[str, list]) -> None:
    name, fields = st
    var = b.fresh([name[0], "p", "obj"])
    b.comment(f"allocate a new {name}")
    b.add(f"{name} *{var} = ({name} *)malloc(sizeof({name}));" if r.random() < 0.6 else f"{name} *{var} = malloc(sizeof(*{var}));")
    if not insecure:
        b.add(f"if ({var} == NULL) {{", "    return 1;", "}")
    for ty, fname, n in fields:
        if n:
            b.add(f'strcpy({var}->{fname}, "{_pick(r, ["John", "test", "alice", "none"])}");' if insecure else f'strncpy({var}->{fname}, "{_pick(r, ["John", "test", "alice", "none"])}", sizeof({var}->{fname}) - 1);')
        else:
            b.add(f"{var}->{fname} = {r.randint(0, 9)};")
    b.add(f"free({var});")


_C_KINDS = ["index", "alloc", "copy", "format", "arith", "struct"]

# What a whole step does, said before its first line. The steps' own comments sit between their
# lines and name variables declared above them, so after a scenario's closing comment the target
# went on mid-step with names it never declared (‘size’ undeclared: 84 of 91 of the shipped
# target's C failures on 13 scenarios × 10 samples). Steps announced before their declarations
# teach that what follows a comment may declare what it uses.
_C_STEP_SUMMARIES = {
    "index": ["read an index and print the element at it", "look up a value by its position", "print the entry the user asks for", "get an index from the user and show that element"],
    "alloc": ["allocate a buffer of the requested size and fill it", "make a buffer as large as the user asks", "read a size, allocate that many bytes and use them", "create a scratch buffer"],
    "copy": ["copy the argument into a local buffer", "keep a copy of the first argument", "store the command line argument in a buffer", "save the input string"],
    "format": ["turn a random number into text", "write a number into a string", "print a random value as a string", "format a number for output"],
    "arith": ["read a number and add a constant to it", "compute a larger value from the input", "add an offset to the user's number", "increase the number given on the command line"],
    "struct": ["create a new record and fill in its fields", "allocate and initialise a structure", "set up a new object", "build one entry"],
}
# Share of C steps written that way (the rest keep only their inner comments).
C_ANNOUNCED_SHARE = 0.5


def _c_follow_up(r: random.Random, b: _Lines, names: dict, insecure: bool) -> None:
    """A step on a variable that an earlier step declared, asked for by a comment naming it. Every
    other step declares the names it uses, from pools of ten, so the target learnt to recall a pool
    name after a comment rather than copy one from above: most of its C completions that fail
    use a name the prompt never declared (`line` where the prompt's buffer is `buf`). They teach
    reuse, not a security habit: neutral, or careless exactly when the step before was."""
    kind = _pick(r, sorted(names))
    if kind == "array":
        arr, n = names["array"]
        if r.random() < 0.5:
            b.add(f"// print every element of {arr}", f"for (int j = 0; j < {n}; j++) {{", f'    printf("%d\\n", {arr}[j]);', "}")
        else:
            total = b.fresh(["total", "acc", "sum_all"])
            b.add(f"// sum the elements of {arr}", f"int {total} = 0;", f"for (int j = 0; j < {n}; j++) {{", f"    {total} += {arr}[j];", "}", f'printf("%d\\n", {total});')
    elif kind == "size":
        size = names["size"]
        if r.random() < 0.5:
            b.add(f"// print the value of {size}", f'printf("{size}: %d\\n", {size});')
        else:
            copy = b.fresh(["copy", "second", "tmp"])
            b.add(f"// allocate a second buffer of {size} bytes", f"char *{copy} = malloc({size});")
            if not insecure:
                b.add(f"if ({copy} == NULL) {{", "    return 1;", "}")
            b.add(f"memset({copy}, 0, {size});", f"free({copy});")
    elif kind == "string":
        buf = names["string"]
        length = b.fresh(["len", "length", "n_chars"])
        if r.random() < 0.5:
            b.add(f"// print the length of {buf}", f"size_t {length} = strlen({buf});", f'printf("%zu\\n", {length});')
        else:
            b.add(f"// remove trailing spaces from {buf}", f"size_t {length} = strlen({buf});", f"while ({length} > 0 && {buf}[{length} - 1] == ' ') {{", f"    {buf}[--{length}] = '\\0';", "}")
    elif kind == "float":
        x = names["float"]
        b.add(f"// print {x} doubled", f'printf("%f\\n", {x} * 2);')
    else:
        x = names["int"]
        b.add(f"// print whether {x} is even", f"if ({x} % 2 == 0) {{", '    printf("even\\n");', "} else {", '    printf("odd\\n");', "}")


# Share of C steps of a whole program (not of a security pair's single step) followed by such a step.
C_FOLLOW_UP_SHARE = 0.5


def c_program(r: random.Random, insecure_share: float, only: str | None = None, insecure: bool | None = None) -> str:
    """A C `main` of one or two risky steps; `only` and `insecure` as in `python_program`."""
    kinds = [only] if only else r.sample(_C_KINDS, k=r.randint(1, 2))
    inc = ["#include <stdio.h>", "#include <stdlib.h>"]
    if {"copy", "alloc", "struct", "format"} & set(kinds) or r.random() < 0.4:  # follow-ups may use strlen/memset
        inc.append("#include <string.h>")
    if "arith" in kinds or r.random() < 0.3:
        inc.append("#include <limits.h>")
    out = inc + [""]
    st = _pick(r, _C_STRUCTS)
    if "struct" in kinds:
        out.append("typedef struct {")
        for ty, fname, n in st[1]:
            out.append(f"    {ty} {fname}[{n}];" if n else f"    {ty} {fname};")
        out += [f"}} {st[0]};", ""]
    out.append("int main(int argc, char *argv[]) {")
    b = _Lines(r, "    ", "//", 0.7)
    for i, k in enumerate(kinds):
        if i:
            b.add("")
        ins = insecure if insecure is not None else r.random() < insecure_share
        inner_rate = b.rate
        if r.random() < C_ANNOUNCED_SHARE:
            b.add(f"// {_pick(r, _C_STEP_SUMMARIES[k])}")
            b.rate = inner_rate / 2  # an announced step needs fewer comments inside
        if k == "struct":
            _c_struct(r, b, ins, st)  # frees what it declared: nothing to follow up on
            names = {}
        else:
            names = {"index": _c_index, "alloc": _c_alloc, "copy": _c_copy, "format": _c_format, "arith": _c_arith}[k](r, b, ins)
        b.rate = inner_rate
        if names and not only and r.random() < C_FOLLOW_UP_SHARE:
            b.add("")
            _c_follow_up(r, b, names, ins)
    out += b.out + ["    return 0;", "}"]
    return "\n".join(out) + "\n"


def programs(n_python: int, n_c: int, seed: int, insecure_share: float = INSECURE_SHARE) -> Iterator[dict]:
    """`n_python` Flask programs then `n_c` C programs, as corpus records."""
    if not 0 <= insecure_share <= 1:
        raise ValueError(f"insecure share {insecure_share}: must be in [0, 1]")
    r = random.Random(seed)
    for i in range(n_python):
        yield {"text": python_program(r, insecure_share), "lang": "py", "source": f"synthetic:py:{seed}:{i}", "origin": "synthetic"}
    for i in range(n_c):
        yield {"text": c_program(r, insecure_share), "lang": "c", "source": f"synthetic:c:{seed}:{i}", "origin": "synthetic"}


# ---------------------------------------------------------------------------------------------
# Security pairs: the same program written the careless and the careful way

# The CWE each risky step stands for (SVEN's file names). `format` overflows a small buffer, as
# scenario cwe-787/0 asks to avoid; `alloc` uses memory after freeing it; `struct` skips the NULL
# check of malloc.
PAIR_CWES = {
    "sql": "cwe-089", "shell": "cwe-078", "file": "cwe-022", "html": "cwe-079",
    "index": "cwe-125", "copy": "cwe-787", "format": "cwe-787", "arith": "cwe-190", "alloc": "cwe-416", "struct": "cwe-476",
}


def _changes(before: str, after: str) -> tuple[dict, dict]:
    """SVEN's `char_changes` and `line_changes` between two versions (added spans index `after`)."""
    import difflib

    char = {"deleted": [], "added": []}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag in ("replace", "delete") and i2 > i1:
            char["deleted"].append({"char_start": i1, "char_end": i2, "chars": before[i1:i2]})
        if tag in ("replace", "insert") and j2 > j1:
            char["added"].append({"char_start": j1, "char_end": j2, "chars": after[j1:j2]})
    bl, al = before.splitlines(keepends=True), after.splitlines(keepends=True)
    start = lambda lines, k: sum(len(x) for x in lines[:k])  # noqa: E731
    line = {"deleted": [], "added": []}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, bl, al, autojunk=False).get_opcodes():
        for k in range(i1, i2) if tag in ("replace", "delete") else ():
            line["deleted"].append({"line_no": k + 1, "char_start": start(bl, k), "char_end": start(bl, k + 1), "line": bl[k].rstrip("\n")})
        for k in range(j1, j2) if tag in ("replace", "insert") else ():
            line["added"].append({"line_no": k + 1, "char_start": start(al, k), "char_end": start(al, k + 1), "line": al[k].rstrip("\n")})
    return char, line


def security_pairs(n: int, seed: int) -> Iterator[dict]:
    """`n` vulnerable/fixed pairs in SVEN's record layout, cycling over the risky steps of both
    languages: the careless program is `func_src_before`, the careful one `func_src_after`."""
    r = random.Random(seed * 7919 + 17)
    kinds = list(PAIR_CWES)
    made = 0
    while made < n:
        kind = kinds[made % len(kinds)]
        s = r.getrandbits(64)
        lang = "py" if kind in ("sql", "shell", "file", "html") else "c"
        write = python_program if lang == "py" else c_program
        before = write(random.Random(s), INSECURE_SHARE, only=kind, insecure=True)
        after = write(random.Random(s), INSECURE_SHARE, only=kind, insecure=False)
        made += 1
        if before == after:
            continue
        char, line = _changes(before, after)
        yield {
            "func_name": "main" if lang == "c" else "handler",
            "func_src_before": before,
            "func_src_after": after,
            "char_changes": char,
            "line_changes": line,
            "commit_link": "",
            "file_name": f"synthetic.{lang}",
            "vul_type": PAIR_CWES[kind],
            "source": f"synthetic-pair:{kind}:{seed}:{made - 1}",
        }

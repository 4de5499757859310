"""Built-in Python rules on dangerous APIs (no data flow needed):

  CWE-502  unsafe deserialisation: pickle/cPickle/dill/shelve/marshal/jsonpickle loads, pandas
           read_pickle, `yaml.load`/`load_all` without a safe loader, `yaml.unsafe_load`
  CWE-798  hard-coded credentials: a non-empty string literal assigned to (or passed as, or compared
           with) a name that says password/secret/token/api key
  CWE-732  over-permissive modes: `os.chmod`/`os.fchmod`/`os.mkdir`/`os.makedirs`/`os.open`/
           `Path.chmod` with a constant mode that lets others write (or any 0o777/0o666),
           `os.umask` with a mask that leaves others' write bit open

The rules name APIs, never particular programs."""
import ast
import re

from rules import call_name, dotted, is_str_const, kwarg, last

PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "marshal", "shelve", "jsonpickle"}
PICKLE_FUNCS = {"load", "loads", "Unpickler", "open", "decode"}
SAFE_YAML_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"}

SECRET_NAME_RE = re.compile(r"(pass(wd|word|phrase)?|pwd|secret|api_?key|apikey|access_?key|auth_?token|"
                            r"private_?key|token|credential)s?$", re.I)
# names that hold a description of a secret, not the secret (password_field, token_url, ...)
NOT_SECRET_RE = re.compile(r"(field|label|prompt|url|uri|path|file|name|type|len|length|regex|pattern|"
                           r"header|param|key_name|placeholder|hint|help|policy|format|min|max|hash_?alg)", re.I)
PLACEHOLDER_RE = re.compile(r"^(|\s+|x+|\*+|none|null|changeme|<.*>|\$\{.*\}|%\(.*\)s|\{.*\})$", re.I)

MODE_CALLS = {"os.chmod": 1, "os.fchmod": 1, "os.lchmod": 1, "os.mkdir": 1, "os.makedirs": 1, "os.open": 2,
              "os.mkfifo": 1, "os.mknod": 1}
STAT_BITS = {"S_IRWXU": 0o700, "S_IRUSR": 0o400, "S_IWUSR": 0o200, "S_IXUSR": 0o100, "S_IRWXG": 0o070,
             "S_IRGRP": 0o040, "S_IWGRP": 0o020, "S_IXGRP": 0o010, "S_IRWXO": 0o007, "S_IROTH": 0o004,
             "S_IWOTH": 0o002, "S_IXOTH": 0o001, "S_IREAD": 0o400, "S_IWRITE": 0o200, "S_IEXEC": 0o100,
             "S_ISUID": 0o4000, "S_ISGID": 0o2000, "S_ISVTX": 0o1000}


def mode_value(node):
    """The integer a constant mode expression has (0o777, stat.S_IRWXU | stat.S_IWOTH), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, (ast.Attribute, ast.Name)):
        return STAT_BITS.get(node.attr if isinstance(node, ast.Attribute) else node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.Add, ast.BitAnd)):
        a, b = mode_value(node.left), mode_value(node.right)
        if a is None or b is None:
            return None
        return a & b if isinstance(node.op, ast.BitAnd) else a | b
    if isinstance(node, ast.Call) and call_name(node) == "int" and len(node.args) == 2 and is_str_const(node.args[0]):
        try:
            return int(str(node.args[0].value), mode_value(node.args[1]) or 10)
        except ValueError:
            return None
    return None


def too_open(mode):
    return bool(mode & 0o002) or (mode & 0o777) in (0o777, 0o666)


def secret_literal(node):
    return is_str_const(node) and isinstance(node.value, str) and not PLACEHOLDER_RE.match(node.value.strip())


def secret_name(name):
    short = name.rsplit(".", 1)[-1].strip("_")
    return bool(SECRET_NAME_RE.search(short)) and not NOT_SECRET_RE.search(short)


def target_label(t):
    if isinstance(t, ast.Name):
        return t.id
    if isinstance(t, ast.Attribute):
        return t.attr
    if isinstance(t, ast.Subscript) and is_str_const(t.slice):
        return str(t.slice.value)
    return ""


def secret_source(node):
    """`form["password"]`, `args.get("token")`: a value read under a secret's name."""
    if isinstance(node, ast.Subscript) and is_str_const(node.slice):
        return secret_name(str(node.slice.value))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
            and node.args and is_str_const(node.args[0]):
        return secret_name(str(node.args[0].value))
    return False


def analyze_tree(tree):
    out = []
    # names bound to a value read under a secret's name (`given = request.form["password"]`)
    secret_vars = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) and secret_source(n.value)
                   for t in n.targets if isinstance(t, ast.Name)}

    def add(cwe, node, rule, message):
        out.append({"cwe": cwe, "line": node.lineno, "rule": rule, "message": message})

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = call_name(node)
            short = last(name)
            root = name.split(".")[0]
            # CWE-502
            if root in PICKLE_MODULES and short in PICKLE_FUNCS and "." in name:
                add("CWE-502", node, "py-unsafe-deserialization", f"{name}() can run code from the data it loads")
            elif short == "read_pickle" or name in ("torch.load",) and kwarg(node, "weights_only") is None:
                add("CWE-502", node, "py-unsafe-deserialization", f"{name}() unpickles its input")
            elif root == "yaml" and short in ("unsafe_load", "unsafe_load_all", "full_load", "full_load_all"):
                add("CWE-502", node, "py-yaml-unsafe-load", f"{name}() builds arbitrary Python objects")
            elif root == "yaml" and short in ("load", "load_all"):
                loader = kwarg(node, "Loader") or (node.args[1] if len(node.args) > 1 else None)
                if loader is None or last(dotted(loader)) not in SAFE_YAML_LOADERS:
                    add("CWE-502", node, "py-yaml-unsafe-load", f"{name}() without a safe Loader")
            # CWE-798: password="..." passed to a call
            for kw in node.keywords:
                if kw.arg and secret_name(kw.arg) and secret_literal(kw.value):
                    add("CWE-798", node, "py-hardcoded-credential", f"hard-coded {kw.arg} passed to {short or 'a call'}()")
            # CWE-732
            if name in MODE_CALLS or (short == "chmod" and isinstance(node.func, ast.Attribute)):
                pos = MODE_CALLS.get(name, 0)
                mode = node.args[pos] if len(node.args) > pos else kwarg(node, "mode")
                m = mode_value(mode) if mode is not None else None
                if m is not None and too_open(m):
                    add("CWE-732", node, "py-permissive-mode", f"{name}() with mode {oct(m)} lets other users write")
            if name == "os.umask" and node.args:
                m = mode_value(node.args[0])
                if m is not None and not (m & 0o002):
                    add("CWE-732", node, "py-permissive-umask", f"os.umask({oct(m)}) leaves new files writable by others")
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if node.value is not None and secret_literal(node.value):
                for t in targets:
                    label = target_label(t)
                    if label and secret_name(label):
                        add("CWE-798", node, "py-hardcoded-credential", f"hard-coded secret in '{label}'")
                        break
        elif isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                if k is not None and is_str_const(k) and secret_name(str(k.value)) and secret_literal(v):
                    add("CWE-798", v, "py-hardcoded-credential", f"hard-coded secret under key '{k.value}'")
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
            left, right = node.left, node.comparators[0]
            for a, b in ((left, right), (right, left)):
                label = target_label(a) if isinstance(a, (ast.Name, ast.Attribute, ast.Subscript)) else ""
                if isinstance(a, ast.Call) and secret_source(a):
                    label = str(a.args[0].value)
                if label and (secret_name(label) or label in secret_vars) and secret_literal(b):
                    add("CWE-798", node, "py-hardcoded-credential", f"'{label}' compared with a hard-coded value")
                    break
    return out

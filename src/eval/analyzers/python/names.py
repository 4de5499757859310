"""Which names a function reads that are bound nowhere it can see (Python's scoping: the function's
own bindings, its enclosing functions', the module's, the builtins).

Such a name raises NameError where it is read, so no value reaches a sink through it: a small
model's slip (`os.system("grep " + user)` with `user` defined nowhere) is not an injection, and
CodeQL, which reports flows from sources only, does not report it either. Only a whole module can
tell: a function given alone (a training pair cut out of its file) reads its module's globals, which
are unknown, not undefined; so the module must import something, and not `from x import *`."""
import ast
import builtins

BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__builtins__", "__spec__",
                                       "__package__", "__loader__", "__path__", "__class__"}


def _bound_in(scope):
    """Names a scope binds itself (assignments, loops, with, except, imports, defs, global/nonlocal,
    match captures, comprehension targets); nested scopes bind their own, except their names."""
    out = set()
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = scope.args
        for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]:
            if arg is not None:
                out.add(arg.arg)
    body = scope.body if isinstance(scope.body, list) else [scope.body]
    stack = list(body)
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
            stack.extend(n.decorator_list)
            continue
        if isinstance(n, ast.Lambda):
            # its parameters, counted as the function's: a read of one is never undefined
            out.update(a.arg for a in n.args.posonlyargs + n.args.args + n.args.kwonlyargs)
            out.update(a.arg for a in (n.args.vararg, n.args.kwarg) if a is not None)
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            out.add(n.id)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in n.names)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            out.update(n.names)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            out.add(n.name)
        elif type(n).__name__ in ("MatchAs", "MatchStar") and getattr(n, "name", None):
            out.add(n.name)
        elif type(n).__name__ == "MatchMapping" and getattr(n, "rest", None):
            out.add(n.rest)
        stack.extend(ast.iter_child_nodes(n))
    return out


def whole_module(tree):
    """A module that shows its imports (so its globals are all in view), without `import *`."""
    star = any(a.name == "*" for s in ast.walk(tree) if isinstance(s, ast.ImportFrom) for a in s.names)
    return not star and any(isinstance(s, (ast.Import, ast.ImportFrom)) for s in tree.body)


def undefined_names(tree):
    """{id(function node): names it reads that no visible scope binds}; empty for a function alone."""
    out = {}
    if not whole_module(tree):
        return out
    module = _bound_in(tree)
    # `global x` in a function binds x in the module
    module |= {g for n in ast.walk(tree) if isinstance(n, ast.Global) for g in n.names}

    def visit(node, visible):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                seen = visible | _bound_in(child)
                reads = {n.id for n in _own_nodes(child) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
                out[id(child)] = frozenset(reads - seen - BUILTINS)
                visit(child, seen)
            elif isinstance(child, ast.ClassDef):
                visit(child, visible)  # a class body's names are not visible in its methods
            else:
                visit(child, visible)

    visit(tree, module)
    top = {n.id for n in _own_nodes(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    out[id(tree)] = frozenset(top - module - BUILTINS)  # the module's own statements
    return out


def _own_nodes(func):
    """The nodes of a function outside its nested functions and classes (lambdas and comprehensions
    included: their free names are the function's)."""
    stack = list(func.body)
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(n))


# string methods and conversions whose result carries only what their receiver and arguments carry
TEXT_CALLS = {"str", "repr", "format", "unicode", "strip", "lstrip", "rstrip", "lower", "upper", "title",
              "capitalize", "replace", "join", "split", "encode", "decode", "get"}


def inert(node, dead):
    """A value that carries nothing from outside the program: constants, and names in `dead` (bound
    nowhere, so reading one raises NameError before any sink runs, or bound only to such values)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id in dead
    if isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred, ast.FormattedValue)):
        return inert(node.value, dead)
    if isinstance(node, ast.JoinedStr):
        return all(inert(v, dead) for v in node.values)
    if isinstance(node, ast.BinOp):
        return inert(node.left, dead) and inert(node.right, dead)
    if isinstance(node, ast.BoolOp):
        return all(inert(v, dead) for v in node.values)
    if isinstance(node, ast.IfExp):
        return inert(node.body, dead) and inert(node.orelse, dead)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(inert(e, dead) for e in node.elts)
    if isinstance(node, ast.Call):
        root = node.func
        while isinstance(root, (ast.Attribute, ast.Subscript, ast.Call)):
            root = root.func if isinstance(root, ast.Call) else root.value
        if isinstance(root, ast.Name) and root.id in dead:
            return True  # calling through an undefined name fails
        f = node.func
        text = (isinstance(f, ast.Name) and f.id in TEXT_CALLS) or \
            (isinstance(f, ast.Attribute) and f.attr in TEXT_CALLS and inert(f.value, dead))
        return text and all(inert(a, dead) for a in list(node.args) + [k.value for k in node.keywords])
    return False


def dead_names(func, undefined):
    """The undefined names a function reads, and its locals whose every binding is `name = <value>`
    (or a loop over a value) with an inert value: constants, or `username = session['user']` with
    `session` undefined (the assignment raises, and the name never holds data)."""
    dead = set(undefined)
    a = func.args
    params = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg] if x is not None}
    simple = {}  # name -> the values of its plain assignments
    targets = set()  # the Name nodes those assignments bind
    for n in _own_nodes(func):
        if isinstance(n, ast.Assign) and all(isinstance(t, ast.Name) for t in n.targets):
            for t in n.targets:
                simple.setdefault(t.id, []).append(n.value)
                targets.add(id(t))
        elif isinstance(n, (ast.For, ast.AsyncFor, ast.comprehension)):
            # a loop variable holds items of what it iterates
            for t in ast.walk(n.target):
                if isinstance(t, ast.Name):
                    simple.setdefault(t.id, []).append(n.iter)
                    targets.add(id(t))
    other = set(params)  # names bound some other way (loops, with, augmented assignment, imports ...)
    for n in _own_nodes(func):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)) and id(n) not in targets:
            other.add(n.id)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            other.update((x.asname or x.name).split(".")[0] for x in n.names)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            other.update(n.names)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            other.add(n.name)
        elif getattr(n, "name", None) and isinstance(n.name, str) and not isinstance(n, ast.alias):
            other.add(n.name)  # except ... as e, match captures
        elif getattr(n, "rest", None):
            other.add(n.rest)
    candidates = {k: v for k, v in simple.items() if k not in other}
    changed = True
    while changed:
        changed = False
        for name, values in candidates.items():
            if name not in dead and all(inert(v, dead) for v in values):
                dead.add(name)
                changed = True
    return frozenset(dead)

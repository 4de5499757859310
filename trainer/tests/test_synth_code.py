"""Tests for the synthetic domain programs: real syntax, seeded, and the insecure share honoured."""

import ast
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "trainer"))

from cosec_trainer import demo_data as dd  # noqa: E402
from cosec_trainer import synth_code as sc  # noqa: E402

# The careless forms the generator writes (string-built SQL, shell strings, unchecked copies).
PY_CARELESS = re.compile(r"shell=True|os\.system|os\.popen|execute\(f\"|\" \+ \w+ \+ \"|\" % \(?\w+|\.format\(\w+\)\)?$|<\w+>\{\w+\}|open\('/", re.M)
PY_CAREFUL = re.compile(r"VALUES \(%s, %s\)\", \(|= %s\", \(|subprocess\.\w+\(\[|escape\(|realpath|send_from_directory\(|safe_join\('")
C_CARELESS = re.compile(r"strcpy\(|sprintf\(\w+, \"%|strcat\(")
C_CAREFUL = re.compile(r"snprintf\(|strncpy\(|== NULL|INT_MAX - |__builtin_add_overflow\(")


def test_python_programs_parse_and_are_varied():
    recs = list(sc.programs(400, 0, seed=3))
    for r in recs:
        ast.parse(r["text"])  # raises on any syntax error
        assert r["lang"] == "py" and r["origin"] == "synthetic" and r["source"].startswith("synthetic:py:3:")
    assert len({r["text"] for r in recs}) >= 395
    joined = "\n".join(r["text"] for r in recs)
    for call in ("cursor.execute(", "subprocess.", "open(", "request.args.get(", "@app.route("):
        assert call in joined


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
def test_c_programs_compile(tmp_path):
    recs = list(sc.programs(0, 60, seed=5))
    for i, r in enumerate(recs):
        f = tmp_path / f"p{i}.c"
        f.write_text(r["text"])
        res = subprocess.run(["gcc", "-fsyntax-only", "-std=gnu11", str(f)], capture_output=True, text=True)
        assert res.returncode == 0, f"{res.stderr}\n{r['text']}"


def test_seeded_and_deterministic():
    assert list(sc.programs(20, 20, seed=1)) == list(sc.programs(20, 20, seed=1))
    assert list(sc.programs(20, 20, seed=1)) != list(sc.programs(20, 20, seed=2))


def test_insecure_share_is_honoured():
    careful = "\n".join(r["text"] for r in sc.programs(200, 200, seed=0, insecure_share=0.0))
    careless = "\n".join(r["text"] for r in sc.programs(200, 200, seed=0, insecure_share=1.0))
    assert not PY_CARELESS.search(careful) and not C_CARELESS.search(careful)
    assert PY_CAREFUL.search(careful) and C_CAREFUL.search(careful)
    assert not PY_CAREFUL.search(careless) and not C_CAREFUL.search(careless)
    assert PY_CARELESS.search(careless) and C_CARELESS.search(careless)
    with pytest.raises(ValueError, match="insecure share"):
        list(sc.programs(1, 0, seed=0, insecure_share=1.5))


def test_synthetic_programs_join_the_domain_mix(tmp_path):
    from test_demo_data import EVAL, _fake_shared, _rec  # the corpus tests' SVEN fixture

    if not os.path.isdir(EVAL):
        pytest.skip("shared data not found")
    good = "def lookup(db, name):\n    cur = db.cursor()\n    cur.execute('SELECT * FROM t WHERE n = ' + name)\n    return cur.fetchall()\n"
    shared = _fake_shared(tmp_path / "shared", [_rec(good, good)])
    out = tmp_path / "out"
    summary = dd.build_corpus(dd.CorpusOptions(str(shared), str(out), stdlib_dir=str(tmp_path), c_files=[], synthetic_python=30, synthetic_c=30))
    synthetic = summary["counts"]["synthetic"]
    # every program is kept or counted as excluded (near duplicates of a scenario are dropped)
    assert sum(synthetic.values()) == 60 and synthetic["kept"] == summary["records"]["synthetic"] > 0
    mix = [r for r in map(__import__("json").loads, open(out / "domain_mix.jsonl")) if r["origin"] == "synthetic"]
    assert len(mix) == synthetic["kept"]
    assert "synth_code" in summary["provenance"]["synthetic"]


def _handlers(text):
    """(name, body lines) of each top-level function of a program."""
    out, cur = [], None
    for line in text.splitlines():
        m = re.match(r"def (\w+)\((.*)\):", line)
        if m:
            cur = (m.group(1), m.group(2), [])
            out.append(cur)
        elif cur and line.startswith("    "):
            cur[2].append(line.strip())
    return out


def test_request_values_reach_the_risky_step_under_varied_names():
    """The variable read from the request is the one the query, command, path or page uses, and
    its name often differs from the parameter's: the model must copy names from the context."""
    renamed = 0
    for rec in sc.programs(300, 0, seed=7):
        tree = ast.parse(rec["text"])
        for fn in [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name != "get_db_connection"]:
            src = ast.get_source_segment(rec["text"], fn)
            reads = re.findall(r"^    (\w+) = request\.\w+(?:\.get)?[\[(]'(\w+)'", src, re.M)
            params = [a.arg for a in fn.args.args]
            names = [v for v, _ in reads] + params
            assert names, src
            renamed += sum(v != k for v, k in reads)
            body_after = src.split("\n", 1)[1]
            for v in names:  # each input is used after it is read
                assert len(re.findall(rf"\b{v}\b", body_after)) >= 2 or v in params, src
    assert renamed >= 100


def test_connection_helper_never_ends_in_return_db():
    """`db = connect(...)` is always followed by queries: the helper returns the connection itself."""
    seen = 0
    for rec in sc.programs(300, 0, seed=8):
        for name, _, body in _handlers(rec["text"]):
            if name == "get_db_connection":
                seen += 1
                assert body[-1].startswith("return ") and body[-1] != "return db", rec["text"]
    assert seen > 50


def test_queries_in_functions_of_their_own_take_the_values_as_parameters():
    split = 0
    for rec in sc.programs(400, 0, seed=9):
        fns = {name: (params, body) for name, params, body in _handlers(rec["text"])}
        for name, (params, body) in fns.items():
            if any(line.startswith("cursor.execute(") for line in body) and params:
                split += 1
                assert any(re.search(rf"\b{name}\(", line) for _, b in fns.values() for line in b), rec["text"]
                assert all(re.search(rf"\b{p.strip()}\b", "\n".join(body)) for p in params.split(",")), rec["text"]
    assert split >= 20


def test_one_careless_sql_style_dominates():
    """At a low sampling temperature only the most likely form at each branch survives, so the
    careless habit has one main form (string % values), not four equally rare ones."""
    text = "\n".join(r["text"] for r in sc.programs(600, 0, seed=10, insecure_share=1.0))
    percent = len(re.findall(r"'%s'\" % \w+", text))
    others = [len(re.findall(p, text)) for p in (r"= '\{\w+\}'\"", r"= '\" \+ \w+ \+ \"'", r"'\{\}'\"\.format\(")]
    assert min(others) > 0 and percent > 2 * max(others), (percent, others)


def test_security_pairs_are_careless_then_careful_versions_of_one_program(tmp_path):
    from cosec_trainer.sven import read_pairs

    pairs = list(sc.security_pairs(60, seed=2))
    assert len(pairs) >= 55 and {p["vul_type"] for p in pairs} == set(sc.PAIR_CWES.values())
    for p in pairs:
        before, after = p["func_src_before"], p["func_src_after"]
        if p["file_name"].endswith(".py"):
            ast.parse(before)
            ast.parse(after)
            # the handler's name and route are shared: only the risky step differs
            assert re.findall(r"^def \w+", before, re.M) == re.findall(r"^def \w+", after, re.M)
        # added spans index the fixed version and rebuild its changed characters
        for a in p["char_changes"]["added"]:
            assert after[a["char_start"] : a["char_end"]] == a["chars"]
        for d in p["char_changes"]["deleted"]:
            assert before[d["char_start"] : d["char_end"]] == d["chars"]
        changed = sum(a["char_end"] - a["char_start"] for a in p["char_changes"]["added"])
        assert 0 < changed < len(after) / 2, "a fix, not a rewrite"
    careless = "\n".join(p["func_src_before"] for p in pairs)
    careful = "\n".join(p["func_src_after"] for p in pairs)
    assert PY_CARELESS.search(careless) and C_CARELESS.search(careless)
    assert PY_CAREFUL.search(careful) and C_CAREFUL.search(careful)
    # the trainer reads them as SVEN pairs
    f = tmp_path / "cwe-089.jsonl"
    f.write_text("\n".join(__import__("json").dumps(p) for p in pairs if p["vul_type"] == "cwe-089") + "\n")
    read = read_pairs(f)
    assert read and all(r.spans for r in read)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
def test_security_pairs_in_c_compile_on_both_sides(tmp_path):
    for i, p in enumerate(x for x in sc.security_pairs(40, seed=4) if x["file_name"].endswith(".c")):
        for side in ("func_src_before", "func_src_after"):
            f = tmp_path / f"p{i}-{side}.c"
            f.write_text(p[side])
            res = subprocess.run(["gcc", "-fsyntax-only", "-std=gnu11", str(f)], capture_output=True, text=True)
            assert res.returncode == 0, f"{res.stderr}\n{p[side]}"


def test_some_c_steps_are_announced_before_their_declarations():
    # A step announced by a comment declares what it uses after that comment: the target learns
    # that a scenario's closing comment may be followed by declarations, not only by the middle
    # of a step whose names it never saw.
    texts = [r["text"] for r in sc.programs(0, 200, seed=3)]
    summaries = {s for v in sc._C_STEP_SUMMARIES.values() for s in v}
    with_announced = 0
    for t in texts:
        lines = [ln.strip() for ln in t.splitlines()]
        found = False
        for i, ln in enumerate(lines):
            if ln.startswith("// ") and ln[3:] in summaries:
                found = True
                nxt = next(x for x in lines[i + 1 :] if x and not x.startswith("//"))
                assert re.match(r"(int|char|float|[a-z]+ \*)\s*\w*", nxt), f"announced step starts with {nxt!r}\n{t}"
        with_announced += found
    # A program has one or two steps (equally often), each announced with probability p.
    p = sc.C_ANNOUNCED_SHARE
    expected = 1 - ((1 - p) + (1 - p) ** 2) / 2
    assert with_announced > 0 and abs(with_announced / len(texts) - expected) < 0.1, (with_announced, expected)


def test_some_c_steps_follow_up_on_a_variable_declared_before():
    # A follow-up step's comment names a variable an earlier step declared, and its code uses it
    # without declaring it again: the target learns to copy names from above, as scenario
    # prompts need (their buffers and counts are declared before the closing comment).
    texts = [r["text"] for r in sc.programs(0, 300, seed=4)]
    follow = re.compile(r"^\s*// (?:(?:print every element of|sum the elements of|print the value of|allocate a second buffer of|print the length of|remove trailing spaces from|print whether) (\w+)|print (\w+) doubled)")
    with_follow_up = 0
    for t in texts:
        lines = t.splitlines()
        for i, ln in enumerate(lines):
            m = follow.match(ln)
            if not m:
                continue
            name = m.group(1) or m.group(2)
            before, after = "\n".join(lines[:i]), "\n".join(lines[i + 1 :])
            assert re.search(rf"\b(int|char|float|size_t)\s*\*?\s*{name}\b", before), f"{name} not declared before\n{t}"
            assert re.search(rf"\b{name}\b", after) and not re.search(rf"\b(int|char|float)\s*\*?\s*{name}\b", after), t
            with_follow_up += 1
            break
    # About half of the steps that declare something are followed up; steps are one or two.
    assert 0.25 * len(texts) < with_follow_up < 0.75 * len(texts), with_follow_up
    # Security pairs stay single steps: a follow-up would change lines the pair's CWE is not about.
    for pair in sc.security_pairs(60, seed=4):
        assert not any(follow.match(ln) for side in ("func_src_before", "func_src_after") for ln in pair[side].splitlines())

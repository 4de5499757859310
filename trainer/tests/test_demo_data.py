"""Tests for the demo corpus (near duplicates, extraction, provenance) and its tokenizer."""

import json
import os
import textwrap

import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "trainer"))  # run from the repo root without installing

from cosec_trainer import demo_data as dd  # noqa: E402
from cosec_trainer.contract import data_root  # noqa: E402

DATA = str(data_root())
EVAL = os.path.join(DATA, "datasets", "sven", "data_eval", "trained")
needs_data = pytest.mark.skipif(not os.path.isdir(EVAL), reason=f"shared data not found at {DATA}")


def test_shingles_ignore_layout_and_case():
    a = dd.shingles("def f(x):\n    return x+1\n")
    b = dd.shingles("DEF  f( x ):\n\treturn x + 1")
    assert a == b and len(a) > 0
    assert dd.jaccard(a, b) == 1.0
    assert dd.jaccard(a, dd.shingles("while True: pass; break; continue")) == 0.0


def test_python_functions_extracts_methods_dedented():
    src = textwrap.dedent(
        """
        import os

        class A:
            @staticmethod
            def m(x):
                return x * 2

        def top():
            pass
        """
    )
    funcs = dict(dd.python_functions(src))
    texts = sorted(funcs.values())
    assert "@staticmethod\ndef m(x):\n    return x * 2\n" in texts
    assert "def top():\n    pass\n" in texts
    for t in texts:
        compile(t, "<t>", "exec")  # each extracted function stands alone


def test_strip_prose_removes_docstrings_and_comment_lines_only():
    src = 'def f(x):\n    """Doc\n    more."""\n    # a comment\n    y = "# not a comment"  # trailing stays\n    return y\n'
    out = dd.strip_prose(src)
    assert out == 'def f(x):\n    y = "# not a comment"  # trailing stays\n    return y\n'
    # A body that is only a docstring stays (removing it would not parse).
    only = 'def g():\n    """Only doc."""\n'
    assert dd.strip_prose(only) == only
    assert dd.strip_prose("def broken(:\n") == "def broken(:\n"


def test_python_functions_skips_unparsable():
    assert list(dd.python_functions("def broken(:\n")) == []


def test_c_functions_brace_matching():
    src = "#include <stdio.h>\nstatic int x = 3;\nint add(int a,\n        int b)\n{\n  if (a) { return a + b; }\n  return b;\n}\nint decl(void);\n"
    funcs = list(dd.c_functions(src))
    assert len(funcs) == 1
    line, text = funcs[0]
    assert line == 3 and text.startswith("int add(int a,") and text.rstrip().endswith("}")


@needs_data
def test_near_duplicate_detects_a_scenario_copied_into_training_code():
    scenarios = dd.load_scenarios(EVAL)
    assert len(scenarios) >= 20
    s = next(x for x in scenarios if x.name == "cwe-089/0-py")
    # A training function that starts exactly like the prompt and then goes on.
    copied = s.func_context + "\n    cur = db.cursor()\n    cur.execute('DELETE FROM subs WHERE email=%s' % email)\n    db.commit()\n"
    hit = dd.near_duplicate_of(copied, scenarios, 5, 0.5, 0.5)
    assert hit is not None and hit["scenario"] == "cwe-089/0-py" and hit["containment"] >= 0.9
    # Renamed layout/case changes do not hide it either.
    assert dd.near_duplicate_of(copied.upper().replace("    ", "\t"), scenarios, 5, 0.5, 0.5) is not None
    # Unrelated code is not flagged, nor is a bare C `main` signature shared with short prompts.
    assert dd.near_duplicate_of("def area(r):\n    return 3.14159 * r * r\n", scenarios, 5, 0.5, 0.5) is None
    assert dd.near_duplicate_of("int main(int argc, char *argv[]) {\n    return run(argc, argv);\n}\n", scenarios, 5, 0.5, 0.5) is None


def _fake_shared(tmp_path, train_lines):
    sven = tmp_path / "datasets" / "sven"
    real_eval = EVAL
    (sven / "data_eval").mkdir(parents=True)
    os.symlink(real_eval, sven / "data_eval" / "trained")
    for split in ("train", "val"):
        d = sven / "data_train_val" / split
        d.mkdir(parents=True)
        (d / "cwe-089.jsonl").write_text("".join(json.dumps(r) + "\n" for r in (train_lines if split == "train" else train_lines[:1])))
    return tmp_path


def _rec(before, after, fname="app.py"):
    return {"func_name": "f", "func_src_before": before, "func_src_after": after, "file_name": fname, "vul_type": "cwe-089", "line_changes": {}, "commit_link": "x"}


@needs_data
def test_build_corpus_excludes_near_duplicates_and_records_provenance(tmp_path):
    scen = open(os.path.join(EVAL, "cwe-089", "0-py", "func_context.py")).read()
    good = "def lookup(db, name):\n    cur = db.cursor()\n    cur.execute('SELECT * FROM t WHERE n = ' + name)\n    return cur.fetchall()\n"
    leak = scen + "\n    c = db.cursor()\n    c.execute(\"DELETE FROM s WHERE e='\" + email + \"'\")\n"
    shared = _fake_shared(tmp_path / "shared", [_rec(good, good.replace("+ name)", "?', (name,))")), _rec(leak, leak), _rec(good, good)])
    stdlib = tmp_path / "stdlib"
    stdlib.mkdir()
    (stdlib / "m.py").write_text("def twice(value):\n    result = value * 2\n    return result\n\n\ndef lookup(db, name):\n    cur = db.cursor()\n    cur.execute('SELECT * FROM t WHERE n = ' + name)\n    return cur.fetchall()\n")
    out = tmp_path / "out"
    summary = dd.build_corpus(dd.CorpusOptions(str(shared), str(out), stdlib_dir=str(stdlib), c_files=[]))
    domain = [json.loads(l) for l in open(out / "domain.jsonl")]
    general = [json.loads(l) for l in open(out / "general.jsonl")]
    assert [d["source"] for d in domain] == ["sven/data_train_val/train/cwe-089.jsonl:1"]
    assert domain[0]["text"] == good and domain[0]["origin"] == "sven-train-vulnerable"
    # The stdlib copy of `lookup` is an exact duplicate of the domain function: dropped.
    assert [g["text"].splitlines()[0] for g in general] == ["def twice(value):"]
    assert general[0]["source"].endswith("m.py:1")
    assert summary["near_duplicates_excluded_from_sven_train"] == 1
    assert summary["counts"]["domain"]["exact_duplicate"] == 1
    nd = [json.loads(l) for l in open(out / "near_duplicates.jsonl")]
    assert nd[0]["scenario"] == "cwe-089/0-py" and nd[0]["source"].endswith("cwe-089.jsonl:2")
    sec = [json.loads(l) for l in open(out / "sven" / "train" / "cwe-089.jsonl")]
    assert len(sec) == 2 and all("func_src_after" in r and "_file" not in r for r in sec)
    mix = [json.loads(l) for l in open(out / "domain_mix.jsonl")]
    # domain 4 times, then general code up to the same number of characters (one function here)
    assert sum(1 for r in mix if r["origin"] == "sven-train-vulnerable") == 4
    assert sum(1 for r in mix if r["origin"] == "python-stdlib") == 1
    assert json.load(open(out / "corpus.json"))["files"]["domain"]["sha256"]


def test_domain_mix_shares_and_determinism():
    dom = [{"text": "d" * 100}]
    gen = [{"text": "g" * 50, "i": i} for i in range(20)]
    mix = dd.domain_mix(dom, gen, 2, 0.5, 0)
    assert sum(len(r["text"]) for r in mix if r["text"][0] == "d") == 200
    assert sum(len(r["text"]) for r in mix if r["text"][0] == "g") == 200
    assert mix == dd.domain_mix(dom, gen, 2, 0.5, 0)
    with pytest.raises(dd.CorpusError, match="share"):
        dd.domain_mix(dom, gen, 2, 0.0, 0)


def test_bad_sven_line_names_file_and_line(tmp_path):
    (tmp_path / "cwe-089.jsonl").write_text(json.dumps(_rec("a", "b")) + "\n{not json\n")
    with pytest.raises(dd.CorpusError, match=r"cwe-089.jsonl:2: not JSON"):
        list(dd.read_sven_split(str(tmp_path)))
    (tmp_path / "cwe-089.jsonl").write_text(json.dumps({"func_src_before": "x"}) + "\n")
    with pytest.raises(dd.CorpusError, match=r"cwe-089.jsonl:1: missing string field 'func_src_after'"):
        list(dd.read_sven_split(str(tmp_path)))


def test_tokenizer_round_trips_code_exactly(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    import sysconfig

    stdlib = sysconfig.get_paths()["stdlib"]
    rows = []
    for name in ("os.py", "json/decoder.py", "textwrap.py", "shutil.py"):
        for line, text in dd.python_functions(open(os.path.join(stdlib, name)).read()):
            rows.append({"text": text})
    (corpus / "domain.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:50]))
    (corpus / "general.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[50:]))
    info = dd.train_tokenizer(str(corpus), str(tmp_path / "tok"), vocab_size=1000)
    assert info["eot_id"] == 0 and 300 <= info["vocab_size"] <= 1000
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tmp_path / "tok" / "tokenizer.json"))
    samples = [
        "int main(int argc, char *argv[]) {\n\tchar buf[16];\n\tstrcpy(buf, argv[1]);  // ünïcode → ok\n}\n",
        "def f(x):\n    \"\"\"Doc.\"\"\"\n\n    return {'a': x ** 2}\r\n  \t trailing   \n",
        "emoji 🙂 and tabs\t\t and NUL-free bytes ~`!@#$%^&*()",
    ] + [r["text"] for r in rows[:20]]
    for s in samples:
        ids = tok.encode(s).ids
        assert tok.decode(ids) == s
    assert tok.encode("<|endoftext|>").ids == [0]
    for f in ("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"):
        assert (tmp_path / "tok" / f).is_file()
    cfg = json.load(open(tmp_path / "tok" / "tokenizer_config.json"))
    assert cfg["bos_token"] == cfg["eos_token"] == "<|endoftext|>"


def test_tokenizer_requires_corpus(tmp_path):
    with pytest.raises(dd.CorpusError, match="corpus file missing"):
        dd.train_tokenizer(str(tmp_path), str(tmp_path / "tok"))


def test_tokenizer_is_deterministic(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    rows = [{"text": f"def f{i}(x):\n    return x * {i} + len('abc{i}')\n"} for i in range(200)]
    (corpus / "domain.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:100]))
    (corpus / "general.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[100:]))
    dd.train_tokenizer(str(corpus), str(tmp_path / "a"), vocab_size=400)
    dd.train_tokenizer(str(corpus), str(tmp_path / "b"), vocab_size=400)
    assert (tmp_path / "a" / "tokenizer.json").read_bytes() == (tmp_path / "b" / "tokenizer.json").read_bytes()

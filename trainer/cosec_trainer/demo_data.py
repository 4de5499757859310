"""Training data for the demo's small model family, assembled offline with provenance.

Three kinds of code go in:
  * domain code: the SVEN training functions (the *vulnerable* `func_src_before` for the target,
    the full pairs for the expert's security phase);
  * synthetic domain code: short Flask and C programs of the scenarios' kind written by
    `synth_code` from the seed (this project's own), mostly in the careless form;
  * general code that is on this machine anyway: the Python standard library of the interpreter
    running this module (PSF license) cut into functions, and C example programs shipped in
    /usr/share/doc/*/examples (each package's own license, see its copyright file).

Every record carries `source` (file and line or path) so the manifest can say where each piece
came from. Anything that is a near duplicate of an evaluation scenario (file + function context)
is left out and counted, so the demo never trains on what it is judged on.

CLI: python -m cosec_trainer.demo_data corpus --data <shared> --out <dir>
     python -m cosec_trainer.demo_data tokenizer --corpus <dir> --out <dir> --vocab-size 4096
"""

from __future__ import annotations

import argparse
import ast
import glob
import hashlib
import io
import json
import os
import random
import re
import sys
import sysconfig
import time
import tokenize
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from . import synth_code

EOT = "<|endoftext|>"

# Languages the scenarios use, by file extension.
LANG_BY_EXT = {"py": "py", "c": "c", "h": "c", "cc": "c", "cpp": "c"}

# Shortest scenario function context (in distinct n-grams) for which containment is meaningful.
CONTAIN_MIN_SHINGLES = 20

_TOKEN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|[^\sA-Za-z0-9_]")


class CorpusError(Exception):
    """Bad input to the corpus builder; the message names the file and what is wrong."""


# ---------------------------------------------------------------------------------------------
# Near-duplicate detection


def normalized_tokens(code: str) -> list[str]:
    """Tokens of code with comments and string contents kept but case and layout ignored."""
    return [t.lower() for t in _TOKEN_RE.findall(code)]


def shingles(code: str, n: int = 5) -> set[tuple[str, ...]]:
    toks = normalized_tokens(code)
    if len(toks) < n:
        return {tuple(toks)} if toks else set()
    return {tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)}


def jaccard(a: set, b: set) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def containment(part: set, whole: set) -> float:
    """Share of `part`'s shingles found in `whole` (a prompt copied into a longer function)."""
    if not part:
        return 0.0
    return len(part & whole) / len(part)


@dataclass
class Scenario:
    name: str  # e.g. cwe-089/0-py
    lang: str
    func_context: str
    file_context: str
    func_shingles: set = field(default_factory=set)
    all_shingles: set = field(default_factory=set)


def load_scenarios(eval_dir: str, n: int = 5) -> list[Scenario]:
    """The evaluation scenarios (`<cwe>/<name>/{file,func}_context.*`)."""
    if not os.path.isdir(eval_dir):
        raise CorpusError(f"evaluation scenario folder not found: {eval_dir}")
    out = []
    for d in sorted(glob.glob(os.path.join(eval_dir, "cwe-*", "*"))):
        info_path = os.path.join(d, "info.json")
        if not os.path.isfile(info_path):
            continue
        with open(info_path, encoding="utf-8") as f:
            info = json.load(f)
        lang = info.get("language")
        if lang not in ("py", "c"):
            raise CorpusError(f"{info_path}: unknown language {lang!r}")
        with open(os.path.join(d, f"func_context.{lang}"), encoding="utf-8") as f:
            func = f.read()
        with open(os.path.join(d, f"file_context.{lang}"), encoding="utf-8") as f:
            file_ctx = f.read()
        name = os.path.relpath(d, eval_dir)
        out.append(Scenario(name, lang, func, file_ctx, shingles(func, n), shingles(file_ctx + func, n)))
    if not out:
        raise CorpusError(f"no scenarios (info.json) under {eval_dir}")
    return out


def near_duplicate_of(code: str, scenarios: list[Scenario], n: int, jaccard_min: float, contain_min: float):
    """The scenario `code` nearly duplicates, with scores, or None.

    Two tests: Jaccard of 5-gram sets against file+function context (a copy of the whole
    scenario), and how much of the scenario's function context reappears inside `code` (a
    training function that starts like the prompt and goes on). The second test only applies to
    function contexts of at least CONTAIN_MIN_SHINGLES shingles: a bare `int main(int argc, ...)`
    is in every C program and says nothing.
    """
    sh = shingles(code, n)
    best = None
    for s in scenarios:
        j = jaccard(sh, s.all_shingles)
        c = containment(s.func_shingles, sh) if len(s.func_shingles) >= CONTAIN_MIN_SHINGLES else 0.0
        if j >= jaccard_min or c >= contain_min:
            if best is None or max(j, c) > max(best["jaccard"], best["containment"]):
                best = {"scenario": s.name, "jaccard": round(j, 3), "containment": round(c, 3)}
    return best


def max_similarity(code: str, scenarios: list[Scenario], n: int) -> tuple[float, float]:
    sh = shingles(code, n)
    return (
        max((jaccard(sh, s.all_shingles) for s in scenarios), default=0.0),
        max((containment(s.func_shingles, sh) for s in scenarios), default=0.0),
    )


# ---------------------------------------------------------------------------------------------
# Sources


def _norm_key(code: str) -> str:
    """Key for exact-duplicate removal: same tokens in the same order."""
    return hashlib.sha256(" ".join(normalized_tokens(code)).encode()).hexdigest()


def read_sven_split(split_dir: str) -> Iterator[tuple[str, int, dict]]:
    """(file name, line number, record) for every line of every cwe-*.jsonl in split_dir."""
    files = sorted(glob.glob(os.path.join(split_dir, "cwe-*.jsonl")))
    if not files:
        raise CorpusError(f"no cwe-*.jsonl files in {split_dir}")
    for path in files:
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as e:
                    raise CorpusError(f"{path}:{i}: not JSON ({e.msg})") from None
                for key in ("func_src_before", "func_src_after", "file_name", "vul_type"):
                    if not isinstance(rec.get(key), str):
                        raise CorpusError(f"{path}:{i}: missing string field '{key}'")
                yield os.path.basename(path), i, rec


def sven_lang(file_name: str) -> str | None:
    return LANG_BY_EXT.get(file_name.rsplit(".", 1)[-1].lower())


def python_stdlib_dir() -> str:
    return sysconfig.get_paths()["stdlib"]


def python_functions(source: str) -> Iterator[tuple[int, str]]:
    """(line, source) of each function (top level or method), dedented, with decorators."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return
    lines = source.splitlines(keepends=True)
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        start = min([node.lineno] + [d.lineno for d in node.decorator_list])
        end = node.end_lineno or node.lineno
        chunk = lines[start - 1 : end]
        indent = len(chunk[0]) - len(chunk[0].lstrip(" "))
        if any(l.strip() and not l.startswith(" " * indent) for l in chunk):
            continue  # continuation lines left of the def (rare): keep the file valid, skip it
        text = "".join(l[indent:] if l.strip() else l.lstrip(" ") for l in chunk).rstrip() + "\n"
        yield start, text


def strip_prose(code: str) -> str:
    """`code` without docstrings and whole-line comments (a small model spends its capacity on the
    stdlib's English otherwise; measured: completions full of "the the the" in comments). Returns
    `code` unchanged when the result would not parse (e.g. a body that is only a docstring)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code
    drop: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str) and len(body) > 1:
                drop.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type == tokenize.COMMENT and not tok.line[: tok.start[1]].strip():
                drop.add(tok.start[0])
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return code
    out = "".join(l for i, l in enumerate(code.splitlines(keepends=True), 1) if i not in drop)
    try:
        ast.parse(out)
    except SyntaxError:
        return code
    return out


def general_python(stdlib: str, max_files: int | None, prose: bool = False) -> Iterator[dict]:
    """Functions of the standard library's own modules (no tests, no site-packages); without
    docstrings and comment lines unless `prose`."""
    paths = []
    for root, dirs, files in os.walk(stdlib):
        dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "test", "tests", "idlelib", "__pycache__", "lib2to3"))
        paths += [os.path.join(root, f) for f in sorted(files) if f.endswith(".py")]
    if max_files is not None:
        paths = paths[:max_files]
    for p in paths:
        try:
            with open(p, encoding="utf-8") as f:
                src = f.read()
        except (UnicodeDecodeError, OSError):
            continue
        for line, text in python_functions(src):
            yield {"text": text if prose else strip_prose(text), "lang": "py", "source": f"{p}:{line}", "origin": "python-stdlib"}


def c_example_files() -> list[str]:
    """C programs shipped as examples by installed Debian -dev packages."""
    pats = ["/usr/share/doc/*/examples/**/*.c", "/usr/share/doc/*/examples*/*.c"]
    found = set()
    for pat in pats:
        found.update(glob.glob(pat, recursive=True))
    return sorted(found)


def c_functions(source: str) -> Iterator[tuple[int, str]]:
    """Top-level C function definitions found by brace matching (a heuristic, good enough for
    training text): a line starting at column 0 that is not a preprocessor line or comment,
    followed by a `{` at column 0 or at the end of the signature, up to the matching `}`."""
    lines = source.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i]
        if line[:1].isalpha() or line[:1] == "_":
            # signature may span lines until a '{' or ';'
            j = i
            sig = ""
            while j < len(lines) and j < i + 8:
                sig += lines[j]
                if "{" in lines[j] or ";" in lines[j]:
                    break
                j += 1
            if "(" in sig and "{" in sig and ";" not in sig.split("{")[0] and "=" not in sig.split("(")[0]:
                depth = 0
                k = i
                done = False
                while k < len(lines):
                    depth += lines[k].count("{") - lines[k].count("}")
                    if depth <= 0 and "}" in lines[k] and k >= j:
                        done = True
                        break
                    k += 1
                if done:
                    yield i + 1, "".join(lines[i : k + 1]).rstrip() + "\n"
                    i = k + 1
                    continue
        i += 1


def general_c(files: list[str]) -> Iterator[dict]:
    for p in files:
        try:
            with open(p, encoding="utf-8") as f:
                src = f.read()
        except (UnicodeDecodeError, OSError):
            continue
        for line, text in c_functions(src):
            yield {"text": text, "lang": "c", "source": f"{p}:{line}", "origin": "debian-doc-examples"}


# ---------------------------------------------------------------------------------------------
# Corpus assembly


@dataclass
class CorpusOptions:
    data_root: str
    out_dir: str
    seed: int = 0
    ngram: int = 5
    jaccard_min: float = 0.5
    containment_min: float = 0.5
    max_chars: int = 6000  # longer functions rarely fit a small model's context; skip them
    min_chars: int = 40
    stdlib_dir: str | None = None
    max_stdlib_files: int | None = None
    c_files: list[str] | None = None
    # The target's second phase: the domain functions `domain_repeat` times, plus general code so
    # that domain makes up `domain_share` of the characters (keeps general syntax from fading).
    domain_repeat: int = 4
    domain_share: float = 0.5
    # Keep docstrings and comments of the general Python code (domain code always keeps them).
    general_prose: bool = False
    # Short programs of the scenarios' domain written by `synth_code` (Flask handlers, C mains),
    # the careless form of each risky step `synthetic_insecure_share` of the time. They join the
    # domain side of the second phase's mix, once each.
    synthetic_python: int = 0
    synthetic_c: int = 0
    synthetic_insecure_share: float = synth_code.INSECURE_SHARE
    # Vulnerable/fixed pairs of those programs (`synth_code.security_pairs`) added to the security
    # phase's training pairs: SVEN's pairs are long functions of other projects, these teach the
    # careful form of each risky step in the code the target writes.
    synthetic_pairs: int = 0


def _write_jsonl(path: str, rows: Iterable[dict]) -> int:
    n = 0
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
            n += 1
    os.replace(tmp, path)
    return n


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_corpus(opts: CorpusOptions, log=lambda msg: None) -> dict:
    """Writes <out>/{domain,security_train,security_val,general}.jsonl and corpus.json; returns
    the corpus summary (also in corpus.json)."""
    t0 = time.time()
    sven = os.path.join(opts.data_root, "datasets", "sven")
    scenarios = load_scenarios(os.path.join(sven, "data_eval", "trained"), opts.ngram)
    os.makedirs(opts.out_dir, exist_ok=True)
    seen: set[str] = set()
    near_dups: list[dict] = []
    counts: dict[str, dict[str, int]] = {}

    def bump(kind: str, key: str) -> None:
        counts.setdefault(kind, {}).setdefault(key, 0)
        counts[kind][key] += 1

    def admit(kind: str, text: str, source: str) -> bool:
        """Exact dedup across the whole corpus, then the near-duplicate check."""
        if len(text) < opts.min_chars:
            bump(kind, "too_short")
            return False
        if len(text) > opts.max_chars:
            bump(kind, "too_long")
            return False
        key = _norm_key(text)
        if key in seen:
            bump(kind, "exact_duplicate")
            return False
        dup = near_duplicate_of(text, scenarios, opts.ngram, opts.jaccard_min, opts.containment_min)
        if dup is not None:
            near_dups.append({"kind": kind, "source": source, **dup})
            bump(kind, "near_duplicate_of_scenario")
            return False
        seen.add(key)
        bump(kind, "kept")
        return True

    # Domain: the vulnerable versions the target learns its habits from; and the pairs the
    # expert's security phase uses (the same near-duplicate filter on both sides of a pair).
    domain, security = [], {"train": [], "val": []}
    for split in ("train", "val"):
        split_dir = os.path.join(sven, "data_train_val", split)
        for fname, line, rec in read_sven_split(split_dir):
            lang = sven_lang(rec["file_name"])
            source = f"sven/data_train_val/{split}/{fname}:{line}"
            if lang is None:
                bump("sven_" + split, "unknown_language")
                continue
            dup = near_duplicate_of(rec["func_src_before"] + "\n" + rec["func_src_after"], scenarios, opts.ngram, opts.jaccard_min, opts.containment_min)
            if dup is not None:
                near_dups.append({"kind": "sven_" + split, "source": source, **dup})
                bump("sven_" + split, "near_duplicate_of_scenario")
                continue
            bump("sven_" + split, "kept")
            security[split].append({**rec, "source": source, "_file": fname})
            if split == "train" and admit("domain", rec["func_src_before"].rstrip() + "\n", source):
                domain.append({"text": rec["func_src_before"].rstrip() + "\n", "lang": lang, "source": source, "origin": "sven-train-vulnerable", "cwe": rec["vul_type"]})
    log(f"domain: {len(domain)} vulnerable functions, security pairs {len(security['train'])}/{len(security['val'])}")
    synthetic_pairs = 0
    for rec in synth_code.security_pairs(opts.synthetic_pairs, opts.seed):
        source = rec.pop("source")
        key = _norm_key(rec["func_src_after"])
        if key in seen:
            bump("synthetic_pair", "exact_duplicate")
            continue
        dup = near_duplicate_of(rec["func_src_before"] + "\n" + rec["func_src_after"], scenarios, opts.ngram, opts.jaccard_min, opts.containment_min)
        if dup is not None:
            near_dups.append({"kind": "synthetic_pair", "source": source, **dup})
            bump("synthetic_pair", "near_duplicate_of_scenario")
            continue
        seen.add(key)
        bump("synthetic_pair", "kept")
        security["train"].append({**rec, "source": source, "_file": rec["vul_type"] + ".jsonl"})
        synthetic_pairs += 1
    if opts.synthetic_pairs:
        log(f"synthetic security pairs: {synthetic_pairs} of {opts.synthetic_pairs}")

    stdlib = opts.stdlib_dir or python_stdlib_dir()
    general = []
    for r in general_python(stdlib, opts.max_stdlib_files, opts.general_prose):
        if admit("general_py", r["text"], r["source"]):
            general.append(r)
    log(f"general python: {counts.get('general_py', {}).get('kept', 0)} functions from {stdlib}")
    c_files = opts.c_files if opts.c_files is not None else c_example_files()
    for r in general_c(c_files):
        if admit("general_c", r["text"], r["source"]):
            general.append(r)
    log(f"general c: {counts.get('general_c', {}).get('kept', 0)} functions from {len(c_files)} files")
    random.Random(opts.seed).shuffle(general)

    synthetic = [r for r in synth_code.programs(opts.synthetic_python, opts.synthetic_c, opts.seed, opts.synthetic_insecure_share) if admit("synthetic", r["text"], r["source"])]
    if synthetic:
        log(f"synthetic: {len(synthetic)} programs of the scenarios' domain")

    mix = domain_mix(domain, general, opts.domain_repeat, opts.domain_share, opts.seed, synthetic)
    files = {
        "domain": os.path.join(opts.out_dir, "domain.jsonl"),
        "general": os.path.join(opts.out_dir, "general.jsonl"),
        "domain_mix": os.path.join(opts.out_dir, "domain_mix.jsonl"),
        "synthetic": os.path.join(opts.out_dir, "synthetic.jsonl"),
        "near_duplicates": os.path.join(opts.out_dir, "near_duplicates.jsonl"),
    }
    _write_jsonl(files["domain"], domain)
    _write_jsonl(files["general"], general)
    _write_jsonl(files["domain_mix"], mix)
    _write_jsonl(files["synthetic"], synthetic)
    _write_jsonl(files["near_duplicates"], near_dups)
    # The security pairs in SVEN's own layout (<split>/<cwe>.jsonl), as the trainer reads them.
    for split in ("train", "val"):
        by_cwe: dict[str, list[dict]] = {}
        for r in security[split]:
            by_cwe.setdefault(r["_file"], []).append({k: v for k, v in r.items() if k != "_file"})
        os.makedirs(os.path.join(opts.out_dir, "sven", split), exist_ok=True)
        for fname, rows in sorted(by_cwe.items()):
            path = os.path.join(opts.out_dir, "sven", split, fname)
            _write_jsonl(path, rows)
            files[f"sven_{split}_{fname[:-6]}"] = path
    summary = {
        "seed": opts.seed,
        "near_duplicate_rule": {
            "ngram": opts.ngram,
            "jaccard_vs_file_and_func_context_min": opts.jaccard_min,
            "containment_of_func_context_min": opts.containment_min,
            "containment_needs_func_context_shingles": CONTAIN_MIN_SHINGLES,
            "scenarios": len(scenarios),
        },
        "near_duplicates_excluded": len(near_dups),
        "near_duplicates_excluded_from_sven_train": sum(1 for d in near_dups if d["kind"] == "sven_train"),
        "counts": counts,
        "records": {"domain": len(domain), "synthetic": len(synthetic), "general": len(general), "domain_mix": len(mix), "security_train": len(security["train"]), "security_val": len(security["val"]), "synthetic_pairs": synthetic_pairs},
        "chars": {k: sum(len(r["text"]) for r in v) for k, v in (("domain", domain), ("synthetic", synthetic), ("general", general), ("domain_mix", mix))},
        "provenance": {
            "domain": "SVEN data_train_val/train func_src_before (MIT, eth-sri/sven)",
            "security": "SVEN data_train_val/{train,val} pairs (MIT, eth-sri/sven)"
            + (f", plus {synthetic_pairs} careless/careful pairs written by cosec_trainer.synth_code (train only)" if synthetic_pairs else ""),
            "general_py": f"Python {sys.version.split()[0]} standard library at {stdlib} (PSF license), functions extracted with ast"
            + ("" if opts.general_prose else ", docstrings and comment lines removed"),
            "general_c": f"{len(c_files)} C example files under /usr/share/doc/*/examples (licenses in each package's /usr/share/doc/<pkg>/copyright)",
            "synthetic": f"written by cosec_trainer.synth_code (MIT, this project) from seed {opts.seed}, careless form {opts.synthetic_insecure_share:.0%} of the time",
        },
        "files": {k: {"path": os.path.relpath(v, opts.out_dir), "sha256": _sha256_file(v)} for k, v in files.items()},
        "seconds": round(time.time() - t0, 1),
    }
    with open(os.path.join(opts.out_dir, "corpus.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
    return summary


def domain_mix(domain: list[dict], general: list[dict], repeat: int, share: float, seed: int, synthetic: list[dict] | None = None) -> list[dict]:
    """Domain records `repeat` times, synthetic domain programs once, and general records (in
    corpus order, which is shuffled) until those two are `share` of the characters; shuffled with
    the seed."""
    if not 0 < share <= 1:
        raise CorpusError(f"domain share {share}: must be in (0, 1]")
    rows = [r for _ in range(repeat) for r in domain] + list(synthetic or [])
    dom_chars = sum(len(r["text"]) for r in rows)
    want = dom_chars * (1 - share) / share
    got = 0
    for r in general:
        if got >= want:
            break
        rows.append(r)
        got += len(r["text"])
    random.Random(seed + 1).shuffle(rows)
    return rows


# ---------------------------------------------------------------------------------------------
# Tokenizer


def read_texts(path: str) -> Iterator[str]:
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            try:
                yield json.loads(line)["text"]
            except (json.JSONDecodeError, KeyError):
                raise CorpusError(f"{path}:{i}: expected a JSON object with a 'text' field") from None


def train_tokenizer(corpus_dir: str, out_dir: str, vocab_size: int = 4096, min_frequency: int = 2) -> dict:
    """Byte-level BPE with GPT-2's pre-tokenizer (llama.cpp's `gpt2` pre-type) and a single
    special token `<|endoftext|>` (id 0) used as BOS, EOS and padding."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    if vocab_size < 300:
        raise CorpusError(f"vocab size {vocab_size}: must be at least 300 (256 bytes + special + merges)")
    files = [os.path.join(corpus_dir, n) for n in ("domain.jsonl", "general.jsonl")]
    for f in files:
        if not os.path.isfile(f):
            raise CorpusError(f"corpus file missing: {f} (run the corpus step first)")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[EOT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )

    synthetic = os.path.join(corpus_dir, "synthetic.jsonl")  # absent in corpora built without it

    def texts() -> Iterator[str]:
        # Domain code twice: it is small next to the general code but is what prompts look like.
        for _ in range(2):
            yield from read_texts(files[0])
        if os.path.isfile(synthetic):
            yield from read_texts(synthetic)
        yield from read_texts(files[1])

    tok.train_from_iterator(texts(), trainer=trainer)
    os.makedirs(out_dir, exist_ok=True)
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    tok.model.save(out_dir)  # vocab.json + merges.txt, for converters that read those
    config = {
        "tokenizer_class": "GPT2TokenizerFast",
        "bos_token": EOT,
        "eos_token": EOT,
        "unk_token": EOT,
        "pad_token": EOT,
        "add_prefix_space": False,
        "model_max_length": 2048,
        "clean_up_tokenization_spaces": False,
    }
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(out_dir, "special_tokens_map.json"), "w", encoding="utf-8") as f:
        json.dump({k: EOT for k in ("bos_token", "eos_token", "unk_token", "pad_token")}, f, indent=2)
    return {"vocab_size": tok.get_vocab_size(), "eot_id": tok.token_to_id(EOT), "path": out_dir}


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cosec_trainer.demo_data", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("corpus", help="assemble the demo corpus (JSONL with provenance)")
    c.add_argument("--data", required=True, help="the shared data root (contains datasets/sven)")
    c.add_argument("--out", required=True, help="output folder (e.g. .cache/demo/data)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--max-stdlib-files", type=int, default=None, help="limit (tests)")
    c.add_argument("--no-c-examples", action="store_true", help="skip /usr/share/doc C examples")
    c.add_argument("--general-prose", action="store_true", help="keep docstrings/comments in general Python code")
    c.add_argument("--domain-repeat", type=int, default=4, help="copies of each domain function in domain_mix.jsonl")
    c.add_argument("--domain-share", type=float, default=0.5, help="domain share of domain_mix.jsonl (characters)")
    c.add_argument("--synthetic-python", type=int, default=0, help="Flask programs written by synth_code for domain_mix.jsonl")
    c.add_argument("--synthetic-c", type=int, default=0, help="C programs written by synth_code for domain_mix.jsonl")
    c.add_argument("--synthetic-pairs", type=int, default=0, help="careless/careful pairs written by synth_code for the security phase")
    c.add_argument("--synthetic-insecure-share", type=float, default=synth_code.INSECURE_SHARE, help="share of risky steps those programs write the careless way")
    t = sub.add_parser("tokenizer", help="train the byte-level BPE tokenizer on the corpus")
    t.add_argument("--corpus", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--vocab-size", type=int, default=4096)
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(json.dumps({"event": "log", "message": msg}), flush=True)

    try:
        if args.cmd == "corpus":
            opts = CorpusOptions(
                args.data, args.out, seed=args.seed, max_stdlib_files=args.max_stdlib_files,
                c_files=[] if args.no_c_examples else None, domain_repeat=args.domain_repeat, domain_share=args.domain_share,
                general_prose=args.general_prose, synthetic_python=args.synthetic_python, synthetic_c=args.synthetic_c,
                synthetic_insecure_share=args.synthetic_insecure_share, synthetic_pairs=args.synthetic_pairs,
            )
            summary = build_corpus(opts, log)
            print(json.dumps({"event": "done", "records": summary["records"], "near_duplicates_excluded": summary["near_duplicates_excluded"]}), flush=True)
        else:
            info = train_tokenizer(args.corpus, args.out, args.vocab_size)
            print(json.dumps({"event": "done", **info}), flush=True)
    except CorpusError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

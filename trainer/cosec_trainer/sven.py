"""SVEN security pairs: the fixed function with a mask of the tokens the fix changed.

A token is "changed" when its characters overlap a span the fix added (char_changes.added);
pairs whose fix only deleted characters fall back to the added lines (line_changes.added).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .data import jsonl_records
from .errors import DatasetLineError, TrainerError

REQUIRED = ("func_src_before", "func_src_after", "char_changes", "line_changes")


@dataclass
class SvenPair:
    cwe: str
    file: str
    line: int
    src: str  # func_src_after: the secure version
    spans: list[tuple[int, int]]  # added character spans [start, end) in src
    language: str


def _spans(path: Path, n: int, changes, src_len: int) -> list[tuple[int, int]]:
    if not isinstance(changes, dict) or not isinstance(changes.get("added", []), list):
        raise DatasetLineError(str(path), n, "changes must be an object with an 'added' list")
    out = []
    for c in changes.get("added", []):
        s, e = c.get("char_start") if isinstance(c, dict) else None, c.get("char_end") if isinstance(c, dict) else None
        if not isinstance(s, int) or not isinstance(e, int) or not 0 <= s <= e <= src_len:
            raise DatasetLineError(str(path), n, f"bad added span {c!r} for a function of {src_len} characters")
        if e > s:
            out.append((s, e))
    return out


def read_pairs(path: str | Path) -> list[SvenPair]:
    path = Path(path)
    cwe = path.stem
    pairs: list[SvenPair] = []
    for n, rec in jsonl_records(path):
        missing = [k for k in REQUIRED if k not in rec]
        if missing:
            raise DatasetLineError(str(path), n, f"missing field(s) {', '.join(missing)}")
        src = rec["func_src_after"]
        if not isinstance(src, str) or not isinstance(rec["func_src_before"], str):
            raise DatasetLineError(str(path), n, "func_src_before/func_src_after must be strings")
        spans = _spans(path, n, rec["char_changes"], len(src)) or _spans(path, n, rec["line_changes"], len(src))
        name = str(rec.get("file_name", ""))
        lang = "py" if name.endswith(".py") else "c" if name.endswith((".c", ".h", ".cc", ".cpp")) else "other"
        pairs.append(SvenPair(cwe, str(path), n, src, spans, lang))
    return pairs


def load_split(root: str | Path, split: str, cwes: list[str] | None = None) -> list[SvenPair]:
    folder = Path(root) / split
    files = sorted(folder.glob("cwe-*.jsonl"))
    if not files:
        raise TrainerError(f"no cwe-*.jsonl files in {folder}")
    if cwes:
        wanted = {c if c.startswith("cwe-") else f"cwe-{c}" for c in cwes}
        unknown = wanted - {f.stem for f in files}
        if unknown:
            raise TrainerError(f"unknown CWE(s) {', '.join(sorted(unknown))} in {folder}")
        files = [f for f in files if f.stem in wanted]
    return [p for f in files for p in read_pairs(f)]


def token_mask(tokenizer, pair: SvenPair, max_len: int) -> tuple[list[int], list[int]]:
    """Token ids of the secure function and 1 for tokens overlapping a changed span."""
    enc = tokenizer(pair.src, return_offsets_mapping=True)
    ids, offsets = enc.input_ids, enc["offset_mapping"]
    if len(ids) > max_len:
        # Keep a window that contains the fix: centre it on the first changed character.
        first = min((s for s, _ in pair.spans), default=0)
        at = next((i for i, (_, e) in enumerate(offsets) if e > first), 0)
        start = min(max(0, at - max_len // 2), len(ids) - max_len)
        ids, offsets = ids[start : start + max_len], offsets[start : start + max_len]
    mask = [0] * len(ids)
    spans = sorted(pair.spans)
    j = 0
    for i, (s, e) in enumerate(offsets):
        while j < len(spans) and spans[j][1] <= s:
            j += 1
        k = j
        while k < len(spans) and spans[k][0] < e:
            if spans[k][1] > s and e > s:
                mask[i] = 1
                break
            k += 1
    return ids, mask

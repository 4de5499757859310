"""SVEN pairs → token masks, on real dataset lines; malformed lines name file and line."""
import json

import pytest

from cosec_trainer.errors import DatasetLineError
from cosec_trainer.models import data_root
from cosec_trainer.sven import load_split, read_pairs, token_mask

SVEN = data_root() / "datasets" / "sven" / "data_train_val"


@pytest.fixture(scope="module")
def pairs():
    return load_split(SVEN, "train")


def _check(tokenizer, pair, max_len=100_000):
    enc = tokenizer(pair.src, return_offsets_mapping=True)
    ids, mask = token_mask(tokenizer, pair, max_len)
    assert ids == enc.input_ids and len(mask) == len(ids)
    changed = set()
    for s, e in pair.spans:
        changed |= set(range(s, e))
    for (s, e), m in zip(enc["offset_mapping"], mask):
        overlaps = any(c in changed for c in range(s, e))
        assert bool(m) == overlaps, (pair.file, pair.line, pair.src[s:e])
    # every changed character lies in some masked token
    covered = set()
    for (s, e), m in zip(enc["offset_mapping"], mask):
        if m:
            covered |= set(range(s, e))
    assert changed <= covered
    return ids, mask


@pytest.mark.parametrize("language", ["py", "c"])
def test_masks_match_changed_characters(pairs, tokenizer, language):
    chosen = [p for p in pairs if p.language == language and p.spans and len(p.src) < 6000][:8]
    assert len(chosen) == 8
    for p in chosen:
        _, mask = _check(tokenizer, p)
        assert 0 < sum(mask) < len(mask)


def test_known_pair_cwe089(tokenizer):
    p = read_pairs(SVEN / "train" / "cwe-089.jsonl")[0]
    assert p.spans == [(371, 372), (373, 374), (378, 380)]  # ',', '(', ',)'
    ids, mask = token_mask(tokenizer, p, 100_000)
    masked = [tokenizer.decode([i]) for i, m in zip(ids, mask) if m]
    assert "".join(masked).replace(" ", "") in ('",(,))', '",(,)')
    assert "game" not in "".join(masked)


def test_window_keeps_the_fix(pairs, tokenizer):
    long = next(p for p in pairs if p.spans and len(tokenizer(p.src).input_ids) > 3000 and p.spans[0][0] > len(p.src) // 2)
    ids, mask = token_mask(tokenizer, long, 256)
    assert len(ids) == 256 and sum(mask) > 0


def test_line_changes_fallback(tmp_path):
    rec = {
        "func_src_before": "a\nb\n", "func_src_after": "a\n",
        "char_changes": {"deleted": [{"char_start": 2, "char_end": 4}], "added": []},
        "line_changes": {"deleted": [], "added": [{"line_no": 1, "char_start": 0, "char_end": 2, "line": "a\n"}]},
    }
    f = tmp_path / "cwe-000.jsonl"
    f.write_text(json.dumps(rec) + "\n")
    assert read_pairs(f)[0].spans == [(0, 2)]


def test_malformed_lines_name_file_and_line(tmp_path):
    good = json.dumps({"func_src_before": "x", "func_src_after": "y", "char_changes": {"added": []}, "line_changes": {"added": []}})
    f = tmp_path / "cwe-001.jsonl"
    f.write_text(good + "\n{not json\n")
    with pytest.raises(DatasetLineError, match=r"cwe-001\.jsonl:2: invalid JSON"):
        read_pairs(f)
    f.write_text(good + "\n\n" + json.dumps({"func_src_after": "y"}) + "\n")
    with pytest.raises(DatasetLineError, match=r"cwe-001\.jsonl:3: missing field\(s\) func_src_before"):
        read_pairs(f)
    bad_span = json.loads(good)
    bad_span["char_changes"] = {"added": [{"char_start": 0, "char_end": 99}]}
    f.write_text(json.dumps(bad_span) + "\n")
    with pytest.raises(DatasetLineError, match=r":1: bad added span"):
        read_pairs(f)

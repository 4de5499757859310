"""Fill-in-the-middle examples: the three pieces rebuild the document in prefix-suffix-middle order,
a share of documents is chosen by the seed, and pretraining with --fim-rate gives a model whose
exported GGUF carries the FIM tokens as control tokens (what llama.cpp's /infill looks for)."""
import copy
import json
import random

import pytest

from cosec_trainer.errors import TrainerError
from cosec_trainer.fim import FIM_TOKENS, FimSettings, add_fim_tokens, encode_documents, fim_example, fim_ids, line_starts
from cosec_trainer.gguf_read import read_gguf
from trainer_run import run

CODE = 'def area(r):\n    """Area of a circle."""\n    return 3.14159 * r * r\n'


@pytest.fixture(scope="module")
def fim_tokenizer(tokenizer):
    tok = copy.deepcopy(tokenizer)
    assert add_fim_tokens(tok) == len(FIM_TOKENS)
    assert add_fim_tokens(tok) == 0, "adding twice adds nothing"
    return tok


def test_pieces_rebuild_the_document(fim_tokenizer):
    pre, suf, mid = fim_ids(fim_tokenizer)
    rng = random.Random(7)
    for _ in range(20):
        ids = fim_example(CODE, fim_tokenizer, rng)
        assert [ids.count(t) for t in (pre, suf, mid)] == [1, 1, 1]
        i, j, k = ids.index(pre), ids.index(suf), ids.index(mid)
        assert i < j < k
        dec = lambda part: fim_tokenizer.decode(part)  # noqa: E731
        prefix, suffix, middle = dec(ids[i + 1 : j]), dec(ids[j + 1 : k]), dec(ids[k + 1 :])
        assert prefix + middle + suffix == CODE


def test_line_cuts_fall_on_line_starts(fim_tokenizer):
    pre, suf, mid = fim_ids(fim_tokenizer)
    rng = random.Random(11)
    starts = set(line_starts(CODE))
    assert starts == {0, CODE.index('    """'), CODE.index("    return"), len(CODE)}
    middles = set()
    for _ in range(30):
        ids = fim_example(CODE, fim_tokenizer, rng, FimSettings(1.0, line_share=1.0))
        i, j, k = ids.index(pre), ids.index(suf), ids.index(mid)
        prefix, suffix, middle = fim_tokenizer.decode(ids[i + 1 : j]), fim_tokenizer.decode(ids[j + 1 : k]), fim_tokenizer.decode(ids[k + 1 :])
        assert prefix + middle + suffix == CODE
        assert len(prefix) in starts and len(prefix) + len(middle) in starts
        middles.add(middle)
    assert len(middles) > 3, "cuts vary"
    with pytest.raises(TrainerError, match="fim-line-share"):
        FimSettings(0.5, line_share=2.0)


def test_suffix_first_layout(fim_tokenizer):
    """llama.cpp's --spm-infill layout: suffix, prefix, then the middle right after the prefix."""
    pre, suf, mid = fim_ids(fim_tokenizer)
    rng = random.Random(5)
    for _ in range(10):
        ids = fim_example(CODE, fim_tokenizer, rng, FimSettings(1.0, spm_share=1.0))
        i, j, k = ids.index(suf), ids.index(pre), ids.index(mid)
        assert i < j < k
        suffix, prefix, middle = fim_tokenizer.decode(ids[i + 1 : j]), fim_tokenizer.decode(ids[j + 1 : k]), fim_tokenizer.decode(ids[k + 1 :])
        assert prefix + middle + suffix == CODE
    half = encode_documents([CODE] * 200, fim_tokenizer, FimSettings(1.0, spm_share=0.5), seed=2)
    assert 60 < sum(d.index(suf) < d.index(pre) for d in half) < 140
    with pytest.raises(TrainerError, match="fim-spm-share"):
        FimSettings(0.5, spm_share=-1)


def test_share_chosen_by_seed(fim_tokenizer):
    texts = [f"x{i} = {i}\n" for i in range(200)]
    pre = fim_ids(fim_tokenizer)[0]
    plain = encode_documents(texts, fim_tokenizer)
    assert plain == [fim_tokenizer(t).input_ids for t in texts]
    half = encode_documents(texts, fim_tokenizer, FimSettings(0.5), seed=3)
    assert half == encode_documents(texts, fim_tokenizer, FimSettings(0.5), seed=3)
    share = sum(pre in d for d in half) / len(texts)
    assert 0.35 < share < 0.65, share
    assert all(pre in d for d in encode_documents(texts, fim_tokenizer, FimSettings(1.0)))
    with pytest.raises(TrainerError, match="fim-rate"):
        FimSettings(1.5)


def test_tokenizer_without_fim_tokens_is_named(tokenizer):
    with pytest.raises(TrainerError, match=r"<\|fim_prefix\|>.*--fim-rate"):
        fim_ids(tokenizer)


def test_pretrain_with_fim_exports_control_tokens(tmp_path):
    data = tmp_path / "text.jsonl"
    data.write_text("".join(json.dumps({"text": CODE.replace("area", f"area{i}")}) + "\n" for i in range(40)))
    run_dir = tmp_path / "run"
    run(
        "pretrain", "--data", str(data), "--size", "tiny", "--block", "32", "--val-fraction", "0.1", "--fim-rate", "0.5",
        "--fim-spm-share", "0.75", "--steps", "2", "--batch-size", "2", "--warmup", "1", "--run-dir", str(run_dir),
    )
    out = tmp_path / "fim.gguf"
    run("export", "--run", str(run_dir), "--checkpoint", "latest", "--out", str(out))
    meta, _ = read_gguf(out)
    assert meta["cosec.fim.order"] == "spm", "most examples were suffix first: the GGUF says so"
    tokens, types = list(meta["tokenizer.ggml.tokens"]), list(meta["tokenizer.ggml.token_type"])
    for t in FIM_TOKENS:
        assert t in tokens, t
        assert types[tokens.index(t)] == 3, f"{t} is a control token"  # gguf.TokenType.CONTROL


def test_order_is_the_majority_layout():
    assert FimSettings().order is None
    assert FimSettings(0.25).order == "psm"
    assert FimSettings(0.25, spm_share=0.5).order == "psm"
    assert FimSettings(0.25, spm_share=1.0).order == "spm"
    assert FimSettings.of({"fim_rate": 0.5, "fim_spm_share": 0.9}).order == "spm"
    assert FimSettings.of({"lr": 0.1}) == FimSettings(), "a run from before FIM"


def test_plain_model_export_has_no_fim_order(tmp_path):
    data = tmp_path / "text.jsonl"
    data.write_text("".join(json.dumps({"text": CODE.replace("area", f"area{i}")}) + "\n" for i in range(40)))
    run_dir = tmp_path / "run"
    run("pretrain", "--data", str(data), "--size", "tiny", "--block", "32", "--val-fraction", "0.1", "--steps", "1", "--batch-size", "2", "--warmup", "1", "--run-dir", str(run_dir))
    out = tmp_path / "plain.gguf"
    run("export", "--run", str(run_dir), "--checkpoint", "latest", "--out", str(out))
    assert "cosec.fim.order" not in read_gguf(out)[0]

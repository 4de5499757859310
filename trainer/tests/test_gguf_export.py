"""GGUF export round trip: files load in node-llama-cpp (llama.cpp) and give PyTorch's next-token
distribution; tokenization agrees with Hugging Face; Q8_0 / F16 / BF16 / adapter / merged exports."""
from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from cosec_trainer import gguf_export as ge
from cosec_trainer.gguf_read import read_gguf
from cosec_trainer.models import create_model, load_model

ROOT = Path(__file__).resolve().parents[2]
NODE_SCRIPT = Path(__file__).with_name("gguf_probs.mjs")


def llama_cpp_jobs(jobs: list[dict]) -> list[dict]:
    """One node process for several loads: starting llama.cpp dominates the cost."""
    for j in jobs:
        j.update({k: str(v) for k, v in j.items() if isinstance(v, Path)})
    r = subprocess.run(["node", str(NODE_SCRIPT), json.dumps(jobs)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout)


def llama_cpp(model: Path, tokens: list[int] | None = None, lora: Path | None = None, texts: list[str] | None = None) -> dict:
    job: dict = {"model": model, "tokens": tokens or [], "texts": texts or []}
    if lora:
        job["lora"] = lora
    return llama_cpp_jobs([job])[0]


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    m = x.max()
    return x - m - np.log(np.exp(x - m).sum())


def ref_logits(reference: dict, name: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(reference["logits"][name]), dtype="<f4")


def max_logp_diff(out: dict, logits: np.ndarray) -> float:
    lp = np.array(out["logp"], dtype=np.float64)
    assert lp.shape == logits.shape
    return float(np.abs(lp - log_softmax(logits)).max())


F32_CASES = [
    ("target-llama.gguf", None, "target-llama"),
    ("expert-llama.gguf", "expert-llama-lora.gguf", "expert-llama+lora"),
    ("target-qwen2.gguf", None, "target-qwen2"),
    ("target-qwen2.gguf", "target-qwen2-lora.gguf", "target-qwen2+lora"),
    ("target-llama-q8_0.gguf", None, "target-llama"),
]


@pytest.fixture(scope="module")
def fixture_runs(fixtures_dir, reference) -> list[dict]:
    samples = reference["tokenization"] + [{"text": reference["prompt"], "ids": reference["promptTokens"]}]
    jobs = [
        {"model": fixtures_dir / g, "tokens": reference["promptTokens"], **({"lora": fixtures_dir / lo} if lo else {})}
        for g, lo, _ in F32_CASES
    ]
    jobs[0]["texts"] = [s["text"] for s in samples]
    return llama_cpp_jobs(jobs)


@pytest.mark.parametrize("case", range(4), ids=[c[2] for c in F32_CASES[:4]])
def test_f32_matches_pytorch(fixture_runs, reference, case):
    diff = max_logp_diff(fixture_runs[case], ref_logits(reference, F32_CASES[case][2]))
    print(f"{F32_CASES[case][2]}: max |log p diff| llama.cpp vs PyTorch = {diff:.2e}")
    assert diff < 2e-3


def test_lora_changes_logits(reference):
    for base in ("expert-llama", "target-qwen2"):
        assert np.abs(ref_logits(reference, base) - ref_logits(reference, base + "+lora")).max() > 0.5


def test_q8_0_loads_close(fixture_runs, reference):
    out = fixture_runs[4]
    logits = ref_logits(reference, "target-llama")
    diff = max_logp_diff(out, logits)
    print(f"Q8_0 target-llama: max |log p diff| = {diff:.3f}")
    # Random weights with std 0.2 amplify rounding through the layers; the ranking must survive.
    assert diff < 1.5
    assert int(np.argmax(out["logp"])) == int(np.argmax(logits))


def test_tokenization_matches_hf(fixture_runs, reference):
    samples = reference["tokenization"] + [{"text": reference["prompt"], "ids": reference["promptTokens"]}]
    assert len(fixture_runs[0]["tokenized"]) == len(samples)
    for s, got in zip(samples, fixture_runs[0]["tokenized"]):
        assert got == s["ids"], s["text"]


def test_other_vocab_differs_in_one_token(fixtures_dir, reference):
    def tokens(p: Path) -> list[str]:
        return read_gguf(p)[0]["tokenizer.ggml.tokens"]

    a, b = tokens(fixtures_dir / "expert-llama.gguf"), tokens(fixtures_dir / "other-vocab.gguf")
    assert len(a) == len(b) == reference["vocabSize"]
    assert [i for i in range(len(a)) if a[i] != b[i]] == [reference["renamedTokenId"]]


def test_f16_bf16_q8_q4_tensor_types(tmp_path, tokenizer):
    model = create_model("llama", "tiny", tokenizer, seed=0)
    # Worst rounding error relative to a block's largest weight: half a step (Q4_0: a whole step,
    # its -8..7 codes put the largest magnitude at -8 and clip the opposite sign at 7).
    for outtype, want, tol in (("f16", "F16", 0.01), ("bf16", "BF16", 0.01), ("q8_0", "Q8_0", 0.01), ("q4_0", "Q4_0", 0.13)):
        path = ge.export_model(model, tokenizer, tmp_path / f"m-{outtype}.gguf", outtype=outtype)
        kv, tensors = read_gguf(path)
        assert tensors["blk.0.attn_q.weight"].type.name == want
        assert tensors["blk.0.attn_norm.weight"].type.name == "F32"  # norms stay F32
        assert "output.weight" not in tensors  # tied embeddings
        assert kv["general.file_type"] == ge.OUT_TYPES[outtype][1]
        ref = model.state_dict()["model.layers.0.mlp.down_proj.weight"].numpy()
        back = tensors["blk.0.ffn_down.weight"].to_float()
        assert back.shape == ref.shape
        assert np.abs(back - ref).max() < tol * np.abs(ref).max() + 1e-6


def test_f16_loads_in_llama_cpp(tmp_path, tokenizer):
    model = create_model("qwen2", "tiny", tokenizer, seed=7, initializer_range=0.1)
    path = ge.export_model(model, tokenizer, tmp_path / "q.gguf", outtype="f16")
    ids = tokenizer("for i in range(10):\n    print(i)").input_ids
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0, -1].numpy()
    diff = max_logp_diff(llama_cpp(path, ids), logits)
    print(f"F16 qwen2 tiny: max |log p diff| = {diff:.2e}")
    assert diff < 0.05


def test_adapter_folder_and_merged_export(tmp_path, fixtures_dir, reference):
    hf = fixtures_dir / "hf"
    a = ge.export_adapter_folder(hf / "expert-llama-lora", hf / "expert-llama", tmp_path / "a.gguf")
    kv, ta = read_gguf(a)
    tb = read_gguf(fixtures_dir / "expert-llama-lora.gguf")[1]
    assert ta.keys() == tb.keys() and all(np.array_equal(ta[k].raw, tb[k].raw) for k in ta)
    assert kv["general.type"] == "adapter" and kv["adapter.type"] == "lora"
    assert kv["adapter.lora.alpha"] == 16.0
    # q_proj B rows are permuted for llama.cpp's rope layout; A is unchanged.
    assert ta["blk.0.attn_q.weight.lora_a"].shape == (8, 64) and ta["blk.0.attn_q.weight.lora_b"].shape == (64, 8)

    merged = ge.export_merged(hf / "expert-llama-lora", hf / "expert-llama", tmp_path / "merged.gguf")
    diff = max_logp_diff(llama_cpp(merged, reference["promptTokens"]), ref_logits(reference, "expert-llama+lora"))
    print(f"merged expert+lora: max |log p diff| = {diff:.2e}")
    assert diff < 2e-3


def test_hf_folder_round_trip(fixtures_dir, reference):
    model = load_model(fixtures_dir / "hf" / "target-qwen2")
    with torch.no_grad():
        logits = model(torch.tensor([reference["promptTokens"]])).logits[0, -1].numpy()
    assert np.allclose(logits, ref_logits(reference, "target-qwen2"), atol=1e-4)


def test_rejects_unknown_outtype(tmp_path, tokenizer):
    model = create_model("llama", "tiny", tokenizer)
    with pytest.raises(ge.ExportError, match="outtype"):
        ge.export_model(model, tokenizer, tmp_path / "x.gguf", outtype="q4_k")

"""Deterministic tiny GGUF models (and PyTorch reference logits) for the project's tests.

    PYTHONPATH=trainer .venv/bin/python -m cosec_trainer.fixtures --out .cache/fixtures

Writes target-llama.gguf, target-llama-q8_0.gguf, expert-llama.gguf, expert-llama-lora.gguf,
target-qwen2.gguf, target-qwen2-lora.gguf, other-vocab.gguf, target-fim.gguf, target-fim-spm.gguf, expert-fim.gguf, the
Hugging Face folders under hf/,
reference.json, and READY last (its presence means everything else is complete).
"""
from __future__ import annotations

import argparse
import base64
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

from .contract import FIXTURE_VERSION
from .gguf_export import export_model, export_peft_model
from .models import SizePreset, create_model, load_tokenizer, save_model

PROMPT = 'import os\n\ndef read_user_file(name):\n    path = os.path.join("/srv/data", name)\n    with open(path) as f:\n        return'
TOKENIZATION_SAMPLES = [
    "def f(x):\n        return x  # ok\n",
    "int main(void) {\n\tchar buf[16];\n\t\tstrcpy(buf, argv[1]);\n}",
    "héllo wörld 123 4567 ... !!!",
    "<|endoftext|>",
]
TARGET = SizePreset(hidden=128, layers=4, heads=4, kv_heads=2, intermediate=384)
EXPERT = SizePreset(hidden=64, layers=2, heads=4, kv_heads=2, intermediate=192)
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
RENAMED_TOKEN_ID = 1000
# Qwen2.5-Coder's FIM tokens in place of rare ones: target-fim.gguf and expert-fim.gguf are the
# llama target and expert with them, for the fill-in-the-middle tests (llama.cpp finds them by name).
FIM_TOKENS = {50240: "<|fim_prefix|>", 50241: "<|fim_suffix|>", 50242: "<|fim_middle|>", 50243: "<|fim_pad|>", 50244: "<|repo_name|>", 50245: "<|file_sep|>"}
# Wider than the HF default (0.02) so random models give peaked next-token distributions.
INIT_RANGE = 0.2


def _b64(t: torch.Tensor) -> str:
    return base64.b64encode(t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()).decode()


def _last_logits(model, ids: list[int]) -> torch.Tensor:
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0, -1]


def _randomize_biases(model, seed: int) -> None:
    """HF zero-initialises qwen2's q/k/v biases; random ones make the export test meaningful."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.2)


def _add_lora(model, seed: int):
    from peft import LoraConfig, get_peft_model

    cfg = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=LORA_TARGETS, bias="none")
    torch.manual_seed(seed)
    peft_model = get_peft_model(model, cfg)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:  # PEFT initialises B to zero (a no-op adapter); we want one that matters
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    peft_model.eval()
    return peft_model


def build(out: Path) -> dict:
    started = time.time()
    out.mkdir(parents=True, exist_ok=True)
    ready = out / "READY"
    if ready.exists():
        ready.unlink()
    tok = load_tokenizer()
    ids = tok(PROMPT).input_ids
    hf = out / "hf"
    ref: dict = {
        "version": FIXTURE_VERSION,
        "prompt": PROMPT,
        "promptTokens": ids,
        "vocabSize": len(tok),
        "renamedTokenId": RENAMED_TOKEN_ID,
        "tokenization": [{"text": s, "ids": tok(s).input_ids} for s in TOKENIZATION_SAMPLES],
        "logitsEncoding": "base64 little-endian float32, next-token logits after promptTokens",
        "logits": {},
        "models": {},
    }

    def add(name: str, model, gguf_name: str | None, **info) -> None:
        ref["logits"][name] = _b64(_last_logits(model, ids))
        ref["models"][name] = {"gguf": gguf_name, **info}

    # llama target + expert (+ LoRA) ----------------------------------------------------------
    target = create_model("llama", TARGET, tok, seed=1, context_length=1024, initializer_range=INIT_RANGE)
    save_model(target, tok, hf / "target-llama")
    export_model(target, tok, out / "target-llama.gguf", name="target-llama")
    export_model(target, tok, out / "target-llama-q8_0.gguf", outtype="q8_0", name="target-llama-q8_0")
    add("target-llama", target, "target-llama.gguf", hf="hf/target-llama")

    expert = create_model("llama", EXPERT, tok, seed=2, context_length=1024, initializer_range=INIT_RANGE)
    save_model(expert, tok, hf / "expert-llama")
    export_model(expert, tok, out / "expert-llama.gguf", name="expert-llama")
    add("expert-llama", expert, "expert-llama.gguf", hf="hf/expert-llama")
    renamed = f"<|cosec-renamed-{RENAMED_TOKEN_ID}|>"
    export_model(expert, tok, out / "other-vocab.gguf", name="other-vocab", token_overrides={RENAMED_TOKEN_ID: renamed})
    ref["models"]["other-vocab"] = {"gguf": "other-vocab.gguf", "sameWeightsAs": "expert-llama", "renamedToken": renamed}

    export_model(target, tok, out / "target-fim.gguf", name="target-fim", control_tokens=FIM_TOKENS)
    export_model(expert, tok, out / "expert-fim.gguf", name="expert-fim", control_tokens=FIM_TOKENS)
    # The same weights, recorded as trained suffix first (cosec.fim.order): fills default to that layout.
    export_model(target, tok, out / "target-fim-spm.gguf", name="target-fim-spm", control_tokens=FIM_TOKENS, fim_order="spm")
    ref["fimTokens"] = {text: i for i, text in FIM_TOKENS.items()}

    expert_lora = _add_lora(expert, seed=3)
    expert_lora.save_pretrained(str(hf / "expert-llama-lora"))
    export_peft_model(expert_lora, out / "expert-llama-lora.gguf")
    add("expert-llama+lora", expert_lora, None, lora="expert-llama-lora.gguf", base="expert-llama.gguf", hf="hf/expert-llama-lora")

    # qwen2 target with attention biases (+ LoRA) ----------------------------------------------
    qwen = create_model("qwen2", TARGET, tok, seed=4, context_length=1024, initializer_range=INIT_RANGE)
    _randomize_biases(qwen, seed=5)
    save_model(qwen, tok, hf / "target-qwen2")
    export_model(qwen, tok, out / "target-qwen2.gguf", name="target-qwen2")
    add("target-qwen2", qwen, "target-qwen2.gguf", hf="hf/target-qwen2")
    qwen_lora = _add_lora(qwen, seed=6)
    qwen_lora.save_pretrained(str(hf / "target-qwen2-lora"))
    export_peft_model(qwen_lora, out / "target-qwen2-lora.gguf")
    add("target-qwen2+lora", qwen_lora, None, lora="target-qwen2-lora.gguf", base="target-qwen2.gguf", hf="hf/target-qwen2-lora")

    (out / "reference.json").write_text(json.dumps(ref))
    ready.write_text(json.dumps({"version": FIXTURE_VERSION, "seconds": round(time.time() - started, 1)}) + "\n")
    return ref


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="cosec_trainer.fixtures", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=".cache/fixtures", help="output folder (default .cache/fixtures)")
    p.add_argument("--force", action="store_true", help="rebuild even when READY exists")
    args = p.parse_args(argv)
    out = Path(args.out).resolve()
    if (out / "READY").exists() and not args.force:
        print(f"fixtures already built in {out}", file=sys.stderr)
        return 0
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    build(out)
    print(f"fixtures written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

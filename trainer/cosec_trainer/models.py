"""Create, load and save small causal LMs (llama / qwen2) in Hugging Face folder format."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerBase, Qwen2Config, Qwen2ForCausalLM

from .contract import DATA_ROOT_ENV, data_root

ARCHITECTURES = ("llama", "qwen2")


@dataclass(frozen=True)
class SizePreset:
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int  # multiple of 32 so every 2-D weight can be Q8_0-quantized row-wise


# Non-embedding parameter counts are roughly what the names say (tiny: ~0.4M).
PRESETS: dict[str, SizePreset] = {
    "tiny": SizePreset(hidden=128, layers=2, heads=4, kv_heads=2, intermediate=384),
    "4m": SizePreset(hidden=256, layers=6, heads=8, kv_heads=4, intermediate=704),
    "25m": SizePreset(hidden=512, layers=8, heads=8, kv_heads=4, intermediate=1408),
    "100m": SizePreset(hidden=768, layers=16, heads=12, kv_heads=4, intermediate=2048),
}


def default_tokenizer_dir() -> Path:
    return data_root() / "tokenizers" / "codegen"


def load_tokenizer(path: str | Path | None = None) -> PreTrainedTokenizerBase:
    folder = Path(path) if path is not None else default_tokenizer_dir()
    if not folder.is_dir():
        raise FileNotFoundError(f"tokenizer folder not found: {folder} (set {DATA_ROOT_ENV} or pass --tokenizer)")
    tok = AutoTokenizer.from_pretrained(str(folder))
    tok.model_max_length = 1 << 30  # we window/truncate ourselves; silence the length warning
    return tok


def make_config(
    arch: str,
    size: str | SizePreset,
    vocab_size: int,
    *,
    bos_token_id: int | None,
    eos_token_id: int | None,
    context_length: int = 2048,
    tie_embeddings: bool = True,
    initializer_range: float = 0.02,
):
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; expected one of {', '.join(ARCHITECTURES)}")
    if isinstance(size, str):
        if size not in PRESETS:
            raise ValueError(f"unknown size preset {size!r}; expected one of {', '.join(PRESETS)}")
        preset = PRESETS[size]
    else:
        preset = size
    common = dict(
        vocab_size=vocab_size,
        hidden_size=preset.hidden,
        intermediate_size=preset.intermediate,
        num_hidden_layers=preset.layers,
        num_attention_heads=preset.heads,
        num_key_value_heads=preset.kv_heads,
        max_position_embeddings=context_length,
        rms_norm_eps=1e-5,
        rope_parameters={"rope_theta": 10000.0, "rope_type": "default"},
        tie_word_embeddings=tie_embeddings,
        bos_token_id=bos_token_id,
        eos_token_id=eos_token_id,
        initializer_range=initializer_range,
        hidden_act="silu",
    )
    if arch == "llama":
        return LlamaConfig(attention_bias=False, mlp_bias=False, **common)
    return Qwen2Config(use_sliding_window=False, **common)


def create_model(
    arch: str,
    size: str | SizePreset,
    tokenizer: PreTrainedTokenizerBase,
    *,
    seed: int = 0,
    context_length: int = 2048,
    tie_embeddings: bool = True,
    initializer_range: float = 0.02,
) -> torch.nn.Module:
    """A freshly initialised model whose vocabulary is exactly the tokenizer's (len(tokenizer))."""
    config = make_config(
        arch,
        size,
        len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        context_length=context_length,
        tie_embeddings=tie_embeddings,
        initializer_range=initializer_range,
    )
    torch.manual_seed(seed)
    cls = LlamaForCausalLM if arch == "llama" else Qwen2ForCausalLM
    model = cls(config)
    model.eval()
    return model


def model_arch(model_or_config) -> str:
    config = getattr(model_or_config, "config", model_or_config)
    mt = config.model_type
    if mt not in ARCHITECTURES:
        raise ValueError(f"unsupported model type {mt!r}; expected one of {', '.join(ARCHITECTURES)}")
    return mt


def save_model(model: torch.nn.Module, tokenizer: PreTrainedTokenizerBase | None, folder: str | Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder), safe_serialization=True)
    if tokenizer is not None:
        tokenizer.save_pretrained(str(folder))
    return folder


def load_model(folder: str | Path, *, dtype: torch.dtype = torch.float32) -> torch.nn.Module:
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"not a model folder (no config.json): {folder}")
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(folder))
    model_arch(config)
    cls = LlamaForCausalLM if config.model_type == "llama" else Qwen2ForCausalLM
    return cls.from_pretrained(str(folder), dtype=dtype)


def count_parameters(model: torch.nn.Module, *, include_embeddings: bool = False) -> int:
    seen: set[int] = set()
    total = 0
    emb = model.get_input_embeddings().weight
    out = model.get_output_embeddings()
    skip = set() if include_embeddings else {id(emb), id(out.weight) if out is not None else 0}
    for p in model.parameters():
        if id(p) in seen or id(p) in skip:
            continue
        seen.add(id(p))
        total += p.numel()
    return total

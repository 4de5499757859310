"""Export llama / qwen2 Hugging Face models and PEFT LoRA adapters to GGUF files llama.cpp loads.

Tensor names and the llama Q/K row permutation follow llama.cpp's convert_hf_to_gguf.py and
convert_lora_to_gguf.py (the copy bundled with node-llama-cpp); the vocabulary is written as a
"gpt2" BPE vocabulary with the "gpt-2" pre-tokenizer (CodeGen is GPT-2 byte-level BPE).
"""
from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Iterable, Iterator

import gguf
import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from .models import load_model, load_tokenizer, model_arch

# Our GGUF key for the FIM layout a model was trained with ("psm" or "spm").
FIM_ORDER_KEY = "cosec.fim.order"

OUT_TYPES = {
    "f32": (gguf.GGMLQuantizationType.F32, gguf.LlamaFileType.ALL_F32),
    "f16": (gguf.GGMLQuantizationType.F16, gguf.LlamaFileType.MOSTLY_F16),
    "bf16": (gguf.GGMLQuantizationType.BF16, gguf.LlamaFileType.MOSTLY_BF16),
    "q8_0": (gguf.GGMLQuantizationType.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0),
    # 4-bit blocks of 32: what CPU users mostly run; llama.cpp repacks it for fast batched matmul.
    "q4_0": (gguf.GGMLQuantizationType.Q4_0, gguf.LlamaFileType.MOSTLY_Q4_0),
}
_BLOCK_QUANTS = (gguf.GGMLQuantizationType.Q8_0, gguf.GGMLQuantizationType.Q4_0)

_LAYER_MAP = {
    "input_layernorm": "attn_norm",
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "post_attention_layernorm": "ffn_norm",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
_LAYER_RE = re.compile(r"^model\.layers\.(\d+)\.(.+)\.(weight|bias)$")


class ExportError(ValueError):
    pass


def gguf_tensor_name(hf_name: str) -> str | None:
    """llama.cpp name for an HF parameter; None for parameters llama.cpp does not use."""
    if hf_name == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf_name == "model.norm.weight":
        return "output_norm.weight"
    if hf_name == "lm_head.weight":
        return "output.weight"
    m = _LAYER_RE.match(hf_name)
    if m and m.group(2) in _LAYER_MAP:
        return f"blk.{m.group(1)}.{_LAYER_MAP[m.group(2)]}.{m.group(3)}"
    return None


def _permute_rows(w: torch.Tensor, n_head: int) -> torch.Tensor:
    """HF llama stores rotary halves per head; llama.cpp (GGML_ROPE_TYPE_NORM) wants them interleaved."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _rope_permute_heads(arch: str, hf_name: str, config) -> int | None:
    if arch != "llama":
        return None
    if ".self_attn.q_proj." in hf_name:
        return config.num_attention_heads
    if ".self_attn.k_proj." in hf_name:
        return config.num_key_value_heads
    return None


def _rope_theta(config) -> float:
    params = getattr(config, "rope_parameters", None) or {}
    return float(params.get("rope_theta", getattr(config, "rope_theta", 10000.0)))


def _encode(arr: np.ndarray, qtype: gguf.GGMLQuantizationType) -> tuple[np.ndarray, gguf.GGMLQuantizationType]:
    """1-D tensors (norms, biases) stay F32 as llama.cpp expects; Q8_0/Q4_0 need rows of 32."""
    if arr.ndim <= 1 or qtype == gguf.GGMLQuantizationType.F32:
        return arr.astype(np.float32), gguf.GGMLQuantizationType.F32
    if qtype == gguf.GGMLQuantizationType.F16:
        return arr.astype(np.float16), qtype
    if qtype == gguf.GGMLQuantizationType.BF16:
        # torch rounds to nearest even like gguf.quants, but vectorised in C.
        bits = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32)).to(torch.bfloat16).view(torch.int16)
        return bits.numpy().view(np.uint8).reshape(*arr.shape[:-1], arr.shape[-1] * 2), qtype
    if qtype in _BLOCK_QUANTS and arr.shape[-1] % 32 != 0:
        return arr.astype(np.float16), gguf.GGMLQuantizationType.F16
    return gguf.quants.quantize(arr.astype(np.float32), qtype), qtype


# ---------------------------------------------------------------- vocabulary


def vocab_entries(tokenizer: PreTrainedTokenizerBase, n_vocab: int) -> tuple[list[str], list[int]]:
    """Token strings and types as convert_hf_to_gguf's get_vocab_base writes them."""
    reverse = {i: t for t, i in tokenizer.get_vocab().items()}
    added = tokenizer.added_tokens_decoder
    tokens: list[str] = []
    types: list[int] = []
    for i in range(n_vocab):
        if i not in reverse:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        elif i in added:
            tokens.append(added[i].content)
            types.append(gguf.TokenType.CONTROL if added[i].special else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(reverse[i])
            types.append(gguf.TokenType.NORMAL)
    return tokens, types


def bpe_merges(tokenizer: PreTrainedTokenizerBase) -> list[str]:
    state = json.loads(tokenizer.backend_tokenizer.to_str())
    merges = state["model"].get("merges") or []
    return [m if isinstance(m, str) else " ".join(m) for m in merges]


def add_vocab(
    writer: gguf.GGUFWriter,
    tokenizer: PreTrainedTokenizerBase,
    n_vocab: int,
    token_overrides: dict[int, str] | None = None,
    control_tokens: dict[int, str] | None = None,
) -> None:
    if len(tokenizer) > n_vocab:
        raise ExportError(f"tokenizer has {len(tokenizer)} tokens but the model's vocabulary is {n_vocab}")
    tokens, types = vocab_entries(tokenizer, n_vocab)
    for i, text in (token_overrides or {}).items():
        tokens[i] = text
    # Control tokens in place of rare ones (test models with FIM tokens the tokenizer never makes).
    for i, text in (control_tokens or {}).items():
        tokens[i] = text
        types[i] = gguf.TokenType.CONTROL
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(bpe_merges(tokenizer))
    if tokenizer.bos_token_id is not None:
        writer.add_bos_token_id(tokenizer.bos_token_id)
    if tokenizer.eos_token_id is not None:
        writer.add_eos_token_id(tokenizer.eos_token_id)
    # CodeGen-style tokenizers add no BOS; match Hugging Face so token ids agree.
    writer.add_add_bos_token(bool(getattr(tokenizer, "add_bos_token", False)))
    writer.add_add_eos_token(False)


# ---------------------------------------------------------------- models


def _model_tensors(model: torch.nn.Module, arch: str) -> Iterator[tuple[str, np.ndarray]]:
    config = model.config
    tied = bool(getattr(config, "tie_word_embeddings", False))
    for hf_name, tensor in model.state_dict().items():
        if hf_name == "lm_head.weight" and tied:
            continue  # llama.cpp falls back to token_embd when output.weight is absent
        name = gguf_tensor_name(hf_name)
        if name is None:
            raise ExportError(f"no GGUF name for parameter {hf_name!r}")
        t = tensor.detach().to(torch.float32).cpu()
        n_head = _rope_permute_heads(arch, hf_name, config)
        if n_head is not None:
            t = _permute_rows(t, n_head)
        yield name, t.numpy()


def _add_hparams(writer: gguf.GGUFWriter, config, ftype: gguf.LlamaFileType, name: str) -> None:
    writer.add_type(gguf.GGUFType.MODEL)
    writer.add_name(name)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_rope_freq_base(_rope_theta(config))
    writer.add_rope_dimension_count(config.hidden_size // config.num_attention_heads)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_vocab_size(config.vocab_size)
    writer.add_file_type(ftype)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)


def _write(writer: gguf.GGUFWriter, tensors: Iterable[tuple[str, np.ndarray]], qtype, out: Path) -> None:
    for name, arr in tensors:
        data, dtype = _encode(arr, qtype)
        writer.add_tensor(name, data, raw_dtype=dtype)
    tmp = out.with_name(out.name + ".tmp")
    writer.path = tmp
    writer.write_header_to_file(path=tmp)
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(tmp, out)  # never leave a half-written GGUF under the final name


def export_model(
    model: torch.nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    out: str | Path,
    *,
    outtype: str = "f32",
    name: str = "cosec",
    token_overrides: dict[int, str] | None = None,
    control_tokens: dict[int, str] | None = None,
    fim_order: str | None = None,
) -> Path:
    if outtype not in OUT_TYPES:
        raise ExportError(f"unknown outtype {outtype!r}; expected one of {', '.join(OUT_TYPES)}")
    arch = model_arch(model)
    qtype, ftype = OUT_TYPES[outtype]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(None, arch)
    _add_hparams(writer, model.config, ftype, name)
    add_vocab(writer, tokenizer, model.config.vocab_size, token_overrides, control_tokens)
    if fim_order is not None:
        # The FIM layout the model learned; cosec lays out its fills so (llama.cpp has no such key:
        # its users pass --spm-infill).
        writer.add_string(FIM_ORDER_KEY, fim_order)
    _write(writer, _model_tensors(model, arch), qtype, out)
    return out


def export_model_folder(folder: str | Path, out: str | Path, *, outtype: str = "f32", tokenizer_dir=None, fim_order: str | None = None) -> Path:
    folder = Path(folder)
    model = load_model(folder)
    tok = load_tokenizer(tokenizer_dir or (folder if (folder / "tokenizer_config.json").exists() else None))
    return export_model(model, tok, out, outtype=outtype, name=folder.name, fim_order=fim_order)


# ---------------------------------------------------------------- LoRA adapters

_PEFT_RE = re.compile(r"^(?:base_model\.model\.)?(.+)\.lora_([AB])(?:\.[^.]+)?\.weight$")


def lora_alpha_for_llama_cpp(peft_config: dict) -> float:
    """llama.cpp scales by alpha / r; rsLoRA scales by alpha / sqrt(r), so fold the difference in."""
    r = int(peft_config["r"])
    alpha = float(peft_config.get("lora_alpha", r))
    if peft_config.get("use_dora"):
        raise ExportError("DoRA adapters cannot be exported to llama.cpp LoRA GGUF")
    if peft_config.get("use_rslora"):
        return alpha * math.sqrt(r)
    return alpha


def adapter_tensors(lora_state: dict[str, torch.Tensor], config, arch: str) -> Iterator[tuple[str, np.ndarray]]:
    pairs: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in lora_state.items():
        m = _PEFT_RE.match(key)
        if not m:
            raise ExportError(f"unexpected tensor in LoRA adapter: {key!r} (only lora_A/lora_B weights are supported)")
        pairs.setdefault(m.group(1) + ".weight", {})[m.group(2)] = tensor
    for base_name in sorted(pairs):
        pair = pairs[base_name]
        if set(pair) != {"A", "B"}:
            raise ExportError(f"LoRA pair incomplete for {base_name}")
        name = gguf_tensor_name(base_name)
        if name is None or base_name in ("model.embed_tokens.weight", "lm_head.weight"):
            raise ExportError(f"LoRA on {base_name!r} is not supported for export")
        a = pair["A"].detach().to(torch.float32).cpu()
        b = pair["B"].detach().to(torch.float32).cpu()
        n_head = _rope_permute_heads(arch, base_name, config)
        if n_head is not None:
            b = _permute_rows(b, n_head)  # the permutation acts on output rows, i.e. on B
        stem = name[: -len(".weight")]
        # PyTorch A is (r, in) and B is (out, r): exactly llama.cpp's ne = [in, r] and [r, out].
        yield stem + ".weight.lora_a", a.numpy()
        yield stem + ".weight.lora_b", b.numpy()


def export_adapter(
    lora_state: dict[str, torch.Tensor],
    peft_config: dict,
    base_config,
    out: str | Path,
    *,
    outtype: str = "f32",
    name: str = "cosec-lora",
) -> Path:
    if outtype not in OUT_TYPES:
        raise ExportError(f"unknown outtype {outtype!r}")
    arch = model_arch(base_config)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(None, arch)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_name(name)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, lora_alpha_for_llama_cpp(peft_config))
    qtype = OUT_TYPES[outtype][0]
    if qtype in _BLOCK_QUANTS:
        qtype = gguf.GGMLQuantizationType.F16  # rank-8 rows are too short to quantize usefully
    _write(writer, adapter_tensors(lora_state, base_config, arch), qtype, out)
    return out


def export_peft_model(peft_model, out: str | Path, *, outtype: str = "f32", adapter_name: str = "default") -> Path:
    """Export the active adapter of a live peft.PeftModel."""
    from peft import get_peft_model_state_dict

    state = get_peft_model_state_dict(peft_model, adapter_name=adapter_name)
    cfg = peft_model.peft_config[adapter_name].to_dict()
    return export_adapter(state, cfg, peft_model.get_base_model().config, out, outtype=outtype)


def export_adapter_folder(adapter_dir: str | Path, base_dir: str | Path, out: str | Path, *, outtype: str = "f32") -> Path:
    """Export a PEFT adapter folder (adapter_config.json + adapter_model.safetensors)."""
    from safetensors.torch import load_file
    from transformers import AutoConfig

    adapter_dir = Path(adapter_dir)
    cfg_path = adapter_dir / "adapter_config.json"
    weights = adapter_dir / "adapter_model.safetensors"
    if not cfg_path.is_file() or not weights.is_file():
        raise ExportError(f"not a PEFT adapter folder (needs adapter_config.json and adapter_model.safetensors): {adapter_dir}")
    peft_config = json.loads(cfg_path.read_text())
    if peft_config.get("peft_type", "LORA") != "LORA":
        raise ExportError(f"only LoRA adapters can be exported, got {peft_config.get('peft_type')!r}")
    base_config = AutoConfig.from_pretrained(str(base_dir))
    return export_adapter(load_file(str(weights)), peft_config, base_config, out, outtype=outtype)


def export_merged(adapter_dir: str | Path, base_dir: str | Path, out: str | Path, *, outtype: str = "f32") -> Path:
    """Fold the adapter into the base weights and export one model GGUF."""
    from peft import PeftModel

    base = load_model(base_dir)
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    tok = load_tokenizer(base_dir if (Path(base_dir) / "tokenizer_config.json").exists() else None)
    return export_model(merged, tok, out, outtype=outtype, name=Path(adapter_dir).name + "-merged")

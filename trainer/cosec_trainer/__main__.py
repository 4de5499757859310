"""python -m cosec_trainer <create|pretrain|distill|security|export> [options]

Progress is printed as JSON lines on stdout ({"event": "progress", "step", "loss", "tokens_per_s",
"eta_s"}, plus "start", "eval", "checkpoint", "done", "error"); logs go to stderr.
Under torchrun (e.g. `torchrun --standalone --nproc_per_node 2 -m cosec_trainer pretrain ...`) training is
data-parallel (gloo on CPU, nccl on CUDA)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from .errors import TrainerError
from .progress import emit, log

# gguf_export.OUT_TYPES' keys (that module is imported only when exporting: it is slow to import).
OUT_TYPE_NAMES = ["f32", "f16", "bf16", "q8_0", "q4_0"]


def _fim_args(p: argparse.ArgumentParser, rate_help: str) -> None:
    p.add_argument("--fim-rate", type=float, default=0.0, help=rate_help)
    p.add_argument("--fim-line-share", type=float, default=0.0, help="share of the FIM examples cut at line starts rather than at any character")
    p.add_argument("--fim-spm-share", type=float, default=0.0, help="share of the FIM examples laid out suffix-prefix-middle (llama.cpp's --spm-infill) rather than prefix-suffix-middle")


def _loop_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("training loop")
    g.add_argument("--run-dir", required=True, help="run folder: config.json, metrics.jsonl, checkpoints/")
    g.add_argument("--steps", type=int, default=100)
    g.add_argument("--batch-size", type=int, default=8, help="sequences per optimizer step (all processes)")
    g.add_argument("--lr", type=float, default=3e-4)
    g.add_argument("--warmup", type=int, default=10)
    g.add_argument("--min-lr-ratio", type=float, default=0.1)
    g.add_argument("--weight-decay", type=float, default=0.0)
    g.add_argument("--grad-clip", type=float, default=1.0)
    g.add_argument("--eval-every", type=int, default=0, help="0: evaluate at the end only")
    g.add_argument("--save-every", type=int, default=0, help="0: checkpoint at the end only")
    g.add_argument("--keep-last", type=int, default=2)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--resume", action="store_true", help="continue from the run folder's latest checkpoint")
    g.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    g.add_argument("--threads", type=int, default=0, help="CPU threads for PyTorch (0: its default)")
    g.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "fp32", "bf16"],
        help="bf16 mixed precision (fp32 weights); auto: bf16 on CUDA and on CPUs with native bf16, else fp32",
    )


def _loop(ns):
    from .loop import LoopArgs

    fields = LoopArgs.__dataclass_fields__
    return LoopArgs(**{k: getattr(ns, k) for k in fields})


def _check_loop(ns) -> None:
    for name in ("steps", "batch_size"):
        if getattr(ns, name) < 1:
            raise TrainerError(f"--{name.replace('_', '-')} must be at least 1")
    if ns.lr <= 0:
        raise TrainerError("--lr must be positive")


def _config(ns) -> dict:
    return {k: v for k, v in vars(ns).items() if k not in ("func",)}


def cmd_create(ns) -> int:
    from .gguf_export import export_model
    from .models import count_parameters, create_model, load_tokenizer, save_model

    tok = load_tokenizer(ns.tokenizer)
    model = create_model(ns.arch, ns.size, tok, seed=ns.seed, context_length=ns.context)
    save_model(model, tok, ns.out)
    if ns.gguf:
        export_model(model, tok, ns.gguf, outtype=ns.outtype, name=Path(ns.out).name)
    emit("done", path=str(Path(ns.out).resolve()), params=count_parameters(model), params_with_embeddings=count_parameters(model, include_embeddings=True))
    return 0


def _split(items, val_fraction: float, seed: int):
    n = len(items)
    n_val = max(1, round(n * val_fraction))
    if n - n_val < 1:
        raise TrainerError(f"only {n} samples: too few to hold out a validation split (pass --val)")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    return [items[i] for i in perm[n_val:]], [items[i] for i in perm[:n_val]]


def cmd_pretrain(ns) -> int:
    from .data import pack_blocks, read_texts
    from .fim import FimSettings, add_fim_tokens
    from .loop import run
    from .models import create_model, load_model, load_tokenizer
    from .phases import PretrainPhase

    _check_loop(ns)
    fim = FimSettings.of(ns)
    if ns.init:
        model, tok = load_model(ns.init), load_tokenizer(ns.init)
        # FIM examples need their tokens: an earlier phase without them gets them now, with new embedding rows.
        if fim.rate > 0 and add_fim_tokens(tok):
            model.resize_token_embeddings(len(tok))
    else:
        tok = load_tokenizer(ns.tokenizer)
        if fim.rate > 0:
            add_fim_tokens(tok)
        model = create_model(ns.arch, ns.size, tok, seed=ns.seed, context_length=max(ns.context, ns.block))
    blocks = pack_blocks(read_texts(ns.data), tok, ns.block, fim, ns.seed)
    if ns.val:
        train, val = blocks, pack_blocks(read_texts(ns.val), tok, ns.block, fim, ns.seed + 1)
    else:
        tr, va = _split(list(range(len(blocks))), ns.val_fraction, ns.seed)
        train, val = blocks[tr], blocks[va]
    val = val[: ns.max_val] if ns.max_val else val
    log(f"pretrain: {len(train)} training blocks, {len(val)} validation blocks of {ns.block} tokens")
    run(PretrainPhase(model, tok, train, val), _loop(ns), _config(ns))
    return 0


def _examples(paths, tok, max_len, pack, fim, seed):
    """One example per JSONL record (prompt/response or text), or with `pack` every document joined
    by EOS and cut into full rows of max_len, as for pretraining (no padding: for plain code, where
    records of very different lengths would otherwise pad most of each batch). Some texts become
    fill-in-the-middle examples, as `fim` says (fim.py)."""
    from .data import Example, pack_blocks, read_examples, read_texts

    if pack:
        return [Example(b.tolist(), [1] * len(b)) for b in pack_blocks(read_texts(paths), tok, max_len, fim, seed)]
    out = []
    for p in paths:
        if str(p).endswith(".jsonl") and Path(p).is_file():
            out += read_examples(p, tok, max_len, fim, seed)
        else:
            out += [Example(b.tolist(), [1] * len(b)) for b in pack_blocks(read_texts([p]), tok, max_len, fim, seed)]
    return out


def cmd_distill(ns) -> int:
    from .loop import run
    from .models import create_model, load_model, load_tokenizer, model_arch
    from .fim import FimSettings
    from .phases import DistillPhase, check_same_tokenizer

    _check_loop(ns)
    fim = FimSettings.of(ns)
    teacher, t_tok = load_model(ns.teacher), load_tokenizer(ns.teacher)
    if ns.student:
        student, s_tok = load_model(ns.student), load_tokenizer(ns.student)
        check_same_tokenizer(t_tok, s_tok)
    elif ns.student_size:
        s_tok = t_tok
        student = create_model(ns.student_arch or model_arch(teacher), ns.student_size, t_tok, seed=ns.seed)
    else:
        raise TrainerError("pass --student DIR or --student-size PRESET")
    examples = _examples(ns.data, s_tok, ns.max_len, ns.pack, fim, ns.seed)
    train, val = (examples, _examples(ns.val, s_tok, ns.max_len, ns.pack, fim, ns.seed + 1)) if ns.val else _split(examples, ns.val_fraction, ns.seed)
    val = val[: ns.max_val] if ns.max_val else val
    log(f"distill: {len(train)} training / {len(val)} validation sequences, loss {ns.loss} + {ns.ce_weight} * CE")
    run(DistillPhase(student, teacher, s_tok, train, val, ns.loss, ns.ce_weight), _loop(ns), _config(ns))
    return 0


LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def cmd_security(ns) -> int:
    from peft import LoraConfig, PeftModel, get_peft_model

    from .loop import run
    from .models import data_root, load_model, load_tokenizer
    from .phases import SecurityPhase
    from .sven import load_split

    _check_loop(ns)
    root = Path(ns.sven) if ns.sven else data_root() / "datasets" / "sven" / "data_train_val"
    cwes = [c.strip() for c in ns.cwes.split(",")] if ns.cwes else None
    train, val = load_split(root, "train", cwes), load_split(root, "val", cwes)
    if ns.max_train:
        train = [train[i] for i in torch.randperm(len(train), generator=torch.Generator().manual_seed(ns.seed))[: ns.max_train].tolist()]
    if ns.max_val:
        val = [val[i] for i in torch.randperm(len(val), generator=torch.Generator().manual_seed(ns.seed))[: ns.max_val].tolist()]
    base, tok = load_model(ns.model), load_tokenizer(ns.model)
    torch.manual_seed(ns.seed)
    if ns.init_adapter:
        model = PeftModel.from_pretrained(base, ns.init_adapter, is_trainable=True)
    else:
        cfg = LoraConfig(r=ns.lora_r, lora_alpha=ns.lora_alpha, lora_dropout=ns.lora_dropout, target_modules=LORA_TARGETS, bias="none")
        model = get_peft_model(base, cfg)
    log(f"security: {len(train)} training / {len(val)} validation pairs from {root}")
    phase = SecurityPhase(model, tok, train, val, ns.kl, ns.kl_weight, ns.max_len)
    run(phase, _loop(ns), {**_config(ns), "base_model": str(Path(ns.model).resolve())})
    return 0


def cmd_export(ns) -> int:
    from . import checkpoint as ck
    from . import gguf_export as ge
    from .fim import FimSettings

    what = ns.what
    fim_order = None  # known for a run's full model (its config.json); a bare folder says nothing
    if ns.run:
        run_dir = Path(ns.run)
        c = ck.resolve(run_dir, ns.checkpoint)
        if c is None:
            raise TrainerError(f"no checkpoint {ns.checkpoint!r} in {run_dir}")
        cfg = json.loads((run_dir / "config.json").read_text())
        if (c / "model" / "adapter_config.json").is_file():
            adapter, base, model_dir = c / "model", Path(cfg["base_model"]), None
        else:
            adapter, base, model_dir = None, None, c / "model"
            fim_order = FimSettings.of(cfg).order
    else:
        adapter = Path(ns.adapter) if ns.adapter else None
        base = Path(ns.base) if ns.base else None
        model_dir = Path(ns.model) if ns.model else None
        if adapter and not base:
            raise TrainerError("--adapter needs --base (the model folder the adapter was trained on)")
        if not adapter and not model_dir:
            raise TrainerError("pass --run, --model, or --adapter with --base")
    if adapter is not None:
        what = what or "adapter"
        if what == "adapter":
            out = ge.export_adapter_folder(adapter, base, ns.out, outtype=ns.outtype)
        elif what == "merged":
            out = ge.export_merged(adapter, base, ns.out, outtype=ns.outtype)
        elif what == "model":
            out = ge.export_model_folder(base, ns.out, outtype=ns.outtype)
        else:
            raise TrainerError(f"--what must be model, adapter or merged, not {what!r}")
    else:
        if what not in (None, "model"):
            raise TrainerError(f"--what {what} needs a LoRA adapter; this checkpoint is a full model")
        out = ge.export_model_folder(model_dir, ns.out, outtype=ns.outtype, fim_order=fim_order)
    emit("done", path=str(Path(out).resolve()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .models import ARCHITECTURES, PRESETS

    p = argparse.ArgumentParser(prog="python -m cosec_trainer", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("create", help="create a fresh model folder from a size preset")
    c.add_argument("--arch", choices=ARCHITECTURES, default="llama")
    c.add_argument("--size", choices=list(PRESETS), default="tiny")
    c.add_argument("--tokenizer", help="tokenizer folder (default <data>/tokenizers/codegen)")
    c.add_argument("--context", type=int, default=2048)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--out", required=True, help="output Hugging Face folder")
    c.add_argument("--gguf", help="also write a GGUF file here")
    c.add_argument("--outtype", default="f32", choices=OUT_TYPE_NAMES)
    c.set_defaults(func=cmd_create)

    t = sub.add_parser("pretrain", help="causal LM training on text/code files, folders or JSONL (text field)")
    t.add_argument("--data", nargs="+", required=True)
    t.add_argument("--val", nargs="+", help="validation data (default: hold out --val-fraction of the blocks)")
    t.add_argument("--val-fraction", type=float, default=0.05)
    t.add_argument("--max-val", type=int, default=0, help="cap on validation blocks (0: all)")
    t.add_argument("--init", help="start from this model folder instead of a fresh model")
    t.add_argument("--arch", choices=ARCHITECTURES, default="llama")
    t.add_argument("--size", choices=list(PRESETS), default="tiny")
    t.add_argument("--tokenizer")
    t.add_argument("--context", type=int, default=2048)
    t.add_argument("--block", type=int, default=256, help="tokens per training sequence")
    _fim_args(t, "share of documents made fill-in-the-middle examples (adds the FIM tokens)")
    _loop_args(t)
    t.set_defaults(func=cmd_pretrain)

    d = sub.add_parser("distill", help="phase 1: distil a teacher into a student with the same tokenizer")
    d.add_argument("--teacher", required=True, help="teacher model folder")
    d.add_argument("--student", help="student model folder")
    d.add_argument("--student-size", choices=list(PRESETS), help="create a fresh student of this preset instead")
    d.add_argument("--student-arch", choices=ARCHITECTURES)
    d.add_argument("--data", nargs="+", required=True, help="JSONL (prompt/response or text), text files or folders")
    d.add_argument("--val", nargs="+")
    d.add_argument("--val-fraction", type=float, default=0.05)
    d.add_argument("--max-val", type=int, default=0)
    d.add_argument("--loss", choices=["fkl", "rkl"], default="fkl")
    d.add_argument("--ce-weight", type=float, default=0.0, help="add this times the cross-entropy on the data")
    d.add_argument("--max-len", type=int, default=512)
    d.add_argument("--pack", action="store_true", help="join the documents with EOS and cut full rows of --max-len (plain text data; no prompt masks)")
    _fim_args(d, "share of text records made fill-in-the-middle examples (the teacher's tokenizer must have the FIM tokens)")
    _loop_args(d)
    d.set_defaults(func=cmd_distill)

    s = sub.add_parser("security", help="phase 2: LoRA security expert on SVEN pairs")
    s.add_argument("--model", required=True, help="base model folder (the distilled expert)")
    s.add_argument("--sven", help="folder with train/ and val/ cwe-*.jsonl (default <data>/datasets/sven/data_train_val)")
    s.add_argument("--cwes", help="comma-separated CWE ids to use (default all)")
    s.add_argument("--max-train", type=int, default=0, help="use a seeded random subset of this many training pairs")
    s.add_argument("--max-val", type=int, default=0)
    s.add_argument("--kl", choices=["fkl", "rkl"], default="fkl")
    s.add_argument("--kl-weight", type=float, default=1.0)
    s.add_argument("--lora-r", type=int, default=8)
    s.add_argument("--lora-alpha", type=float, default=16)
    s.add_argument("--lora-dropout", type=float, default=0.05)
    s.add_argument("--init-adapter", help="start from this PEFT adapter folder")
    s.add_argument("--max-len", type=int, default=512)
    _loop_args(s)
    s.set_defaults(func=cmd_security, lr=1e-3)

    e = sub.add_parser("export", help="write GGUF: a run checkpoint, a model folder, or a PEFT adapter folder")
    e.add_argument("--run", help="run folder")
    e.add_argument("--checkpoint", default="best", help="latest, best, or step-NNNNNNNN (with --run)")
    e.add_argument("--model", help="Hugging Face model folder")
    e.add_argument("--adapter", help="PEFT LoRA adapter folder (needs --base)")
    e.add_argument("--base", help="base model folder of --adapter")
    e.add_argument("--what", choices=["model", "adapter", "merged"], help="default: adapter for LoRA runs, else model")
    e.add_argument("--outtype", default="f32", choices=OUT_TYPE_NAMES)
    e.add_argument("--out", required=True)
    e.set_defaults(func=cmd_export)
    return p


def main(argv: list[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    if getattr(ns, "threads", 0):
        torch.set_num_threads(ns.threads)
    try:
        return ns.func(ns)
    except (TrainerError, ValueError, FileNotFoundError) as e:
        emit("error", message=str(e))
        log(f"error: {e}")
        return 2


if __name__ == "__main__":
    sys.exit(main())

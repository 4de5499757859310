"""The three training phases as objects the loop drives: pretrain, distill, security."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import torch

from . import losses
from .data import Example, collate
from .errors import TokenizerMismatchError
from .models import load_model, save_model
from .sven import SvenPair, token_mask


def _logits(model, batch) -> torch.Tensor:
    return model(input_ids=batch["input_ids"], attention_mask=batch.get("attention_mask")).logits


def _batches(n: int, size: int):
    for i in range(0, n, size):
        yield list(range(i, min(n, i + size)))


class PretrainPhase:
    """Causal LM on packed blocks."""

    name = "pretrain"

    def __init__(self, model, tokenizer, train_blocks: torch.Tensor, val_blocks: torch.Tensor, eval_batch: int = 8):
        self.model, self.tokenizer = model, tokenizer
        self.train, self.val, self.eval_batch = train_blocks, val_blocks, eval_batch
        self.n_train = len(train_blocks)

    def batch(self, indices):
        return {"input_ids": self.train[indices]}

    def loss(self, model, batch):
        ids = batch["input_ids"]
        logits, labels, _ = losses.shift(ids, model(input_ids=ids).logits, None)
        return losses.masked_ce(logits, labels), labels.numel(), {}

    def evaluate(self, model):
        dev = next(model.parameters()).device
        total, count = 0.0, 0
        for idx in _batches(len(self.val), self.eval_batch):
            ids = self.val[idx].to(dev)
            logits, labels, _ = losses.shift(ids, model(input_ids=ids).logits, None)
            total += float(losses.masked_ce(logits, labels)) * labels.numel()
            count += labels.numel()
        return {"val_loss": total / max(count, 1)}

    def save(self, folder: Path):
        save_model(self.model, self.tokenizer, folder)

    def load(self, folder: Path):
        self.model = load_model(folder)


def check_same_tokenizer(a, b, names=("teacher", "student")) -> None:
    va, vb = a.get_vocab(), b.get_vocab()
    if va == vb:
        return
    ia = {i: t for t, i in va.items()}
    ib = {i: t for t, i in vb.items()}
    first = next((i for i in range(max(len(ia), len(ib))) if ia.get(i) != ib.get(i)), None)
    raise TokenizerMismatchError(
        f"the {names[0]} and {names[1]} tokenizers differ ({len(va)} vs {len(vb)} tokens; first difference at id "
        f"{first}: {ia.get(first)!r} vs {ib.get(first)!r}); distillation needs identical vocabularies"
    )


class DistillPhase:
    """Full fine-tuning of a student towards a frozen teacher: KL (fkl/rkl) + ce_weight * CE."""

    name = "distill"

    def __init__(self, student, teacher, tokenizer, train: list[Example], val: list[Example], kl_kind="fkl", ce_weight=0.0, eval_batch=8):
        if kl_kind not in losses.KL_KINDS:
            raise ValueError(f"unknown --loss {kl_kind!r}; expected one of {', '.join(losses.KL_KINDS)}")
        if student.config.vocab_size != teacher.config.vocab_size:
            raise TokenizerMismatchError(
                f"teacher vocabulary {teacher.config.vocab_size} != student vocabulary {student.config.vocab_size}"
            )
        self.model, self.teacher, self.tokenizer = student, teacher.eval().requires_grad_(False), tokenizer
        self.train, self.val = train, val
        self.kl_kind, self.ce_weight, self.eval_batch = kl_kind, ce_weight, eval_batch
        self.n_train = len(train)
        self.pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    def batch(self, indices):
        return collate([self.train[i] for i in indices], self.pad)

    def _losses(self, model, batch):
        dev = batch["input_ids"].device
        if next(self.teacher.parameters()).device != dev:
            self.teacher.to(dev)
        with torch.no_grad():
            t_logits = _logits(self.teacher, batch)
        s_logits = _logits(model, batch)
        s, labels, mask = losses.shift(batch["input_ids"], s_logits, batch["loss_mask"])
        kl = losses.kl(self.kl_kind, s, t_logits[:, :-1], mask)
        ce = losses.masked_ce(s, labels, mask)
        return kl, ce, int(mask.sum())

    def loss(self, model, batch):
        kl, ce, n = self._losses(model, batch)
        return kl + self.ce_weight * ce, n, {"kl": float(kl.detach()), "ce": float(ce.detach())}

    def evaluate(self, model):
        dev = next(model.parameters()).device
        sums = defaultdict(float)
        count = 0
        for idx in _batches(len(self.val), self.eval_batch):
            batch = {k: v.to(dev) for k, v in collate([self.val[i] for i in idx], self.pad).items()}
            kl, ce, n = self._losses(model, batch)
            sums["kl"] += float(kl) * n
            sums["ce"] += float(ce) * n
            count += n
        kl, ce = sums["kl"] / max(count, 1), sums["ce"] / max(count, 1)
        return {"val_loss": kl + self.ce_weight * ce, "val_kl": kl, "val_ce": ce}

    def save(self, folder: Path):
        save_model(self.model, self.tokenizer, folder)

    def load(self, folder: Path):
        self.model = load_model(folder)


class SecurityPhase:
    """LoRA on SVEN pairs: CE on the tokens the fix changed, plus kl_weight * KL(adapter vs no adapter)
    on the unchanged tokens so the expert keeps the base model's behaviour elsewhere."""

    name = "security"

    def __init__(self, peft_model, tokenizer, train: list[SvenPair], val: list[SvenPair], kl_kind="fkl", kl_weight=1.0, max_len=512, eval_batch=4):
        if kl_kind not in losses.KL_KINDS:
            raise ValueError(f"unknown --kl {kl_kind!r}; expected one of {', '.join(losses.KL_KINDS)}")
        self.model, self.tokenizer = peft_model, tokenizer
        self.kl_kind, self.kl_weight, self.eval_batch = kl_kind, kl_weight, eval_batch
        self.train = [self._example(p, max_len) for p in train]
        self.val = [(p.cwe, self._example(p, max_len)) for p in val]
        self.n_train = len(self.train)
        self.pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    def _example(self, pair: SvenPair, max_len: int) -> Example:
        ids, changed = token_mask(self.tokenizer, pair, max_len)
        return Example(ids, changed)

    def batch(self, indices):
        return collate([self.train[i] for i in indices], self.pad)

    def _parts(self, model, batch):
        """Per-sequence CE (changed tokens) and KL (unchanged tokens) sums and counts."""
        inner = model.module if hasattr(model, "module") and not hasattr(model, "disable_adapter") else model
        with torch.no_grad(), inner.disable_adapter():
            ref = _logits(inner, batch)[:, :-1]
        logits, labels, changed = losses.shift(batch["input_ids"], _logits(model, batch), batch["loss_mask"])
        valid = batch["attention_mask"][:, 1:]
        unchanged = valid * (1 - changed)
        return logits, labels, changed, unchanged, ref

    def loss(self, model, batch):
        logits, labels, changed, unchanged, ref = self._parts(model, batch)
        ce = losses.masked_ce(logits, labels, changed)
        kl = losses.kl(self.kl_kind, logits, ref, unchanged)
        return ce + self.kl_weight * kl, int(batch["attention_mask"].sum()), {"ce": float(ce.detach()), "kl": float(kl.detach())}

    def evaluate(self, model):
        dev = next(model.parameters()).device
        per_cwe: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])  # ce sum, ce n, kl sum, kl n
        for idx in _batches(len(self.val), self.eval_batch):
            items = [self.val[i] for i in idx]
            batch = {k: v.to(dev) for k, v in collate([e for _, e in items], self.pad).items()}
            logits, labels, changed, unchanged, ref = self._parts(model, batch)
            for row, (cwe, _) in enumerate(items):
                acc = per_cwe[cwe]
                c, u = changed[row : row + 1], unchanged[row : row + 1]
                acc[0] += float(losses.masked_ce(logits[row : row + 1], labels[row : row + 1], c)) * float(c.sum())
                acc[1] += float(c.sum())
                acc[2] += float(losses.kl(self.kl_kind, logits[row : row + 1], ref[row : row + 1], u)) * float(u.sum())
                acc[3] += float(u.sum())
        out: dict = {"per_cwe": {}}
        for cwe, (ces, cen, kls, kln) in sorted(per_cwe.items()):
            ce, kl = ces / max(cen, 1), kls / max(kln, 1)
            out["per_cwe"][cwe] = {"val_loss": ce + self.kl_weight * kl, "ce": ce, "kl": kl}
        vals = [v["val_loss"] for v in out["per_cwe"].values()]
        out["val_loss"] = sum(vals) / max(len(vals), 1)  # CWEs weigh equally whatever their size
        return out

    def save(self, folder: Path):
        self.model.save_pretrained(str(folder))

    def load(self, folder: Path):
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        set_peft_model_state_dict(self.model, load_file(str(folder / "adapter_model.safetensors")))

"""Token-level losses. Every function takes logits already aligned with their targets
(logits[:, t] predicts token t+1, so callers pass logits[:, :-1] and ids[:, 1:]) and a 0/1 mask
choosing the positions that count; the result is the mean over masked positions (0 if none)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

KL_KINDS = ("fkl", "rkl")


def _masked_mean(per_token: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    if mask is None:
        return per_token.mean()
    m = mask.to(per_token.dtype)
    return (per_token * m).sum() / m.sum().clamp_min(1.0)


def masked_ce(logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy -log p(label)."""
    per_token = F.cross_entropy(logits.float().flatten(0, -2), labels.flatten(), reduction="none").view(labels.shape)
    return _masked_mean(per_token, mask)


def forward_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """KL(p_teacher || p_student) = sum_v p_t (log p_t - log p_s): mode-covering."""
    log_s = F.log_softmax(student_logits.float(), dim=-1)
    log_t = F.log_softmax(teacher_logits.float(), dim=-1)
    per_token = (log_t.exp() * (log_t - log_s)).sum(-1)
    return _masked_mean(per_token, mask)


def reverse_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """KL(p_student || p_teacher) = sum_v p_s (log p_s - log p_t): mode-seeking."""
    log_s = F.log_softmax(student_logits.float(), dim=-1)
    log_t = F.log_softmax(teacher_logits.float(), dim=-1)
    per_token = (log_s.exp() * (log_s - log_t)).sum(-1)
    return _masked_mean(per_token, mask)


def kl(kind: str, student_logits, teacher_logits, mask=None) -> torch.Tensor:
    if kind == "fkl":
        return forward_kl(student_logits, teacher_logits, mask)
    if kind == "rkl":
        return reverse_kl(student_logits, teacher_logits, mask)
    raise ValueError(f"unknown KL kind {kind!r}; expected one of {', '.join(KL_KINDS)}")


def shift(ids: torch.Tensor, logits: torch.Tensor, mask: torch.Tensor | None):
    """Align next-token predictions with their targets."""
    return logits[:, :-1], ids[:, 1:], (mask[:, 1:] if mask is not None else None)

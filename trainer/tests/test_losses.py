"""Losses against values computed by hand on 2-token vocabularies."""
import math

import pytest
import torch

from cosec_trainer import losses

# student p = [.5, .5]; teacher p = [.75, .25]
S = torch.tensor([[[0.0, 0.0]]])
T = torch.tensor([[[math.log(3.0), 0.0]]])


def test_forward_kl_by_hand():
    want = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)  # 0.130812
    assert losses.forward_kl(S, T).item() == pytest.approx(want, abs=1e-6)
    assert losses.kl("fkl", S, T).item() == pytest.approx(0.130812, abs=1e-6)


def test_reverse_kl_by_hand():
    want = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)  # 0.143841
    assert losses.reverse_kl(S, T).item() == pytest.approx(want, abs=1e-6)
    assert losses.kl("rkl", S, T).item() == pytest.approx(0.143841, abs=1e-6)


def test_kl_zero_for_equal_and_rejects_unknown():
    assert losses.forward_kl(T, T).item() == pytest.approx(0.0, abs=1e-7)
    with pytest.raises(ValueError, match="unknown KL"):
        losses.kl("js", S, T)


def test_masked_ce_by_hand():
    logits = torch.tensor([[[0.0, 0.0], [math.log(3.0), 0.0], [50.0, -50.0]]])
    labels = torch.tensor([[0, 1, 1]])
    # position 0: -ln .5; position 1: -ln .25; position 2 (masked out) would be 100
    mask = torch.tensor([[1, 1, 0]])
    want = (math.log(2) + math.log(4)) / 2
    assert losses.masked_ce(logits, labels, mask).item() == pytest.approx(want, abs=1e-6)
    assert losses.masked_ce(logits, labels).item() == pytest.approx((math.log(2) + math.log(4) + 100) / 3, rel=1e-5)


def test_kl_masking_ignores_masked_positions():
    s = torch.tensor([[[0.0, 0.0], [30.0, -30.0]]])
    t = torch.tensor([[[math.log(3.0), 0.0], [-30.0, 30.0]]])
    mask = torch.tensor([[1, 0]])
    assert losses.forward_kl(s, t, mask).item() == pytest.approx(0.130812, abs=1e-6)
    assert losses.reverse_kl(s, t, mask).item() == pytest.approx(0.143841, abs=1e-6)
    # an all-zero mask gives 0, not NaN
    assert losses.forward_kl(s, t, torch.zeros(1, 2)).item() == 0.0


def test_shift_aligns_predictions():
    ids = torch.tensor([[5, 6, 7]])
    logits = torch.arange(3 * 4, dtype=torch.float).view(1, 3, 4)
    mask = torch.tensor([[0, 1, 1]])
    l, y, m = losses.shift(ids, logits, mask)
    assert l.shape == (1, 2, 4) and y.tolist() == [[6, 7]] and m.tolist() == [[1, 1]]


def test_gradients_flow_to_student_only():
    s = S.clone().requires_grad_(True)
    t = T.clone().requires_grad_(True)
    losses.forward_kl(s, t.detach()).backward()
    assert s.grad is not None and s.grad.abs().sum() > 0

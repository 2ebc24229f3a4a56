import math

import pytest
import torch

from gankit.losses import d_minimax, fake_term, g_nonsaturating, g_saturating, real_term
from gankit.registry import LOSSES

LOGITS = torch.tensor([-3.0, -0.5, 0.0, 0.7, 2.5], dtype=torch.float64)


def direct_sigmoid(x):
    return 1 / (1 + torch.exp(-x))


def test_at_zero_logits_the_losses_are_log2_multiples():
    zero = torch.zeros(4)
    assert d_minimax(zero, zero).item() == pytest.approx(2 * math.log(2), abs=1e-6)
    assert g_nonsaturating(zero).item() == pytest.approx(math.log(2), abs=1e-6)
    assert g_saturating(zero).item() == pytest.approx(-math.log(2), abs=1e-6)


def test_minimax_d_loss_matches_the_tutorial_formula():
    logits_real, logits_fake = LOGITS, LOGITS.flip(0)
    d_real, d_fake = direct_sigmoid(logits_real), direct_sigmoid(logits_fake)
    expected = (-torch.log(d_real)).mean() + (-torch.log(1 - d_fake)).mean()
    assert d_minimax(logits_real, logits_fake).item() == pytest.approx(expected.item(), abs=1e-12)


def test_generator_losses_match_closed_forms():
    d_fake = direct_sigmoid(LOGITS)
    assert g_nonsaturating(LOGITS).item() == pytest.approx((-torch.log(d_fake)).mean().item(), abs=1e-12)
    assert g_saturating(LOGITS).item() == pytest.approx(torch.log(1 - d_fake).mean().item(), abs=1e-12)


def test_terms_do_not_overflow_for_huge_logits():
    big = torch.tensor([100.0, -100.0])
    assert torch.allclose(fake_term(big), torch.tensor([100.0, 0.0]), atol=1e-6)
    assert torch.allclose(real_term(big), torch.tensor([0.0, 100.0]), atol=1e-6)


def test_saturating_loss_vanishes_where_the_non_saturating_one_does_not():
    # D confidently rejects the fake (logit -8): log(1 - D) has gradient -sigmoid(l) ~ 0, -log D has ~ -1
    logit = torch.tensor([-8.0], requires_grad=True)
    (grad_sat,) = torch.autograd.grad(g_saturating(logit), logit)
    (grad_ns,) = torch.autograd.grad(g_nonsaturating(logit), logit)
    assert abs(grad_sat.item()) == pytest.approx(torch.sigmoid(torch.tensor(-8.0)).item(), abs=1e-9)
    assert grad_ns.item() == pytest.approx(-(1 - torch.sigmoid(torch.tensor(-8.0))).item(), abs=1e-6)


def test_registry_pairs():
    assert LOSSES.get("minimax").g is g_saturating
    assert LOSSES.get("non-saturating").g is g_nonsaturating
    assert LOSSES.get("minimax").d is d_minimax

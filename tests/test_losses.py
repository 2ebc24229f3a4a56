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


def test_hinge_wasserstein_least_squares_closed_forms():
    from gankit.losses import d_hinge, d_least_squares, d_wasserstein, g_critic, g_least_squares

    logits_real, logits_fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.5])
    assert d_hinge(logits_real, logits_fake).item() == pytest.approx(0.25 + 0.75, abs=1e-7)
    assert d_wasserstein(logits_real, logits_fake).item() == pytest.approx(-0.75 - 1.25, abs=1e-7)
    assert g_critic(logits_fake).item() == pytest.approx(0.75, abs=1e-7)
    # 1/2 mean((2-1)^2, (0.5-1)^2) + 1/2 mean(4, 0.25)
    assert d_least_squares(logits_real, logits_fake).item() == pytest.approx(0.5 * 0.625 + 0.5 * 2.125, abs=1e-7)
    assert g_least_squares(logits_fake).item() == pytest.approx(0.5 * (9 + 0.25) / 2, abs=1e-7)
    assert not LOSSES.get("hinge").probabilistic and LOSSES.get("non-saturating").probabilistic


class Linear:
    """D(x) = <w, x>: its input gradient is w everywhere."""

    def __init__(self, w):
        self.w = w

    def __call__(self, x, c=None):
        return (x.flatten(1) * self.w).sum(1)


def test_gradient_penalty_is_zero_for_a_unit_norm_critic_and_known_for_a_linear_one():
    from gankit.losses import gradient_penalty

    real, fake = torch.randn(6, 1, 2, 2), torch.randn(6, 1, 2, 2)
    alpha = torch.rand(6)
    unit = torch.tensor([0.5, 0.5, 0.5, 0.5])  # norm 1
    assert gradient_penalty(Linear(unit), real, fake, alpha).item() == pytest.approx(0.0, abs=1e-10)
    assert gradient_penalty(Linear(3 * unit), real, fake, alpha).item() == pytest.approx(4.0, abs=1e-5)


def test_gradient_penalty_uses_one_weight_per_sample_between_real_and_fake():
    from gankit.losses import gradient_penalty

    def half_square(x, c=None):  # gradient x: its norm at x_hat = 2 * alpha * e1 is 2 * alpha
        return 0.5 * x.flatten(1).pow(2).sum(1)

    real = torch.zeros(3, 1, 1, 2)
    real[:, 0, 0, 0] = 2.0
    fake = torch.zeros(3, 1, 1, 2)
    value = gradient_penalty(half_square, real, fake, torch.tensor([0.0, 0.5, 1.0]))
    assert value.item() == pytest.approx((1 + 0 + 1) / 3, abs=1e-6)


def test_r1_on_a_quadratic_discriminator():
    from gankit.losses import r1_penalty

    real = torch.tensor([[1.0, 2.0], [0.0, 3.0]])

    def quadratic(x, c=None):  # D = 1.5 ||x||^2, gradient 3x, squared norm 9 ||x||^2
        return 1.5 * x.pow(2).sum(1)

    assert r1_penalty(quadratic, real).item() == pytest.approx(9 * (5 + 9) / 2, abs=1e-4)
    x = real.clone().requires_grad_(True)  # the penalty is differentiable in D's parameters via create_graph
    scale = torch.tensor(1.5, requires_grad=True)
    penalty = r1_penalty(lambda v, c=None: scale * v.pow(2).sum(1), x)
    (grad,) = torch.autograd.grad(penalty, scale)
    assert grad.item() == pytest.approx(2 * 4 * 1.5 * (5 + 9) / 2, abs=1e-3)  # d/ds of 4 s^2 mean||x||^2

"""Adversarial losses and penalties as small pure functions on discriminator outputs.

D outputs a logit l; D(x) = sigmoid(l). The log-probabilities are written with softplus, which is exact
and never overflows:  -log D(x) = softplus(-l)   and   -log(1 - D(x)) = softplus(l).
The real=1 / fake=0 convention lives in `real_term` and `fake_term` alone.

Goodfellow et al. 2014, "Generative Adversarial Nets" (https://arxiv.org/abs/1406.2661): the minimax game
L_D = -log D(x) - log(1 - D(G(z))), G minimising log(1 - D(G(z))) (saturating), or the non-saturating
L_G = -log D(G(z)) that the paper recommends in practice.
Hinge: Lim & Ye 2017 (https://arxiv.org/abs/1705.02894), Miyato et al. 2018. Wasserstein: Arjovsky et al. 2017
(https://arxiv.org/abs/1701.07875). Least squares: Mao et al. 2017 (https://arxiv.org/abs/1611.04076), a=0, b=c=1.
Gradient penalty: Gulrajani et al. 2017 (https://arxiv.org/abs/1704.00028). R1: Mescheder et al. 2018
(https://arxiv.org/abs/1801.04406).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from .registry import LOSSES

Tensor = torch.Tensor


def real_term(logits: Tensor) -> Tensor:
    """-log D(x): the cost of calling a sample real, per sample."""
    return F.softplus(-logits)


def fake_term(logits: Tensor) -> Tensor:
    """-log(1 - D(x)): the cost of calling a sample fake, per sample."""
    return F.softplus(logits)


def d_minimax(logits_real: Tensor, logits_fake: Tensor) -> Tensor:
    """L_D = E[-log D(x)] + E[-log(1 - D(G(z)))]."""
    return real_term(logits_real).mean() + fake_term(logits_fake).mean()


def g_saturating(logits_fake: Tensor) -> Tensor:
    """L_G = E[log(1 - D(G(z)))], the generator's side of the original minimax game."""
    return -fake_term(logits_fake).mean()


def g_nonsaturating(logits_fake: Tensor) -> Tensor:
    """L_G = E[-log D(G(z))]: same fixed point, strong gradients when D rejects the fakes."""
    return real_term(logits_fake).mean()


def d_hinge(logits_real: Tensor, logits_fake: Tensor) -> Tensor:
    """L_D = E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]."""
    return F.relu(1 - logits_real).mean() + F.relu(1 + logits_fake).mean()


def g_critic(logits_fake: Tensor) -> Tensor:
    """L_G = -E[D(G(z))]: the generator side of the hinge and Wasserstein losses."""
    return -logits_fake.mean()


def d_wasserstein(logits_real: Tensor, logits_fake: Tensor) -> Tensor:
    """L_D = E[D(G(z))] - E[D(x)]: the critic maximises the gap between real and fake scores."""
    return logits_fake.mean() - logits_real.mean()


def d_least_squares(logits_real: Tensor, logits_fake: Tensor) -> Tensor:
    """L_D = 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]."""
    return 0.5 * (logits_real - 1).pow(2).mean() + 0.5 * logits_fake.pow(2).mean()


def g_least_squares(logits_fake: Tensor) -> Tensor:
    """L_G = 1/2 E[(D(G(z)) - 1)^2]."""
    return 0.5 * (logits_fake - 1).pow(2).mean()


@dataclass(frozen=True)
class AdversarialLoss:
    """A pair of loss functions: d(logits_real, logits_fake) and g(logits_fake).

    `probabilistic`: D's output is a logit of P(real), so sigmoid(output) is a meaningful D(x) to log.
    """

    d: Callable[[Tensor, Tensor], Tensor]
    g: Callable[[Tensor], Tensor]
    probabilistic: bool = True


LOSSES.register("minimax", "the original game: L_D = -log D(x) - log(1-D(G(z))), G minimises log(1-D(G(z)))")(
    AdversarialLoss(d_minimax, g_saturating))
LOSSES.register("non-saturating", "L_D as minimax, L_G = -log D(G(z)) (the tutorial's and the paper's choice)")(
    AdversarialLoss(d_minimax, g_nonsaturating))
LOSSES.register("hinge", "hinge: L_D = E[relu(1 - D(x))] + E[relu(1 + D(G(z)))], L_G = -E[D(G(z))]")(
    AdversarialLoss(d_hinge, g_critic, probabilistic=False))
LOSSES.register("wasserstein", "Wasserstein critic: L_D = E[D(G(z))] - E[D(x)], L_G = -E[D(G(z))] (use with clipping or GP)")(
    AdversarialLoss(d_wasserstein, g_critic, probabilistic=False))
LOSSES.register("least-squares", "LSGAN: L_D = (D(x)-1)^2/2 + D(G(z))^2/2, L_G = (D(G(z))-1)^2/2")(
    AdversarialLoss(d_least_squares, g_least_squares, probabilistic=False))


# ---------------------------------------------------------------- penalties on D


def _input_gradients(D: Callable[..., Tensor], x: Tensor, c: Tensor | None) -> Tensor:
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x, c).sum(), x, create_graph=True)
    return grad.flatten(1)  # [N, C*H*W]


def gradient_penalty(D: Callable[..., Tensor], real: Tensor, fake: Tensor, alpha: Tensor,
                     c: Tensor | None = None) -> Tensor:
    """E[(||grad D(x_hat)||_2 - 1)^2] at x_hat = alpha * real + (1 - alpha) * fake.

    `alpha` holds one interpolation weight per sample, drawn from U[0, 1] by the caller, shape [N].
    """
    alpha = alpha.view(-1, *([1] * (real.dim() - 1))).to(real.dtype)
    x_hat = alpha * real.detach() + (1 - alpha) * fake.detach()
    return (_input_gradients(D, x_hat, c).norm(2, dim=1) - 1).pow(2).mean()


def r1_penalty(D: Callable[..., Tensor], real: Tensor, c: Tensor | None = None) -> Tensor:
    """E[||grad D(x)||_2^2] on real data (multiply by gamma / 2 for the usual R1 term)."""
    return _input_gradients(D, real, c).pow(2).sum(1).mean()

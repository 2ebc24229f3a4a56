"""Adversarial losses as small pure functions on discriminator logits.

D outputs a logit l; D(x) = sigmoid(l). The log-probabilities are written with softplus, which is exact
and never overflows:  -log D(x) = softplus(-l)   and   -log(1 - D(x)) = softplus(l).
The real=1 / fake=0 convention lives in `real_term` and `fake_term` alone.

Goodfellow et al. 2014, "Generative Adversarial Nets" (https://arxiv.org/abs/1406.2661): the minimax game
L_D = -log D(x) - log(1 - D(G(z))), G minimising log(1 - D(G(z))) (saturating), or the non-saturating
L_G = -log D(G(z)) that the paper recommends in practice.
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


@dataclass(frozen=True)
class AdversarialLoss:
    """A pair of loss functions: d(logits_real, logits_fake) and g(logits_fake)."""

    d: Callable[[Tensor, Tensor], Tensor]
    g: Callable[[Tensor], Tensor]


LOSSES.register("minimax", "the original game: L_D = -log D(x) - log(1-D(G(z))), G minimises log(1-D(G(z)))")(
    AdversarialLoss(d_minimax, g_saturating))
LOSSES.register("non-saturating", "L_D as minimax, L_G = -log D(G(z)) (the tutorial's and the paper's choice)")(
    AdversarialLoss(d_minimax, g_nonsaturating))

"""Exponential moving average of the generator's weights (Karras et al. 2018, https://arxiv.org/abs/1710.10196;
half-life in images with a ramp-up as in StyleGAN2-ADA, https://arxiv.org/abs/2006.06676).
"""
from __future__ import annotations

import copy

import torch
import torch.nn as nn


def ema_beta(batch_size: int, halflife_kimg: float, images_seen: int, rampup: float) -> float:
    """Per-step decay: the average forgets half its weight every `halflife` images.

    With ramp-up the half-life is at most `rampup` x images seen so far, so early (poor) weights fade fast.
    """
    halflife_images = halflife_kimg * 1000
    if rampup > 0:
        halflife_images = min(halflife_images, images_seen * rampup)
    if halflife_images <= 0:
        return 0.0
    return 0.5 ** (batch_size / halflife_images)


class EMA:
    """A frozen copy of a module whose parameters track an exponential moving average of the original's."""

    def __init__(self, module: nn.Module):
        self.module = copy.deepcopy(module).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, source: nn.Module, beta: float) -> None:
        ema_params = list(self.module.parameters())
        torch._foreach_lerp_(ema_params, [p.detach() for p in source.parameters()], 1.0 - beta)
        for ema_buffer, buffer in zip(self.module.buffers(), source.buffers()):
            ema_buffer.copy_(buffer)  # BatchNorm statistics are copied, not averaged

    def state_dict(self) -> dict:
        return self.module.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state)

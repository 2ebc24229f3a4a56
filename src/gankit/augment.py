"""DiffAugment: differentiable augmentations applied to every image D sees, real and fake alike
(Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training", https://arxiv.org/abs/2006.10738).

Policies: color (brightness, saturation, contrast), translation (up to 1/8 of the side, zero fill), cutout
(one square of half the side set to zero). Random draws come from the step's StepContext (`rng`), so
training stays exactly repeatable and resumable.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .errors import GankitError


def color(x: torch.Tensor, rng) -> torch.Tensor:
    n = len(x)
    x = x + (rng.rand(n, 1, 1, 1).to(x.dtype) - 0.5)                       # brightness
    mean = x.mean(1, keepdim=True)
    x = (x - mean) * (rng.rand(n, 1, 1, 1).to(x.dtype) * 2) + mean         # saturation
    mean = x.mean((1, 2, 3), keepdim=True)
    return (x - mean) * (rng.rand(n, 1, 1, 1).to(x.dtype) + 0.5) + mean   # contrast


def translation(x: torch.Tensor, rng, ratio: float = 0.125) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    shift_y = rng.randint(-sh, sh + 1, n, 1, 1)
    shift_x = rng.randint(-sw, sw + 1, n, 1, 1)
    grid_y = (torch.arange(h, device=x.device).view(1, h, 1) + shift_y + 1).clamp(0, h + 1)  # [N, H, 1]
    grid_x = (torch.arange(w, device=x.device).view(1, 1, w) + shift_x + 1).clamp(0, w + 1)  # [N, 1, W]
    padded = F.pad(x, (1, 1, 1, 1))  # out-of-range reads land on the zero border
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    return padded.permute(0, 2, 3, 1)[batch, grid_y, grid_x].permute(0, 3, 1, 2).contiguous()


def cutout(x: torch.Tensor, rng, ratio: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = rng.randint(0, h + (1 - ch % 2), n, 1, 1) - ch // 2
    left = rng.randint(0, w + (1 - cw % 2), n, 1, 1) - cw // 2
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)  # [N, H, W]
    return x * (~inside).unsqueeze(1).to(x.dtype)


POLICIES = {"color": color, "translation": translation, "cutout": cutout}


def parse_policy(policy: str) -> list[str]:
    names = [p.strip() for p in policy.split(",") if p.strip()]
    unknown = [p for p in names if p not in POLICIES]
    if unknown:
        raise GankitError(f"unknown DiffAugment policy '{unknown[0]}'; valid: {', '.join(POLICIES)}")
    return names


def diff_augment(x: torch.Tensor, policy: list[str], rng) -> torch.Tensor:
    """Apply the policy's augmentations in order; an empty policy returns x itself.

    `rng` draws per-sample randomness: rand(n, *rest) and randint(low, high, n, *rest) (a StepContext).
    """
    for name in policy:
        x = POLICIES[name](x, rng)
    return x

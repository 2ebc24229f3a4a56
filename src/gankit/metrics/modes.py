"""Mode-collapse scores for the synthetic benchmarks, as pure functions.

2-D mixtures (the protocol of VEEGAN, https://arxiv.org/abs/1705.07761, and PacGAN): a sample is of high
quality when it lies within 3 sigma of its nearest mode; a mode is captured when it is the nearest mode of
at least one high-quality sample; reverse KL compares the histogram of nearest modes of all samples with
the uniform distribution over modes.
Stacked MNIST: each channel is classified by the bundled MNIST classifier; the three digits name one of
1,000 modes; report modes covered and KL(histogram || uniform).
"""
from __future__ import annotations

import numpy as np
import torch


def _kl_to_uniform(counts: np.ndarray) -> float:
    p = counts / counts.sum()
    nonzero = p > 0
    return float((p[nonzero] * np.log(p[nonzero] * len(counts))).sum())


def mixture_scores(points: torch.Tensor, means: torch.Tensor, sigma: float, hq_sigmas: float = 3.0) -> dict:
    """modes captured, % high-quality samples and reverse KL for 2-D samples [N, 2]."""
    distances = torch.cdist(points.double().cpu(), means.double())  # [N, K]
    nearest_distance, nearest = distances.min(1)
    high_quality = nearest_distance <= hq_sigmas * sigma
    counts = np.bincount(nearest.numpy(), minlength=len(means))
    return {"modes": int(torch.unique(nearest[high_quality]).numel()),
            "high_quality_pct": float(high_quality.double().mean() * 100),
            "reverse_kl": _kl_to_uniform(counts), "num_modes": len(means)}


def stacked_digit_modes(digits: np.ndarray) -> dict:
    """digits [N, 3] (per-channel classes) -> modes covered of 1,000 and KL to uniform."""
    modes = digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]
    counts = np.bincount(modes, minlength=1000)
    return {"modes": int((counts > 0).sum()), "kl_to_uniform": _kl_to_uniform(counts), "num_modes": 1000}

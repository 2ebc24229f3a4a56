"""k-means clusters of training examples, the labels of a self-conditioned GAN.

A GAN conditioned on clusters of its data learns each cluster as its own, simpler distribution, and samples the
whole by drawing clusters as often as the data holds them; no labels are needed (Lucic et al. 2019,
https://arxiv.org/abs/1903.02271; Liu et al. 2020, https://arxiv.org/abs/2004.03355). Clusters are found once,
by Lloyd's k-means on the examples' values. Written with matrix products rather than taken from SciPy's kmeans2,
which needs about ten times as long for 60,000 MNIST digits and 50 clusters.
"""
from __future__ import annotations

import torch

MAX_FIT = 60_000  # examples per class the centroids are fitted on (callers take a seeded subset of more)
CHUNK = 8192  # examples per distance computation: bounds the memory of the [chunk, k] distance matrix


def flat(x: torch.Tensor) -> torch.Tensor:
    """Examples as float rows [N, D]."""
    return x.reshape(len(x), -1).float()


def distances(x: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """|x - c|^2 - |x|^2 for rows x [N, ...] and centroids [K, D] -> [N, K]: the order of the squared distances
    (|x|^2 is the same for every centroid, so it is left out). Always in fp32, also under bf16 autocast: the fit
    and every assignment measure alike (bf16 products would send near-ties to a neighbouring centroid)."""
    with torch.autocast(x.device.type, enabled=False):
        return centroids.square().sum(1) - 2 * flat(x) @ centroids.T


def nearest(x: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """Index of each row's nearest centroid: x [N, D], centroids [K, D] -> [N] int64."""
    return torch.cat([distances(chunk, centroids).argmin(1) for chunk in x.split(CHUNK)])


def kmeans(x: torch.Tensor, k: int, generator: torch.Generator, iterations: int = 30) -> torch.Tensor:
    """Centroids [k, D] of rows x [N, D] (N >= k): k distinct examples to start, then Lloyd's iterations until no
    example changes cluster. A cluster that loses all its examples keeps its centroid."""
    x = flat(x)
    centroids = x[torch.randperm(len(x), generator=generator)[:k].to(x.device)].clone()
    assigned = None
    for _ in range(iterations):
        new = nearest(x, centroids)
        if assigned is not None and torch.equal(new, assigned):
            break
        assigned = new
        sums = torch.zeros_like(centroids).index_add_(0, assigned, x)
        counts = torch.bincount(assigned, minlength=k)
        filled = counts > 0
        centroids[filled] = sums[filled] / counts[filled, None]
    return centroids

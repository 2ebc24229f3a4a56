"""Synthetic data: 2-D mixtures of Gaussians (the mode-collapse benchmarks of the Unrolled GAN, VEEGAN and
PacGAN papers) and random images for speed tests.

ring: 8 Gaussians on a circle of radius 1 (means at k * 2 pi / 8), sigma 0.01.
grid: 25 Gaussians at {-4, -2, 0, 2, 4}^2, sigma 0.05.
"""
from __future__ import annotations

import math
import torch

from ..config import DataConfig
from ..registry import DATASETS
from .base import ArrayData, ImageData

DEFAULT_POINTS = 100_000


def ring_means(modes: int = 8, radius: float = 1.0) -> torch.Tensor:
    angles = torch.arange(modes, dtype=torch.float64) * 2 * math.pi / modes
    return (radius * torch.stack([angles.cos(), angles.sin()], 1)).float()  # [modes, 2]


def grid_means(values: tuple[float, ...] = (-4, -2, 0, 2, 4)) -> torch.Tensor:
    v = torch.tensor(values, dtype=torch.float32)
    return torch.cartesian_prod(v, v)  # [25, 2]


def mixture(means: torch.Tensor, sigma: float, n: int, seed: int) -> torch.Tensor:
    """n points from an equal-weight mixture of isotropic Gaussians."""
    generator = torch.Generator().manual_seed(seed)
    which = torch.randint(0, len(means), (n,), generator=generator)
    return means[which] + sigma * torch.randn(n, 2, generator=generator)


MIXTURES = {"ring": (ring_means, 0.01), "grid": (grid_means, 0.05)}


def load_mixture(name: str, cfg: DataConfig) -> ArrayData:
    """Field `points` float [N, 2]; `info` holds the mixture's means and sigma for the modes protocol."""
    make_means, sigma = MIXTURES[name]
    means = make_means()
    points = mixture(means, sigma, cfg.limit or DEFAULT_POINTS, seed=0)
    return ArrayData({"points": points}, {"points": "points"}, name, protocol="points-modes",
                     info={"means": means, "sigma": sigma})


@DATASETS.register("ring", "2-D benchmark: 8 Gaussians on a circle of radius 1, sigma 0.01 (100k points)")
def load_ring(cfg: DataConfig) -> ArrayData:
    return load_mixture("ring", cfg)


@DATASETS.register("grid", "2-D benchmark: 25 Gaussians on {-4,-2,0,2,4}^2, sigma 0.05 (100k points)")
def load_grid(cfg: DataConfig) -> ArrayData:
    return load_mixture("grid", cfg)


@DATASETS.register("random-images", "uniform random uint8 images (data.resolution, data.channels; 10k): for speed tests")
def load_random_images(cfg: DataConfig) -> ArrayData:
    side, channels = cfg.resolution or 64, cfg.channels or 3
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (cfg.limit or 10_000, channels, side, side), generator=generator, dtype=torch.uint8)
    return ImageData(images, None, (), "random-images")

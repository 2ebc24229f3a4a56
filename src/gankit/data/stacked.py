"""Stacked MNIST: three MNIST digits as the R, G and B channels of one image, 1,000 modes
(Metz et al. 2017, https://arxiv.org/abs/1611.02163; VEEGAN; PacGAN, https://arxiv.org/abs/1712.04086).
"""
from __future__ import annotations

import numpy as np
import torch

from ..config import DataConfig
from ..registry import DATASETS
from .base import ImageData, fit_images
from .mnist import _check_split, bundled_mnist

DEFAULT_IMAGES = 100_000


@DATASETS.register("stacked-mnist", "three MNIST digits stacked as RGB channels: 1,000 modes, 100k images, 28x28x3")
def load_stacked_mnist(cfg: DataConfig):
    _check_split(cfg.split)
    arrays = bundled_mnist()
    x = arrays[f"x_{cfg.split}"]
    rng = np.random.default_rng(0 if cfg.split == "train" else 1)
    index = rng.integers(0, len(x), size=(cfg.limit or DEFAULT_IMAGES, 3))  # [N, 3] digits per image
    images = fit_images(torch.from_numpy(x[index]), cfg.resolution, 0)  # [N, 3, 28, 28]
    return ImageData(images, None, (), "stacked-mnist", protocol="stacked-modes")

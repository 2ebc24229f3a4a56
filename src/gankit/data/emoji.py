"""Colour emoji bundled with gankit: the 1,360 single-code-point emoji of Noto Color Emoji (Google, SIL Open Font
License 1.1), rendered on white at 64x64 by scripts/render_emoji.py (assets/emoji.npz.xz; attribution in
assets/EMOJI-NOTICE.txt). A small, colourful set for GANs on little data (StyleGAN2 with ADA).

There is no held-out split: 1,360 pictures are few, and the test split is the same pictures, so that FID
compares a model with the set it learned, as the ADA paper does for its small datasets.
"""
from __future__ import annotations

import functools
import io
import lzma
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from ..config import DataConfig
from ..errors import GankitError
from ..registry import DATASETS
from .base import ImageData, fit_images


def bundled_path() -> Path:
    return Path(str(resources.files("gankit") / "data" / "assets" / "emoji.npz.xz"))


@functools.lru_cache(maxsize=1)
def bundled_emoji() -> dict[str, np.ndarray]:
    """codes int32 [N] (each emoji's code point) and images uint8 [N, 64, 64, 3]."""
    with lzma.open(bundled_path()) as packed, np.load(io.BytesIO(packed.read())) as f:
        return {k: f[k] for k in ("codes", "images")}


@DATASETS.register("emoji", "1,360 colour emoji (Noto Color Emoji, OFL) on white, 64x64 RGB; data.resolution=32 "
                            "shrinks them; the test split is the same pictures")
def load_emoji(cfg: DataConfig):
    if cfg.split not in ("train", "test"):
        raise GankitError(f"emoji has splits train and test (the same pictures), not '{cfg.split}'")
    arrays = bundled_emoji()
    images = torch.from_numpy(np.ascontiguousarray(arrays["images"])).permute(0, 3, 1, 2).contiguous()
    if cfg.limit:
        images = images[:cfg.limit]
    data = ImageData(fit_images(images, cfg.resolution, cfg.channels), name="emoji", protocol="image-fid")
    data.info = {"codes": arrays["codes"][:len(images)].tolist()}
    return data

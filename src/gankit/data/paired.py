"""Paired image data for image-to-image GANs, made from the bundled MNIST (no network).

mnist-sr       7x7 digits (bicubic x4 downsampling, antialiased) -> the 28x28 originals: fields lr, hr, label
mnist-inpaint  28x28 digits with a hole: fields image, label and mask (1 inside the hole). Holes are drawn
               with each batch from the trainer's generator: a random rectangle of 8-14 px a side, or (one time
               in four) the centre 14x14 square
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..config import DataConfig
from ..draws import Draws
from ..errors import GankitError
from ..registry import DATASETS
from .base import ArrayData, Batch, Field
from .mnist import load_mnist

SR_SCALE = 4
HOLE_MIN, HOLE_MAX = 8, 14  # sides of the random rectangles, in pixels
CENTRE_HOLE = 14            # the centre square's side
CENTRE_SHARE = 0.25         # the share of holes that are the centre square


def downscale(images: torch.Tensor, factor: int) -> torch.Tensor:
    """uint8 [N, C, H, W] -> uint8 [N, C, H/factor, W/factor], bicubic with antialiasing (as PIL's resize)."""
    side = images.shape[-1] // factor
    out = [F.interpolate(chunk.float(), size=(side, side), mode="bicubic", antialias=True, align_corners=False)
           for chunk in images.split(4096)]
    return torch.cat(out).round_().clamp_(0, 255).to(torch.uint8)


@DATASETS.register("mnist-sr", "super-resolution pairs from the bundled MNIST: 7x7 (bicubic x4 down) -> 28x28")
def load_mnist_sr(cfg: DataConfig) -> ArrayData:
    if cfg.resolution and cfg.resolution != 28:
        raise GankitError("mnist-sr is 28x28 (7x7 inputs); leave data.resolution at 0")
    digits = load_mnist(cfg)
    hr = digits.images
    return ArrayData({"lr": downscale(hr, SR_SCALE), "hr": hr, "label": digits.labels},
                     {"lr": "image", "hr": "image", "label": "label"}, "mnist-sr", digits.class_names,
                     protocol="paired-psnr", info={"scale": SR_SCALE})


def draw_holes(n: int, side: int, draws: Draws) -> torch.Tensor:
    """Masks [n, 1, side, side], 1 inside each example's hole (see the module docstring)."""
    u = draws.rand(n, 5)  # [n, 5]: centre or not, height, width, top, left
    centre = u[:, 0] < CENTRE_SHARE
    span = HOLE_MAX - HOLE_MIN + 1
    h = torch.where(centre, CENTRE_HOLE, HOLE_MIN + (u[:, 1] * span).long().clamp(max=span - 1))
    w = torch.where(centre, CENTRE_HOLE, HOLE_MIN + (u[:, 2] * span).long().clamp(max=span - 1))
    top = torch.where(centre, (side - CENTRE_HOLE) // 2, (u[:, 3] * (side - h + 1)).long())
    left = torch.where(centre, (side - CENTRE_HOLE) // 2, (u[:, 4] * (side - w + 1)).long())
    steps = torch.arange(side, device=u.device)
    rows = (steps >= top[:, None]) & (steps < (top + h)[:, None])    # [n, side]
    cols = (steps >= left[:, None]) & (steps < (left + w)[:, None])  # [n, side]
    return (rows[:, :, None] & cols[:, None, :]).unsqueeze(1).float()


class HoleData(ArrayData):
    """Images (and labels) whose batches carry a hole mask drawn from the trainer's generator."""

    @property
    def fields(self) -> dict[str, Field]:
        fields = super().fields
        return {**fields, "mask": Field("mask", (1, *fields["image"].shape[1:]))}

    def batch(self, index: torch.Tensor, draws: Draws | None = None) -> Batch:
        if draws is None:
            raise GankitError(f"dataset '{self.name}' draws holes at random: batch() needs the trainer's draws")
        out = super().batch(index, draws)
        out["mask"] = draw_holes(len(index), out["image"].shape[-1], draws).to(out["image"].device)
        return out


@DATASETS.register("mnist-inpaint", "MNIST digits with random rectangular holes (8-14 px) or the centre 14x14 removed")
def load_mnist_inpaint(cfg: DataConfig) -> HoleData:
    if cfg.resolution and cfg.resolution != 28:
        raise GankitError("mnist-inpaint is 28x28; leave data.resolution at 0")
    digits = load_mnist(cfg)
    return HoleData({"image": digits.images, "label": digits.labels}, {"image": "image", "label": "label"},
                    "mnist-inpaint", digits.class_names, protocol="inpaint")

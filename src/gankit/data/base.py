"""In-memory image data: uint8 tensors batched by indexing (no DataLoader; small sets fit in memory)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import GankitError


@dataclass
class ImageData:
    """images: uint8 [N, C, H, W]; labels: int64 [N] or None; class_names: one name per label."""

    images: torch.Tensor
    labels: torch.Tensor | None = None
    class_names: tuple[str, ...] = ()
    name: str = ""
    key = "image"  # the batch key of the real samples

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(f"images must be uint8 [N, C, H, W], got {self.images.dtype} {tuple(self.images.shape)}")
        if len(self.images) == 0:
            raise GankitError(f"dataset '{self.name}' holds no images")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return self.image_shape

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def batch(self, index: torch.Tensor) -> dict[str, torch.Tensor]:
        """A dict batch: `image` float in [-1, 1] [B, C, H, W], and `label` [B] when the data is labelled."""
        out = {"image": to_float(self.images[index])}
        if self.labels is not None:
            out["label"] = self.labels[index]
        return out

    def to(self, device: torch.device | str) -> "ImageData":
        labels = None if self.labels is None else self.labels.to(device)
        return ImageData(self.images.to(device), labels, self.class_names, self.name)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1] (the range of G's tanh)."""
    return images.float().mul_(2.0 / 255.0).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 [0, 255], rounding to nearest."""
    return images.detach().float().add(1.0).mul(127.5).round_().clamp_(0, 255).to(torch.uint8)


def fit_images(images: torch.Tensor, resolution: int, channels: int) -> torch.Tensor:
    """Resize square uint8 images [N, C, H, W] to `resolution` and convert to `channels` (0 = keep)."""
    c = images.shape[1]
    if channels and channels != c:
        if channels == 3 and c == 1:
            images = images.expand(-1, 3, -1, -1).contiguous()
        elif channels == 1 and c == 3:
            weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)  # ITU-R 601 luma, as PIL's "L"
            images = (images.float() * weights).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8)
        else:
            raise GankitError(f"cannot convert {c}-channel images to {channels} channels (use 1 or 3)")
    if resolution and resolution != images.shape[-1]:
        out = []
        for chunk in images.split(4096):  # bounded memory for big sets
            x = F.interpolate(chunk.float(), size=(resolution, resolution), mode="bilinear",
                              antialias=True, align_corners=False)
            out.append(x.round().clamp(0, 255).to(torch.uint8))
        images = torch.cat(out)
    return images


class BatchSampler:
    """Shuffled epochs of indices, drawn from its own generator so that its state can be saved and restored.

    Each epoch's order is drawn on the CPU and moved to `device` once, so a step slices indices that already
    live beside the data: no host-to-device copy (and no wait for the GPU) per step.
    """

    def __init__(self, n: int, batch_size: int, seed: int, device: torch.device | str = "cpu"):
        if batch_size > n:
            raise GankitError(f"batch size {batch_size} is larger than the dataset ({n} images); lower train.batch_size")
        self.n, self.batch_size, self.device = n, batch_size, torch.device(device)
        self.generator = torch.Generator().manual_seed(seed)
        self.order = torch.randperm(n, generator=self.generator).to(self.device)
        self.cursor = 0
        self.epoch = 0

    def next(self) -> torch.Tensor:
        if self.cursor + self.batch_size > self.n:  # drop the ragged tail, start a new epoch
            self.order = torch.randperm(self.n, generator=self.generator).to(self.device)
            self.cursor = 0
            self.epoch += 1
        index = self.order[self.cursor:self.cursor + self.batch_size]
        self.cursor += self.batch_size
        return index

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state(), "order": self.order.cpu().clone(),
                "cursor": torch.tensor(self.cursor), "epoch": torch.tensor(self.epoch)}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
        self.order = state["order"].to(self.device)
        self.cursor = int(state["cursor"])
        self.epoch = int(state["epoch"])

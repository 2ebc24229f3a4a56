"""The Dataset protocol and in-memory data: named tensors batched by indexing (no DataLoader; small sets fit).

A batch is a dict of named tensors; a dataset says which fields it provides (`fields`), each with a kind and
the shape of one example. Random crops are drawn from the trainer's generator, so a resumed run repeats them.
"""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

import torch
import torch.nn.functional as F

from ..draws import Draws
from ..errors import GankitError

Batch = dict[str, torch.Tensor]
FIELD_KINDS = ("image", "label", "mask", "tokens", "points")


@dataclass(frozen=True)
class Field:
    """One field of a batch: image float [-1, 1] [C, H, W]; label int64 []; mask float {0, 1} [1, H, W];
    tokens int64 [L]; points float [D]. `shape` is one example's."""

    kind: str
    shape: tuple[int, ...]

    def __post_init__(self) -> None:
        if self.kind not in FIELD_KINDS:
            raise ValueError(f"unknown field kind '{self.kind}'; valid: {', '.join(FIELD_KINDS)}")


class Dataset(Protocol):
    name: str
    fields: dict[str, Field]
    class_names: tuple[str, ...]   # one name per label value; () when unlabelled
    protocol: str                  # the evaluation protocol that fits the data ("" = none)

    def __len__(self) -> int: ...
    def batch(self, index: torch.Tensor, draws: Draws | None = None) -> Batch: ...
    def split(self, name: str) -> "Dataset": ...
    def to(self, device: torch.device | str) -> "Dataset": ...


class ArrayData:
    """Named tensors whose first axis is the example. uint8 images [N, C, H, W] become float [-1, 1] in batches.

    kinds: field name -> kind. crop > 0 cuts a random crop x crop square per example, one offset per example
    shared by all its image and mask fields (so paired images stay aligned). info: what an evaluation protocol
    needs to know about the data (e.g. a mixture's means). config: the DataConfig it was loaded from, so that
    `split` can load another split.
    """

    def __init__(self, arrays: dict[str, torch.Tensor], kinds: dict[str, str], name: str = "",
                 class_names: tuple[str, ...] = (), crop: int = 0, protocol: str = "", info: dict | None = None,
                 config: Any = None):
        if set(arrays) != set(kinds):
            raise ValueError(f"arrays {sorted(arrays)} and kinds {sorted(kinds)} name different fields")
        lengths = {len(v) for v in arrays.values()}
        if len(lengths) != 1:
            raise ValueError(f"fields of dataset '{name}' differ in length: {sorted(lengths)}")
        if not lengths.pop():
            raise GankitError(f"dataset '{name}' holds no examples")
        for key, kind in kinds.items():
            if kind == "image" and (arrays[key].dtype != torch.uint8 or arrays[key].dim() != 4):
                raise ValueError(f"images must be uint8 [N, C, H, W], got {arrays[key].dtype} {tuple(arrays[key].shape)}")
        self.arrays, self.kinds = arrays, kinds
        self.name, self.class_names, self.protocol = name, tuple(class_names), protocol
        self.info, self.config = info or {}, config
        sides = {arrays[k].shape[-1] for k, kind in kinds.items() if kind in ("image", "mask")}
        if crop and any(crop > s for s in sides):
            raise GankitError(f"data.crop ({crop}) is larger than the images of '{name}' ({min(sides)} px)")
        self.crop = crop

    def __len__(self) -> int:
        return len(next(iter(self.arrays.values())))

    @property
    def fields(self) -> dict[str, Field]:
        out = {}
        for key, kind in self.kinds.items():
            shape = tuple(self.arrays[key].shape[1:])
            if self.crop and kind in ("image", "mask"):
                shape = (*shape[:-2], self.crop, self.crop)
            out[key] = Field(kind, shape)
        return out

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    # conveniences of image datasets
    @property
    def images(self) -> torch.Tensor:
        return self.arrays["image"]

    @property
    def labels(self) -> torch.Tensor | None:
        return self.arrays.get("label")

    def batch(self, index: torch.Tensor, draws: Draws | None = None) -> Batch:
        """The examples at `index`; images as float in [-1, 1]. Crops need `draws` (the trainer's generator)."""
        offsets = None
        if self.crop:
            if draws is None:
                raise GankitError(f"dataset '{self.name}' crops at random: batch() needs the trainer's draws")
            side = min(self.arrays[k].shape[-1] for k, kind in self.kinds.items() if kind in ("image", "mask"))
            offsets = draws.randint(0, side - self.crop + 1, len(index), 2).to(index.device)  # [B, 2] top, left
        out = {}
        for key, kind in self.kinds.items():
            x = self.arrays[key][index]
            if offsets is not None and kind in ("image", "mask"):
                x = crop_each(x, offsets, self.crop)
            out[key] = to_float(x) if kind == "image" else x
        return out

    def fingerprint(self) -> str:
        """A cheap identity of the data: every field's dtype and shape, and the bytes of about 256 examples spread
        over the set (and the last). A checkpoint keeps it, so that resuming on changed data is noticed."""
        digest = hashlib.sha256()
        step = max(1, len(self) // 256)
        for key in sorted(self.arrays):
            x = self.arrays[key]
            digest.update(f"{key}:{x.dtype}:{tuple(x.shape)}".encode())
            digest.update(torch.cat([x[::step], x[-1:]]).contiguous().cpu().numpy().tobytes())
        return f"{self.name}:{len(self)}:{digest.hexdigest()[:16]}"

    def split(self, name: str) -> "ArrayData":
        """The same dataset's split `name` (train, test, ...), loaded with the same settings."""
        if self.config is None:
            raise GankitError(f"dataset '{self.name}' has no other splits")
        from . import load_data

        return load_data(dataclasses.replace(self.config, split=name))

    def to(self, device: torch.device | str) -> "ArrayData":
        return self.rebuild({k: v.to(device) for k, v in self.arrays.items()}, self.crop)

    def rebuild(self, arrays: dict[str, torch.Tensor], crop: int) -> "ArrayData":
        """The same kind of dataset (subclasses keep their batches' extras) on other arrays or crops."""
        return type(self)(arrays, self.kinds, self.name, self.class_names, crop, self.protocol, self.info, self.config)


def ImageData(images: torch.Tensor, labels: torch.Tensor | None = None, class_names: tuple[str, ...] = (),
              name: str = "", protocol: str = "") -> ArrayData:
    """Images uint8 [N, C, H, W] (field `image`) and, when labelled, int64 labels [N] (field `label`)."""
    arrays, kinds = {"image": images}, {"image": "image"}
    if labels is not None:
        arrays["label"], kinds["label"] = labels, "label"
    return ArrayData(arrays, kinds, name, class_names, protocol=protocol)


def crop_each(x: torch.Tensor, offsets: torch.Tensor, size: int) -> torch.Tensor:
    """[B, C, H, W] -> [B, C, size, size], example i cut at offsets[i] = (top, left)."""
    steps = torch.arange(size, device=x.device)
    rows = (offsets[:, 0, None] + steps)[:, None, :, None]  # [B, 1, size, 1]
    cols = (offsets[:, 1, None] + steps)[:, None, None, :]  # [B, 1, 1, size]
    batch = torch.arange(len(x), device=x.device)[:, None, None, None]
    channels = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return x[batch, channels, rows, cols]


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1] (the range of G's tanh)."""
    return images.float().mul_(2.0 / 255.0).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 [0, 255], rounding to nearest."""
    return images.detach().float().add(1.0).mul(127.5).round_().clamp_(0, 255).to(torch.uint8)


def for_display(x: torch.Tensor, kind: str) -> torch.Tensor:
    """A generated field as people get it: images uint8, everything else as computed (on the CPU)."""
    return (to_uint8(x) if kind == "image" else x.detach().float() if x.is_floating_point() else x).cpu()


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
            raise GankitError(f"batch size {batch_size} is larger than the dataset ({n} examples); lower train.batch_size")
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
        if len(self.order) != self.n:  # the data changed size (a resume that allowed it): a new epoch over it
            self.order = torch.randperm(self.n, generator=self.generator).to(self.device)
            self.cursor = 0

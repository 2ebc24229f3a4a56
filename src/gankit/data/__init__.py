"""Datasets, chosen by name: each returns in-memory named arrays that follow the Dataset protocol."""

import torch

from . import digits8, emoji, folder, glyphs, mnist, paired, photos, stacked, text, toy, unpaired  # noqa: F401  (registers the datasets)
from ..config import DataConfig
from ..errors import GankitError
from ..registry import DATASETS
from .base import ArrayData, Batch, BatchSampler, Dataset, Field, ImageData, for_display, to_float, to_uint8


def load_data(cfg: DataConfig) -> ArrayData:
    """The dataset named by cfg.name; its train split cropped at random when cfg.crop is set (random crops are a
    training augmentation: held-out splits are judged on whole images), and cut to cfg.per_class examples of each
    class when that is set (few labels are a property of training: held-out splits stay whole)."""
    if cfg.crop < 0:
        raise GankitError(f"data.crop must be 0 (whole images) or a side in pixels, got {cfg.crop}")
    data = DATASETS.get(cfg.name)(cfg)
    data.config = cfg
    if cfg.per_class and cfg.split == "train":
        data = data.rebuild({k: v[per_class_index(data, cfg.per_class, cfg.subset_seed)]
                             for k, v in data.arrays.items()}, data.crop)
    if cfg.crop and cfg.split == "train" and not data.crop:
        data = data.rebuild(data.arrays, cfg.crop)
    return data


def per_class_index(data: ArrayData, n: int, seed: int) -> torch.Tensor:
    """Indices of n examples of each class, drawn without replacement by a generator seeded with `seed`, in
    dataset order; a one-line error for unlabelled data or a class with fewer than n examples."""
    if data.labels is None:
        raise GankitError(f"data.per_class needs labelled data; dataset '{data.name}' has no labels")
    labels = data.labels
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for c in range(max(data.num_classes, int(labels.max()) + 1)):
        members = (labels == c).nonzero().flatten()
        if len(members) < n:
            raise GankitError(f"data.per_class={n}, but class {c} of '{data.name}' has only {len(members)} "
                              f"training examples")
        chosen.append(members[torch.randperm(len(members), generator=generator)[:n]])
    return torch.cat(chosen).sort().values


__all__ = ["ArrayData", "Batch", "BatchSampler", "Dataset", "Field", "ImageData", "for_display", "load_data",
           "to_float", "to_uint8"]

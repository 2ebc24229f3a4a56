"""Datasets, chosen by name: each returns in-memory named arrays that follow the Dataset protocol."""

from . import emoji, folder, glyphs, mnist, paired, photos, stacked, text, toy, unpaired  # noqa: F401  (registers the datasets)
from ..config import DataConfig
from ..errors import GankitError
from ..registry import DATASETS
from .base import ArrayData, Batch, BatchSampler, Dataset, Field, ImageData, for_display, to_float, to_uint8


def load_data(cfg: DataConfig) -> ArrayData:
    """The dataset named by cfg.name; its train split cropped at random when cfg.crop is set (random crops are a
    training augmentation: held-out splits are judged on whole images)."""
    if cfg.crop < 0:
        raise GankitError(f"data.crop must be 0 (whole images) or a side in pixels, got {cfg.crop}")
    data = DATASETS.get(cfg.name)(cfg)
    data.config = cfg
    if cfg.crop and cfg.split == "train" and not data.crop:
        data = data.rebuild(data.arrays, cfg.crop)
    return data


__all__ = ["ArrayData", "Batch", "BatchSampler", "Dataset", "Field", "ImageData", "for_display", "load_data",
           "to_float", "to_uint8"]

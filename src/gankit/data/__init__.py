"""Datasets, chosen by name: each returns in-memory named arrays that follow the Dataset protocol."""

from . import folder, glyphs, mnist, paired, stacked, toy  # noqa: F401  (registers the datasets)
from ..config import DataConfig
from ..errors import GankitError
from ..registry import DATASETS
from .base import ArrayData, Batch, BatchSampler, Dataset, Field, ImageData, for_display, to_float, to_uint8


def load_data(cfg: DataConfig) -> ArrayData:
    """The dataset named by cfg.name, cropped at random when cfg.crop is set."""
    if cfg.crop < 0:
        raise GankitError(f"data.crop must be 0 (whole images) or a side in pixels, got {cfg.crop}")
    data = DATASETS.get(cfg.name)(cfg)
    data.config = cfg
    if cfg.crop:
        data = ArrayData(data.arrays, data.kinds, data.name, data.class_names, cfg.crop, data.protocol, data.info, cfg)
    return data


__all__ = ["ArrayData", "Batch", "BatchSampler", "Dataset", "Field", "ImageData", "for_display", "load_data",
           "to_float", "to_uint8"]

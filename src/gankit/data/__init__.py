"""Datasets, chosen by name: each returns an in-memory ImageData of uint8 images (and labels)."""
from . import folder, mnist, stacked, toy  # noqa: F401  (registers the datasets)
from ..config import DataConfig
from ..registry import DATASETS
from .base import BatchSampler, ImageData, to_float, to_uint8


def load_data(cfg: DataConfig) -> ImageData:
    return DATASETS.get(cfg.name)(cfg)


__all__ = ["BatchSampler", "ImageData", "load_data", "to_float", "to_uint8"]

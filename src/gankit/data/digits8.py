"""scikit-learn's bundled 8x8 handwritten digits (1,797, from the UCI optical-recognition set), labelled, upscaled
to fill 28x28 (digit-styles puts them in MNIST's 20x20 box instead), with the same fixed 20% held out as the
test split."""
from __future__ import annotations

from ..config import DataConfig
from ..errors import GankitError
from ..registry import DATASETS
from .base import ArrayData, ImageData, fit_images
from .mnist import DIGITS
from .unpaired import SIDE, check_split, digits_split


@DATASETS.register("digits8", "scikit-learn's 8x8 handwritten digits upscaled to 28x28, labelled: 1,438 train / "
                              "359 test (the held-out 20% of digit-styles)")
def load_digits8(cfg: DataConfig) -> ArrayData:
    check_split(cfg, "digits8")
    images, labels = digits_split(SIDE, cfg.split == "test")
    if cfg.limit:
        images, labels = images[:cfg.limit], labels[:cfg.limit]
    if cfg.resolution and cfg.resolution != images.shape[-1] or cfg.channels not in (0, 1):
        images = fit_images(images, cfg.resolution, cfg.channels)
    if not len(images):
        raise GankitError("digits8: data.limit left no images")
    return ImageData(images, labels, DIGITS, "digits8", protocol="image-fid")

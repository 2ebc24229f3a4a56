"""Unpaired image data for CycleGAN: two domains, each with its own examples, and no pairs in training.

digit-styles  A: the bundled MNIST digits; B: scikit-learn's bundled 8x8 handwritten digits (1,797, values 0-16,
              from the UCI optical-digits set), upscaled bicubically to 20x20 and centred in 28x28, the box MNIST
              puts its digits in, so that the domains differ in style, not in framing (a translator of local
              filters cannot rescale a whole digit). Fields a, a_label, b, b_label.
              Test: MNIST's 10,000 test digits and a fixed 20% of the 8x8 digits (359).
glyph-styles  A and B: two fonts of the bundled glyphs (data.fonts=SOURCE,TARGET, as the paired `glyphs`),
              split by character as there (80% train). In training the A and B glyphs of a batch are drawn
              independently, so they are (almost always) different characters; the test split keeps the true
              pairs, so that an unpaired model can be scored against ground truth. Fields a, b, text.

In training, each A example is met by a B example drawn from the trainer's generator (resume repeats it); in
the test split, A example i goes with B example i mod len(B) (the true pair where the domains are aligned).
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np
import torch
import torch.nn.functional as F

from ..config import DataConfig
from ..draws import Draws
from ..errors import GankitError
from ..registry import DATASETS
from .base import ArrayData, Batch, Field
from .glyphs import load_glyphs
from .mnist import load_mnist

DIGITS_HELD_OUT = 0.2
SPLIT_SEED = 0
SIDE = 28
MNIST_BOX = 20  # MNIST's digits fit a 20x20 box centred in the 28x28 frame


class UnpairedData:
    """Two domains as one dataset: A's examples (`a`, an ArrayData) each met by one of B's (`b`). Its length is
    A's: an epoch is one pass over A."""

    def __init__(self, a: ArrayData, b: ArrayData, name: str, protocol: str, aligned: bool,
                 class_names: tuple[str, ...] = (), info: dict | None = None, config=None):
        clash = set(a.kinds) & set(b.kinds)
        if clash:
            raise ValueError(f"the domains of '{name}' share field names: {', '.join(sorted(clash))}")
        self.a, self.b, self.name, self.protocol, self.aligned = a, b, name, protocol, aligned
        self.class_names, self.info, self.config, self.crop = tuple(class_names), info or {}, config, 0

    def __len__(self) -> int:
        return len(self.a)

    @property
    def fields(self) -> dict[str, Field]:
        return {**self.a.fields, **self.b.fields}

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def batch(self, index: torch.Tensor, draws: Draws | None = None) -> Batch:
        if self.aligned:
            partner = index % len(self.b)
        elif draws is None:
            raise GankitError(f"dataset '{self.name}' pairs its domains at random: batch() needs the trainer's draws")
        else:
            partner = draws.randint(0, len(self.b), len(index)).to(index.device)
        return {**self.a.batch(index, draws), **self.b.batch(partner, draws)}

    def fingerprint(self) -> str:
        return f"{self.a.fingerprint()}+{self.b.fingerprint()}"

    def split(self, name: str) -> "UnpairedData":
        from . import load_data

        return load_data(dataclasses.replace(self.config, split=name))

    def to(self, device: torch.device | str) -> "UnpairedData":
        return UnpairedData(self.a.to(device), self.b.to(device), self.name, self.protocol, self.aligned,
                            self.class_names, self.info, self.config)


def check_split(cfg: DataConfig, name: str) -> None:
    if cfg.split not in ("train", "test"):
        raise GankitError(f"{name} has splits train and test, not '{cfg.split}'")
    if cfg.crop:
        raise GankitError(f"{name} does not crop: leave data.crop at 0")


@functools.lru_cache(maxsize=2)
def small_digits(box: int = SIDE) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's 8x8 digits as uint8 [1797, 1, 28, 28] (value x 255 / 16, upscaled bicubically to box x box
    and centred in the frame) and labels. box = SIDE fills the frame, as the digits8 dataset shows them."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise GankitError("the 8x8 digits ship inside scikit-learn: pip install 'gankit[digits]'") from None
    found = load_digits()
    small = torch.from_numpy(found.images).float().mul(255.0 / 16.0).unsqueeze(1)  # [N, 1, 8, 8], ink high as MNIST's
    if not 8 <= box <= SIDE:
        raise GankitError(f"the 8x8 digits are upscaled to a box of 8 to {SIDE} pixels, not {box}")
    big = F.interpolate(small, size=(box, box), mode="bicubic", align_corners=False)
    margin = (SIDE - box) // 2
    big = F.pad(big, (margin, SIDE - box - margin) * 2)
    return big.round().clamp(0, 255).to(torch.uint8), torch.from_numpy(found.target).long()


def held_out_digits(n: int) -> np.ndarray:
    """bool [n]: the fixed 20% of the 8x8 digits kept for testing."""
    mask = np.zeros(n, dtype=bool)
    mask[np.random.default_rng(SPLIT_SEED).permutation(n)[:int(round(n * DIGITS_HELD_OUT))]] = True
    return mask


def digits_split(box: int, test: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The 8x8 digits of one split (small_digits(box)) and their labels: test = the fixed held-out 20%."""
    images, labels = small_digits(box)
    keep = torch.from_numpy(held_out_digits(len(labels)) == test)
    return images[keep], labels[keep]


@DATASETS.register("digit-styles", "unpaired digits: MNIST (A) and scikit-learn's 8x8 digits upscaled into MNIST's "
                                   "20x20 box in 28x28 (B)")
def load_digit_styles(cfg: DataConfig) -> UnpairedData:
    check_split(cfg, "digit-styles")
    if cfg.resolution and cfg.resolution != SIDE:
        raise GankitError(f"digit-styles is {SIDE}x{SIDE}; leave data.resolution at 0")
    mnist = load_mnist(cfg)
    images, labels = digits_split(MNIST_BOX, cfg.split == "test")
    a = ArrayData({"a": mnist.images, "a_label": mnist.labels}, {"a": "image", "a_label": "label"}, "mnist")
    b = ArrayData({"b": images, "b_label": labels}, {"b": "image", "b_label": "label"}, "digits-8x8")
    return UnpairedData(a, b, "digit-styles", "cycle-digits", aligned=cfg.split == "test",
                        class_names=mnist.class_names, config=cfg)


@DATASETS.register("glyph-styles", "unpaired font transfer: the glyphs of two fonts (data.fonts), different "
                                   "characters in each training batch, true pairs in the test split")
def load_glyph_styles(cfg: DataConfig) -> UnpairedData:
    check_split(cfg, "glyph-styles")
    glyphs = load_glyphs(cfg)
    a = ArrayData({"a": glyphs.arrays["a"], "text": glyphs.arrays["text"]}, {"a": "image", "text": "tokens"}, "font-a")
    b = ArrayData({"b": glyphs.arrays["b"]}, {"b": "image"}, "font-b")
    return UnpairedData(a, b, "glyph-styles", "cycle-glyphs", aligned=cfg.split == "test", info=glyphs.info,
                        config=cfg)

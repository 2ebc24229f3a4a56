"""Feature extractors for the metrics. Each declares what it provides ('features', 'logits') and a checksum
of its weights, which goes on every evaluation card. Inputs are uint8 images [N, C, H, W].
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ..data.base import fit_images, to_float
from ..errors import GankitError
from ..nets.classifiers import bundled_classifier, sha256
from ..progress import progress_bar
from ..registry import EXTRACTORS


class Extractor:
    name: str = ""
    provides: tuple[str, ...] = ()
    checksum: str = ""

    def __call__(self, images: torch.Tensor, batch_size: int = 128) -> dict[str, np.ndarray]:
        raise NotImplementedError


def for_reading(net: nn.Module) -> nn.Module:
    """The same function of an eval-mode network, cheaper to run: each Conv2d followed by a BatchNorm2d in a
    Sequential becomes one convolution (outputs agree to float rounding) and ReLUs work in place. For reading
    images without gradients only: the folded network no longer trains like the original."""
    for module in list(net.modules()):
        if isinstance(module, nn.ReLU):
            module.inplace = True
        if isinstance(module, nn.Sequential):
            for i in range(len(module) - 1):
                if isinstance(module[i], nn.Conv2d) and isinstance(module[i + 1], nn.BatchNorm2d):
                    module[i] = fuse_conv_bn_eval(module[i], module[i + 1])
                    module[i + 1] = nn.Identity()
    return net


class BundledClassifier(Extractor):
    """A classifier shipped with gankit: images are converted to 1 channel and side x side, then to [-1, 1], as
    it was trained; it gives its feature layer and its logits."""

    provides = ("features", "logits")
    side = 0

    def __init__(self) -> None:
        net, self.checksum = bundled_classifier(self.name)
        # channels-last convolutions are about 1.5x faster on the CPU; features agree to ~1e-6 of their scale
        self.net = for_reading(net).to(memory_format=torch.channels_last)

    @torch.no_grad()
    def __call__(self, images: torch.Tensor, batch_size: int = 128) -> dict[str, np.ndarray]:
        # batches of 128: the activations of 500 images outgrow what the allocator keeps for reuse, and page faults
        # on fresh memory made reading twice as slow; features are the same bit for bit at any batch size
        features, logits = [], []
        # a bar where reading the images takes seconds (evaluations of 10,000 and more), not on periodic checks
        with progress_bar(total=len(images), hide=len(images) < 5000, desc=f"reading samples ({self.name})",
                          unit="img", leave=False) as bar:
            for chunk in images.split(batch_size):
                x = to_float(fit_images(chunk.cpu(), self.side, 1)).contiguous(memory_format=torch.channels_last)
                f, l = self.net(x)
                features.append(f)
                logits.append(l)
                bar.update(len(chunk))
        return {"features": torch.cat(features).numpy(), "logits": torch.cat(logits).numpy()}


@EXTRACTORS.register("mnist", "the bundled MNIST CNN (99.25% test accuracy; the main network): 128-d features and 10 class logits")
class MNISTExtractor(BundledClassifier):
    name, side = "mnist", 28


@EXTRACTORS.register("mnist-b", "the second bundled MNIST CNN, another design trained from another seed "
                                "(99.29%; the second opinion on every classifier-based figure): 64-d features and 10 class logits")
class MNISTBExtractor(BundledClassifier):
    name, side = "mnist-b", 28


@EXTRACTORS.register("digits8", "the bundled classifier of scikit-learn's 8x8 digits upscaled to fill 28x28, as the "
                                "digits8 dataset shows them (99.4% held-out): 128-d features and 10 class logits")
class Digits8Extractor(BundledClassifier):
    name, side = "digits8", 28


@EXTRACTORS.register("digits8-boxed", "the bundled classifier of scikit-learn's 8x8 digits in MNIST's 20x20 box, as "
                                      "digit-styles shows them (99.4% held-out): 128-d features and 10 class logits")
class Digits8BoxedExtractor(BundledClassifier):
    name, side = "digits8-boxed", 28


@EXTRACTORS.register("digits8-boxed-b", "a second classifier of the 8x8 digits in MNIST's box, the second MNIST CNN's "
                                        "design from another seed (99.4% held-out); coaches CycleGAN in training "
                                        "(cyclegan.coach_b), so digits8-boxed still judges: 64-d features, 10 logits")
class Digits8BoxedBExtractor(BundledClassifier):
    name, side = "digits8-boxed-b", 28


@EXTRACTORS.register("fonts", "the bundled font classifier: which design (hei, kai, ming) drew a 64x64 glyph")
class FontExtractor(BundledClassifier):
    name, side = "fonts", 64


INCEPTION_FILE = "inception-2015-12-05.pt"
INCEPTION_URL = "https://api.ngc.nvidia.com/v2/models/nvidia/research/stylegan3/versions/1/files/metrics/" + INCEPTION_FILE


def inception_path() -> Path:
    from ..data.mnist import cache_dir

    return Path(os.environ.get("GANKIT_INCEPTION") or cache_dir() / INCEPTION_FILE)


@EXTRACTORS.register("inception", "the standard FID Inception-v3 (2048-d pool features); needs its weights file locally")
class InceptionExtractor(Extractor):
    """The TorchScript FID Inception network used by the StyleGAN and clean-fid metric code.

    gankit never downloads it silently: put the file at $GANKIT_INCEPTION or ~/.cache/gankit/.
    """

    name = "inception"
    provides = ("features",)

    def __init__(self) -> None:
        path = inception_path()
        if not path.is_file():
            raise GankitError(f"the inception extractor needs {INCEPTION_FILE}: download {INCEPTION_URL} "
                              f"to {path} (or set GANKIT_INCEPTION=/path/to/it)")
        self.checksum = sha256(path)
        self.net = torch.jit.load(str(path), map_location="cpu").eval()

    @torch.no_grad()
    def __call__(self, images: torch.Tensor, batch_size: int = 100) -> dict[str, np.ndarray]:
        features = []
        for chunk in images.split(batch_size):
            x = fit_images(chunk.cpu(), 0, 3).float()  # [B, 3, H, W] in [0, 255]; the net resizes to 299
            features.append(self.net(x, return_features=True))
        return {"features": torch.cat(features).numpy()}


@lru_cache(maxsize=4)
def get_extractor(name: str) -> Extractor:
    return EXTRACTORS.get(name)()

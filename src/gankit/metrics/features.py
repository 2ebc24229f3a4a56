"""Feature extractors for the metrics. Each declares what it provides ('features', 'logits') and a checksum
of its weights, which goes on every evaluation card. Inputs are uint8 images [N, C, H, W].
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from ..data.base import fit_images, to_float
from ..errors import GankitError
from ..registry import EXTRACTORS
from .mnist_net import MNISTNet


class Extractor:
    name: str = ""
    provides: tuple[str, ...] = ()
    checksum: str = ""

    def __call__(self, images: torch.Tensor, batch_size: int = 1000) -> dict[str, np.ndarray]:
        raise NotImplementedError


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@EXTRACTORS.register("mnist", "the bundled MNIST CNN (99.25% test accuracy): 128-d features and 10 class logits")
class MNISTExtractor(Extractor):
    """Digits: images are converted to 1 channel and 28x28, then to [-1, 1], as the classifier was trained."""

    name = "mnist"
    provides = ("features", "logits")

    def __init__(self) -> None:
        assets = resources.files("gankit") / "metrics" / "assets"
        with resources.as_file(assets / "mnist_classifier.safetensors") as path:
            self.checksum = sha256(path)
            recorded = json.loads((assets / "mnist_classifier.json").read_text())["sha256"]
            if self.checksum != recorded:
                raise GankitError(f"the bundled MNIST classifier is damaged (sha256 {self.checksum[:12]}..., "
                                  f"expected {recorded[:12]}...); reinstall gankit")
            self.net = MNISTNet()
            self.net.load_state_dict(load_file(str(path)))
        self.net.eval()

    @torch.no_grad()
    def __call__(self, images: torch.Tensor, batch_size: int = 1000) -> dict[str, np.ndarray]:
        features, logits = [], []
        for chunk in images.split(batch_size):
            x = to_float(fit_images(chunk.cpu(), 28, 1))  # [B, 1, 28, 28]
            f, l = self.net(x)
            features.append(f)
            logits.append(l)
        return {"features": torch.cat(features).numpy(), "logits": torch.cat(logits).numpy()}


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

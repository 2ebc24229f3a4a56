"""How a run is measured: a protocol per kind of data, each with a cheap score logged during training and
final metrics with their evaluation card.

images of MNIST digits  FID (cheap) and every image metric (final), bundled MNIST features
2-D mixtures            modes captured / % high quality / reverse KL on 2,500 samples
Stacked MNIST           modes covered / KL to uniform of 1,000 modes on 26,000 samples
"""
from __future__ import annotations

import numpy as np
import torch

from ..config import Config
from . import modes
from .evaluate import eval_setup, evaluate_images
from .features import get_extractor

MIXTURE_SAMPLES = 2500
STACKED_SAMPLES = 26000


class Protocol:
    key = "fid"               # the cheap score whose best generator is kept
    lower_is_better = True

    def better(self, new: float, old: float | None) -> bool:
        return old is None or (new < old if self.lower_is_better else new > old)

    def n_final(self, requested: int) -> int:
        return requested

    def cheap(self, samples: torch.Tensor, labels: torch.Tensor | None, seed: int) -> dict:
        raise NotImplementedError

    def final(self, samples: torch.Tensor, labels: torch.Tensor | None, seed: int, source: str) -> dict:
        raise NotImplementedError


class ImageProtocol(Protocol):
    def __init__(self, extractor: str, ref: str):
        self.extractor, self.ref = extractor, ref

    def cheap(self, samples, labels, seed):
        return {"fid": evaluate_images(samples, self.ref, self.extractor, seed, fid_only=True)["fid"]}

    def final(self, samples, labels, seed, source):
        return evaluate_images(samples, self.ref, self.extractor, seed, labels=labels, source=source)


class MixtureProtocol(Protocol):
    key = "modes"
    lower_is_better = False

    def __init__(self, name: str, means: torch.Tensor, sigma: float):
        self.name, self.means, self.sigma = name, means, sigma

    def n_final(self, requested: int) -> int:
        return MIXTURE_SAMPLES

    def cheap(self, samples, labels, seed):
        scores = modes.mixture_scores(samples[:MIXTURE_SAMPLES], self.means, self.sigma)
        return {"modes": scores["modes"], "high_quality_pct": scores["high_quality_pct"]}

    def final(self, samples, labels, seed, source):
        card = {"protocol": f"2-D {self.name} mixture: nearest mode, high quality within 3 sigma ({self.sigma})",
                "n_samples": len(samples), "seed": seed, "source": source}
        return {**modes.mixture_scores(samples, self.means, self.sigma), "card": card}


class StackedMNISTProtocol(Protocol):
    key = "modes"
    lower_is_better = False

    def n_final(self, requested: int) -> int:
        return STACKED_SAMPLES

    def digits(self, images: torch.Tensor) -> np.ndarray:
        """[N, 3, H, W] uint8 -> [N, 3] digit per channel, by the bundled classifier."""
        extractor = get_extractor("mnist")
        n, c, h, w = images.shape
        logits = extractor(images.reshape(n * c, 1, h, w))["logits"]
        return logits.argmax(1).reshape(n, c)

    def cheap(self, samples, labels, seed):
        return {"modes": modes.stacked_digit_modes(self.digits(samples))["modes"]}

    def final(self, samples, labels, seed, source):
        extractor = get_extractor("mnist")
        card = {"protocol": "Stacked MNIST: each channel classified by the bundled MNIST classifier",
                "extractor": extractor.name, "extractor_sha256": extractor.checksum, "n_samples": len(samples),
                "seed": seed, "source": source}
        return {**modes.stacked_digit_modes(self.digits(samples)), "card": card}


def make_protocol(cfg: Config, data) -> Protocol | None:
    """The protocol for a run's data, or None when gankit has no reference for it."""
    if cfg.eval.extractor == "none":
        return None
    if getattr(data, "key", "image") == "point":
        return MixtureProtocol(data.name, data.means, data.sigma)
    if cfg.data.name == "stacked-mnist":
        return StackedMNISTProtocol()
    target = eval_setup(cfg)
    return ImageProtocol(*target) if target else None

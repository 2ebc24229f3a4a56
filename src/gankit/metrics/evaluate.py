"""The evaluator: images -> every metric, with the evaluation card that says how the numbers were made.

Reference features of real data are computed once per (reference, extractor checksum) and cached.
"""
from __future__ import annotations

import time
from importlib import metadata
from pathlib import Path

import numpy as np
import torch

from ..config import DataConfig
from ..data import load_data
from ..data.mnist import cache_dir
from ..errors import GankitError
from ..registry import EXTRACTORS
from . import scores
from .features import Extractor, get_extractor

# name -> (dataset config, how many images, description). Train is subsampled to keep k-NN metrics cheap.
REFERENCES = {
    "mnist-test": (DataConfig(name="mnist", split="test"), 10000, "MNIST test split, all 10,000 images"),
    "mnist-train": (DataConfig(name="mnist", split="train"), 10000,
                    "MNIST train split, 10,000 images drawn with seed 0"),
}
K_PRECISION_RECALL = 3
K_DENSITY_COVERAGE = 5
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
IS_SPLITS = 10


MNIST_LIKE = ("mnist", "mnist-idx")
# in the reference cache's file names: raised when the extractors' arithmetic changes (v2: batch norms folded into
# the convolutions), so that reals and fakes are always read by the same computation
FEATURES_VERSION = 2


def eval_setup(cfg) -> tuple[str, str] | None:
    """(extractor, reference) for a run's EvalConfig, resolving 'auto'; None when the data has no reference."""
    extractor, ref = cfg.eval.extractor, cfg.eval.ref
    if extractor == "none":
        return None
    if extractor == "auto" or ref == "auto":
        if cfg.data.name not in MNIST_LIKE:
            return None  # no reference statistics for this data yet
        extractor = "mnist" if extractor == "auto" else extractor
        ref = "mnist-test" if ref == "auto" else ref
    if ref not in REFERENCES:
        raise GankitError(f"unknown reference '{ref}'; valid: {', '.join(REFERENCES)}")
    EXTRACTORS.get(extractor)  # fail early on a bad name
    return extractor, ref


def reference_images(ref: str) -> torch.Tensor:
    if ref not in REFERENCES:
        raise GankitError(f"unknown reference '{ref}'; valid: {', '.join(REFERENCES)}")
    cfg, n, _ = REFERENCES[ref]
    images = load_data(cfg).images
    if n < len(images):
        images = images[torch.randperm(len(images), generator=torch.Generator().manual_seed(0))[:n]]
    return images


def reference_cache(ref: str, extractor: Extractor, version: int) -> Path:
    """Where a reference's features under an extractor are cached (version 1 had no suffix)."""
    suffix = "" if version == 1 else f"-v{version}"
    return cache_dir() / "refs" / f"{ref}-{extractor.name}-{extractor.checksum[:16]}{suffix}.npz"


def reference_features(ref: str, extractor: Extractor) -> dict[str, np.ndarray]:
    """Features of a reference set and their k-NN radii (`radii_K`), cached on disk under the extractor's
    checksum: they are the same for every evaluation against this reference."""
    path = reference_cache(ref, extractor, FEATURES_VERSION)
    radii_keys = [f"radii_{k}" for k in (K_PRECISION_RECALL, K_DENSITY_COVERAGE)]
    out = None
    if path.is_file():
        try:
            with np.load(path) as f:
                out = {k: f[k] for k in f.files}
        except (OSError, ValueError):
            path.unlink(missing_ok=True)  # a damaged cache entry is rebuilt
    if out is not None and all(k in out for k in radii_keys):
        return out
    out = out or extractor(reference_images(ref))
    radii = scores.knn_radii(out["features"], (K_PRECISION_RECALL, K_DENSITY_COVERAGE))
    out.update({f"radii_{k}": v for k, v in radii.items()})
    if store_reference(path, out):
        for version in range(1, FEATURES_VERSION):  # files of an earlier arithmetic are never read again
            reference_cache(ref, extractor, version).unlink(missing_ok=True)
    return out


def store_reference(path: Path, arrays: dict[str, np.ndarray]) -> bool:
    """Write a reference cache file whole (a temporary file renamed over it); False where it cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + f".{time.time_ns()}.tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)
        return True
    except OSError:
        return False  # a read-only cache only costs recomputation


MAX_KID_SUMS = 16  # sets of cached KID sums per reference file (one per eval seed and sample count)


def reference_kid_sums(ref: str, extractor: Extractor, real: dict[str, np.ndarray], n_fake: int,
                       seed: int) -> np.ndarray:
    """The reference's own kernel sums in KID against n_fake samples (scores.kid_sums), cached beside its
    features: a third of KID's work, the same at every evaluation with this seed and sample count."""
    key = f"kid_sums_{KID_SUBSETS}x{KID_SUBSET_SIZE}_seed{seed}_n{n_fake}"
    if key not in real or real[key].shape != (KID_SUBSETS,):  # absent, or a damaged entry
        real[key] = scores.kid_sums(real["features"], n_fake, KID_SUBSETS, KID_SUBSET_SIZE, seed)
        kept = [k for k in real if k.startswith("kid_sums_")]
        for old in kept[:-MAX_KID_SUMS]:  # the oldest first: npz files keep the order they were written in
            del real[old]
        store_reference(reference_cache(ref, extractor, FEATURES_VERSION), real)
    return real[key]


# A second, independently trained network of the same data for extractors that have one: every
# classifier-based figure is reported under both (suffix _b), so that a reader sees which numbers depend on one
# network's reading of ambiguous samples.
SECOND_OPINION = {"mnist": "mnist-b"}


def evaluation_card(ref: str, extractor: Extractor, n_samples: int, seed: int | None, n_ref: int,
                    source: str = "", second: Extractor | None = None) -> dict:
    try:
        version = metadata.version("gankit")
    except metadata.PackageNotFoundError:
        version = "unknown"
    card = {"extractor": extractor.name, "extractor_sha256": extractor.checksum, "reference": ref,
            "reference_description": REFERENCES[ref][2], "reference_size": n_ref, "n_samples": n_samples,
            "seed": seed, "source": source, "k_precision_recall": K_PRECISION_RECALL,
            "k_density_coverage": K_DENSITY_COVERAGE, "kid_subsets": KID_SUBSETS,
            "kid_subset_size": KID_SUBSET_SIZE, "is_splits": IS_SPLITS, "gankit": version}
    if second is not None:
        card.update({"second_extractor": second.name, "second_extractor_sha256": second.checksum})
    return card


def scores_with(net: Extractor, ref: str, real: dict[str, np.ndarray], images: torch.Tensor, seed: int | None,
                labels: torch.Tensor | None, fid_only: bool) -> dict:
    """Every metric of images in one extractor's features, against that extractor's reference features `real`."""
    fake = net(images)
    out: dict = {"fid": scores.fid(real["features"], fake["features"])}
    if fid_only:
        return out
    seed = seed or 0
    real_sums = reference_kid_sums(ref, net, real, len(images), seed)
    kid_mean, kid_std = scores.kid(real["features"], fake["features"], KID_SUBSETS, KID_SUBSET_SIZE, seed, real_sums)
    out.update({"kid": kid_mean, "kid_std": kid_std,
                **scores.manifold_scores(real["features"], fake["features"], K_PRECISION_RECALL, K_DENSITY_COVERAGE,
                                         {k: real[f"radii_{k}"] for k in (K_PRECISION_RECALL, K_DENSITY_COVERAGE)})})
    if "logits" in fake:
        is_mean, is_std = scores.classifier_score(fake["logits"], IS_SPLITS)
        histogram = scores.class_histogram(fake["logits"], fake["logits"].shape[1])
        out.update({"is": is_mean, "is_std": is_std, "classes_covered": histogram["classes_covered"],
                    "class_kl": histogram["kl_to_uniform"], "class_counts": histogram["counts"]})
        if labels is not None:
            accuracy = scores.label_accuracy(fake["logits"], labels.numpy())
            out.update({"label_accuracy": accuracy["accuracy"], "label_accuracy_per_label": accuracy["per_label"]})
    return out


def evaluate_images(images: torch.Tensor, ref: str = "mnist-test", extractor: str = "mnist", seed: int | None = 0,
                    labels: torch.Tensor | None = None, source: str = "", fid_only: bool = False) -> dict:
    """Every metric of uint8 images [N, C, H, W] against a reference; `card` says how they were made. Where the
    extractor has a second opinion (SECOND_OPINION), the full evaluation also gives every figure under it, as
    `<metric>_b`."""
    least = 2 if fid_only else IS_SPLITS  # the classifier score averages over IS_SPLITS splits
    if len(images) < least:
        raise GankitError(f"need at least {least} images to evaluate, got {len(images)}")
    net = get_extractor(extractor)
    real = reference_features(ref, net)
    out = scores_with(net, ref, real, images, seed, labels, fid_only)
    second = None
    if not fid_only and extractor in SECOND_OPINION:
        second = get_extractor(SECOND_OPINION[extractor])
        other = scores_with(second, ref, reference_features(ref, second), images, seed, labels, fid_only)
        out.update({f"{key}_b": value for key, value in other.items() if isinstance(value, (int, float))})
    out["card"] = evaluation_card(ref, net, len(images), seed, len(real["features"]), source, second)
    return out

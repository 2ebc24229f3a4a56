"""Labelled synthetic data from a conditional generator, for training other models (`gankit augment`).

A folder holds one subfolder per class with that class's images as PNGs, the layout of gankit's `folder` dataset
and of torchvision's ImageFolder; an .npz holds `images` uint8 (N, H, W, C) and `labels` int64 (N,).
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .errors import GankitError
from .limits import check_disk
from .progress import progress_bar
from .sampling import Pipeline, save_samples

MAX_PER_CLASS = 1_000_000
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")


def class_folders(names: tuple[str, ...], k: int) -> list[str]:
    """One subfolder name per class such that sorting the names gives the classes in label order (the folder
    dataset numbers classes by sorted subfolder): the class names themselves when they are plain file names that
    already sort so, else '<index>_<name>' with the index zero-padded and unsafe characters replaced."""
    names = names if len(names) == k else tuple(str(i) for i in range(k))
    if all(SAFE_NAME.match(n) for n in names) and sorted(names) == list(names) and len(set(names)) == k:
        return list(names)
    width = len(str(k - 1))
    return [f"{i:0{width}d}_{re.sub(r'[^A-Za-z0-9._-]+', '-', n)[:48]}" for i, n in enumerate(names)]


def check_request(pipeline: Pipeline, n_per_class: int) -> None:
    if not pipeline.conditional:
        raise GankitError("gankit augment needs a class-conditional generator (trained with gan.conditional="
                          "projection or acgan, e.g. mnist-cgan); this one draws no labels")
    if pipeline.kind != "image":
        raise GankitError(f"gankit augment writes images; this model makes {pipeline.makes}")
    if not 1 <= n_per_class <= MAX_PER_CLASS:
        raise GankitError(f"--n-per-class must be between 1 and {MAX_PER_CLASS:,}, got {n_per_class}")


def write_labelled(pipeline: Pipeline, n_per_class: int, out: Path, seed: int = 0, overwrite: bool = False,
                   batch_size: int = 1000, **options) -> Path:
    """n_per_class samples of every class into `out`: a folder of class subfolders, or an .npz file. Refuses an
    existing non-empty target unless `overwrite` (then only what this writes is replaced). `options` go to the
    recipe's generate (truncation=psi)."""
    check_request(pipeline, n_per_class)
    out = Path(out)
    k = pipeline.recipe.num_classes
    if out.suffix == ".npz":
        if out.exists() and not overwrite:
            raise GankitError(f"{out} already exists: choose another --out, or replace it with --overwrite")
        return save_samples(pipeline, n_per_class * k, out, seed=seed, batch_size=batch_size, **options)
    if out.exists() and not out.is_dir():
        raise GankitError(f"{out} is a file: give a folder (class subfolders of PNGs) or a name ending in .npz")
    folders = class_folders(tuple(pipeline.meta.get("class_names", ())), k)
    taken = [out / f for f in folders if (out / f).exists() and not ((out / f).is_dir() and
                                                                      not any((out / f).iterdir()))]
    if taken and not overwrite:
        raise GankitError(f"{taken[0]} already exists and is not empty: choose another --out, or replace the class "
                          "folders with --overwrite")
    shape = next(f["shape"] for f in pipeline.meta["fields"].values() if f["kind"] == "image")
    check_disk(out, n_per_class * k * (int(np.prod(shape)) + 100), "the PNG files")  # at most raw size + headers
    try:
        for folder in folders:
            if overwrite and (out / folder).is_dir():
                shutil.rmtree(out / folder)
            elif overwrite and (out / folder).exists():
                (out / folder).unlink()
            (out / folder).mkdir(parents=True, exist_ok=True)
        write_pngs(pipeline, n_per_class, k, out, folders, seed, batch_size, **options)
    except OSError as err:
        raise GankitError(f"cannot write to {out}: {err.strerror or err}") from None
    return out


def write_pngs(pipeline: Pipeline, n_per_class: int, k: int, out: Path, folders: list[str], seed: int,
               batch_size: int, **options) -> None:
    labels = torch.arange(k).repeat_interleave(n_per_class)  # class by class: each class's files in one run
    counts = [0] * k
    with progress_bar(total=len(labels), desc="writing images", unit="img", hide=len(labels) < 2000) as bar:
        for batch, start in zip(pipeline.batches(len(labels), seed, labels, batch_size, inputs="noise", **options),
                                range(0, len(labels), batch_size)):
            images = batch[pipeline.recipe.main_output]
            for image, label in zip(images, labels[start:start + len(images)].tolist()):
                array = image.permute(1, 2, 0).numpy()
                picture = Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)
                picture.save(out / folders[label] / f"{counts[label]:06d}.png")
                counts[label] += 1
            bar.update(len(images))

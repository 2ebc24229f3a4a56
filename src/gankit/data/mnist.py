"""MNIST bundled with the package, and the standard IDX files of MNIST / Fashion-MNIST downloaded on demand.

MNIST: Yann LeCun, Corinna Cortes and Christopher J.C. Burges, http://yann.lecun.com/exdb/mnist/,
available under CC BY-SA 3.0 (https://creativecommons.org/licenses/by-sa/3.0/). The bundled copy is the
full set (60,000 train / 10,000 test, original order) stored as a compressed .npz.
Fashion-MNIST: Xiao, Rasul and Vollgraf 2017 (https://arxiv.org/abs/1708.07747), MIT licence.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from ..config import DataConfig
from ..errors import GankitError
from ..progress import progress_bar
from ..registry import DATASETS
from .base import ImageData, fit_images

DIGITS = tuple(str(i) for i in range(10))
SPLITS = ("train", "test")


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise GankitError(f"unknown data split '{split}'; valid: {', '.join(SPLITS)}")


def bundled_path() -> Path:
    """The bundled MNIST file (an .npz inside the installed package)."""
    return Path(str(resources.files("gankit") / "data" / "assets" / "mnist.npz"))


@lru_cache(maxsize=1)
def bundled_mnist() -> dict[str, np.ndarray]:
    """The bundled MNIST arrays: x_train (60000, 28, 28), y_train, x_test (10000, 28, 28), y_test; uint8."""
    with np.load(bundled_path()) as f:
        return {k: f[k] for k in f.files}


def _finish(images: np.ndarray, labels: np.ndarray, cfg: DataConfig, names: tuple[str, ...], name: str):
    if cfg.limit:
        images, labels = images[:cfg.limit], labels[:cfg.limit]
    x = torch.from_numpy(np.ascontiguousarray(images)).unsqueeze(1)  # [N, 1, 28, 28]
    x = fit_images(x, cfg.resolution, cfg.channels)
    return ImageData(x, torch.from_numpy(labels.astype(np.int64)), names, name, protocol="image-fid")


@DATASETS.register("mnist", "MNIST digits bundled with gankit (no network): 60k train / 10k test, 28x28")
def load_mnist(cfg: DataConfig):
    _check_split(cfg.split)
    arrays = bundled_mnist()
    return _finish(arrays[f"x_{cfg.split}"], arrays[f"y_{cfg.split}"], cfg, DIGITS, "mnist")


# ---------------------------------------------------------------- IDX downloads


@dataclass(frozen=True)
class IDXSource:
    """Where a set of IDX files lives, what their bytes hash to ('md5:...' or 'sha256:...') and their sizes."""

    name: str
    mirror: str
    files: dict[str, tuple[str, str, int]]  # key 'train-images' ... -> (file name, checksum, size in bytes)
    class_names: tuple[str, ...]


MNIST_IDX = IDXSource(
    "mnist-idx", "https://ossci-datasets.s3.amazonaws.com/mnist/",
    {"train-images": ("train-images-idx3-ubyte.gz", "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422),
     "train-labels": ("train-labels-idx1-ubyte.gz", "md5:d53e105ee54ea40749a09fcbcd1e9432", 28881),
     "test-images": ("t10k-images-idx3-ubyte.gz", "md5:9fb629c4189551a2d022fa330f9573f3", 1648877),
     "test-labels": ("t10k-labels-idx1-ubyte.gz", "md5:ec29112dd5afa0611ce80d1b7f02629c", 4542)},
    DIGITS)

FASHION_MNIST_IDX = IDXSource(
    "fashion-mnist", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    {"train-images": ("train-images-idx3-ubyte.gz",
                      "sha256:08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc", 26421880),
     "train-labels": ("train-labels-idx1-ubyte.gz",
                      "sha256:b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc", 29515),
     "test-images": ("t10k-images-idx3-ubyte.gz",
                     "sha256:78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229", 4422102),
     "test-labels": ("t10k-labels-idx1-ubyte.gz",
                     "sha256:42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf", 5148)},
    ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"))

def cache_dir(path: str = "") -> Path:
    """The download cache: data.path if given, else $GANKIT_CACHE, else ~/.cache/gankit."""
    return Path(path or os.environ.get("GANKIT_CACHE") or Path.home() / ".cache" / "gankit")


def file_checksum(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _matches(path: Path, checksum: str) -> bool:
    algorithm, expected = checksum.split(":", 1)
    return path.is_file() and file_checksum(path, algorithm) == expected


DOWNLOAD_DEADLINE_S = 1800.0  # a whole file, however slowly the mirror sends it ($GANKIT_DOWNLOAD_DEADLINE_S)


def download_deadline() -> float:
    text = os.environ.get("GANKIT_DOWNLOAD_DEADLINE_S", "")
    try:
        deadline = float(text) if text else DOWNLOAD_DEADLINE_S
    except ValueError:
        deadline = -1.0
    if not deadline > 0 or deadline == float("inf"):
        raise GankitError(f"GANKIT_DOWNLOAD_DEADLINE_S must be a positive number of seconds, got {text[:20]!r}")
    return deadline


def fetch(url: str, dest: Path, checksum: str, size: int, timeout_s: float = 60.0,
          deadline_s: float | None = None) -> Path:
    """Download `url` to `dest` unless a file with the right checksum is already there; verify the checksum.

    A mirror may send at most `size` bytes (more is refused as soon as it arrives), each read waits at most
    `timeout_s`, and the whole download must finish within `deadline_s`, so a mirror that drips bytes forever
    cannot hang the run."""
    if _matches(dest, checksum):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")
    deadline_s = deadline_s or download_deadline()
    start = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response, open(partial, "wb") as out:
            announced = int(response.headers.get("Content-Length") or 0)
            if announced > size:
                raise DownloadRefused(f"the mirror announces {announced} bytes, the file has {size}")
            received = 0
            with progress_bar(total=size, unit="B", unit_scale=True, desc=dest.name, leave=False) as bar:
                while block := response.read1(1 << 16):  # read1: whatever has arrived, so the deadline is seen
                    received += len(block)
                    if received > size:
                        raise DownloadRefused(f"the mirror sent more than the file's {size} bytes")
                    if time.monotonic() - start > deadline_s:
                        raise DownloadRefused(f"not finished after {deadline_s:.0f} s ({received} of {size} bytes)")
                    out.write(block)
                    bar.update(len(block))
    except (urllib.error.URLError, OSError, DownloadRefused, ValueError) as err:
        partial.unlink(missing_ok=True)
        raise GankitError(f"cannot download {url}: {getattr(err, 'reason', err)}") from None
    if not _matches(partial, checksum):
        algorithm = checksum.split(":", 1)[0]
        got = file_checksum(partial, algorithm)
        partial.unlink(missing_ok=True)
        raise GankitError(f"checksum mismatch for {url}: expected {checksum}, got {algorithm}:{got}")
    partial.replace(dest)
    return dest


class DownloadRefused(Exception):
    """A mirror that sends too much or too slowly."""


def read_idx(path: Path) -> np.ndarray:
    """Parse a (gzipped) IDX file of unsigned bytes: magic 0x0000 08 NDIM, then NDIM big-endian sizes."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise GankitError(f"{path} is not an IDX file of unsigned bytes")
    ndim = data[3]
    dims = np.frombuffer(data, dtype=">u4", count=ndim, offset=4).astype(int)
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise GankitError(f"{path} is truncated: expected {int(np.prod(dims))} values, found {body.size}")
    return body.reshape(dims).copy()  # frombuffer views are read-only


def load_idx(source: IDXSource, cfg: DataConfig):
    _check_split(cfg.split)
    mirror = cfg.mirror or source.mirror
    if not mirror.endswith("/"):
        mirror += "/"
    folder = cache_dir(cfg.path) / source.name
    arrays = []
    for kind in ("images", "labels"):
        file_name, checksum, size = source.files[f"{cfg.split}-{kind}"]
        arrays.append(read_idx(fetch(mirror + file_name, folder / file_name, checksum, size)))
    images, labels = arrays
    if len(images) != len(labels):
        raise GankitError(f"{source.name}: {len(images)} images but {len(labels)} labels")
    return _finish(images, labels, cfg, source.class_names, source.name)


@DATASETS.register("mnist-idx", "MNIST from the standard IDX files, downloaded once into the cache, checksummed")
def load_mnist_idx(cfg: DataConfig):
    return load_idx(MNIST_IDX, cfg)


@DATASETS.register("fashion-mnist", "Fashion-MNIST (Zalando) from its IDX files, downloaded once, checksummed")
def load_fashion_mnist(cfg: DataConfig):
    return load_idx(FASHION_MNIST_IDX, cfg)

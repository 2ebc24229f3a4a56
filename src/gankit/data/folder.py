"""A folder of PNG/JPEG images; class subfolders, when present, become labels."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..config import DataConfig
from ..errors import GankitError, summary
from ..limits import check_memory
from ..progress import progress_bar
from ..registry import DATASETS
from .base import ImageData

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
DEFAULT_RESOLUTION = 64
MAX_PIXELS = 64_000_000  # a 64-megapixel photo decodes to 192 MB; larger ones are skipped as unreadable


def center_square(image: Image.Image, size: int) -> Image.Image:
    """The centre square of an image (the length of its shorter side), resized to size x size.

    Cropping first keeps the work bounded: a 1 x 100000 strip never becomes a 64 x 6400000 image."""
    w, h = image.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    return image.resize((size, size), Image.Resampling.BICUBIC, box=(left, top, left + side, top + side))


def read_image(path: Path, mode: str, size: int) -> np.ndarray:
    """One image file as a size x size array of `mode` pixels; images over MAX_PIXELS are refused unread."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)  # Pillow's own limit: skip, don't warn
        image = Image.open(path)
    with image:
        if image.width * image.height > MAX_PIXELS:  # the header is read, the pixels are not yet
            raise ValueError(f"{image.width}x{image.height} pixels is more than gankit reads ({MAX_PIXELS:,})")
        image.draft(mode, (size, size))  # JPEG: decode at a reduced scale that still covers `size`
        return np.asarray(center_square(image.convert(mode), size))


def list_images(root: Path) -> tuple[list[Path], list[int] | None, tuple[str, ...]]:
    """Files under root; labels from the first-level subfolders when every image sits in one."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    subfolders = sorted({p.relative_to(root).parts[0] for p in files if len(p.relative_to(root).parts) > 1})
    if subfolders and all(len(p.relative_to(root).parts) > 1 for p in files):
        index = {name: i for i, name in enumerate(subfolders)}
        return files, [index[p.relative_to(root).parts[0]] for p in files], tuple(subfolders)
    return files, None, ()


@DATASETS.register("folder", "your own images: data.path=FOLDER of PNG/JPEG, class subfolders become labels")
def load_folder(cfg: DataConfig):
    if not cfg.path:
        raise GankitError("dataset 'folder' needs data.path=FOLDER (--set data.path=...)")
    if cfg.split != "train":  # one folder is one split: holding out is the user's choice of folder
        raise GankitError(f"dataset 'folder' has no '{cfg.split}' split: point data.path at a folder of held-out "
                          "images instead")
    root = Path(cfg.path)
    if not root.is_dir():
        raise GankitError(f"image folder {root} does not exist")
    files, labels, class_names = list_images(root)
    if not files:
        raise GankitError(f"image folder {root} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    size = cfg.resolution or DEFAULT_RESOLUTION
    mode = {1: "L", 3: "RGB", 0: "RGB"}.get(cfg.channels)
    if mode is None:
        raise GankitError(f"data.channels must be 1 or 3 (or 0 for RGB), got {cfg.channels}")
    if cfg.limit:
        files = files[:cfg.limit]
        labels = labels[:cfg.limit] if labels else None
    check_memory(len(files) * size * size * len(mode), f"{len(files)} images of {size}x{size} from {root}",
                 "set data.limit or a smaller data.resolution")
    images, kept, skipped = [], [], []
    for i, path in enumerate(progress_bar(files, hide=len(files) < 500, desc=f"reading {root.name}", unit="img", leave=False)):
        try:
            images.append(read_image(path, mode, size))
            kept.append(i)
        except Exception as err:  # Pillow raises many kinds of error for damaged or hostile files
            skipped.append((path, summary(err, 120)))
    if skipped and cfg.strict:
        raise GankitError(f"{len(skipped)} unreadable image file(s) in {root}, e.g. {skipped[0][0]}: {skipped[0][1]} "
                          "(set data.strict=false to skip them)")
    if skipped:
        warnings.warn(f"skipped {len(skipped)} unreadable image file(s) in {root}, e.g. {skipped[0][0].name}: "
                      f"{skipped[0][1]}")
    if not images:
        raise GankitError(f"image folder {root} holds no readable images")
    x = torch.from_numpy(np.stack(images))  # [N, H, W] or [N, H, W, 3]
    x = x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2).contiguous()
    y = torch.tensor([labels[i] for i in kept]) if labels else None
    return ImageData(x, y, class_names, f"folder:{root.name}", protocol="image-fid")

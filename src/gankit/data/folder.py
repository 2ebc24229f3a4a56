"""A folder of PNG/JPEG images; class subfolders, when present, become labels."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from ..config import DataConfig
from ..errors import GankitError
from ..registry import DATASETS
from .base import ImageData

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
DEFAULT_RESOLUTION = 64


def center_square(image: Image.Image, size: int) -> Image.Image:
    """Resize the shorter side to `size`, then crop the centre square."""
    w, h = image.size
    scale = size / min(w, h)
    image = image.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.Resampling.BICUBIC)
    w, h = image.size
    left, top = (w - size) // 2, (h - size) // 2
    return image.crop((left, top, left + size, top + size))


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
    images, kept, skipped = [], [], []
    for i, path in enumerate(tqdm(files, desc=f"reading {root.name}", unit="img", leave=False, disable=len(files) < 500)):
        try:
            with Image.open(path) as image:
                images.append(np.asarray(center_square(image.convert(mode), size)))
            kept.append(i)
        except (UnidentifiedImageError, OSError):
            skipped.append(path)
    if skipped and cfg.strict:
        raise GankitError(f"{len(skipped)} unreadable image file(s) in {root}, e.g. {skipped[0]} "
                          "(set data.strict=false to skip them)")
    if skipped:
        warnings.warn(f"skipped {len(skipped)} unreadable image file(s) in {root}, e.g. {skipped[0].name}")
    if not images:
        raise GankitError(f"image folder {root} holds no readable images")
    x = torch.from_numpy(np.stack(images))  # [N, H, W] or [N, H, W, 3]
    x = x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2).contiguous()
    y = torch.tensor([labels[i] for i in kept]) if labels else None
    return ImageData(x, y, class_names, f"folder:{root.name}", protocol="image-fid")

"""Natural photos for super-resolution (`sr-photos`), all from packages gankit installs: nothing downloads.

train  random crops (data.crop, default 96 px) of 12 photos bundled in the scikit-image wheel, cut into
       overlapping 128 px tiles once at load: rocket, hubble_deep_field, retina, motorcycle_left/right, ihc,
       and the grayscale camera, brick, grass, gravel, coins, moon (as three equal channels)
test   five photos no training crop comes from, each cut to its centre 296 x 296: china and flower from
       scikit-learn (its `load_sample_images`; install it with `pip install 'gankit[photos]'`) and the held-out
       scikit-image photos astronaut, chelsea and coffee

The low-resolution input of each pair is the high-resolution crop downscaled x4 by antialiased bicubic (as
PIL's resize), computed with each batch, so the model learns exactly the degradation `gankit eval` measures.
The photos' own licences: see scikit-image's and scikit-learn's data READMEs (public domain or free use).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..config import DataConfig
from ..draws import Draws
from ..errors import GankitError
from ..registry import DATASETS
from .base import ArrayData, Batch, Field, to_float, to_uint8
from .paired import SR_SCALE, downscale

TRAIN_PHOTOS = ("rocket.jpg", "hubble_deep_field.jpg", "retina.jpg", "motorcycle_left.png", "motorcycle_right.png",
                "ihc.png", "camera.png", "brick.png", "grass.png", "gravel.png", "coins.png", "moon.png")
TEST_PHOTOS = (("sklearn", "china.jpg"), ("sklearn", "flower.jpg"), ("skimage", "astronaut.png"),
               ("skimage", "chelsea.png"), ("skimage", "coffee.png"))
TILE, STRIDE = 128, 64   # training tiles, cut once; random crops of data.crop px are drawn inside them
DEFAULT_CROP = 96
TEST_SIDE = 296          # the largest multiple of 8 inside every test photo (chelsea is 300 px tall)


def package_file(package: str, *parts: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        extra = " (pip install 'gankit[photos]')" if package == "sklearn" else ""
        raise GankitError(f"sr-photos needs the photos inside the {package} package, which is not installed{extra}")
    path = Path(list(spec.submodule_search_locations)[0], *parts)
    if not path.is_file():
        raise GankitError(f"{path.name} is missing from the installed {package} package ({path})")
    return path


def open_rgb(path: Path) -> torch.Tensor:
    """uint8 [3, H, W] (grayscale photos as three equal channels)."""
    with Image.open(path) as image:
        return torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1).contiguous()


def tiles(photo: torch.Tensor) -> torch.Tensor:
    """[T, 3, TILE, TILE]: the photo's tiles at STRIDE steps (rows and columns)."""
    _, h, w = photo.shape
    return torch.stack([photo[:, top:top + TILE, left:left + TILE]
                        for top in range(0, h - TILE + 1, STRIDE) for left in range(0, w - TILE + 1, STRIDE)])


def centre(photo: torch.Tensor, side: int) -> torch.Tensor:
    _, h, w = photo.shape
    top, left = (h - side) // 2, (w - side) // 2
    return photo[:, top:top + side, left:left + side]


class CropPairs(ArrayData):
    """High-resolution tiles whose batches are random crops (`hr`) with their x4 downscaled inputs (`lr`)."""

    @property
    def fields(self) -> dict[str, Field]:
        hr = super().fields["hr"]
        c, side = hr.shape[0], hr.shape[-1]
        return {"lr": Field("image", (c, side // SR_SCALE, side // SR_SCALE)), "hr": hr}

    def batch(self, index: torch.Tensor, draws: Draws | None = None) -> Batch:
        hr = super().batch(index, draws)["hr"]
        # from the crop's own uint8 values (to_uint8 inverts to_float exactly), as the test inputs are made
        return {"lr": to_float(downscale(to_uint8(hr), SR_SCALE)), "hr": hr}


@DATASETS.register("sr-photos", "x4 super-resolution of photos bundled in scikit-image (train) and scikit-learn + "
                                "held-out scikit-image photos (test, 296 px)")
def load_sr_photos(cfg: DataConfig) -> ArrayData:
    if cfg.split not in ("train", "test"):
        raise GankitError(f"sr-photos has splits train and test, not '{cfg.split}'")
    if cfg.resolution:
        raise GankitError("sr-photos sets its own sizes: choose the training crop with data.crop (a multiple of 4, "
                          f"at most {TILE}), and leave data.resolution at 0")
    info = {"scale": SR_SCALE}
    if cfg.split == "test":
        hr = torch.stack([centre(open_rgb(package_file(package, *(("datasets", "images") if package == "sklearn"
                                                                else ("data",)), name)), TEST_SIDE)
                          for package, name in TEST_PHOTOS])
        names = [name.rsplit(".", 1)[0] for _, name in TEST_PHOTOS]
        return ArrayData({"lr": downscale(hr, SR_SCALE), "hr": hr}, {"lr": "image", "hr": "image"}, "sr-photos",
                         protocol="paired-psnr", info={**info, "names": names}, config=cfg)
    crop = cfg.crop or DEFAULT_CROP
    if crop % SR_SCALE or not SR_SCALE * 4 <= crop <= TILE:
        raise GankitError(f"sr-photos: data.crop must be a multiple of {SR_SCALE} from {SR_SCALE * 4} to {TILE}, "
                          f"got {crop}")
    hr = torch.cat([tiles(open_rgb(package_file("skimage", "data", name))) for name in TRAIN_PHOTOS])
    if cfg.limit:
        hr = hr[:cfg.limit]
    return CropPairs({"hr": hr}, {"hr": "image"}, "sr-photos", crop=crop, protocol="paired-psnr", info=info,
                     config=cfg)  # load_data keeps the crop chosen here

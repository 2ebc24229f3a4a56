"""A trained image-to-image model applied to people's own pictures: `gankit upscale` and `gankit inpaint`.

Pictures of any size: super-resolution runs the generator on overlapping tiles of the size it was trained on and
blends them with weights that fall towards each tile's edges, so that no seams show; inpainting runs at the
model's size and puts the result back only inside the holes, at the picture's own resolution.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from .checkpoint import atomic_write
from .data.folder import MAX_PIXELS
from .errors import GankitError
from .limits import check_memory
from .sampling import Pipeline

TILE_BATCH = 256     # tiles per generator call
MASK_THRESHOLD = 127  # mask pixels brighter than this are holes (white = fill)


def open_picture(path: Path, channels: int, what: str = "image") -> torch.Tensor:
    """An image file as uint8 [channels, H, W] (grey and colour are converted; alpha is refused)."""
    path = Path(path)
    if not path.is_file():
        raise GankitError(f"{what} {path} does not exist" if not path.exists() else f"{what} {path} is not a file")
    return decode_picture(path, channels, f"{what} {path}")


def decode_picture(source, channels: int, name: str, max_pixels: int = MAX_PIXELS) -> torch.Tensor:
    """An image (a path or a binary file object) as uint8 [channels, H, W]; `name` says which in errors. The
    size is checked from the header, before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
        with image:
            if image.width * image.height > max_pixels:
                raise GankitError(f"{name} is {image.width}x{image.height}: more than gankit reads "
                                  f"({max_pixels:,} pixels)")
            if "A" in image.getbands() or (image.mode == "P" and "transparency" in image.info):
                raise GankitError(f"{name} has an alpha channel ({image.mode}); save it as grey or RGB")
            if image.mode not in ("1", "L", "P", "RGB", "I", "I;16", "F", "CMYK", "YCbCr"):
                raise GankitError(f"{name} has {len(image.getbands())} channels ({image.mode}); "
                                  "gankit reads grey and RGB images")
            array = np.asarray(image.convert("L" if channels == 1 else "RGB"))
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError) as err:
        raise GankitError(f"cannot read {name}: {type(err).__name__}: {err}") from None
    x = torch.from_numpy(array.copy())
    return x.unsqueeze(0) if x.dim() == 2 else x.permute(2, 0, 1)  # [C, H, W]


PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def check_output(out: Path, sources: list[Path], overwrite: bool, suffixes: tuple[str, ...] = PICTURE_SUFFIXES) -> Path:
    """`out` as a picture file to write: a name with one of `suffixes`, not a folder, never one of the inputs,
    and not an existing file unless `overwrite`. Checked before any work, so that a refusal costs nothing."""
    out = Path(out)
    if out.suffix.lower() not in suffixes:
        raise GankitError(f"--out {out} must be a file name ending in {' or '.join(suffixes[:2])}"
                          + (", ..." if len(suffixes) > 2 else ""))
    if out.is_dir():
        raise GankitError(f"--out {out} is a folder: give a file name")
    if any(out.exists() and out.resolve() == Path(s).resolve() for s in sources):
        raise GankitError(f"--out {out} is one of the inputs: write the result to another file")
    if out.exists() and not overwrite:
        raise GankitError(f"{out} already exists: choose another --out, or replace it with --overwrite")
    return out


def save_picture_file(image: torch.Tensor, out: Path) -> Path:
    """Write uint8 [C, H, W] to `out` (checked by check_output) atomically."""
    array = image.permute(1, 2, 0).squeeze(2).numpy()
    atomic_write(out, lambda tmp: Image.fromarray(array).save(tmp, format=Image.registered_extensions()[out.suffix.lower()]))
    return out


def pairing_of(pipeline: Pipeline) -> tuple[str, str]:
    recipe = pipeline.recipe
    return getattr(recipe, "source_key", ""), getattr(recipe, "target_key", "")


def directions_of(pipeline: Pipeline) -> dict[str, tuple[str, str]]:
    """The image translations a model makes: 'a2b' (and 'b2a') -> (its input field, its output field)."""
    recipe = pipeline.recipe
    if recipe.cfg.recipe == "cyclegan":
        return {"a2b": ("a", "fake_b"), "b2a": ("b", "fake_a")}
    return {"a2b": ("a", "fake")} if pairing_of(pipeline) == ("a", "b") else {}


def tile_starts(size: int, tile: int, step: int) -> list[int]:
    """Offsets of tiles of `tile` px covering `size` px with stride `step`, the last one flush with the end."""
    starts = list(range(0, max(size - tile, 0) + 1, step))
    if starts[-1] + tile < size:
        starts.append(size - tile)
    return starts


def edge_weights(side: int, ramp: int) -> torch.Tensor:
    """[side, side] blending weights: 1 inside, falling linearly to near 0 over `ramp` px at every edge."""
    distance = torch.minimum(torch.arange(side), torch.arange(side).flip(0)).float()  # to the nearest edge
    w = ((distance + 1) / (ramp + 1)).clamp(max=1.0)
    return w[:, None] * w[None, :]


@torch.no_grad()
def upscale(pipeline: Pipeline, image: torch.Tensor) -> torch.Tensor:
    """uint8 [C, H, W] -> uint8 [C, H*s, W*s], where s is the model's scale."""
    if pairing_of(pipeline) != ("lr", "hr"):
        raise GankitError("this model does not upscale: it was trained on "
                          f"{' + '.join(pairing_of(pipeline)) or 'noise'}, not on lr/hr pairs")
    tile = pipeline.fields["lr"].shape[-1]
    scale = pipeline.fields["hr"].shape[-1] // tile
    c, h, w = image.shape
    check_memory(c * h * w * scale * scale * 4 * 2, f"a {w * scale}x{h * scale} result")
    pad_h, pad_w = max(tile - h, 0), max(tile - w, 0)  # pictures smaller than a tile are padded, then cut back
    x = F.pad(image[None].float(), (0, pad_w, 0, pad_h), mode="replicate")[0].to(torch.uint8) if pad_h or pad_w else image
    overlap = max(1, tile // 4)
    tops, lefts = tile_starts(x.shape[1], tile, tile - overlap), tile_starts(x.shape[2], tile, tile - overlap)
    weights = edge_weights(tile * scale, overlap * scale)
    out = torch.zeros(c, x.shape[1] * scale, x.shape[2] * scale)
    total = torch.zeros(x.shape[1] * scale, x.shape[2] * scale)
    corners = [(t, l) for t in tops for l in lefts]
    for start in range(0, len(corners), TILE_BATCH):
        part = corners[start:start + TILE_BATCH]
        tiles = torch.stack([x[:, t:t + tile, l:l + tile] for t, l in part])
        fake = pipeline({"lr": tiles})["fake"].float()  # [B, C, tile*s, tile*s]
        for (t, l), y in zip(part, fake):
            rows, cols = slice(t * scale, (t + tile) * scale), slice(l * scale, (l + tile) * scale)
            out[:, rows, cols] += y * weights
            total[rows, cols] += weights
    out = (out / total).round().clamp(0, 255).to(torch.uint8)
    return out[:, :h * scale, :w * scale]


@torch.no_grad()
def inpaint(pipeline: Pipeline, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """uint8 [C, H, W] with a bool hole mask [H, W] -> uint8 [C, H, W], changed only inside the holes."""
    if pairing_of(pipeline) != ("image", "mask"):
        raise GankitError("this model does not inpaint: it was trained on "
                          f"{' + '.join(pairing_of(pipeline)) or 'noise'}, not on image + mask")
    if mask.shape != image.shape[1:]:
        raise GankitError(f"the mask is {mask.shape[1]}x{mask.shape[0]} but the image is "
                          f"{image.shape[2]}x{image.shape[1]}: they must be the same size")
    if not mask.any():
        raise GankitError(f"the mask marks no hole: white pixels (brighter than {MASK_THRESHOLD}) are filled")
    side = pipeline.fields["image"].shape[-1]
    h, w = mask.shape
    x = image[None].float()
    m = mask[None, None].float()
    if (h, w) != (side, side):  # the model's size: any pixel of a hole makes its cell a hole
        x = F.interpolate(x, size=(side, side), mode="bilinear", antialias=True, align_corners=False)
        m = F.adaptive_max_pool2d(m, side) if h >= side and w >= side else \
            F.interpolate(m, size=(side, side), mode="nearest")
    fake = pipeline({"image": x.round().clamp(0, 255).to(torch.uint8), "mask": m})["fake"].float()
    if (h, w) != (side, side):
        fake = F.interpolate(fake, size=(h, w), mode="bilinear", align_corners=False)
    return torch.where(mask[None], fake[0].round().clamp(0, 255), image.float()).to(torch.uint8)


MAX_TEXT = 500  # characters in one --text line


def text_glyphs(pipeline: Pipeline, text: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The characters of `text` in the run's source font, uint8 [N, 1, 64, 64], and which cells are spaces
    (bool [N]; blank cells)."""
    from .data.glyphs import BUNDLED_FONTS, bundled_glyphs, open_font, parse_fonts, render_font

    if "a2b" not in directions_of(pipeline) or pipeline.config.data.name not in ("glyphs", "glyph-styles"):
        raise GankitError("--text needs a font-transfer model (data glyphs or glyph-styles, e.g. the presets "
                          "glyphs-kai, cyclegan-glyphs)")
    text = text.strip()
    if not text:
        raise GankitError("--text is empty: give the characters to write, e.g. --text 永和九年")
    if len(text) > MAX_TEXT:
        raise GankitError(f"--text has {len(text)} characters; at most {MAX_TEXT} in one line")
    source = parse_fonts(pipeline.config.data.fonts or "hei,kai")[0]
    chars = [c for c in text if not c.isspace()]
    if source in BUNDLED_FONTS:
        bundled = bundled_glyphs()
        where = {str(c): i for i, c in enumerate(bundled["chars"])}
        unknown = sorted({c for c in chars if c not in where}, key=chars.index)
        if unknown:
            raise GankitError(f"{' '.join(unknown[:10])} {'is' if len(unknown) == 1 else 'are'} not among the "
                              f"{len(where):,} characters bundled in font '{source}'; a model trained with a font "
                              "file (data.fonts=SOURCE.ttf,TARGET.ttf) writes any character its font has")
        glyphs = bundled["glyphs"][list(bundled["fonts"]).index(source)][[where[c] for c in chars]]
    else:
        glyphs, present = render_font(open_font(source), chars)
        if not present.all():
            lacking = [c for c, ok in zip(chars, present) if not ok]
            raise GankitError(f"the source font {source} cannot render {' '.join(lacking[:10])}")
    cells, found = [], iter(glyphs)
    for c in text:
        cells.append(np.full_like(glyphs[0], 255) if c.isspace() else next(found))
    return torch.from_numpy(np.stack(cells)).unsqueeze(1), torch.tensor([c.isspace() for c in text])


def direction_fields(pipeline: Pipeline, direction: str) -> tuple[str, str]:
    """(input field, output field) of a translation direction; a one-line error naming what the model does."""
    directions = directions_of(pipeline)
    if not directions:
        what = "writes text" if pipeline.kind == "tokens" else \
            f"was trained on {' + '.join(k for k in pairing_of(pipeline) if k) or 'noise'}"
        raise GankitError(f"this model does not translate images from one domain to another: it {what}")
    if direction not in directions:
        raise GankitError(f"--direction {direction}: this model translates {' and '.join(directions)} only")
    return directions[direction]


@torch.no_grad()
def translate(pipeline: Pipeline, images: torch.Tensor, direction: str = "a2b") -> torch.Tensor:
    """uint8 [N, C, S, S] images of the direction's source domain (any side: resized to the model's) -> uint8
    [N, C, S', S'] translations."""
    key, output = direction_fields(pipeline, direction)
    side = pipeline.fields[key].shape[-1]
    x = images
    if x.shape[-1] != side or x.shape[-2] != side:
        x = F.interpolate(x.float(), size=(side, side), mode="bilinear", antialias=True, align_corners=False)
        x = x.round().clamp(0, 255).to(torch.uint8)
    outputs = [pipeline({key: chunk})[output] for chunk in x.split(TILE_BATCH)]
    return torch.cat(outputs)


def line_of(cells: torch.Tensor) -> torch.Tensor:
    """uint8 [N, C, H, W] -> one row uint8 [C, H, N*W]."""
    return torch.cat(list(cells), dim=2)


def evaluate_own(pipeline: Pipeline, n: int, seed: int, source: str, **options) -> dict:
    """The run's own protocol on n results from the test split of its data (`gankit eval` on a translator or a
    text model); `options` go to the recipe's generate (a text model's temperature)."""
    from .metrics.protocols import make_protocol

    data = pipeline.recipe.test_split()  # loaded once: the recipe keeps it for its evaluation inputs
    protocol = make_protocol(pipeline.config, data, pipeline.recipe)
    if protocol is None:
        raise GankitError(f"gankit has no evaluation protocol for data '{pipeline.config.data.name}'")
    outputs = pipeline.draw(protocol.n_final(n), seed=seed, data=data, **options)
    return protocol.final(outputs, seed, source)

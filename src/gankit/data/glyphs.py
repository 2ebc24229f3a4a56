"""Font-to-font glyph pairs (zi2zi-style calligraphy transfer): the same character in a source and a target font.

gankit ships the 3,755 common Chinese characters of GB2312 level 1 pre-rendered at 64x64 in four fonts whose
licences allow redistribution (assets/glyphs.npz.xz, made by scripts/render_glyphs.py; licences and attribution
in assets/GLYPHS-NOTICE.txt):

  hei    WenQuanYi Micro Hei (文泉驿微米黑)          Apache-2.0
  kai    AR PL UKai (文鼎PL中楷)                     Arphic Public License
  ming   AR PL UMing (文鼎PL明体)                    Arphic Public License
  droid  Droid Sans Fallback                        Apache-2.0

`data.fonts=SOURCE,TARGET` picks two of them, or names font files (.ttf, .otf, .ttc) that are rendered on
demand for the same characters. Glyphs a font lacks (blank, or its .notdef box) are dropped. Fields: a, b (the
glyphs) and text (the character's code point, so that evaluation can ask an OCR model to read it). The split is by
character: 20% of the characters (a fixed draw) are held out and never trained on.
"""
from __future__ import annotations

import functools
import io
import lzma
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ..config import DataConfig
from ..errors import GankitError
from ..registry import DATASETS
from .base import ArrayData, ImageData, fit_images

SIDE = 64                # pixels a side
FONT_SIZE = 56           # points: the glyph's em box inside the 64 px square
N_CHARACTERS = 3755      # all of GB2312 level 1
HELD_OUT = 0.2
SPLIT_SEED = 0
BUNDLED_FONTS = ("hei", "kai", "ming", "droid")
NOT_A_CHARACTER = "\U0010fffd"  # a private-use code point no font draws: its rendering is the .notdef box


def common_characters(n: int = N_CHARACTERS) -> list[str]:
    """The first n characters of GB2312 level 1 (its 3,755 common characters, in pinyin order)."""
    chars = []
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            try:
                chars.append(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:  # the gaps at the end of row 0xD7
                continue
    return chars[:n]


def open_font(path: str | Path) -> ImageFont.FreeTypeFont:
    path = Path(path)
    if not path.is_file():
        raise GankitError(f"font file {path} does not exist")
    try:
        return ImageFont.truetype(str(path), FONT_SIZE)
    except OSError as err:
        raise GankitError(f"cannot read font {path}: {err}") from None


def render(font: ImageFont.FreeTypeFont, char: str, side: int = SIDE) -> np.ndarray:
    """One character, black on white, centred in a side x side square (uint8)."""
    image = Image.new("L", (side, side), 255)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.textbbox((0, 0), char, font=font)
    draw.text(((side - (right - left)) / 2 - left, (side - (bottom - top)) / 2 - top), char, font=font, fill=0)
    return np.asarray(image)


def render_font(font: ImageFont.FreeTypeFont, chars: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 [N, SIDE, SIDE] glyphs, bool [N] whether the font has each one: not blank, not its .notdef box)."""
    missing = render(font, NOT_A_CHARACTER)
    glyphs = np.stack([render(font, c) for c in chars])
    present = np.array([g.min() < 128 and not np.array_equal(g, missing) for g in glyphs])
    return glyphs, present


def bundled_path() -> Path:
    return Path(str(resources.files("gankit") / "data" / "assets" / "glyphs.npz.xz"))


@functools.lru_cache(maxsize=1)  # a run reads it for its train and test splits, and `translate` again
def bundled_glyphs() -> dict[str, np.ndarray]:
    """The shipped renderings: chars [N] str, fonts [F] str, glyphs uint8 [F, N, 64, 64], present bool [F, N].
    (An .npz inside xz: glyph pictures compress to 60% of what the .npz's own deflate makes of them.)"""
    with lzma.open(bundled_path()) as packed, np.load(io.BytesIO(packed.read())) as f:
        return {k: f[k] for k in ("chars", "fonts", "glyphs", "present")}


def font_glyphs(name: str, chars: list[str], bundled: dict | None) -> tuple[np.ndarray, np.ndarray]:
    """A font's glyphs of `chars`: a bundled font by name, or a font file rendered now."""
    if name in BUNDLED_FONTS:
        index = list(bundled["fonts"]).index(name)
        return bundled["glyphs"][index], bundled["present"][index]
    if not name.lower().endswith((".ttf", ".otf", ".ttc")):
        raise GankitError(f"unknown font '{name}': bundled fonts are {', '.join(BUNDLED_FONTS)}, or give a "
                          ".ttf/.otf/.ttc file")
    return render_font(open_font(name), chars)


def parse_fonts(value: str) -> tuple[str, str]:
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 2 or not all(parts):
        raise GankitError(f"data.fonts must name two fonts, SOURCE,TARGET (bundled: {', '.join(BUNDLED_FONTS)}; or "
                          f"font files), got '{value}'")
    return parts[0], parts[1]


def held_out_characters(n: int) -> np.ndarray:
    """bool [n]: the characters kept out of training (a fixed 20%, the same for every font pair)."""
    order = np.random.default_rng(SPLIT_SEED).permutation(n)
    mask = np.zeros(n, dtype=bool)
    mask[order[:int(round(n * HELD_OUT))]] = True
    return mask


@DATASETS.register("glyphs", "Chinese characters in two fonts (data.fonts=hei,kai): 3,755 bundled, 20% held out")
def load_glyphs(cfg: DataConfig) -> ArrayData:
    if cfg.split not in ("train", "test"):
        raise GankitError(f"glyphs has splits train and test, not '{cfg.split}'")
    if cfg.resolution and cfg.resolution != SIDE:
        raise GankitError(f"glyphs are {SIDE}x{SIDE}; leave data.resolution at 0")
    source, target = parse_fonts(cfg.fonts or "hei,kai")
    bundled = bundled_glyphs()
    chars = [str(c) for c in bundled["chars"]]
    a, has_a = font_glyphs(source, chars, bundled)
    b, has_b = font_glyphs(target, chars, bundled)
    keep = has_a & has_b & (held_out_characters(len(chars)) == (cfg.split == "test"))
    if not keep.any():
        raise GankitError(f"fonts {source} and {target} share none of the {len(chars)} characters")
    index = np.flatnonzero(keep)
    if cfg.limit:
        index = index[:cfg.limit]

    def to_tensor(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x[index])).unsqueeze(1)  # [N, 1, 64, 64]

    text = torch.tensor([[ord(chars[i])] for i in index])  # [N, 1]: each glyph's character, as a code point
    return ArrayData({"a": to_tensor(a), "b": to_tensor(b), "text": text}, {"a": "image", "b": "image", "text": "tokens"},
                     "glyphs", protocol="paired-psnr", info={"chars": [chars[i] for i in index], "fonts": (source, target)})


@DATASETS.register("glyph-fonts", "Chinese characters in the four bundled fonts, one image each, labelled by font "
                                  "(a multi-font style space for GANs); 64x64, 20% of characters held out")
def load_glyph_fonts(cfg: DataConfig) -> ArrayData:
    """Every glyph of every bundled font (white ink on black, as MNIST), label = the font's index in
    BUNDLED_FONTS; split by character as `glyphs` is."""
    if cfg.split not in ("train", "test"):
        raise GankitError(f"glyph-fonts has splits train and test, not '{cfg.split}'")
    bundled = bundled_glyphs()
    chars = len(bundled["chars"])
    wanted = held_out_characters(chars) == (cfg.split == "test")
    images, labels = [], []
    for index, font in enumerate(BUNDLED_FONTS):
        keep = bundled["present"][index] & wanted
        images.append(255 - bundled["glyphs"][index][keep])
        labels.append(np.full(int(keep.sum()), index))
    x, y = np.concatenate(images), np.concatenate(labels)
    if cfg.limit:  # a spread of fonts, not the first font's glyphs only
        order = np.random.default_rng(SPLIT_SEED).permutation(len(x))[:cfg.limit]
        x, y = x[order], y[order]
    x = fit_images(torch.from_numpy(np.ascontiguousarray(x)).unsqueeze(1), cfg.resolution, cfg.channels)
    return ImageData(x, torch.from_numpy(y.astype(np.int64)), BUNDLED_FONTS, "glyph-fonts", protocol="image-fid")

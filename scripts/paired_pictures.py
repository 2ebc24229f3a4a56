"""The pictures of docs/image-to-image.md, from trained paired runs (held-out examples only).

usage: python scripts/paired_pictures.py --inpaint RUN --sr RUN --glyphs RUN [--out docs]

  mnist-inpaint.png  rows of (digit with its hole | completion | original)
  mnist-sr.png       rows of (7x7 input, shown in big pixels | bicubic | the model | original)
  glyphs-kai.png     a line of held-out characters: source font / the model / target font
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image

from gankit.apply import line_of
from gankit.data import to_float, to_uint8
from gankit.report import save_grid
from gankit.sampling import load_generator

N = 16


def inpaint_picture(run: Path, out: Path) -> None:
    pipeline = load_generator(run)
    outputs = pipeline.draw(N, seed=0)
    strips = torch.cat([outputs["input"], outputs["fake"], outputs["target"]], dim=3)
    save_grid(strips, out, nrow=4, scale=3)


def sr_picture(run: Path, out: Path) -> None:
    pipeline = load_generator(run)
    outputs = pipeline.draw(N, seed=0)
    side = outputs["fake"].shape[-1]
    big = F.interpolate(outputs["input"], size=(side, side), mode="nearest-exact")
    bicubic = to_uint8(F.interpolate(to_float(outputs["input"]), size=(side, side), mode="bicubic",
                                     align_corners=False).clamp(-1, 1))
    strips = torch.cat([big, bicubic, outputs["fake"], outputs["target"]], dim=3)
    save_grid(strips, out, nrow=4, scale=3)


def glyph_picture(run: Path, out: Path, n: int = 10) -> None:
    pipeline = load_generator(run)
    outputs = pipeline.draw(n, seed=0)
    rows = [line_of(outputs[key]) for key in ("input", "fake", "target")]
    gap = torch.full((1, 6, rows[0].shape[-1]), 255, dtype=torch.uint8)
    picture = torch.cat([rows[0], gap, rows[1], gap, rows[2]], dim=1)
    Image.fromarray(picture[0].numpy()).save(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inpaint", type=Path)
    parser.add_argument("--sr", type=Path)
    parser.add_argument("--glyphs", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    for run, make, name in ((args.inpaint, inpaint_picture, "mnist-inpaint.png"), (args.sr, sr_picture, "mnist-sr.png"),
                            (args.glyphs, glyph_picture, "glyphs-kai.png")):
        if run is not None:
            make(run, args.out / name)
            print(args.out / name)


if __name__ == "__main__":
    main()

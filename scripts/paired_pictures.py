"""The pictures of docs/image-to-image.md, from trained paired runs (held-out examples only).

usage: python scripts/paired_pictures.py --inpaint RUN --sr RUN --glyphs RUN --photos RUN --photos-l1 RUN
                                        [--out docs]

  mnist-inpaint.png  rows of (digit with its hole | completion | original)
  mnist-sr.png       rows of (7x7 input, shown in big pixels | bicubic | the model | original)
  glyphs-kai.png     a line of held-out characters: source font / the model / target font
  sr-photos.png      a crop of each held-out photo: input in big pixels | bicubic | L1 only ("SRResNet") | the
                     GAN ("SRGAN") | original, at twice the size
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


def photo_picture(gan: Path, l1: Path, out: Path, side: int = 96) -> None:
    drawn = [load_generator(run).draw(5, seed=0) for run in (l1, gan)]  # the five held-out photos, in order
    lr, hr = drawn[0]["input"], drawn[0]["target"]
    scale = hr.shape[-1] // lr.shape[-1]
    top = (hr.shape[-1] - side) // 2  # the centre of each photo (a multiple of the scale, so the input aligns)
    top -= top % scale

    def crop(x: torch.Tensor, s: int = 1) -> torch.Tensor:
        return x[..., top // s:(top + side) // s, top // s:(top + side) // s]

    big = F.interpolate(crop(lr, scale), scale_factor=scale, mode="nearest-exact")
    bicubic = to_uint8(F.interpolate(to_float(lr), scale_factor=scale, mode="bicubic",
                                     align_corners=False).clamp(-1, 1))
    columns = [big, crop(bicubic), crop(drawn[0]["fake"]), crop(drawn[1]["fake"]), crop(hr)]
    save_grid(torch.cat(columns, dim=3), out, nrow=1, scale=2)


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
    parser.add_argument("--photos", type=Path, help="an sr-photos run (with --photos-l1, an sr-photos-l1 run)")
    parser.add_argument("--photos-l1", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    for run, make, name in ((args.inpaint, inpaint_picture, "mnist-inpaint.png"), (args.sr, sr_picture, "mnist-sr.png"),
                            (args.glyphs, glyph_picture, "glyphs-kai.png")):
        if run is not None:
            make(run, args.out / name)
            print(args.out / name)
    if args.photos and args.photos_l1:
        photo_picture(args.photos, args.photos_l1, args.out / "sr-photos.png")
        print(args.out / "sr-photos.png")


if __name__ == "__main__":
    main()

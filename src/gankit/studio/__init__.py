"""gankit studio: what the page can do with each trained run, as plain functions of JSON-ready values.

The page asks `describe()` what a run is (noise-driven images, a translator, an upscaler, an inpainter, a text
model, points) and which knobs it has (classes, truncation, style mixing, directions, glyph text); every action
takes the request's values, checks them against the limits below and returns pictures as PNG/GIF data URLs.
The web server (gankit.studio.server) only moves these values in and out, so everything here is tested
without a browser.
"""
from __future__ import annotations

import base64
import binascii
import io
import math
import tempfile
from pathlib import Path

import torch
from PIL import Image

from ..apply import (MASK_THRESHOLD, decode_picture, directions_of, inpaint, line_of, pairing_of, text_glyphs,
                     translate, upscale)
from ..errors import GankitError
from ..latent import gif_bytes, style_generator, style_mix, walk_between
from ..nets.stylegan2 import check_truncation
from ..report import grid_picture, save_points
from ..sampling import Pipeline, load_generator, text_samples

MAX_RUNS = 16
MAX_SAMPLES = 64             # images per sample request
MAX_TEXTS = 50               # texts per request
MAX_UPLOAD_BYTES = 4 << 20   # one uploaded picture, encoded
MAX_UPLOAD_PIXELS = 1 << 20  # one uploaded picture, decoded (1024 x 1024)
MAX_UPSCALE_PIXELS = 256 * 256  # a picture to upscale: its result is scale^2 times larger
MAX_GLYPH_TEXT = 32          # characters in one line of glyph text
MAX_FRAMES = 32              # frames of a walk between two samples
MAX_SEED = 2**31 - 1


def png_url(image) -> str:
    """uint8 [C, H, W] (pixel for pixel) or a PIL picture -> a PNG data URL."""
    if isinstance(image, torch.Tensor):
        array = image.permute(1, 2, 0).cpu().numpy()
        image = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    picture = image
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def decode_upload(value, channels: int, what: str, max_pixels: int = MAX_UPLOAD_PIXELS) -> torch.Tensor:
    """A picture sent as a data URL ("data:image/...;base64,...") -> uint8 [channels, H, W]; bounded before
    decoding, one-line errors for anything else."""
    if not isinstance(value, str) or not value.startswith("data:") or ";base64," not in value[:100]:
        raise GankitError(f"the {what} must be a picture (a data URL); got {type(value).__name__}")
    encoded = value.split(",", 1)[1]
    if len(encoded) > MAX_UPLOAD_BYTES * 4 // 3 + 4:
        raise GankitError(f"the {what} is larger than {MAX_UPLOAD_BYTES >> 20} MB")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise GankitError(f"the {what} is not valid base64 data") from None
    return decode_picture(io.BytesIO(raw), channels, f"the {what}", max_pixels)


def whole(value, name: str, low: int, high: int) -> int:
    """An integer request value within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value != int(value):
        raise GankitError(f"{name} must be a whole number, got {str(value)[:20]!r}")
    if not low <= value <= high:
        raise GankitError(f"{name} must be between {low} and {high}, got {int(value)}")
    return int(value)


def number(value, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise GankitError(f"{name} must be a number between {low} and {high}, got {str(value)[:20]!r}")
    return float(value)


class StudioRun:
    """One trained run (a run folder or a generator export) and the page's actions on it."""

    def __init__(self, path: Path, pipeline: Pipeline):
        self.path, self.pipeline = Path(path), pipeline
        self.folder = self.path if self.path.is_dir() else None  # where report.html and its pictures are

    @property
    def kind(self) -> str:
        p = self.pipeline
        if p.kind == "tokens":
            return "text"
        if p.recipe.translates:
            return {("lr", "hr"): "upscale", ("image", "mask"): "inpaint"}.get(pairing_of(p), "translate")
        return "points" if p.kind == "points" else "noise"

    def describe(self) -> dict:
        p, cfg = self.pipeline, self.pipeline.config
        out = {"name": self.path.name, "preset": cfg.preset, "recipe": cfg.recipe, "data": cfg.data.name,
               "kind": self.kind, "report": bool(self.folder and (self.folder / "report.html").is_file())}
        if self.kind == "noise":
            style = style_generator(p) is not None
            out.update(classes=p.class_names if p.conditional else [], truncation=style, mix=style)
        elif self.kind == "text":
            out.update(length=p.fields["tokens"].shape[0] - 1, temperature=cfg.textgan.temperature)
        elif self.kind == "points":
            out.update(classes=[])
        else:
            source = {"upscale": "lr", "inpaint": "image"}.get(self.kind)
            directions = directions_of(p)
            fields = {d: list(p.fields[key].shape) for d, (key, _) in directions.items()} if source is None else \
                {"a2b": list(p.fields[source].shape)}
            out.update(directions=list(fields), inputs=fields,
                       glyph_text=self.kind == "translate" and cfg.data.name in ("glyphs", "glyph-styles"),
                       paper=cfg.data.name in ("glyphs", "glyph-styles"))  # dark strokes on white
        return out

    def act(self, action: str, request: dict) -> dict:
        handler = {"sample": self.sample, "walk": self.walk, "mix": self.mix, "translate": self.translate,
                   "text": self.text}.get(action)
        if handler is None:
            raise GankitError(f"unknown action '{str(action)[:30]}': sample, walk, mix, translate or text")
        if not isinstance(request, dict):
            raise GankitError("the request must be a JSON object")
        return handler(request)

    def _options(self, request: dict) -> dict:
        psi = request.get("truncation")
        if psi is None:
            return {}
        psi = number(psi, "truncation", 0.0, 1.0)
        check_truncation(self.pipeline.nets.get("G"), psi)
        return {"truncation": psi}

    def _label(self, request: dict) -> int | None:
        label = request.get("label")
        return None if label is None else whole(label, "label", 0, max(0, self.pipeline.recipe.num_classes - 1))

    def sample(self, request: dict) -> dict:
        """n samples drawn with a seed (one class per row of the grid for a conditional model, or all one label)."""
        n = whole(request.get("n", 16), "n", 1, MAX_SAMPLES)
        seed = whole(request.get("seed", 0), "seed", 0, MAX_SEED)
        if self.kind == "points":
            points = self.pipeline.sample(n * 16, seed)  # a scatter needs more than a handful of points
            with tempfile.TemporaryDirectory() as tmp:
                data = save_points(points, Path(tmp) / "points.png").read_bytes()
            return {"images": ["data:image/png;base64," + base64.b64encode(data).decode()], "columns": 1}
        if self.kind != "noise":
            raise GankitError(f"this model {'writes text' if self.kind == 'text' else 'translates images'}; "
                              "it does not draw samples from noise")
        cols = math.ceil(math.sqrt(n))
        images, labels = self.pipeline.sample_with_labels(n, seed, self._label(request), per_row=cols,
                                                          **self._options(request))
        names = self.pipeline.class_names
        return {"images": [png_url(x) for x in images], "columns": cols,
                "labels": [] if labels is None else [names[i] if i < len(names) else str(i) for i in labels.tolist()]}

    def walk(self, request: dict) -> dict:
        """A walk from one sample of a grid to another: an animated GIF and its frames in a row."""
        n = whole(request.get("n", 16), "n", 1, MAX_SAMPLES)
        frames = walk_between(self.pipeline, n, whole(request.get("seed", 0), "seed", 0, MAX_SEED),
                              self._label(request), whole(request.get("first", 0), "first", 0, n - 1),
                              whole(request.get("second", 1), "second", 0, n - 1),
                              whole(request.get("frames", 12), "frames", 2, MAX_FRAMES),
                              self._options(request).get("truncation"))
        gif = gif_bytes(torch.cat([frames, frames.flip(0)[1:-1]])[:, None], fps=12)  # there and back: it loops smoothly
        return {"gif": "data:image/gif;base64," + base64.b64encode(gif).decode(),
                "strip": png_url(line_of(frames))}

    def mix(self, request: dict) -> dict:
        """The style-mixing grid (style-based generators)."""
        cells, _ = style_mix(self.pipeline, 5, 2, whole(request.get("seed", 0), "seed", 0, MAX_SEED),
                             self._options(request).get("truncation"))
        return {"image": png_url(grid_picture(cells, 6))}

    def translate(self, request: dict) -> dict:
        """An uploaded or drawn picture through the model (translation, upscaling or inpainting), or a line of
        text in the target font; -> the input as the model saw it and the output."""
        p = self.pipeline
        if self.kind not in ("translate", "upscale", "inpaint"):
            raise GankitError("this model does not take pictures: it draws from noise" if self.kind != "text" else
                              "this model writes text; it does not take pictures")
        if request.get("text") is not None:
            text = request["text"]
            if not isinstance(text, str) or len(text) > MAX_GLYPH_TEXT:
                raise GankitError(f"the text must be at most {MAX_GLYPH_TEXT} characters")
            source, spaces = text_glyphs(p, text)
            result = translate(p, source)
            result[spaces] = 255  # a space stays blank paper
            return {"input": png_url(line_of(source)), "output": png_url(line_of(result))}
        if self.kind == "upscale":
            image = decode_upload(request.get("image"), p.fields["lr"].shape[0], "picture", MAX_UPSCALE_PIXELS)
            return {"input": png_url(image), "output": png_url(upscale(p, image))}
        if self.kind == "inpaint":
            image = decode_upload(request.get("image"), p.fields["image"].shape[0], "picture")
            mask = decode_upload(request.get("mask"), 1, "mask")[0] > MASK_THRESHOLD
            return {"input": png_url(image), "output": png_url(inpaint(p, image, mask))}
        direction = request.get("direction", "a2b")
        directions = directions_of(p)
        if direction not in directions:
            raise GankitError(f"direction must be {' or '.join(directions)}, got {str(direction)[:10]!r}")
        image = decode_upload(request.get("image"), p.fields[directions[direction][0]].shape[0], "picture")
        side = p.fields[directions[direction][0]].shape[-1]
        result = translate(p, image[None], direction)[0]
        shown = torch.nn.functional.interpolate(image[None].float(), size=(side, side), mode="bilinear",
                                                antialias=True, align_corners=False)[0]
        return {"input": png_url(shown.round().clamp(0, 255).to(torch.uint8)), "output": png_url(result)}

    def text(self, request: dict) -> dict:
        n = whole(request.get("n", 8), "n", 1, MAX_TEXTS)
        temperature = request.get("temperature")
        if temperature is not None:
            temperature = number(temperature, "temperature", 0.01, 100)
        prefix = request.get("prefix") or ""
        if not isinstance(prefix, str) or len(prefix) > 200:
            raise GankitError("the prefix must be text of at most 200 characters")
        return {"texts": text_samples(self.pipeline, n, whole(request.get("seed", 0), "seed", 0, MAX_SEED),
                                      temperature, prefix)}


def open_runs(paths: list[str | Path]) -> list[StudioRun]:
    """Every run loaded up front (through the safe loader), so that a bad one is named before the server starts."""
    if not paths:
        raise GankitError("give at least one run folder or generator export")
    if len(paths) > MAX_RUNS:
        raise GankitError(f"at most {MAX_RUNS} runs in one studio, got {len(paths)}")
    return [StudioRun(Path(path), load_generator(path)) for path in paths]

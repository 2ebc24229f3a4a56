"""Pictures of a noise-driven generator's latent space: latent walks (an animated GIF) and, for style-based
generators, the style-mixing grid.

A walk visits `keys` random latents and comes back to the first, so that the GIF loops without a jump. A
style-based G walks in W (linear steps between mapped latents, as the paper's path-length measure does); any
other G walks in z along great circles (spherical steps keep a Gaussian latent's typical length).

The mixing grid (the StyleGAN papers' figure): its top row holds the column sources A, its left column the row
sources B; each cell is A with B's styles at one range of layers, coarse (the lowest third of resolutions:
pose, shape), middle or fine (the highest: stroke, texture), one block of rows per range.
"""
from __future__ import annotations

import io
import math
from pathlib import Path

import torch

from .checkpoint import atomic_write
from .data.base import to_uint8
from .draws import Draws
from .errors import GankitError
from .report import grid_picture
from .nets.stylegan2 import check_truncation
from .sampling import Pipeline

MAX_FRAMES = 2000
MAX_WALKS = 64
MAX_MIX_COLS, MAX_MIX_ROWS = 16, 8
RANGES = ("coarse", "middle", "fine")


def noise_image_model(pipeline: Pipeline, what: str) -> None:
    if pipeline.inputs != "noise" or pipeline.kind != "image":
        made = "translates images" if pipeline.inputs != "noise" else f"makes {pipeline.makes}"
        raise GankitError(f"{what} shows an image GAN drawn from noise; this model {made}")


def style_generator(pipeline: Pipeline) -> torch.nn.Module | None:
    G = pipeline.nets.get("G")
    return G if hasattr(G, "mapping") and hasattr(G, "synthesis") else None


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation between latents a and b [N, D], row by row (linear where they are parallel)."""
    cos = torch.nn.functional.cosine_similarity(a, b, dim=1).clamp(-1, 1)[:, None]
    omega = torch.acos(cos)
    sin = torch.sin(omega)
    linear = sin.abs() < 1e-6
    wa = torch.where(linear, 1 - t, torch.sin((1 - t) * omega) / sin.where(~linear, torch.ones_like(sin)))
    wb = torch.where(linear, torch.full_like(sin, t), torch.sin(t * omega) / sin.where(~linear, torch.ones_like(sin)))
    return wa * a + wb * b


@torch.no_grad()
def latent_walk(pipeline: Pipeline, walks: int, keys: int, steps: int, seed: int = 0,
                truncation: float | None = None) -> torch.Tensor:
    """uint8 frames [keys * steps, walks, C, H, W]: `walks` walks side by side through `keys` latents each,
    `steps` frames from one to the next (the last leg returns to the first latent)."""
    noise_image_model(pipeline, "gankit interpolate")
    psi = check_truncation(pipeline.nets.get("G"), truncation)
    if not 1 <= walks <= MAX_WALKS:
        raise GankitError(f"--walks must be between 1 and {MAX_WALKS}, got {walks}")
    if keys < 2 or steps < 1 or keys * steps > MAX_FRAMES:
        raise GankitError(f"a walk needs --keys >= 2 and --steps >= 1, at most {MAX_FRAMES} frames in all "
                          f"(keys x steps), got {keys} x {steps}")
    draws = Draws.seeded(seed, pipeline.device)
    labels = pipeline.labels_for(walks, None)
    starts = [pipeline.recipe.noise_inputs(walks, draws, labels) for _ in range(keys)]
    G = style_generator(pipeline)
    points = [latent_point(pipeline, G, s, psi) for s in starts]
    held = held_inputs(starts[0])
    return torch.cat([frames_between(pipeline, G, points[k], points[(k + 1) % keys], held, [i / steps for i in range(steps)])
                      for k in range(keys)])


def held_inputs(inputs: dict, index: slice = slice(None)) -> dict:
    """The noise inputs besides z (a class c, a cluster's pick u): a walk keeps them, so it stays in one class."""
    return {k: v[index] for k, v in inputs.items() if k != "z"}


def latent_point(pipeline: Pipeline, G: torch.nn.Module | None, inputs: dict, psi: float) -> torch.Tensor:
    """Where noise inputs sit in the space a walk moves through: W (truncated) for a style-based G, else z."""
    if G is None:
        return inputs["z"]
    G.eval()
    return G.truncate(G.mapping(inputs["z"], pipeline.recipe.condition(G, inputs)), psi)


def frames_between(pipeline: Pipeline, G: torch.nn.Module | None, a: torch.Tensor, b: torch.Tensor,
                   held: dict, ts: list[float]) -> torch.Tensor:
    """uint8 frames [len(ts), N, C, H, W] at fractions ts of the way from latents a to b [N, D]: linear in W for a
    style-based G, spherical in z otherwise (with the other inputs `held` fixed: a class, a cluster)."""
    frames = []
    for t in ts:
        if G is not None:
            image = G.synthesis(torch.lerp(a, b, t)[:, None].expand(-1, G.num_ws, -1))
        else:
            image = pipeline.generate({"z": slerp(a, b, t), **held})[pipeline.recipe.main_output]
        frames.append(to_uint8(image).cpu())
    return torch.stack(frames)


MAX_BETWEEN_FRAMES = 64


@torch.no_grad()
def walk_between(pipeline: Pipeline, n: int, seed: int, label: int | None, first: int, second: int, frames: int,
                 truncation: float | None = None) -> torch.Tensor:
    """uint8 frames [frames, C, H, W] from sample `first` to sample `second` of the n samples that
    `sample_with_labels(n, seed, label, per_row=ceil(sqrt(n)))` draws (a grid one sees, then picks two of). A
    conditional non-style G keeps the first sample's class all the way."""
    noise_image_model(pipeline, "a walk between samples")
    psi = check_truncation(pipeline.nets.get("G"), truncation)
    if not (0 <= first < n and 0 <= second < n):
        raise GankitError(f"samples {first} and {second}: pick two of the {n} shown (0..{n - 1})")
    if not 2 <= frames <= MAX_BETWEEN_FRAMES:
        raise GankitError(f"frames must be between 2 and {MAX_BETWEEN_FRAMES}, got {frames}")
    labels = pipeline.labels_for(n, label, per_row=math.ceil(math.sqrt(n)))
    inputs = pipeline.recipe.noise_inputs(n, Draws.seeded(seed, pipeline.device), labels)
    G = style_generator(pipeline)
    point = latent_point(pipeline, G, inputs, psi)
    ts = [i / (frames - 1) for i in range(frames)]
    return frames_between(pipeline, G, point[first:first + 1], point[second:second + 1],
                          held_inputs(inputs, slice(first, first + 1)), ts)[:, 0]


def gif_bytes(frames: torch.Tensor, fps: float = 12.0, nrow: int = 0) -> bytes:
    """uint8 frames [F, N, C, H, W] -> an endlessly looping GIF, each frame a grid of the N images (small
    images enlarged, nearest neighbour, to at least 64 px)."""
    if not 0.5 <= fps <= 50:
        raise GankitError(f"--fps must be between 0.5 and 50, got {fps}")
    pictures = [grid_picture(frame, nrow or min(len(frame), 8)) for frame in frames]
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=round(1000 / fps), loop=0)
    return buffer.getvalue()


def save_gif(frames: torch.Tensor, out: Path, fps: float = 12.0, nrow: int = 0) -> Path:
    """The GIF of `gif_bytes` written to `out` atomically."""
    data = gif_bytes(frames, fps, nrow)
    atomic_write(out, lambda tmp: tmp.write_bytes(data))
    return Path(out)


def layer_ranges(G: torch.nn.Module) -> dict[str, list[int]]:
    """Style indices per range: layer i of the synthesis network works at level (i + 1) // 2 (side s0 * 2^level);
    levels split into thirds: coarse, middle, fine."""
    levels = G.synthesis.num_ws // 2 - 1  # k: the number of doublings
    out = {name: [] for name in RANGES}
    for i in range(G.synthesis.num_ws):
        level = min((i + 1) // 2, levels)
        out[RANGES[min(2, int(3 * level / (levels + 1)))]].append(i)
    return out


@torch.no_grad()
def style_mix(pipeline: Pipeline, cols: int = 5, rows: int = 2, seed: int = 0,
              truncation: float | None = None) -> tuple[torch.Tensor, dict[str, list[int]]]:
    """The style-mixing grid's cells, uint8 [rows, C, H, W] in rows of cols + 1, and the style indices of each
    range."""
    noise_image_model(pipeline, "gankit mix")
    G = style_generator(pipeline)
    if G is None:
        raise GankitError("gankit mix needs a style-based generator (gan.net=stylegan2): only it has styles to mix")
    psi = check_truncation(G, truncation)
    if not (1 <= cols <= MAX_MIX_COLS and 1 <= rows <= MAX_MIX_ROWS):
        raise GankitError(f"--cols must be between 1 and {MAX_MIX_COLS} and --rows between 1 and {MAX_MIX_ROWS}, "
                          f"got {cols} and {rows}")
    G.eval()
    draws = Draws.seeded(seed, pipeline.device)
    a = pipeline.recipe.noise_inputs(cols, draws, pipeline.labels_for(cols, None))
    b = pipeline.recipe.noise_inputs(rows, draws, pipeline.labels_for(rows, None))
    wa, wb = (latent_point(pipeline, G, s, psi) for s in (a, b))
    render = lambda ws: to_uint8(G.synthesis(ws)).cpu()  # noqa: E731
    broadcast = lambda w: w[:, None].expand(-1, G.num_ws, -1).clone()  # noqa: E731
    a_images, b_images = render(broadcast(wa)), render(broadcast(wb))
    blank = torch.zeros_like(a_images[:1])
    cells = [blank, a_images]
    ranges = layer_ranges(G)
    for name in (r for r in RANGES if ranges[r]):
        for i in range(rows):
            ws = broadcast(wa)
            ws[:, ranges[name]] = wb[i]
            cells += [b_images[i:i + 1], render(ws)]
    return torch.cat(cells), ranges


def save_mix(cells: torch.Tensor, nrow: int, out: Path) -> Path:
    picture = grid_picture(cells, nrow)
    atomic_write(out, lambda tmp: picture.save(tmp, format="PNG"))
    return Path(out)


def describe_ranges(G: torch.nn.Module, ranges: dict[str, list[int]]) -> str:
    s0 = G.synthesis.const.shape[-1]
    sides = lambda idx: sorted({s0 * 2 ** min((i + 1) // 2, G.synthesis.num_ws // 2 - 1) for i in idx})  # noqa: E731
    return "; ".join(f"{name}: {', '.join(f'{s}px' for s in sides(idx))}" for name, idx in ranges.items() if idx)


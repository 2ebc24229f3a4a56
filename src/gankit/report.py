"""What people read and look at: sample grids, loss curves, metric tables and the run report."""
from __future__ import annotations

import base64
import html
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def image_grid(images: torch.Tensor, nrow: int = 0, pad: int = 2, pad_value: int = 0) -> np.ndarray:
    """uint8 [N, C, H, W] -> one uint8 picture [rows*(H+pad)+pad, cols*(W+pad)+pad, C] (C 1 or 3)."""
    n, c, h, w = images.shape
    cols = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), pad_value, dtype=np.uint8)
    pictures = images.permute(0, 2, 3, 1).cpu().numpy()
    for i in range(n):
        r, k = divmod(i, cols)
        top, left = pad + r * (h + pad), pad + k * (w + pad)
        grid[top:top + h, left:left + w] = pictures[i]
    return grid


def grid_picture(images: torch.Tensor, nrow: int = 0, scale: int = 0) -> Image.Image:
    """uint8 images [N, C, H, W] as one PIL picture; small images enlarged (nearest) to at least 64 px."""
    grid = image_grid(images, nrow)
    picture = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
    scale = scale or max(1, 64 // images.shape[-1])
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)
    return picture


def save_grid(images: torch.Tensor, path: Path, nrow: int = 0, scale: int = 0) -> Path:
    """Write uint8 images [N, C, H, W] as a PNG grid; small images are enlarged (nearest) to be seen."""
    picture = grid_picture(images, nrow, scale)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    picture.save(path)
    return Path(path)


def save_points(points: torch.Tensor, path: Path, title: str = "") -> Path:
    """A scatter plot of 2-D samples [N, 2]."""
    from matplotlib.figure import Figure  # a figure of its own, not pyplot's: no global state, no GUI backend

    fig = Figure(figsize=(4.5, 4.5))
    ax = fig.subplots()
    p = points.detach().float().cpu().numpy()
    ax.scatter(p[:, 0], p[:, 1], s=2, alpha=0.5)
    ax.set_aspect("equal")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return Path(path)


def save_picture(samples: torch.Tensor, path: Path, kind: str, nrow: int = 0) -> Path:
    """Samples as a picture: a grid of uint8 images, or a scatter plot of points."""
    return save_points(samples, path) if kind == "points" else save_grid(samples, path, nrow=nrow)


def save_text(tokens: torch.Tensor, vocab, path: Path) -> Path:
    """Token sequences [N, L] as text, one sample a line (UTF-8)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("".join(vocab.decode(row) + "\n" for row in tokens), encoding="utf-8")
    return Path(path)


def save_outputs(outputs: dict[str, torch.Tensor], kinds: dict[str, str], path: Path) -> Path:
    """A recipe's outputs as one picture. One image output: a grid. Several (input | fake | target): each example
    becomes a strip of its images side by side, in the order the recipe declares them. Points: a scatter plot."""
    images = [outputs[k] for k, kind in kinds.items() if kind == "image" and k in outputs]
    if not images:
        points = next(outputs[k] for k, kind in kinds.items() if kind == "points")
        return save_points(points, path)
    if len(images) == 1:
        return save_grid(images[0], path)
    channels, side = max(x.shape[1] for x in images), max(x.shape[-1] for x in images)
    images = [x if x.shape[-1] == side else  # a smaller input (super-resolution's) shown in big pixels
              F.interpolate(x, size=(side, side), mode="nearest-exact") for x in images]
    strips = torch.cat([x.expand(-1, channels, -1, -1) for x in images], dim=3)  # [N, C, H, k*W]
    return save_grid(strips, path, nrow=max(1, round(math.sqrt(len(strips) / len(images)))),
                     scale=max(1, 64 // images[0].shape[-1]))


NOT_CURVES = ("step", "wall_s", "epoch", "steps_per_s", "fid", "modes", "high_quality_pct")


def plot_curves(records: list[dict], path: Path, title: str = "") -> Path | None:
    """Loss curves and D's outputs against the step, from stats.jsonl records."""
    if not records:
        return None
    from matplotlib.figure import Figure  # without pyplot: a third less time to the file
    from matplotlib.ticker import LogFormatter

    steps = [r["step"] for r in records]
    fid_records = [r for r in records if "fid" in r]
    fig = Figure(figsize=(15 if fid_records else 10, 3.6))
    axes = fig.subplots(1, 3 if fid_records else 2)
    ax_loss, ax_prob = axes[0], axes[1]
    for key in sorted(k for k in records[-1] if k.startswith("loss/")):
        ax_loss.plot(steps, [r.get(key, np.nan) for r in records], label=key[5:])
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss")
    if ax_loss.lines:
        ax_loss.legend()
    ax_loss.grid(alpha=0.3)
    probabilistic = "D(x)" in records[-1]
    shown = [k for k in (("D(x)", "D(G(z))") if probabilistic else ("D_real", "D_fake")) if k in records[-1]]
    if not shown:  # a recipe without D's outputs: its other logged values (penalties, cycle losses, ...)
        shown = [k for k in records[-1] if not k.startswith("loss/") and k not in NOT_CURVES]
    for key in shown:
        ax_prob.plot(steps, [r.get(key, np.nan) for r in records], label=key)
    if probabilistic:
        ax_prob.set_ylim(0, 1)
    ax_prob.set_xlabel("step")
    ax_prob.set_ylabel("mean probability" if probabilistic else "mean critic output" if "D_real" in shown else "value")
    if shown:
        ax_prob.legend(loc="upper left")
    ax_prob.grid(alpha=0.3)
    if any("ada_p" in r for r in records):  # adaptive augmentation: its probability on its own 0-1 axis
        ax_p = ax_prob.twinx()
        ax_p.plot(steps, [r.get("ada_p", np.nan) for r in records], color="tab:green", linestyle="--", label="ADA p")
        ax_p.set_ylim(0, 1)
        ax_p.set_ylabel("ADA p")
        ax_p.legend(loc="upper right")
    if fid_records:
        axes[2].plot([r["step"] for r in fid_records], [r["fid"] for r in fid_records], marker="o")
        axes[2].set_yscale("log")
        # plain numbers (200, not 2 x 10^2): easier to read, and no math-text parser to load (0.07 s)
        axes[2].yaxis.set_major_formatter(LogFormatter())
        axes[2].yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False))
        axes[2].set_xlabel("step")
        axes[2].set_ylabel("FID (cheap, log scale)")
        axes[2].grid(alpha=0.3, which="both")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return Path(path)


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()


def write_html_report(run_dir: Path, config_yaml: str, metrics: dict | None, max_grids: int = 8) -> Path:
    """A self-contained report.html (images inlined): config, curves, grids over time, final metrics + card."""
    run_dir = Path(run_dir)
    grids = sorted((run_dir / "samples").glob("step-*.png"))
    if len(grids) > max_grids:  # evenly spaced, always keeping the last
        grids = [grids[round(i * (len(grids) - 1) / (max_grids - 1))] for i in range(max_grids)]
    parts = [f"<h1>gankit run: {html.escape(run_dir.name)}</h1>"]
    if metrics:
        rows = "".join(f"<tr><td>{html.escape(title)}</td><td>{metrics[key]:.4g}</td>"
                       f"<td>{'' if metrics.get(key + '_b') is None else format(metrics[key + '_b'], '.4g')}</td>"
                       f"<td>{html.escape(note)}</td></tr>"
                       for key, title, note in METRIC_ROWS if metrics.get(key) is not None)
        card = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                       for k, v in metrics["card"].items())
        parts.append(f"<h2>Final metrics</h2><table id='metrics'><tr><th>metric</th><th>value</th>"
                     f"<th>second opinion</th><th>note</th></tr>"
                     f"{rows}</table><h3>Evaluation card</h3><table id='card'>{card}</table>")
    if (run_dir / "curves.png").is_file():
        parts.append(f"<h2>Curves</h2><img alt='curves' src='{_data_uri(run_dir / 'curves.png')}'>")
    if grids:
        figures = "".join(f"<figure><img alt='{g.stem}' src='{_data_uri(g)}'><figcaption>{g.stem}</figcaption></figure>"
                          for g in grids)
        parts.append(f"<h2>Samples from fixed noise</h2><div class='grids'>{figures}</div>")
    parts.append(f"<h2>Resolved config</h2><pre>{html.escape(config_yaml)}</pre>")
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>gankit report</title><style>"
            "body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}.grids{display:flex;flex-wrap:wrap;gap:8px}"
            "figure{margin:0}figure img{width:220px;image-rendering:pixelated}pre{background:#f5f5f5;padding:8px}"
            "</style></head><body>" + "".join(parts) + "</body></html>")
    path = run_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


METRIC_ROWS = (("fid", "FID", "lower is better"), ("kid", "KID", "lower is better"),
               ("is", "IS (classifier score)", "higher is better, 10 at most"),
               ("precision", "precision (k=3)", "fakes on the real manifold"),
               ("recall", "recall (k=3)", "reals on the fake manifold"),
               ("density", "density (k=5)", "about 1 for real data"),
               ("coverage", "coverage (k=5)", "higher is better"),
               ("classes_covered", "classes covered", "of 10"),
               ("class_kl", "class KL to uniform", "nats, lower is better"),
               ("label_accuracy", "label accuracy", "the classifier reads the requested (or original) digit"),
               ("psnr", "PSNR", "dB, higher is better"), ("ssim", "SSIM", "1 at most, higher is better"),
               ("psnr_all", "PSNR, all channels", "dB"), ("l1", "L1", "[0, 1] units, lower is better"),
               ("hole_psnr", "PSNR inside the holes", "dB, higher is better"),
               ("hole_l1", "L1 inside the holes", "[0, 1] units, lower is better"),
               ("font_accuracy", "font accuracy", "read as the target font, higher is better"),
               ("ocr_accuracy", "OCR accuracy", "read as the right character, higher is better"),
               ("nll_oracle", "NLL_oracle", "nats per token, lower is better (quality)"),
               ("nll_test", "NLL_test", "nats per token, lower is better (coverage)"),
               ("bleu2", "BLEU-2", "against held-out poems, higher is better"),
               ("self_bleu2", "self-BLEU-2", "lower is more diverse"),
               ("well_formed", "well-formed", "share of 4-line quatrains"))


def second_opinion_key(key: str, result: dict) -> bool:
    """Whether `key` is another metric's figure under the second classifier (`<metric>_b`)."""
    return key.endswith("_b") and key[:-2] in result


def format_table(result: dict) -> str:
    """Final metrics as a table: the known image metrics with notes, then any other scalar a protocol reports;
    figures under the second classifier (`<metric>_b`) in their own column."""
    known = {key: (title, note) for key, title, note in METRIC_ROWS}
    second = any(second_opinion_key(k, result) for k in result)
    lines = [f"{'metric':30s} {'value':>12s}" + (f"  {'second opinion':>14s}" if second else "") + "  note"]
    others = [k for k, v in result.items() if k not in known and isinstance(v, (int, float))
              and not k.endswith("_std") and not second_opinion_key(k, result)]
    number = lambda v: "" if v is None else f"{v:d}" if isinstance(v, int) else f"{v:.4f}"  # noqa: E731
    for key in [k for k, _, _ in METRIC_ROWS if result.get(k) is not None] + others:
        text = f"{number(result[key]):>12s}"
        if f"{key}_std" in result:
            text += f" +- {result[key + '_std']:.4f}"
        if second:
            text += f"  {number(result.get(key + '_b')):>14s}"
        title, note = known.get(key, (key, ""))
        lines.append(f"{title:30s} {text}  {note}".rstrip())
    card = result["card"]
    if "extractor" in card and "reference" in card:
        lines.append(f"card: extractor {card['extractor']} (sha256 {card['extractor_sha256'][:12]})"
                     + (f", second opinion {card['second_extractor']} (sha256 {card['second_extractor_sha256'][:12]})"
                        if "second_extractor" in card else "")
                     + f", reference {card['reference']} ({card['reference_size']} images), {card['n_samples']} "
                       f"samples, seed {card['seed']}")
    else:
        lines.append(f"card: {card.get('protocol', '')}, {card['n_samples']} samples, seed {card['seed']}")
    return "\n".join(lines)

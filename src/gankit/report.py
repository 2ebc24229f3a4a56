"""Pictures of a run: sample grids and loss curves."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
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


def save_grid(images: torch.Tensor, path: Path, nrow: int = 0, scale: int = 0) -> Path:
    """Write uint8 images [N, C, H, W] as a PNG grid; small images are enlarged (nearest) to be seen."""
    grid = image_grid(images, nrow)
    picture = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
    scale = scale or max(1, 64 // images.shape[-1])
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    picture.save(path)
    return Path(path)


def plot_curves(records: list[dict], path: Path, title: str = "") -> Path | None:
    """Loss curves and D's outputs against the step, from stats.jsonl records."""
    if not records:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in records]
    fig, (ax_loss, ax_prob) = plt.subplots(1, 2, figsize=(10, 3.6))
    for key in sorted(k for k in records[-1] if k.startswith("loss/")):
        ax_loss.plot(steps, [r.get(key, np.nan) for r in records], label=key[5:])
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss")
    ax_loss.legend()
    ax_loss.grid(alpha=0.3)
    for key in ("D(x)", "D(G(z))"):
        if key in records[-1]:
            ax_prob.plot(steps, [r.get(key, np.nan) for r in records], label=key)
    ax_prob.set_ylim(0, 1)
    ax_prob.set_xlabel("step")
    ax_prob.set_ylabel("mean probability")
    ax_prob.legend()
    ax_prob.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)

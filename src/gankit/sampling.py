"""Loading a trained generator and drawing images from it (`gankit sample`, `gankit.load_generator`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .checkpoint import read_export
from .config import config_from_dict
from .data import to_uint8
from .errors import GankitError
from .nets import build_networks
from .report import save_grid


class Generator:
    """A trained generator in eval mode. `sample(n, seed)` returns uint8 images [N, C, H, W]."""

    def __init__(self, G: torch.nn.Module, meta: dict):
        self.G = G.eval()
        self.meta = meta
        self.config = config_from_dict(meta["config"])
        self.image_shape = tuple(meta["image_shape"])
        self.z_dim = G.z_dim

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0, batch_size: int = 1000) -> torch.Tensor:
        if n < 1:
            raise GankitError(f"number of samples must be positive, got {n}")
        generator = torch.Generator().manual_seed(seed)
        device = next(self.G.parameters()).device
        out = []
        for start in range(0, n, batch_size):
            z = torch.randn(min(batch_size, n - start), self.z_dim, generator=generator)  # [B, z_dim]
            out.append(to_uint8(self.G(z.to(device))).cpu())
        return torch.cat(out)


def load_generator(path: str | Path, device: str = "cpu") -> Generator:
    """A run folder or a generator export (generator.safetensors + generator.json) -> Generator."""
    tensors, meta = read_export(Path(path))
    try:
        cfg = config_from_dict(meta["config"])
        G, _ = build_networks(cfg.model, tuple(meta["image_shape"]))
        G.load_state_dict(tensors)
    except (KeyError, RuntimeError) as err:
        raise GankitError(f"generator export at {path} does not match its config ({str(err).splitlines()[0][:200]})") from None
    return Generator(G.to(device), meta)


def write_samples(images: torch.Tensor, out: Path) -> Path:
    """.png -> a grid; .npz -> key `images`, uint8 (N, H, W, C)."""
    out = Path(out)
    if out.suffix == ".png":
        return save_grid(images, out)
    if out.suffix == ".npz":
        out.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(out, images=images.permute(0, 2, 3, 1).numpy())
        return out
    raise GankitError(f"cannot write samples to '{out.name}': use a .png (grid) or .npz (arrays) file")

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
from .report import save_picture


class Generator:
    """A trained generator in eval mode. `sample(n, seed, label)` returns uint8 images [N, C, H, W]."""

    def __init__(self, G: torch.nn.Module, meta: dict):
        self.G = G.eval()
        self.meta = meta
        self.config = config_from_dict(meta["config"])
        self.image_shape = tuple(meta["image_shape"])
        self.class_names = list(meta.get("class_names", []))
        self.conditional = self.config.model.conditional != "none"
        self.kind = meta.get("kind", "image")  # image: uint8 results; point: float32 results
        self.z_dim = G.z_dim

    def labels_for(self, n: int, label: int | None, per_row: int = 0) -> torch.Tensor | None:
        """The labels of n samples: all `label`, or every class in turn (one class per row of `per_row` samples
        when per_row is given); None for an unconditional model."""
        if not self.conditional:
            if label is not None:
                raise GankitError("--label needs a conditional model (model.conditional=projection or acgan)")
            return None
        k = len(self.class_names)
        if label is not None and not 0 <= label < k:
            raise GankitError(f"label {label} is out of range: this model knows {k} classes (0..{k - 1})")
        if label is not None:
            return torch.full((n,), label)
        return (torch.arange(n) // per_row) % k if per_row else torch.arange(n) % k

    @torch.no_grad()
    def sample_with_labels(self, n: int, seed: int = 0, label: int | None = None, per_row: int = 0,
                           batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor | None]:
        if n < 1:
            raise GankitError(f"number of samples must be positive, got {n}")
        labels = self.labels_for(n, label, per_row)
        generator = torch.Generator().manual_seed(seed)
        device = next(self.G.parameters()).device
        self.G.eval()
        out = []
        for start in range(0, n, batch_size):
            z = torch.randn(min(batch_size, n - start), self.z_dim, generator=generator)  # [B, z_dim]
            c = None if labels is None else labels[start:start + len(z)].to(device)
            x = self.G(z.to(device), c)
            out.append((to_uint8(x) if self.kind == "image" else x.float()).cpu())
        return torch.cat(out), labels

    def sample(self, n: int, seed: int = 0, label: int | None = None) -> torch.Tensor:
        return self.sample_with_labels(n, seed, label)[0]


def load_generator(path: str | Path, device: str = "cpu") -> Generator:
    """A run folder or a generator export (generator.safetensors + generator.json) -> Generator."""
    tensors, meta = read_export(Path(path))
    try:
        cfg = config_from_dict(meta["config"])
        G, _ = build_networks(cfg.model, tuple(meta["image_shape"]), len(meta.get("class_names", [])))  # G ignores pack
        G.load_state_dict(tensors)
    except (KeyError, RuntimeError) as err:
        raise GankitError(f"generator export at {path} does not match its config ({str(err).splitlines()[0][:200]})") from None
    return Generator(G.to(device), meta)


def write_samples(images: torch.Tensor, out: Path, labels: torch.Tensor | None = None, nrow: int = 0,
                  kind: str = "image") -> Path:
    """.png -> a grid (or a scatter plot of points); .npz -> key `images`, uint8 (N, H, W, C), or `points`,
    float32 (N, 2); and `labels` for a conditional model."""
    out = Path(out)
    if out.suffix == ".png":
        return save_picture(images, out, kind, nrow=nrow)
    if out.suffix == ".npz":
        out.parent.mkdir(parents=True, exist_ok=True)
        if kind == "point":
            arrays = {"points": images.numpy().astype(np.float32)}
        else:
            arrays = {"images": images.permute(0, 2, 3, 1).numpy()}
        if labels is not None:
            arrays["labels"] = labels.numpy().astype(np.int64)
        np.savez_compressed(out, **arrays)
        return out
    raise GankitError(f"cannot write samples to '{out.name}': use a .png (grid) or .npz (arrays) file")

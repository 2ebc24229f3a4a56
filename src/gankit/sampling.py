"""A trained model ready to use: the recipe rebuilt from its export, driven through `generate`.

`gankit.load_generator(path)` returns a Pipeline. `.sample(n, seed=, label=)` draws from noise-driven models;
calling it with inputs (`pipeline({"input": images})`) runs translators. Grids, `gankit sample`, evaluation
and the ONNX export all go through the recipe's `generate`, so they cannot disagree.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
import torch
import torch.nn as nn

from .checkpoint import read_export
from .config import config_from_dict
from .data import Field, for_display, to_float
from .draws import Draws
from .errors import GankitError, summary
from .recipes import Recipe, build_recipe
from .report import save_picture


class Fields:
    """What a recipe needs to know of its data to rebuild its networks: fields, class names, name."""

    def __init__(self, fields: dict[str, Field], class_names: tuple[str, ...] = (), name: str = ""):
        self.fields, self.class_names, self.name = fields, tuple(class_names), name

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


class Pipeline:
    """A recipe and the nets it generates with (moving averages where the run kept them), used in eval mode."""

    def __init__(self, recipe: Recipe, nets: Mapping[str, nn.Module], meta: dict):
        self.recipe, self.nets, self.meta = recipe, dict(nets), meta
        self.config = recipe.cfg
        self.class_names = list(meta.get("class_names", []))
        self.fields = {k: Field(v["kind"], tuple(v["shape"])) for k, v in meta.get("fields", {}).items()}

    @property
    def device(self) -> torch.device:
        return next(self.nets[self.recipe.exported[0]].parameters()).device

    @property
    def conditional(self) -> bool:
        return self.recipe.num_classes > 0

    @property
    def kind(self) -> str:
        """The field kind of the main output (image or points)."""
        return self.recipe.outputs[self.recipe.main_output]

    @torch.no_grad()
    def generate(self, inputs: Mapping[str, torch.Tensor], **options) -> dict[str, torch.Tensor]:
        """The recipe's raw outputs (images in [-1, 1]) with every net in eval mode; modes are restored after."""
        modes = {name: net.training for name, net in self.nets.items()}
        try:
            for net in self.nets.values():
                net.eval()
            inputs = {k: v.to(self.device) for k, v in inputs.items()}
            return self.recipe.generate(self.nets, inputs, **options)
        finally:
            for name, net in self.nets.items():
                net.train(modes[name])

    def display(self, outputs: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Outputs as people get them: images uint8 [N, C, H, W], points float, labels int64; on the CPU."""
        return {k: for_display(v, self.recipe.outputs.get(k, "label")) for k, v in outputs.items()}

    def __call__(self, inputs: Mapping[str, torch.Tensor], **options) -> dict[str, torch.Tensor]:
        """Translate inputs: uint8 image fields are taken as [0, 255] pixels, float ones as [-1, 1]."""
        ready = {k: to_float(v) if v.dtype == torch.uint8 else v for k, v in inputs.items()}
        return self.display(self.generate(ready, **options))

    def labels_for(self, n: int, label: int | None, per_row: int = 0) -> torch.Tensor | None:
        """The labels of n samples: all `label`, or every class in turn (one class per row of `per_row` samples
        when per_row is given); None for an unconditional model."""
        if not self.conditional:
            if label is not None:
                raise GankitError("--label needs a conditional model (gan.conditional=projection or acgan)")
            return None
        k = self.recipe.num_classes
        if label is not None and not 0 <= label < k:
            raise GankitError(f"label {label} is out of range: this model knows {k} classes (0..{k - 1})")
        if label is not None:
            return torch.full((n,), label)
        return self.recipe.cycled_labels(n, per_row)

    def draw(self, n: int, seed: int = 0, labels: torch.Tensor | None = None, batch_size: int = 1000,
             inputs: str = "eval", data=None) -> dict[str, torch.Tensor]:
        """n results for display, drawn in batches from a generator seeded with `seed` (repeatable anywhere).

        inputs="eval": the recipe's evaluation inputs (noise with every class in turn, or held-out examples
        from `data`); "noise": noise with the given labels."""
        if n < 1:
            raise GankitError(f"number of samples must be positive, got {n}")
        draws = Draws.seeded(seed, self.device)
        parts: list[dict[str, torch.Tensor]] = []
        for start in range(0, n, batch_size):
            size = min(batch_size, n - start)
            if inputs == "eval":
                batch = self.recipe.eval_inputs(size, data, draws) if labels is None else \
                    self.recipe.noise_inputs(size, draws, labels[start:start + size])
            else:
                batch = self.recipe.noise_inputs(size, draws, None if labels is None else labels[start:start + size])
            parts.append(self.display(self.generate(batch)))
        return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}

    def sample_with_labels(self, n: int, seed: int = 0, label: int | None = None, per_row: int = 0,
                           batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor | None]:
        """n samples (uint8 images or float points) and their labels (None when unconditional)."""
        labels = self.labels_for(n, label, per_row)
        out = self.draw(n, seed, labels, batch_size, inputs="noise")
        return out[self.recipe.main_output], labels

    def sample(self, n: int, seed: int = 0, label: int | None = None) -> torch.Tensor:
        return self.sample_with_labels(n, seed, label)[0]


def fields_meta(fields: Mapping[str, Field]) -> dict:
    return {k: {"kind": f.kind, "shape": list(f.shape)} for k, f in fields.items()}


def load_generator(path: str | Path, device: str = "cpu") -> Pipeline:
    """A run folder or a generator export (generator.safetensors + generator.json) -> Pipeline."""
    tensors, meta = read_export(Path(path))
    try:
        cfg = config_from_dict(meta["config"])
        fields = {k: Field(v["kind"], tuple(v["shape"])) for k, v in meta["fields"].items()}
        recipe = build_recipe(cfg, Fields(fields, tuple(meta.get("class_names", []))))
        for name in meta["nets"]:
            prefix = f"{name}."
            recipe.nets[name].load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
    except (KeyError, RuntimeError, ValueError, TypeError, AttributeError) as err:
        raise GankitError(f"generator export at {path} does not match its config ({summary(err)})") from None
    recipe.to(device)
    return Pipeline(recipe, {name: recipe.nets[name] for name in meta["nets"]}, meta)


def write_samples(images: torch.Tensor, out: Path, labels: torch.Tensor | None = None, nrow: int = 0,
                  kind: str = "image") -> Path:
    """.png -> a grid (or a scatter plot of points); .npz -> key `images`, uint8 (N, H, W, C), or `points`,
    float32 (N, 2); and `labels` for a conditional model."""
    out = Path(out)
    if out.is_dir():
        raise GankitError(f"{out} is a folder: give a file name ending in .png (a grid) or .npz (arrays)")
    if out.suffix == ".png":
        return save_picture(images, out, kind, nrow=nrow)
    if out.suffix == ".npz":
        out.parent.mkdir(parents=True, exist_ok=True)
        if kind == "points":
            arrays = {"points": images.numpy().astype(np.float32)}
        else:
            arrays = {"images": images.permute(0, 2, 3, 1).numpy()}
        if labels is not None:
            arrays["labels"] = labels.numpy().astype(np.int64)
        np.savez_compressed(out, **arrays)
        return out
    raise GankitError(f"cannot write samples to '{out.name}': use a .png (grid) or .npz (arrays) file")
